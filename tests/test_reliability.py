"""Edge cases and interruptions: every one gives a clear answer and loses nothing."""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from langevin_sim import CascadeParameters, build_system, steady_state
from langevin_sim._signals import TEST_SIGNALS_ENV
from langevin_sim.cli import main
from langevin_sim.engine import EnsembleResult, simulate
from langevin_sim.measures import signals_correlation


# -- unphysical and marginal ------------------------------------------------------------------
def test_unphysical_steady_state_is_reported_not_printed(capsys):
    assert main(["steady", "--set", "kappa1=0"]) == 3
    out = capsys.readouterr().out
    assert "UNPHYSICAL" in out or "UNSTABLE" in out
    assert "E_bm" not in out and "covariance" not in out
    assert main(["steady", "--set", "kappa1=0", "--json"]) == 3
    d = json.loads(capsys.readouterr().out)
    assert "covariance" not in d and "E_bm" not in d
    assert d.get("physical") is False or d["stable"] is False


def test_marginally_stable_system_has_no_steady_state():
    from langevin_sim.errors import UnstableSystemError
    from langevin_sim.systems.linear import LinearSystem
    rot = np.array([[-1e-15, 1.0], [-1.0, -1e-15]])  # undamped to round-off
    s = LinearSystem(rot, np.zeros((2, 2)), np.zeros(2), ("a",))
    with pytest.raises(UnstableSystemError, match="marginally stable"):
        steady_state(s)


def test_initial_state_below_the_vacuum_is_refused():
    system = build_system()
    with pytest.raises(ValueError, match="not a quantum state"):
        simulate(system, [0.0, 1.0], n_traj=64, initial=(None, 0.4 * np.eye(8)))


# -- thresholds and estimates near them ---------------------------------------------------------
def test_round_off_never_counts_as_a_correlation():
    assert not signals_correlation("E_bm", 1 - 3e-15)
    assert not signals_correlation("E_N", 1e-15)
    assert signals_correlation("E_bm", 0.999) and signals_correlation("G_b_to_m", 1e-3)
    from langevin_sim.analyses.sweep import sweep
    r = sweep(CascadeParameters(T=0.0, eta=0.0), {"T": [0.0, 0.1], "eta": [0.0, 1.0]})
    assert r.values["E_bm"][0, 0] == pytest.approx(1.0, abs=1e-12)  # a product state
    from langevin_sim.analyses.figures import mc_points
    assert (0, 0) not in mc_points(r, 3)
    import matplotlib.pyplot as plt

    from langevin_sim.plotting import draw_map
    fig, ax = plt.subplots()
    im = draw_map(ax, r, "E_bm", "T", "eta")
    assert im.get_array().mask.reshape(2, 2)[0, 0]  # (η = 0, T = 0) left blank
    plt.close(fig)


def test_product_state_estimates_are_not_called_correlated():
    from langevin_sim.analyses.validate import validate
    rep = validate(CascadeParameters(eta=0.0, T=0.0), n_traj=8192, seed=4)
    assert rep.check.consistent
    for k, m in rep.measures.items():
        assert not m.verdict.correlated, k
    # unclipped and bias-corrected values straddle the exact 0 within their error
    en = rep.measures["E_N"]
    assert abs(en.bias_corrected) < 4 * en.stderr
    assert en.unclipped != en.value or en.value > 0


# -- interruptions ------------------------------------------------------------------------------
# Each signal is sent at an event (LANGEVIN_SIM_TEST_SIGNALS: after the k-th finished chunk,
# before a rename, ...), never after a timer: the outcome does not depend on the machine's speed.
LONG_EM = ["--method", "em", "--dt", "0.002", "--t-final", "4", "--record-every", "2",
           "--chunk-size", "256", "--no-progress"]


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_interrupted_simulate_saves_partial_and_exits_130(tmp_path, capsys, monkeypatch, how):
    out = tmp_path / "run.npz"
    monkeypatch.setenv(TEST_SIGNALS_ENV, f"{how}@chunk:2")
    code = main(["simulate", *LONG_EM, "--n-traj", str(256 * 4000), "--output", str(out),
                 "--json"])
    assert code == 130
    captured = capsys.readouterr()
    d = json.loads(captured.out)
    assert d["partial"] is True and 0 < d["n_traj"] < 256 * 4000
    r = EnsembleResult.load(out)
    assert r.partial and r.n_traj == d["n_traj"]
    assert f"saved (complete): {out}" in _one_line(captured.err)


