"""The deterministic reference of the drive's switch-on (mean field + fluctuation covariance),
against exact results and the numbers of the specification."""

import os

import numpy as np
import pytest

from langevin_sim import load_model
from langevin_sim.analyses.switch_on import reference
from langevin_sim.engine import thermal_state
from langevin_sim.gaussian import transient
from langevin_sim.measures import measures


def test_on_a_linear_model_the_reference_is_the_exact_transient():
    model = load_model("cascade").replace(T=0.1, eta=0.7)
    system = model.build()
    times = np.array([0.1, 1.0, 10.0, 100.0])
    ref = reference(system, times)
    _, covs = transient(model.linear_system(), times, thermal_state(system))
    # adaptive integration at rtol 1e-11 against the closed form: 1e-7 of the largest element
    np.testing.assert_allclose(ref.covariance, covs, rtol=0, atol=1e-7 * np.abs(covs).max())


def test_switch_on_at_the_paper_point_matches_the_specification():
    """E_N ≈ 0.41 at t = 5, 0.64 at t = 10, 0.7585 after ~10³/ω_b; Δ1(t) swings between about
    0.55 and 1.5 ω_b before settling at 1 (g0 = 1.5e-5, sudden switch-on, thermal start)."""
    system = load_model("cascade-full").build()
    lin = system.linear_system()
    ref = reference(system, [5.0, 10.0, 1000.0])
    en = [measures(c, lin, ("b", "m")).E_N for c in ref.covariance]
    assert en[0] == pytest.approx(0.41, abs=0.01) and en[1] == pytest.approx(0.64, abs=0.01)
    assert en[2] == pytest.approx(0.7585, abs=1e-3)
    fine = reference(system, np.linspace(0.05, 600.0, 6000))
    d1 = fine.effective_detunings[:, system.mode_index("a1")]
    assert 0.5 < d1.min() < 0.6 and d1.max() == pytest.approx(1.5, abs=0.01)
    assert np.all(fine.max_real_eigenvalue < 0)  # never unstable at Δ1 = 1


def test_mean_field_ode_settles_on_the_cubic_root():
    model = load_model("optomech").replace(gamma=0.05, drive=800.0)
    system = model.build()
    (state,) = system.mean_field_states()
    ref = reference(system, [3000.0])
    np.testing.assert_allclose(ref.mean[-1], state.state, rtol=1e-6,
                               atol=1e-6 * np.abs(state.state).max())


# -- schemes for a nonlinear drift: their linear reductions ----------------------------------
def test_exponential_schemes_are_exact_on_a_linear_model():
    from langevin_sim.gaussian import steady_state
    from langevin_sim.integrators.nonlinear import stationary_covariance
    model = load_model("cascade").replace(eta=0.6, T=0.2)
    sigma = steady_state(model.linear_system())
    for method in ("exp-euler", "exp-heun"):
        for dt in (0.05, 0.5, 3.0):  # no discretisation error at any step
            s = stationary_covariance(method, model.build(), np.zeros(8), dt)
            np.testing.assert_allclose(s, sigma, rtol=0, atol=1e-9 * np.abs(sigma).max())


def test_em_reduction_is_the_em_recursion():
    from langevin_sim.gaussian import em_stationary
    from langevin_sim.integrators.nonlinear import stationary_covariance
    model = load_model("cascade")
    s = stationary_covariance("em", model.build(), np.zeros(8), 0.005)
    np.testing.assert_allclose(s, em_stationary(model.linear_system(), 0.005), rtol=1e-9)


@pytest.mark.parametrize("method, dts, order", [
    ("em", (0.0005, 0.001, 0.002), 1.0),
    ("exp-euler", (0.002, 0.004, 0.008), 1.0),
    ("exp-heun", (0.002, 0.004, 0.008), 2.0),
])
def test_weak_order_slopes_on_the_stationary_variance(method, dts, order):
    """The bias of the stationary Var(x_b) of each scheme at the linearised full model (exact,
    from its linear recursion) falls like dt^order."""
    from langevin_sim.gaussian import steady_state
    from langevin_sim.integrators.nonlinear import stationary_covariance
    system = load_model("cascade-full").build()
    (mf,) = system.mean_field_states()
    xb = 2 * system.mode_index("b")
    exact = steady_state(system.linear_system())[xb, xb]
    bias = [abs(stationary_covariance(method, system, mf.state, dt)[xb, xb] - exact)
            for dt in dts]
    slope = np.polyfit(np.log(dts), np.log(bias), 1)[0]
    assert abs(slope - order) < 0.15, slope


