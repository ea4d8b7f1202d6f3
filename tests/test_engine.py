"""Statistical tests of the trajectory engine: k·SE tolerances, fixed seeds."""

import numpy as np
import pytest

from langevin_sim.backends import LocalBackend
from langevin_sim.engine import (
    EnsembleResult,
    chunk_sizes,
    exact_moments,
    make_initial_state,
    simulate,
)
from langevin_sim.errors import StepTooLargeError, UnstableSystemError
from langevin_sim.gaussian import em_stationary, steady_state
from langevin_sim.integrators import get_integrator
from langevin_sim.models.cascade import CascadeParameters, build_system
from langevin_sim.statistics import Moments, consistency, pool
from langevin_sim.systems.linear import LinearSystem

from .conftest import ALPHA
from .conftest import upper as _upper


def test_exact_transient_reference_is_sigma_of_t():
    system = build_system()
    times = np.array([0.0, 3.0, 50.0])
    from langevin_sim.gaussian import transient
    _, covs = exact_moments(system, times, method="exact", dt=0.7, initial="thermal")
    _, ref = transient(system, times, system.thermal_covariance())
    np.testing.assert_allclose(covs, ref, rtol=1e-9, atol=1e-10)


def test_same_seed_is_bit_identical_for_any_thread_count_and_different_seeds_differ():
    system = build_system()
    times = np.array([0.0, 5.0, 10.0])
    kw = dict(method="em", dt=0.005, n_traj=2048, initial="thermal")
    r1 = simulate(system, times, seed=99, backend=LocalBackend(1), **kw)
    r2 = simulate(system, times, seed=99, backend=LocalBackend(2), **kw)
    r3 = simulate(system, times, seed=100, backend=LocalBackend(2), **kw)
    assert np.array_equal(r1.covariance, r2.covariance)
    assert np.array_equal(r1.groups.m2, r2.groups.m2)
    assert not np.array_equal(r1.covariance[1:], r3.covariance[1:])


def test_chunk_merges_in_any_order_equal_one_pass():
    from langevin_sim._kernels.propagate import accumulate_moments
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 5000)) * np.arange(1, 9)[:, None] + 3.0
    sizes = [700, 1300, 1000, 2000]
    parts = []
    start = 0
    for n in sizes:
        mean, m2 = np.empty(8), np.empty((8, 8))
        accumulate_moments(np.ascontiguousarray(x[:, start:start + n]), mean, m2)
        parts.append(Moments(np.array(n), mean, m2))
        start += n
    one_pass = np.cov(x)
    for order in ([0, 1, 2, 3], [3, 1, 0, 2], [2, 3, 1, 0]):
        acc = parts[order[0]]
        for i in order[1:]:
            acc = acc.merge(parts[i])
        np.testing.assert_allclose(acc.covariance, one_pass, rtol=1e-12)
        np.testing.assert_allclose(acc.mean, x.mean(axis=1), rtol=1e-12)
    pooled = pool(np.array(sizes), np.stack([p.mean for p in parts]),
                  np.stack([p.m2 for p in parts]))
    np.testing.assert_allclose(pooled.covariance, one_pass, rtol=1e-12)


def _without_shared_noise(system):
    """Cavity 2 driven by its own input instead of the shared a1_in (a physics bug)."""
    b = np.zeros((8, 10))
    b[:, :8] = system.noise_input
    b[2:4, 8:10] = system.noise_input[2:4, 0:2]
    b[2:4, 0:2] = 0.0
    occ = np.concatenate([system.occupations, system.occupations[:2]])
    return LinearSystem(system.drift, b, occ, system.mode_labels)


def test_cascade_noise_correlation_is_really_there():
    system = build_system()
    wrong = _without_shared_noise(system)
    times = np.arange(0, 11) * 10.0
    sigma = steady_state(system)
    kw = dict(method="exact", dt=1.0, n_traj=8192, seed=21, initial=(None, sigma))
    right = simulate(system, times, **kw).time_average()
    bad = simulate(wrong, times, **kw).time_average()
    z_right = _upper((right.covariance[0] - sigma) / right.covariance_stderr[0])
    z_bad = _upper((bad.covariance[0] - sigma) / bad.covariance_stderr[0])
    assert consistency(z_right, ALPHA, right.jackknife_dof).consistent
    assert not consistency(z_bad, ALPHA, bad.jackknife_dof).consistent
    # specifically the cavity-2 block moves
    assert np.max(np.abs((bad.covariance[0] - sigma) / bad.covariance_stderr[0])[2:4, :]) > 10


def test_save_load_round_trip_and_merge(tmp_path):
    system = build_system()
    times = np.array([0.0, 2.0])
    r = simulate(system, times, n_traj=512, seed=3, metadata={"note": "x"})
    path = tmp_path / "run.npz"
    r.save(path)
    back = EnsembleResult.load(path)
    assert np.array_equal(back.covariance, r.covariance)
    assert back.seed == r.seed and back.method == "exact" and back.metadata["note"] == "x"
    with np.load(path) as f:
        for key in ("times", "mean", "covariance", "mean_stderr", "covariance_stderr",
                    "metadata"):
            assert key in f
    other = simulate(system, times, n_traj=512, seed=4)
    both = r.merge(other)
    assert both.n_traj == 1024 and not both.partial
    with pytest.raises(ValueError, match="share the chunks"):
        r.merge(r)


def test_initial_states():
    system = build_system()
    assert make_initial_state(system, "vacuum").covariance[0, 0] == 0.5
    th = make_initial_state(system, "thermal").covariance
    assert th[4, 4] == pytest.approx(62.0 + 0.5, abs=0.05)
    st = make_initial_state(system, "steady", get_integrator("em"), 0.005).covariance
    np.testing.assert_allclose(st, em_stationary(system, 0.005))
    with pytest.raises(ValueError, match="unknown initial state"):
        make_initial_state(system, "hot")
    with pytest.raises(ValueError, match="positive semidefinite"):
        make_initial_state(system, (None, -np.eye(8)))