def test_interrupted_validate_is_marked_partial(capsys, monkeypatch):
    monkeypatch.setenv(TEST_SIGNALS_ENV, "SIGINT@chunk:2")
    code = main(["validate", "--method", "em", "--dt", "0.002", "--t-final", "8",
                 "--record-every", "2", "--n-traj", str(256 * 2000), "--chunk-size", "256",
                 "--json", "--no-progress"])
    assert code == 130
    assert json.loads(capsys.readouterr().out)["partial"] is True


def test_interrupted_dask_run_saves_partial_and_exits_130(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    out = tmp_path / "run.npz"
    monkeypatch.setenv(TEST_SIGNALS_ENV, "SIGINT@chunk:2,SIGINT@chunk:3")
    code = main(["simulate", *LONG_EM, "--n-traj", str(256 * 1000), "--output", str(out),
                 "--backend", "dask", "--workers", "1", "--json"])
    captured = capsys.readouterr()
    assert code == 130, captured.err
    d = json.loads(captured.out)
    assert d["partial"] is True and 256 * 2 <= d["n_traj"] < 256 * 1000
    assert EnsembleResult.load(out).n_traj == d["n_traj"]
    # (Dask's own logging may add lines under a heavy load: "event loop was unresponsive")
    assert "Traceback" not in captured.err
    assert f"saved (complete): {out}" in captured.err.splitlines()[-1]


def test_interrupt_before_any_chunk_finished_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(TEST_SIGNALS_ENV, "SIGTERM@start")
    out = tmp_path / "run.npz"
    assert main(["simulate", *LONG_EM, "--n-traj", "4096", "--output", str(out)]) == 130
    captured = capsys.readouterr()
    assert "before any trajectory finished; nothing was saved" in _one_line(captured.err)
    assert captured.out == "" and not out.exists()


def test_further_interrupts_are_ignored_until_the_partial_result_is_written(tmp_path, capsys,
                                                                           monkeypatch):
    # a second and third interrupt while chunks finish, a fourth just before the file's rename
    monkeypatch.setenv(TEST_SIGNALS_ENV,
                       "SIGINT@chunk:2,SIGINT@chunk:3,SIGTERM@chunk:4,SIGINT@write")
    out = tmp_path / "run.npz"
    assert main(["simulate", *LONG_EM, "--n-traj", str(256 * 4000), "--output", str(out)]) == 130
    captured = capsys.readouterr()
    assert "PARTIAL" in captured.out and f"wrote {out}" in captured.out
    r = EnsembleResult.load(out)  # whole, with its metadata and the partial flag
    assert r.partial and r.metadata["n_traj_planned"] == 256 * 4000
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]  # no temporary file left
    _one_line(captured.err)


def test_interrupt_during_the_measures_reports_the_complete_ensemble(tmp_path, capsys,
                                                                    monkeypatch):
    monkeypatch.setenv(TEST_SIGNALS_ENV, "SIGINT@measures")
    out = tmp_path / "run.npz"
    assert main(["simulate", "--n-traj", "256", "--t-final", "4", "--output", str(out),
                 "--json", "--no-progress"]) == 130
    captured = capsys.readouterr()
    d = json.loads(captured.out)  # the JSON is written too, without the measures
    assert d["partial"] is False and d["measures_computed"] is False and d["E_N"] is None
    assert len(d["covariance"]) == 5 and d["n_traj"] == 256
    assert not EnsembleResult.load(out).partial
    err = _one_line(captured.err)
    assert f"saved (complete): {out}" in err and "before any" not in err


@pytest.fixture()
def one_group(monkeypatch):
    """Every chunk of a run merged into a single jackknife group: the state of a run
    interrupted within its first group, where no standard error exists."""
    import langevin_sim.engine.drivers as ens

    class OneGroup(ens.GroupAccumulator):
        def __init__(self, n_chunks, n_groups=None):
            super().__init__(n_chunks, 1)

    monkeypatch.setattr(ens, "GroupAccumulator", OneGroup)


