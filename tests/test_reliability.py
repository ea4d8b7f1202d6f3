"""Edge cases and interruptions: every one gives a clear answer and loses nothing."""

import _thread
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from langevin_sim import CascadeParameters, build_system, steady_state
from langevin_sim.cli import main
from langevin_sim.ensemble import EnsembleResult, simulate
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
    from langevin_sim.sweep import sweep
    r = sweep(CascadeParameters(T=0.0, eta=0.0), {"T": [0.0, 0.1], "eta": [0.0, 1.0]})
    assert r.values["E_bm"][0, 0] == pytest.approx(1.0, abs=1e-12)  # a product state
    from langevin_sim.figures import mc_points
    assert (0, 0) not in mc_points(r, 3)
    import matplotlib.pyplot as plt

    from langevin_sim.plotting import draw_map
    fig, ax = plt.subplots()
    im = draw_map(ax, r, "E_bm", "T", "eta")
    assert im.get_array().mask.reshape(2, 2)[0, 0]  # (η = 0, T = 0) left blank
    plt.close(fig)


def test_product_state_estimates_are_not_called_correlated():
    from langevin_sim.validation import validate
    rep = validate(CascadeParameters(eta=0.0, T=0.0), n_traj=8192, seed=4)
    assert rep.check.consistent
    for k, v in rep.verdicts.items():
        assert not v["correlated"], k
    # unclipped and bias-corrected values straddle the exact 0 within their error
    assert abs(rep.measures_bias_corrected["E_N"]) < 4 * rep.measures_stderr["E_N"]
    assert rep.measures_unclipped["E_N"] != rep.measures["E_N"] or rep.measures["E_N"] > 0


# -- interruptions --------------------------------------------------------------------------------
def _interrupt_after(seconds, how):
    if how == "sigint":
        timer = threading.Timer(seconds, _thread.interrupt_main)
    else:
        import signal
        timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    return timer


@pytest.mark.parametrize("how", ["sigint", "sigterm"])
def test_interrupted_simulate_saves_partial_and_exits_130(tmp_path, capsys, how):
    out = tmp_path / "run.npz"
    timer = _interrupt_after(2.0, how)
    try:
        code = main(["simulate", "--method", "em", "--dt", "0.002", "--t-final", "4",
                     "--record-every", "2", "--n-traj", str(256 * 4000), "--chunk-size", "256",
                     "--output", str(out), "--json", "--no-progress"])
    finally:
        timer.cancel()
    assert code == 130
    d = json.loads(capsys.readouterr().out)
    assert d["partial"] is True and 0 < d["n_traj"] < 256 * 4000
    r = EnsembleResult.load(out)
    assert r.partial and r.n_traj == d["n_traj"]


def test_interrupted_validate_is_marked_partial(capsys):
    timer = _interrupt_after(2.0, "sigint")
    try:
        code = main(["validate", "--method", "em", "--dt", "0.002", "--t-final", "8",
                     "--record-every", "2", "--n-traj", str(256 * 2000), "--chunk-size", "256",
                     "--json", "--no-progress"])
    finally:
        timer.cancel()
    assert code == 130
    assert json.loads(capsys.readouterr().out)["partial"] is True


# -- silently accepted, now checked ---------------------------------------------------------------
def test_validate_from_vacuum_gets_a_window_after_its_burn_in():
    from langevin_sim.validation import validate
    rep = validate(initial="vacuum", n_traj=2048, seed=3, record_every=100.0)
    assert rep.burn_in > 900 and rep.t_final >= rep.burn_in + 400 - 100


def test_relax_refuses_a_steady_start():
    from langevin_sim.relaxation import relax
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
    import langevin_sim.ensemble as ens
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


def test_measures_module_and_function():
    import langevin_sim.measures as m
    assert callable(m.log_negativity)
    from langevin_sim import measures
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

    from langevin_sim.plotting import plot_relaxation_measures
    from langevin_sim.relaxation import relax
    rep = relax(n_traj=512, n_times=6, t_final=50.0, seed=1)
    assert rep.physical.shape == rep.times.shape  # every record flagged
    assert "unphysical_record_times" in rep.summary_dict()
    fig = plot_relaxation_measures(rep)
    scales = {ax.get_ylabel(): ax.get_yscale() for ax in fig.axes}
    assert scales[r"$S_{b|m}$"] == "log" and scales[r"$E_{bm}$"] == "log"
    assert scales[r"$E_N$"] == "linear"
    plt.close(fig)
    text = rep.render()
    rows = [ln for ln in text.splitlines() if "±" in ln and ln.strip()[0].isdigit()]
    assert rows and all(")" in r.split("±")[1] for r in rows)
    assert all("  " in r for r in rows)  # columns separated by spaces, never run together


def test_empty_map_has_no_colour_bar():
    import matplotlib.pyplot as plt

    from langevin_sim.plotting import draw_map
    from langevin_sim.sweep import sweep
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