def test_bad_input_is_refused():
    system = build_system()
    with pytest.raises(StepTooLargeError, match="stability bound dt < 0.014"):
        simulate(system, [0.0, 1.0], method="em", dt=0.02, n_traj=64)
    with pytest.raises(ValueError, match="n_traj must be an integer >= 4"):
        simulate(system, [0.0, 1.0], n_traj=-5)
    with pytest.raises(ValueError, match="fewer than 2 chunks"):
        chunk_sizes(100, 80)
    with pytest.raises(UnstableSystemError):
        simulate(build_system(CascadeParameters(delta1=-0.5)), [0.0, 1.0], n_traj=64)
    with pytest.raises(ValueError, match="not a multiple of dt"):
        simulate(system, [0.0, 0.0123], method="em", dt=0.005, n_traj=64)
    with pytest.raises(ValueError, match="strictly increasing"):
        simulate(system, [1.0, 0.5], n_traj=64)


def test_memory_is_independent_of_the_number_of_steps():
    """A chunk holds (2 d + r) × n doubles whatever the run length; results hold moments."""
    system = build_system()
    short = simulate(system, [0.0, 1.0], method="em", dt=0.005, n_traj=256, seed=1)
    long = simulate(system, [0.0, 50.0], method="em", dt=0.005, n_traj=256, seed=1)
    assert short.groups.m2.nbytes == long.groups.m2.nbytes


@pytest.mark.slow
def test_jackknife_standard_errors_are_calibrated():
    """The spread of E_N over independent ensembles matches the reported SE (χ² bounds)."""
    from scipy import stats
    system = build_system()
    sigma = steady_state(system)
    times = np.arange(0, 6) * 20.0
    vals, ses = [], []
    reps = 30
    for k in range(reps):
        r = simulate(system, times, n_traj=1024, seed=1000 + k, initial=(None, sigma),
                     dt=20.0).time_average()
        m = r.measures(names=("E_N",))
        vals.append(m.values[0, 0])
        ses.append(m.stderr[0, 0])
    ratio2 = np.var(vals, ddof=1) / np.mean(np.square(ses))
    # sample variance (reps - 1 dof) over the mean of reps jackknife SE² (31 dof each):
    # F-distributed if the SEs are honest; two-sided test at significance 0.001
    dof_se = reps * 31
    lo, hi = stats.f.ppf([0.0005, 0.9995], reps - 1, dof_se)
    assert lo < ratio2 < hi, (ratio2, lo, hi)


def test_cli_validate_and_simulate(tmp_path, capsys):
    import json

    from langevin_sim.cli import main
    assert main(["validate", "--n-traj", "2048", "--t-final", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("covariance", "stderr", "analytic", "z", "E_N", "E_N_stderr", "consistent"):
        assert key in out
    path = tmp_path / "sim.npz"
    assert main(["simulate", "--n-traj", "512", "--t-final", "10", "--output", str(path)]) == 0
    assert "wrote" in capsys.readouterr().out
    with np.load(path) as f:
        assert f["covariance"].shape == (11, 8, 8)
    assert main(["validate", "--method", "em", "--dt", "0.05"]) == 2
    assert "stability bound" in capsys.readouterr().err
    assert main(["validate", "--n-traj", "-3"]) == 2
    assert main(["validate", "--set", "delta1=-0.5"]) == 3


def test_results_hold_fixed_groups_whatever_the_ensemble_size():
    from langevin_sim.engine import JACKKNIFE_GROUPS
    small = simulate(build_system(), [0.0, 1.0], n_traj=4096, seed=1)
    big = simulate(build_system(), [0.0, 1.0], n_traj=200_000, seed=1)
    assert big.n_chunks > JACKKNIFE_GROUPS and big.groups.count.shape[0] == JACKKNIFE_GROUPS
    assert big.groups.m2.nbytes <= 2 * small.groups.m2.nbytes
    assert big.n_traj == 200_000 and big.jackknife_dof == JACKKNIFE_GROUPS - 1


def test_group_merge_does_not_depend_on_arrival_order():
    from langevin_sim.engine import GroupAccumulator, build_schedule, linear_plan, run_chunk
    from langevin_sim.gaussian import psd_factor
    from langevin_sim.integrators import get_integrator
    system = build_system()
    sched = build_schedule(system, get_integrator("exact"), [0.0, 5.0], 1.0)
    plan = linear_plan(sched, np.zeros(8), psd_factor(system.thermal_covariance()))
    seeds = np.random.SeedSequence(3).spawn(40)
    chunks = [run_chunk(plan, 16, s) for s in seeds]
    orders = [range(40), reversed(range(40)), np.random.default_rng(0).permutation(40)]
    results = []
    for order in orders:
        acc = GroupAccumulator(40, 6)
        for i in order:
            acc.add(int(i), chunks[int(i)])
        results.append(acc.groups())
    for r in results[1:]:
        assert np.array_equal(r.m2, results[0].m2) and np.array_equal(r.mean, results[0].mean)


def test_lazy_child_seeds_are_the_spawned_children():
    from langevin_sim.engine import ChildSeeds
    spawned = np.random.SeedSequence(2024).spawn(7)
    lazy = ChildSeeds(np.random.SeedSequence(2024), 7)
    assert len(lazy) == 7
    for a, b in zip(spawned, lazy):
        assert np.array_equal(a.generate_state(8), b.generate_state(8))
