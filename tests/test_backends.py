"""Backends: local threads and a Dask LocalCluster give the same numbers for the same seed;
faults (a worker that dies, Ctrl-C) are survived or reported honestly."""

import os
import signal
import sys

import numpy as np
import pytest

from langevin_sim._signals import TEST_SIGNALS_ENV
from langevin_sim.analyses.sweep import sweep
from langevin_sim.backends import BackendUnavailableError, LocalBackend
from langevin_sim.engine import exact_moments, run_chunk, simulate
from langevin_sim.models.cascade import build_system
from langevin_sim.statistics import consistency

TIMES = np.array([0.0, 5.0, 40.0])
KW = dict(method="exact", dt=1.0, n_traj=4096, initial="thermal")


@pytest.fixture(scope="module")
def dask_backend():
    pytest.importorskip("distributed")
    from langevin_sim.backends import DaskBackend
    with DaskBackend(n_workers=2) as backend:
        yield backend


@pytest.fixture(scope="module")
def local_result():
    return simulate(build_system(), TIMES, seed=77, backend=LocalBackend(1), **KW)


def test_dask_cluster_gives_bit_identical_statistics(dask_backend, local_result):
    r = simulate(build_system(), TIMES, seed=77, backend=dask_backend, **KW)
    assert np.array_equal(r.groups.m2, local_result.groups.m2)
    assert np.array_equal(r.covariance, local_result.covariance)
    assert np.array_equal(r.covariance_stderr, local_result.covariance_stderr)
    assert "dask" in r.metadata["backend"]


def test_truncated_wigner_ensemble_is_bit_identical_on_threads_and_dask(dask_backend):
    from langevin_sim import load_model
    from langevin_sim.engine import simulate_twa

    system = load_model("cascade-full").build()
    times = np.array([0.0, 2.0, 10.0])
    for kw in (dict(method="exp-heun", dt=0.02, n_traj=512, seed=9),
               dict(method="ll", dt=0.1, n_traj=512, seed=9)):
        one = simulate_twa(system, times, backend=LocalBackend(1), **kw)
        two = simulate_twa(system, times, backend=LocalBackend(2), **kw)
        remote = simulate_twa(system, times, backend=dask_backend, **kw)
        for r in (two, remote):
            assert np.array_equal(r.covariance, one.covariance)
            assert np.array_equal(r.mean, one.mean)


def test_dask_sweep_equals_local_sweep(dask_backend):
    axes = {"kappa": np.linspace(2, 20, 6), "delta_m": np.linspace(-2, 0, 5)}
    local = sweep(axes=axes, backend=LocalBackend(2))
    remote = sweep(axes=axes, backend=dask_backend)
    for k in local.values:
        np.testing.assert_array_equal(local.values[k], remote.values[k])
    np.testing.assert_array_equal(local.stable, remote.stable)


def test_a_worker_killed_mid_run_is_recomputed_with_identical_result(dask_backend, local_result,
                                                                     tmp_path):
    marker = str(tmp_path / "killed-once")

    def runner(plan, n, seed):  # pickled by value and run on the workers
        if seed.spawn_key[-1] == 3 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies while running chunk 3
        return run_chunk(plan, n, seed)

    from langevin_sim.backends import DaskBackend
    killer = DaskBackend(client=dask_backend.client, task_runner=runner)
    r = simulate(build_system(), TIMES, seed=77, backend=killer, **KW)
    assert os.path.exists(marker)  # the fault really happened
    assert not r.partial
    assert np.array_equal(r.covariance, local_result.covariance)