def test_a_single_group_gives_values_with_unavailable_errors(one_group, tmp_path, capsys):
    import warnings

    out = tmp_path / "run.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered" on the way
        r = simulate(build_system(), [0.0, 5.0], n_traj=256, seed=1)
        assert not r.has_stderr and r.jackknife_dof == 0
        assert np.all(np.isfinite(r.covariance)) and np.all(np.isnan(r.covariance_stderr))
        est = r.measures()
        assert np.all(np.isfinite(est.values)) and np.all(np.isnan(est.stderr))
        assert main(["simulate", "--n-traj", "256", "--t-final", "4", "--output", str(out),
                     "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "n/a" in text and "nan" not in text.lower()
    assert EnsembleResult.load(out).n_traj == 256
    assert main(["simulate", "--n-traj", "256", "--t-final", "4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["stderr"][0][0][0] is None and d["E_N_stderr"][0] is None


@pytest.mark.parametrize("argv", [
    ["validate", "--n-traj", "4096", "--t-final", "100"],
    ["relax", "--n-traj", "4096", "--n-times", "6", "--t-final", "50"],
    ["switch-on", "--n-traj", "256", "--t-final", "5"],
    ["switch-on", "--n-traj", "256", "--t-final", "5", "--method", "exp-heun"],
])
def test_every_ensemble_command_survives_an_interrupt_within_the_first_group(one_group, argv,
                                                                            capsys,
                                                                            monkeypatch):
    monkeypatch.setenv(TEST_SIGNALS_ENV, "SIGINT@chunk:1")
    assert main([*argv, "--no-progress"]) == 130
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "invalid value" not in captured.err
    assert "PARTIAL" in captured.out or "interrupted" in captured.out
    assert not re.search(r"\bnan\b", captured.out), captured.out  # "n/a", never "nan"
    _one_line(captured.err)


def test_signals_during_start_up_give_one_line_and_130():
    exe = os.path.join(os.path.dirname(sys.executable), "langevin-sim")
    for how in ("SIGINT", "SIGTERM"):
        env = {**os.environ, TEST_SIGNALS_ENV: f"{how}@startup"}
        p = subprocess.run([exe, "steady"], capture_output=True, text=True, env=env)
        assert p.returncode == 130, p.stderr
        assert p.stderr == "langevin-sim: interrupted during start-up; nothing was run\n"
        p = subprocess.run([sys.executable, "-m", "langevin_sim", "steady"],
                           capture_output=True, text=True, env=env)
        assert p.returncode == 130 and "start-up" in p.stderr


# -- writes: whole or not at all ---------------------------------------------------------------
def test_a_failed_write_keeps_the_previous_file(tmp_path):
    from langevin_sim.io import OutputError, atomic_write

    target = tmp_path / "x.json"
    target.write_text("previous")

    def half(f):
        f.write(b"half a fi")
        raise OSError(27, "File too large")

    with pytest.raises(OutputError, match="x.json.*File too large.*previous file is kept"):
        atomic_write(target, half)
    assert target.read_text() == "previous" and os.listdir(tmp_path) == ["x.json"]


def test_sigkill_while_writing_leaves_the_previous_file(tmp_path):
    out = tmp_path / "run.npz"
    argv = ["simulate", "--n-traj", "64", "--t-final", "2", "--output", str(out)]
    assert main(argv) == 0
    before = out.read_bytes()
    env = {**os.environ, TEST_SIGNALS_ENV: "SIGKILL@write"}  # killed before the rename
    p = subprocess.run([sys.executable, "-m", "langevin_sim", *argv, "--seed", "5"],
                       capture_output=True, env=env)
    assert p.returncode == -9
    assert out.read_bytes() == before  # the previous file, whole
    assert not EnsembleResult.load(out).partial


def test_full_disk_is_one_line_exit_2_and_keeps_the_previous_file(tmp_path):
    out = tmp_path / "run.npz"
    argv = ["simulate", "--n-traj", "256", "--t-final", "400", "--output", str(out)]
    assert main(argv) == 0
    before = out.read_bytes()
    exe = os.path.join(os.path.dirname(sys.executable), "langevin-sim")
    # the command's own compiled kernels first, without the limit: an installed (not editable)
    # package keeps numba's cache beside its own files, which this process's imports of the
    # checkout did not fill, and a cache write would meet the limit before our output does
    warm = tmp_path / "warm"
    warm.mkdir()
    subprocess.run([exe, *argv[:-2], "--seed", "5", "--output", str(warm / "w.npz")],
                   capture_output=True, check=True)
    shutil.rmtree(warm)
    # ulimit -f 16: at most 16 KiB per file written (the file needs ~ 400 KiB)
    cmd = "ulimit -f 16 && exec " + " ".join([exe, *argv[:-2], "--seed", "5", "--output",
                                              str(out)])
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    assert p.returncode == 2, p.stderr
    assert "cannot write" in _one_line(p.stderr) and "previous file is kept" in p.stderr
    assert out.read_bytes() == before and os.listdir(tmp_path) == ["run.npz"]


def test_a_second_run_into_the_same_output_directory_refuses(tmp_path, capsys):
    import fcntl

    fd = os.open(tmp_path, os.O_RDONLY)  # another run holds the directory
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["relax", "--n-traj", "64", "--output", str(tmp_path)]) == 2
        err = _one_line(capsys.readouterr().err)
        assert "being written by another langevin-sim run" in err
        assert os.listdir(tmp_path) == []
    finally:
        os.close(fd)
    assert main(["relax", "--n-traj", "64", "--n-times", "4", "--t-final", "20",
                 "--output", str(tmp_path)]) == 0  # free again, and released after the run
    fd = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)


# -- silently accepted, now checked ---------------------------------------------------------------
def test_validate_from_vacuum_gets_a_window_after_its_burn_in():
    from langevin_sim.analyses.validate import validate
    rep = validate(initial="vacuum", n_traj=2048, seed=3, record_every=100.0)
    assert rep.burn_in > 900 and rep.t_final >= rep.burn_in + 400 - 100


def test_relax_refuses_a_steady_start():
    from langevin_sim.analyses.relax import relax
    with pytest.raises(ValueError, match="nothing relaxes"):
        relax(initial="steady")


def test_merge_refuses_different_runs_and_keeps_every_seed():
    a = simulate(build_system(), [0.0, 1.0], n_traj=64, seed=1,
                 metadata={"parameters": {"T": 0.03}})
    b = simulate(build_system(), [0.0, 1.0], n_traj=64, seed=2,
                 metadata={"parameters": {"T": 0.1}})
    with pytest.raises(ValueError, match="same parameters.*T"):
        a.merge(b)
    c = simulate(build_system(), [0.0, 1.0], n_traj=64, seed=3,
                 metadata={"parameters": {"T": 0.03}})
    d = simulate(build_system(), [0.0, 1.0], n_traj=64, seed=4,
                 metadata={"parameters": {"T": 0.03}})
    merged = a.merge(c).merge(d)
    assert merged.metadata["merged_seeds"] == [1, 3, 4]
    with pytest.raises(ValueError, match="same initial"):
        a.merge(simulate(build_system(), [0.0, 1.0], n_traj=64, seed=5, initial="vacuum",
                         metadata={"parameters": {"T": 0.03}}))


def test_long_runs_say_so_before_they_start(monkeypatch):
    import langevin_sim.engine.drivers as ens
    monkeypatch.setattr(ens, "LONG_RUN_SECONDS", 0)
    with pytest.warns(UserWarning, match="trajectory-steps"):
        simulate(build_system(), [0.0, 1.0], n_traj=64, seed=1)


# -- notebook and API -----------------------------------------------------------------------------
def test_importing_plotting_keeps_the_matplotlib_backend():
    code = ("import matplotlib; matplotlib.use('svg'); import langevin_sim.plotting; "
            "print(matplotlib.get_backend())")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "svg", out.stderr


def test_measures_is_a_module_with_the_function_measures():
    import types

    import langevin_sim
    from langevin_sim.measures import measures

    assert isinstance(langevin_sim.measures, types.ModuleType)  # no callable-module hack
    assert langevin_sim.measures.measures is measures
    s = build_system()
    assert measures(steady_state(s), s).E_N == pytest.approx(0.7585, abs=1e-4)


def test_result_repr_is_short_and_version_flag(capsys):
    r = simulate(build_system(), np.arange(0, 50.0), n_traj=64, seed=1)
    assert len(repr(r)) < 200 and "64 trajectories" in repr(r)
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and "langevin-sim 0." in capsys.readouterr().out


def test_json_has_no_nan_tokens(capsys):
    assert main(["steady", "--set", "delta1=-0.5", "--json"]) == 3
    text = capsys.readouterr().out
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert main(["simulate", "--n-traj", "64", "--t-final", "2", "--set", "eta=0",
                 "--set", "T=0", "--json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text
    d = json.loads(text)
    assert len(d["physical"]) == len(d["times"])  # every record flagged physical or not


# -- plots ----------------------------------------------------------------------------------------
def test_relaxation_plot_uses_log_axes_for_duan_and_reid(tmp_path):
    import matplotlib.pyplot as plt

    from langevin_sim.analyses.relax import relax
    from langevin_sim.plotting import plot_relaxation_measures
    rep = relax(n_traj=512, n_times=6, t_final=50.0, seed=1)
    assert rep.physical.shape == rep.times.shape  # every record flagged
    assert "unphysical_record_times" in rep.summary_dict()
    fig = plot_relaxation_measures(rep)
    scales = {ax.get_ylabel(): ax.get_yscale() for ax in fig.axes}
    assert scales[r"$S_{b|m}$"] == "log" and scales[r"$E_{bm}$"] == "log"
    assert scales[r"$E_N$"] == "linear"
    plt.close(fig)
    from langevin_sim.cli.relax import render

    text = render(rep)
    rows = [ln for ln in text.splitlines() if "±" in ln and ln.strip()[0].isdigit()]
    assert rows and all(")" in r.split("±")[1] for r in rows)
    assert all("  " in r for r in rows)  # columns separated by spaces, never run together


def test_empty_map_has_no_colour_bar():
    import matplotlib.pyplot as plt

    from langevin_sim.analyses.sweep import sweep
    from langevin_sim.plotting import draw_map
    r = sweep(axes={"T": [0.0, 0.1], "eta": [0.5, 1.0]})
    fig, ax = plt.subplots()
    draw_map(ax, r, "G_m_to_b", "T", "eta")
    assert len(fig.axes) == 1
    plt.close(fig)


def test_commands_do_not_import_what_they_do_not_use():
    code = ("import sys\nfrom langevin_sim.cli import main\n"
            "main(['simulate', '--n-traj', '64', '--t-final', '2'])\n"
            "heavy = sorted({m.split('.')[0] + ('.' + m.split('.')[1] if '.' in m else '')\n"
            "                for m in sys.modules if m.startswith(('matplotlib', 'distributed',\n"
            "                'scipy.optimize', 'scipy.stats', 'qutip'))})\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in out.stdout, out.stdout[-300:] + out.stderr[-300:]


# -- hostile inputs and faults (issue 23) ---------------------------------------------------------
def test_merge_counts_every_run_once_even_after_save_and_reload(tmp_path):
    a, b, c = (simulate(build_system(), [0.0, 1.0], n_traj=64, seed=s) for s in (1, 2, 3))
    ab = a.merge(b)
    assert [r["seed"] for r in ab.provenance] == ["1", "2"]
    assert ab.provenance[1] == {"seed": "2", "n_chunks": 32, "n_chunks_planned": 32,
                                "n_traj": 64}
    for x, y in [(ab, b), (b, ab), (ab, a), (ab, ab)]:
        with pytest.raises(ValueError, match="share the chunks of seed"):
            x.merge(y)
    ab.save(tmp_path / "ab.npz")
    reloaded = EnsembleResult.load(tmp_path / "ab.npz")
    with pytest.raises(ValueError, match="share the chunks of seed\\(s\\) 2"):
        reloaded.merge(b)  # the seeds travel in the file
    abc = reloaded.merge(c)
    assert abc.n_traj == 192 and abc.metadata["merged_seeds"] == [1, 2, 3]
    # pooling is exact: the merged moments are those of one ensemble of the three runs' groups
    assert np.allclose(abc.covariance, a.merge(b).merge(c).covariance, rtol=1e-12, atol=0)


def test_merge_refuses_non_finite_group_moments():
    from dataclasses import replace

    from langevin_sim.statistics import Moments
    a, b = (simulate(build_system(), [0.0, 1.0], n_traj=64, seed=s) for s in (1, 2))
    m2 = b.groups.m2.copy()
    m2[3, 1, 0, 0] = np.nan
    bad = replace(b, groups=Moments(b.groups.count, b.groups.mean, m2))
    with pytest.raises(ValueError, match="group moments are not finite"):
        a.merge(bad)
    with pytest.raises(TypeError, match="takes an EnsembleResult"):
        a.merge({"groups": None})


def test_load_names_the_file_and_what_is_wrong(tmp_path):
    import zipfile
    r = simulate(build_system(), [0.0, 1.0], n_traj=64, seed=1)
    r.save(tmp_path / "good.npz")
    (tmp_path / "text.npz").write_text("covariance = identity\n")
    np.save(tmp_path / "one.npy", np.eye(2))
    (tmp_path / "zip.npz").write_bytes(b"PK\x03\x04 not a zip archive")
    with zipfile.ZipFile(tmp_path / "good.npz") as z, \
            zipfile.ZipFile(tmp_path / "nometa.npz", "w") as w:  # a save cut short
        for name in z.namelist():
            if name != "metadata.npy":
                w.writestr(name, z.read(name))
    for name, what in [("text.npz", "a text file or other data"), ("one.npy", "single .npy"),
                       ("zip.npz", "corrupted .npz archive (BadZipFile)"),
                       ("nometa.npz", "no 'metadata' array")]:
        with pytest.raises(ValueError) as info:
            EnsembleResult.load(tmp_path / name)
        message = str(info.value)
        assert name in message and what in message and "\n" not in message, message
    assert EnsembleResult.load(tmp_path / "good.npz").n_traj == 64


def test_a_non_finite_z_fails_the_verdict(tmp_path, capsys):
    from langevin_sim.statistics import consistency, z_scores
    check = consistency(np.array([0.1, np.nan, -0.2]), 0.01, dof=31)
    assert check.consistent is False and check.n_nonfinite == 1
    assert check.summary().startswith("INCONSISTENT: 1 of 3 z-scores are not finite")
    # an overflowed sample has an infinite SE: its z is NaN, never the 0 that would pass
    assert np.isnan(z_scores(1e308, 1.0, np.inf)) and z_scores(2.0, 2.0, 0.0) == 0.0
    np.savez(tmp_path / "huge.npz", covariance=1e300 * np.eye(8), mean=np.zeros(8))
    assert main(["relax", "--initial", str(tmp_path / "huge.npz"), "--n-traj", "64",
                 "--n-times", "5", "--json", "--no-progress"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["consistent"] is False and "not finite" in out["summary"]
    # negative control: the same command from a finite state keeps its verdict
    np.savez(tmp_path / "warm.npz", covariance=3.0 * np.eye(8), mean=np.zeros(8))
    main(["relax", "--initial", str(tmp_path / "warm.npz"), "--n-traj", "64", "--n-times", "5",
          "--json", "--no-progress"])
    assert "not finite" not in json.loads(capsys.readouterr().out)["summary"]


def test_fewer_than_eight_groups_give_no_verdict():
    from langevin_sim.analyses.validate import validate
    from langevin_sim.backends import LocalBackend
    from langevin_sim.statistics import MIN_VERDICT_GROUPS, consistency

    class FiveChunks(LocalBackend):
        """Runs the first five chunks it is given, as a run interrupted after them."""

        def map_tasks(self, func, shared, args, sink=None, order=None, **kw):
            for i in list(order)[:5]:
                sink(int(i), func(shared, *args[i]))
            return {}

    import langevin_sim.engine as ens
    assert MIN_VERDICT_GROUPS == ens.MIN_VERDICT_CHUNKS
    rep = validate(n_traj=1024, seed=3, backend=FiveChunks())
    assert rep.partial and rep.check.dof == 4
    assert rep.check.consistent is None and rep.to_dict()["consistent"] is None
    from langevin_sim.cli.validate import render

    assert "NO VERDICT: 5 independent chunk groups" in render(rep)
    assert "CONSISTENT" not in render(rep).replace("INCONSISTENT", "")
    # the same z-scores on 8 groups do get a verdict
    assert consistency(np.zeros(3), 0.01, dof=7, min_groups=8).consistent is True


def test_the_run_time_notice_counts_records_and_comes_first(monkeypatch):
    import warnings

    import langevin_sim.engine.drivers as ens
    from langevin_sim.analyses.relax import relax
    built = []
    monkeypatch.setattr(ens, "build_schedule", lambda *a, **k: built.append(1) or 1 / 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match=r"100000 records: .* min for the records"):
            relax(n_times=100000)  # few steps, but 1e5 records to transition and measure
    assert not built  # said before the schedule, whose build alone is minutes here
    import langevin_sim.engine as eng
    steps_only, records = eng.run_time_estimate(16384, np.arange(2001.0), 1.0)
    assert records == pytest.approx(2001 * eng.SECONDS_PER_RECORD)
    assert steps_only == pytest.approx(16384 * (2000 + 2 * 2001) / eng.ASSUMED_THROUGHPUT)


def test_simulate_takes_a_model_and_api_type_errors_are_one_line():
    from langevin_sim import steady_state
    from langevin_sim.analyses.sweep import sweep
    from langevin_sim.models import ModelDescription, load_model
    r = simulate(load_model("cascade"), [0.0, 1.0], n_traj=64, seed=1)
    direct = simulate(build_system(), [0.0, 1.0], n_traj=64, seed=1)
    assert (r.groups.m2 == direct.groups.m2).all() and r.metadata["model"] == "cascade"
    for call, match in [(lambda: simulate({}, [0.0, 1.0]), r"simulate\(system=\.\.\.\) takes"),
                        (lambda: steady_state({}), r"steady_state\(system=\.\.\.\) takes"),
                        (lambda: ModelDescription("m", modes="ab"), r"modes=\.\.\.\) must be"),
                        (lambda: sweep(CascadeParameters(), ["T"]), r"sweep\(axes=\.\.\.\)")]:
        with pytest.raises(TypeError, match=match) as info:
            call()
        assert "\n" not in str(info.value)


def test_figures_mc_check_interrupted_keeps_the_finished_checks_and_plots(tmp_path, capsys,
                                                                         monkeypatch):
    """Ctrl-C during the Monte Carlo spot checks: the sweeps, the checks that finished (the
    one cut short marked partial, its SEs null when no group completed) and the figure's
    plots are written whole; no further figure starts; exit 130 with one line."""
    monkeypatch.setenv(TEST_SIGNALS_ENV, "SIGINT@chunks:40")  # in the second check
    out = tmp_path / "figs"
    code = main(["figures", "--fig", "4", "--resolution", "6", "--mc-check", "2",
                 "--mc-n-traj", "1024", "--output", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 130, captured.err
    line = _one_line(captured.err)
    assert "saved (complete)" in line and "fig4_mc_check.json" in line and "fig4.png" in line
    checks = json.loads((out / "fig4_mc_check.json").read_text())
    done = [c for cs in checks.values() for c in cs]
    assert done and done[-1]["partial"] and not any(c["partial"] for c in done[:-1])
    assert (out / "fig4.png").stat().st_size > 0
    assert "PARTIAL" in captured.out and "nan" not in captured.out


@pytest.mark.parametrize("event", ["chunks:3", "chunks:200"])
def test_detect_interrupted_reports_the_exact_analysis_and_what_finished(event, tmp_path,
                                                                         capsys, monkeypatch):
    """Ctrl-C in the first experiment (no reconstruction without every phase setting) or in a
    repetition: the exact analysis and what finished are printed and written, marked partial;
    exit 130 with one line."""
    monkeypatch.setenv(TEST_SIGNALS_ENV, f"SIGINT@{event}")
    out = tmp_path / "det"
    code = main(["detect", "--records", "2000", "--repetitions", "3", "--no-check",
                 "--output", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 130, captured.err
    assert "detect_report.json" in _one_line(captured.err)
    d = json.loads((out / "detect_report.json").read_text())
    assert d["partial"] is True and d["detected"]["E_N"] > 0
    first = event == "chunks:3"
    assert (d["records"] is None) == first
    assert ("INTERRUPTED" in captured.out) == first and "nan" not in captured.out