def test_em_beyond_its_bound_is_refused_and_exponential_schemes_are_not():
    from langevin_sim.errors import StepTooLargeError
    from langevin_sim.integrators.nonlinear import stationary_covariance
    system = load_model("cascade-full").build()
    (mf,) = system.mean_field_states()
    with pytest.raises(StepTooLargeError, match="spectral radius"):
        stationary_covariance("em", system, mf.state, 0.02)
    stationary_covariance("exp-heun", system, mf.state, 0.3)


# -- truncated Wigner ensembles -------------------------------------------------------------------
@pytest.mark.parametrize("method, dt", [("em", 0.004), ("exp-euler", 0.05), ("exp-heun", 0.05)])
def test_twa_ensemble_on_a_linear_model_follows_its_scheme_recursion(method, dt):
    """On the linear cascade each scheme is the linear recursion X' = F X + G Z of its
    reduction: the ensemble's covariance at every record agrees with Σ' = F Σ Fᵀ + G Gᵀ
    within k·SE (max-|z| test, fixed seed)."""
    from langevin_sim.engine import simulate_twa
    from langevin_sim.gaussian import linear_recursion
    from langevin_sim.integrators.nonlinear import linear_reduction
    from langevin_sim.statistics import consistency
    from langevin_sim.systems.linear import LinearSystem
    system = load_model("cascade").replace(T=0.1).build()
    times = np.round(np.arange(0, 11) * 2.0 / dt) * dt
    res = simulate_twa(system, times, method=method, dt=dt, n_traj=8192, seed=21)
    free = LinearSystem(system.linear, system.noise_input, system.occupations,
                        system.mode_labels)
    f, g = linear_reduction(method, free, np.zeros((8, 8)), dt)
    steps = np.diff(np.concatenate([[0], np.round(times / dt).astype(int)]))
    _, covs = linear_recursion([(f, g @ g.T)] * len(times), steps, thermal_state(system))
    iu = np.triu_indices(8)
    z = ((res.covariance - covs) / res.covariance_stderr)[:, iu[0], iu[1]]
    assert consistency(z[1:].ravel(), 0.01, res.jackknife_dof).consistent


@pytest.mark.parametrize("method, dt", [("em", 0.01), ("exp-euler", 0.05), ("exp-heun", 0.05)])
def test_twa_ensemble_of_a_driven_nonlinear_model_holds_its_scheme_steady_state(method, dt):
    """Started in the scheme's own steady state (fixed point of its noise-free map, stationary
    covariance of its recursion there) a truncated Wigner ensemble of the driven optomechanical
    cavity stays there: time-averaged means and covariance agree within k·SE."""
    from langevin_sim.engine import discrete_steady_state, simulate_twa
    from langevin_sim.statistics import consistency
    system = load_model("optomech").build()
    (mf,) = system.mean_field_states()
    x, sigma = discrete_steady_state(system, method, dt, mf.state)
    times = np.round(np.arange(0, 41) * 5.0 / dt) * dt
    avg = simulate_twa(system, times, method=method, dt=dt, n_traj=8192, seed=3,
                       initial=(x, sigma)).time_average(0.0)
    iu = np.triu_indices(4)
    z = np.concatenate([((avg.covariance[0] - sigma) / avg.covariance_stderr[0])[iu],
                        (avg.mean[0] - x) / avg.mean_stderr[0]])
    assert consistency(z, 0.01, avg.jackknife_dof).consistent
    if method == "exp-euler":  # its O(dt) fixed point is far from the continuous mean field
        zc = (avg.mean[0] - mf.state) / avg.mean_stderr[0]
        assert np.max(np.abs(zc)) > 100


# -- the switch-on ensemble against its references ----------------------------------------------
from dataclasses import replace as _replace  # noqa: E402

