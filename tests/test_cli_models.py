"""Every analysis on any model and any mode pair, from the command line and the API."""

import json

import numpy as np
import pytest

from langevin_sim import CascadeParameters
from langevin_sim.analyses.steady import steady_report
from langevin_sim.cli import main
from langevin_sim.gaussian import steady_state
from langevin_sim.measures import measures
from langevin_sim.models import load_model

from .test_description import THREE_MODE, reference_cascade


@pytest.fixture()
def chain_file(tmp_path):
    path = tmp_path / "chain.toml"
    path.write_text(THREE_MODE)
    return str(path)


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_paper_steady_numbers_are_those_of_the_reference_model(capsys):
    a, b, nbar, d = reference_cascade(CascadeParameters(eta=0.5, T=0.1))
    from langevin_sim.systems.linear import LinearSystem
    ref = LinearSystem(a, b, nbar, ("a1", "a2", "b", "m"))
    sigma = steady_state(ref)
    expected = measures(sigma, ref, modes=("b", "m")).as_dict()
    assert main(["steady", "--set", "eta=0.5", "--set", "T=0.1", "--json"]) == 0
    out = _json(capsys)
    for k in ("E_N", "E_bm", "S_m_given_b", "S_b_given_m", "G_b_to_m", "G_m_to_b"):
        assert out[k] == pytest.approx(expected[k], rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(out["covariance"], sigma, rtol=1e-12)
    # the dataclass path and the description path agree exactly
    r1 = steady_report(CascadeParameters(eta=0.5, T=0.1))
    r2 = steady_report(load_model("cascade").replace(eta=0.5, T=0.1))
    assert np.array_equal(r1.covariance, r2.covariance)


def test_steady_of_a_driven_model_reports_the_mean_field(capsys):
    assert main(["steady", "--model", "cascade-full", "--json"]) == 0
    out = _json(capsys)
    mf = out["mean_field"]
    assert mf["linearised_branch"] == 0 and len(mf["branches"]) == 1
    br = mf["branches"][0]
    assert br["quanta"]["a1"] == pytest.approx((0.5 / 1.5e-5) ** 2, rel=1e-9)
    assert br["effective_detunings"]["a1"] == pytest.approx(1.0, abs=1e-9)
    assert out["E_N"] == pytest.approx(steady_report().measures.E_N, rel=1e-9)
    assert main(["steady", "--model", "optomech", "--set", "delta_bare=3",
                 "--set", "drive=9000"]) == 0
    text = capsys.readouterr().out
    assert "branch 2" in text and "UNSTABLE" in text and "<- linearised" in text


def test_user_model_through_every_command(chain_file, tmp_path, capsys):
    assert main(["steady", "--model", chain_file, "--json"]) == 0
    out = _json(capsys)
    assert out["pair"] == ["a", "c"] and "E_ac" in out and "S_c_given_a" in out
    assert main(["steady", "--model", chain_file, "--pair", "a,b", "--set", "g=0.2",
                 "--json"]) == 0
    out = _json(capsys)
    s = load_model(chain_file).replace(g=0.2).linear_system()
    assert out["E_N"] == pytest.approx(measures(steady_state(s), s, ("a", "b")).E_N, rel=1e-12)

    assert main(["validate", "--model", chain_file, "--pair", "a,b", "--n-traj", "4096",
                 "--t-final", "100", "--record-every", "10", "--json"]) == 0
    out = _json(capsys)
    assert out["consistent"] and out["pair"] == ["a", "b"] and "E_ab_stderr" in out

    npz = tmp_path / "run.npz"
    assert main(["simulate", "--model", chain_file, "--n-traj", "512", "--t-final", "5",
                 "--output", str(npz), "--json"]) == 0
    out = _json(capsys)
    assert "S_c_given_a" in out and npz.exists()

    outdir = tmp_path / "relax"
    assert main(["relax", "--model", chain_file, "--pair", "b,c", "--n-traj", "1024",
                 "--n-times", "8", "--seed", "5", "--json", "--output", str(outdir)]) == 0
    out = _json(capsys)
    assert out["pair"] == ["b", "c"] and "S_c_given_b" in out["onsets"]
    assert (outdir / "relax_variances.png").exists()

    sweep_dir = tmp_path / "sweep"
    assert main(["sweep", "--model", chain_file, "--axis", "g=0.05:0.45:5",
                 "--axis", "kappa=0.8:1.5:4", "--output", str(sweep_dir), "--json",
                 "--no-progress"]) == 0
    out = _json(capsys)
    assert out["n_points"] == 20 and set(out["measures"]) >= {"E_N", "E_ac", "G_a_to_c"}
    assert (sweep_dir / "sweep.npz").exists() and (sweep_dir / "sweep.png").exists()


def test_sweep_masks_instability_of_a_user_model(chain_file, tmp_path, capsys):
    # two-mode squeezing stronger than the damping can take is unstable: masked, never a number
    assert main(["sweep", "--model", chain_file, "--axis", "g=0.1:0.9:9", "--pair", "a,b",
                 "--json", "--no-progress", "--output", str(tmp_path)]) == 0
    out = _json(capsys)
    grid = np.linspace(0.1, 0.9, 9)
    stable = [load_model(chain_file).replace(g=g).linear_system().is_stable for g in grid]
    assert 0 < out["n_stable"] == sum(stable) < 9
    # entanglement grows with g up to the last stable point
    assert out["measures"]["E_N"]["at"]["g"] == pytest.approx(grid[np.nonzero(stable)[0][-1]])
    from langevin_sim.analyses.sweep import SweepResult
    r = SweepResult.load(tmp_path / "sweep.npz")
    assert np.all(np.isnan(r.values["E_N"][~r.stable])) and r.pair == ("a", "b")


def test_nonlinear_model_without_stable_branch_exits_3(capsys):
    # blue-detuned strong drive: every mean-field branch is unstable (self-oscillation)
    assert main(["steady", "--model", "optomech", "--set", "delta_bare=-1",
                 "--set", "drive=3000"]) == 3
    assert "no stable steady mean field" in capsys.readouterr().out