@pytest.mark.parametrize("use_dask", [False, True])
def test_ctrl_c_returns_the_completed_chunks_marked_partial(use_dask, request, monkeypatch):
    backend = request.getfixturevalue("dask_backend") if use_dask else LocalBackend(2)
    system = build_system()
    times = np.array([0.0, 2.0, 4.0])
    # the handler before the run: Python's default, or SIG_IGN in a process started in the
    # background by a non-interactive shell (which ignores SIGINT for it)
    before = signal.getsignal(signal.SIGINT)
    # SIGINT as soon as the 3rd chunk has been handed on (an event, not a timer: the outcome
    # does not depend on the machine's speed); 4000 chunks, so the run is never over by then
    monkeypatch.setenv(TEST_SIGNALS_ENV, "SIGINT@chunk:3")
    kw = dict(method="em", dt=0.002, n_traj=256 * 4000, chunk_size=256, initial="thermal")
    r = simulate(system, times, seed=8, backend=backend, **kw)
    assert r.partial and 3 <= r.n_chunks < r.n_chunks_planned
    assert r.n_traj == 256 * r.n_chunks
    if not use_dask:  # local threads start chunks round-robin over the groups: >= 2 groups
        assert r.has_stderr  # (Dask's scheduler may run the first ones from one group)
    if r.has_stderr:  # honest standard errors: the completed chunks agree with the exact moments
        _, covs = exact_moments(system, times, method="em", dt=0.002, initial="thermal")
        iu = np.triu_indices(8)
        z = ((r.covariance - covs) / r.covariance_stderr)[:, iu[0], iu[1]]
        assert consistency(z, 0.01, r.jackknife_dof).consistent
    else:  # one group: values, and standard errors that say they are not available
        assert np.all(np.isfinite(r.covariance)) and np.all(np.isnan(r.covariance_stderr))
    # the interrupt did not escape, and the handler of before the run is back
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("use_dask", [False, True])
def test_ctrl_c_before_any_chunk_finished_says_so(use_dask, request, monkeypatch):
    backend = request.getfixturevalue("dask_backend") if use_dask else LocalBackend(2)
    monkeypatch.setenv(TEST_SIGNALS_ENV, "SIGINT@start")
    with pytest.raises(KeyboardInterrupt, match="before any trajectory finished"):
        simulate(build_system(), TIMES, seed=8, backend=backend, **KW)


def test_dask_ctrl_c_after_submission_is_caught(dask_backend, monkeypatch):
    # every task submitted, then the interrupt: cancelled, and what finished (maybe nothing)
    monkeypatch.setenv(TEST_SIGNALS_ENV, "SIGINT@submitted")
    kw = dict(method="em", dt=0.002, n_traj=256 * 400, chunk_size=256, initial="thermal")
    try:
        r = simulate(build_system(), np.array([0.0, 2.0, 4.0]), seed=8, backend=dask_backend,
                     **kw)
    except KeyboardInterrupt as exc:
        assert "before any trajectory finished" in str(exc)
    else:
        assert r.partial
    # the cluster is usable afterwards (nothing left queued in the way)
    monkeypatch.delenv(TEST_SIGNALS_ENV)
    r = simulate(build_system(), TIMES, seed=77, backend=dask_backend, **KW)
    assert not r.partial


def test_local_cluster_workers_leave_ctrl_c_to_the_client(dask_backend):
    # a terminal's Ctrl-C reaches the whole process group: the workers must not die of it
    def handler():
        import signal
        return signal.getsignal(signal.SIGINT) == signal.SIG_IGN

    assert all(dask_backend.client.run(handler).values())


def test_missing_distributed_gives_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    from langevin_sim.backends import DaskBackend
    with pytest.raises(BackendUnavailableError, match=r"pip install 'langevin_sim\[distributed\]'"):
        DaskBackend()
    from langevin_sim.cli import main
    assert main(["validate", "--backend", "dask", "--n-traj", "64"]) == 2
    err = capsys.readouterr().err
    assert "langevin_sim[distributed]" in err and err.count("\n") == 1


def test_scheduler_option_needs_dask_backend(capsys):
    from langevin_sim.cli import main
    assert main(["simulate", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--backend dask" in capsys.readouterr().err


def test_backends_are_a_generic_map_that_imports_nothing_of_the_engine():
    """A backend runs tasks and hands their results on: no import of the engine (ensemble,
    twa, integrators, kernels), at module level or inside a function."""
    import ast
    import pathlib

    import langevin_sim.backends as b

    for path in pathlib.Path(b.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {(node.level, node.module) for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level > 0}
        # its own modules (level 1) and the interrupt flag (langevin_sim._signals), nothing else
        assert imported <= {(1, "base"), (1, "dask"), (1, "local"), (1, "progress"),
                            (2, None)}, (path.name, imported)
        names = {a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.level == 2 for a in node.names}
        assert names <= {"_signals"}, (path.name, names)
    # and it maps any task: a plain function over plain arguments, in any start order
    got = {}
    LocalBackend(2).map_tasks(lambda shared, x, y: shared + x * y, 10, [(1, 2), (3, 4), (5, 6)],
                              sink=got.__setitem__, order=[2, 0, 1])
    assert got == {0: 12, 1: 22, 2: 40}