from langevin_sim.analyses.switch_on import (  # noqa: E402
    discrete_reference,
    switch_on,
    unstable_time,
    with_ramp,
)
from langevin_sim.engine import simulate, simulate_twa  # noqa: E402
from langevin_sim.models.cascade import drive_parameters  # noqa: E402
from langevin_sim.statistics import consistency  # noqa: E402

SWITCH = dict(t_final=40.0, record_every=1.0, n_traj=2048, seed=11)


@pytest.fixture(scope="module")
def paper_switch_on():
    return switch_on(**SWITCH)


def _covariance_check(result, covs):
    """Max-|z| test of an ensemble's covariances (every record, upper triangle) against covs."""
    iu = np.triu_indices(covs.shape[-1])
    z = (result.covariance - covs) / result.covariance_stderr
    return consistency(z[:, iu[0], iu[1]].ravel(), 0.01, result.jackknife_dof)


def test_switch_on_ensemble_agrees_with_the_continuous_reference_at_every_record(
        paper_switch_on):
    """The default ll step at dt 0.1 is judged against the continuous reference itself."""
    r = paper_switch_on
    assert r.method == "ll" and r.dt == 0.1 and r.discrete is None
    assert r.verdict_applies and r.consistent, r.check.summary()
    assert r.check.n_compared == r.times.size * (36 + 8)
    # at g0 = 1.5e-5 the mean of δ (the displacement from the deterministic path) is zero
    # within its SE: the beyond-linear corrections are far below the ensemble's resolution
    z = (r.displacement / r.displacement_stderr)[1:]
    assert consistency(z.ravel(), 0.01, 31).consistent
    # the correlations build up as the specification says (continuous reference)
    i5, i10 = (np.searchsorted(r.times, t) for t in (5.0, 10.0))
    assert r.reference.measure("E_N")[i5] == pytest.approx(0.41, abs=0.01)
    assert r.reference.measure("E_N")[i10] == pytest.approx(0.64, abs=0.01)
    assert 0.5 < r.min_effective_detuning < 0.6 and r.unstable_time == 0.0
    assert r.limit_cycle.kind == "fixed point"


def _independent_cascade_noise(system):
    """The same system with the shared a1 input noise replaced, in cavity 2, by an independent
    input of the same strength and occupation."""
    b = system.noise_input.copy()
    rows2 = [2 * system.mode_index("a2"), 2 * system.mode_index("a2") + 1]
    rows1 = [2 * system.mode_index("a1"), 2 * system.mode_index("a1") + 1]
    shared = [k for k in range(b.shape[1]) if np.any(b[rows1, k]) and np.any(b[rows2, k])]
    assert shared, "the cascade shares a1's input noise with a2"
    extra = np.zeros((b.shape[0], len(shared)))
    for n, k in enumerate(shared):
        extra[rows2, n] = b[rows2, k]
        b[rows2, k] = 0.0
    return _replace(system, noise_input=np.hstack([b, extra]),
                    occupations=np.concatenate([system.occupations,
                                                system.occupations[shared]]),
                    noise_labels=tuple(system.noise_labels)
                    + tuple(f"{system.noise_labels[k]}_independent" for k in shared))


def test_the_comparison_fails_with_independent_cascade_noise(paper_switch_on):
    system = load_model("cascade-full").build()
    times = paper_switch_on.times
    res = simulate_twa(_independent_cascade_noise(system), times, method="ll", dt=0.1,
                       n_traj=SWITCH["n_traj"], seed=SWITCH["seed"])
    check = _covariance_check(res, paper_switch_on.reference.covariance)
    assert not check.consistent, check.summary()


def test_a_baseline_switch_on_is_judged_against_its_own_reference():
    """exp-heun at dt 0.02 agrees with its own discrete reference at every record; the
    continuous reference is far from it in SE for the means (|α| ~ 3e4: its O(dt²) shift),
    within a few SE for the covariances."""
    r = switch_on(**SWITCH, method="exp-heun")
    assert r.discrete is not None and r.displacement is None
    assert r.consistent, r.check.summary()
    assert r.continuous_offset.mean_max_abs_z > 10
    assert r.continuous_offset.covariance_max_abs_z < 3
    # the baseline's own independent-noise control fails too
    system = load_model("cascade-full").build()
    _, dcov = discrete_reference(system, r.times, "exp-heun", 0.02, np.zeros(8),
                                 thermal_state(system))
    res = simulate_twa(_independent_cascade_noise(system), r.times, method="exp-heun", dt=0.02,
                       n_traj=SWITCH["n_traj"], seed=SWITCH["seed"])
    assert not _covariance_check(res, dcov).consistent


def test_beyond_the_linearisation_the_ensemble_departs_from_the_continuous_reference():
    """At g0 = 0.05 (|α| = g_ab/g0 = 10) the truncated Wigner dynamics the ll step integrates
    leaves the linearised reference: the verdict fails, E_N(5) far below the reference."""
    r = switch_on(load_model("cascade-full").replace(g0=0.05), t_final=20.0, n_traj=2048,
                  seed=11)
    assert not r.consistent, r.check.summary()
    i5 = np.searchsorted(r.times, 5.0)
    gap = r.reference.measure("E_N")[i5] - r.ensemble.measure("E_N")[i5]
    assert gap > 5 * r.ensemble.measure_stderr("E_N")[i5]


def test_the_comparison_fails_when_the_detuning_is_frozen(paper_switch_on):
    """Today's relax: the linearised system at the final mean field, quenched from the thermal
    state (Δ1 held at its final value): its ensemble disagrees with the switch-on's reference,
    and the switch-on ensemble disagrees with the quench's exact transient."""
    system = load_model("cascade-full").build()
    times = paper_switch_on.times
    quench = simulate(system.linear_system(), times, method="exact", dt=1.0,
                      n_traj=SWITCH["n_traj"], seed=SWITCH["seed"], initial="thermal")
    check = _covariance_check(quench, paper_switch_on.judged.covariance)
    assert not check.consistent, check.summary()
    assert not paper_switch_on.quench.consistent


def test_near_threshold_a_sudden_switch_on_passes_through_the_unstable_regime():
    """Target Δ1 = 0.05: the sudden switch-on's ringing swings Δ1(t) below 0, where A(t) is
    unstable; a slow enough linear ramp keeps it stable throughout."""
    model = load_model("cascade-full").replace(delta1=0.05)
    t = np.arange(0.0, 300.0, 0.05)
    sudden = reference(with_ramp(model.build(), "sudden", None), t)
    assert sudden.effective_detunings[:, 0].min() < 0
    assert unstable_time(t, sudden.max_real_eigenvalue) > 1.0
    ramped = reference(with_ramp(model.build(), "linear", 100.0), t)
    assert unstable_time(t, ramped.max_real_eigenvalue) == 0.0


def test_unstable_time_integrates_the_positive_part():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    assert unstable_time(t, [-1.0, 1.0, 1.0, -1.0]) == pytest.approx(2.0)
    assert unstable_time(t, [-1.0, -1.0, -1.0, -1.0]) == 0.0


def test_drive_power_gives_the_photon_number_of_the_closed_form():
    from langevin_sim.models.cascade import drive_coupling

    model = load_model("cascade-full")
    p = model.as_dict()
    f_d = p["f_m_hz"] - p["delta_m"] * p["omega_b_hz"]
    amp = drive_parameters(model, {"drive_power_w": 1e-6})["drive_re"]
    bare = p["delta1_bare"]
    photons = amp**2 / (p["kappa1"] ** 2 / 4 + bare**2)
    g = drive_coupling(g0_hz=1.0, drive_power_w=1e-6, kappa1_hz=p["kappa1"] * p["omega_b_hz"],
                       delta1_hz=bare * p["omega_b_hz"], cavity_frequency_hz=f_d)
    assert photons == pytest.approx(g**2, rel=1e-12)
    with pytest.raises(ValueError, match="drive_power_w"):
        drive_parameters(model, {"drive_power_w": -1.0})
    with pytest.raises(ValueError, match="cascade-full"):
        drive_parameters(load_model("optomech"), {"drive_power_w": 1e-6})


@pytest.mark.slow
def test_limit_cycle_detected_beyond_threshold_and_none_below():
    """Optomechanical self-oscillation (blue-detuned optomech, γ = 0.05): below the threshold
    drive the switch-on rings down to the stable fixed point; above it no fixed point is stable
    and the mean field and the ensemble keep a constant, large mechanical amplitude."""
    base = load_model("optomech").replace(gamma=0.05, delta_bare=-1.0)
    kw = dict(t_final=400.0, record_every=1.0, n_traj=1024, seed=3)
    below = switch_on(base.replace(drive=800.0), **kw)
    above = switch_on(base.replace(drive=2500.0), **kw)
    assert below.limit_cycle.kind == "fixed point" and not below.limit_cycle.detected
    assert below.verdict_applies and below.consistent
    lc = above.limit_cycle
    assert lc.detected and not lc.fixed_point_stable and not above.verdict_applies
    assert abs(lc.amplitude_ratio - 1) < 0.1
    # the ensemble's oscillation radius is far above the fluctuations' (below threshold)
    b = below.limit_cycle
    assert lc.radius_ensemble - b.radius_ensemble > 5 * np.hypot(lc.radius_ensemble_stderr,
                                                                 b.radius_ensemble_stderr)
    # the same cycle as the mean field's: not an SE bound (the SE, 0.04, is far below the two
    # deterministic offsets between these quantities: the fluctuations add (Var x + Var p)/2R
    # ~ 1e-3 relative, the step's O(dt²) error along the orbit), but 1 %, ten times those,
    # which another orbit or a decayed oscillation (radius ~ 8) misses by far
    assert lc.radius_ensemble == pytest.approx(lc.radius_mean_field, rel=0.01)


def test_switch_on_cli_json_and_plots(tmp_path, capsys):
    import json

    from langevin_sim.cli import main

    out = tmp_path / "so"
    code = main(["switch-on", "--t-final", "20", "--n-traj", "512", "--ramp", "smooth",
                 "--ramp-time", "5", "--set", "g0=1e-4", "--json", "--output", str(out),
                 "--no-progress"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("times", "reference", "ensemble", "effective_detuning", "min_effective_detuning",
                "unstable_time", "consistent", "max_abs_z", "z_threshold", "onsets",
                "parameters", "discrete_reference", "limit_cycle", "settling_time",
                "unphysical_record_times"):
        assert key in d, key
    assert d["parameters"]["g0"] == 1e-4 and d["ramp"] == "smooth" and d["ramp_time"] == 5.0
    n = len(d["times"])
    for name in ("E_N", "E_bm", "S_m_given_b", "S_b_given_m", "G_b_to_m", "G_m_to_b"):
        assert len(d["reference"][name]) == n and len(d["ensemble"][f"{name}_stderr"]) == n
    assert np.shape(d["ensemble"]["covariance"]) == (n, 8, 8)
    assert np.shape(d["ensemble"]["mean_stderr"]) == (n, 8)
    assert set(d["onsets"]) == {"E_N", "S_m_given_b", "G_b_to_m"}
    for f in d["files"].values():
        assert os.path.getsize(f) > 0
    # a smooth ramp over 5/ω_b starts the drive from zero: Δ1(0) is the bare detuning
    assert d["effective_detuning"][0] == pytest.approx(d["parameters"]["delta1_bare"], rel=1e-9)


def test_validate_runs_the_truncated_wigner_engine_on_a_driven_model():
    from langevin_sim.analyses.validate import validate

    r = validate("cascade-full", n_traj=4096, t_final=200.0, seed=5)
    assert r.method == "ll" and r.dt == 0.1 and r.means is not None
    assert r.check.consistent, r.check.summary()
    assert r.check.n_compared == 36 + 6 + 8  # covariance, measures (unclipped), means
    # the reference is the continuous steady state (mean field and σ∞)
    assert np.array_equal(r.means.reference, r.means.continuous)
    assert np.array_equal(r.analytic, r.continuous)
    # the linearisation is still validated exactly on the linear engine
    lin = validate("cascade-full", method="exact", n_traj=2048, t_final=100.0, seed=5)
    assert lin.means is None and lin.check.consistent


def test_the_package_level_switch_on_is_a_function():
    import inspect

    import langevin_sim
    import langevin_sim.analyses.switch_on as package

    assert inspect.isfunction(langevin_sim.switch_on)  # no callable-module hack
    assert package.reference is reference
    r = langevin_sim.switch_on(t_final=8.0, n_traj=256, seed=1)
    assert r.times[-1] == 8.0 and r.n_traj == 256
