"""The ensemble commands (validate, simulate, relax) with --parties, --observables and
--fidelity-target, and a one-mode model through every command that takes a model.

Statistical checks compare the sampled observables with closed forms derived here, by the
package's max-|z| test at family-wise significance 0.01 (the tolerance is k·SE, k from the
number of comparisons), with fixed seeds."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from langevin_sim.cli import main
from langevin_sim.statistics import consistency

# A degenerate parametric oscillator, H = (g/2)(x² − p²), decay κ, vacuum bath: the quadratures
# u, v = (x ± p)/√2 decay at λ± = κ/2 ± g and relax from V(0) to V∞ = κ/(4λ±):
# V(t) = V∞ + (V(0) − V∞) e^{−2λ± t}; u is the squeezed one (angle π/4).
OPO_FILE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "opo.toml"

# A driven Kerr oscillator (nonlinear: the truncated Wigner engine, ll by default).
KERR = """
name = "kerr"
unit = "κ"
[parameters]
kappa = 1.0
delta = 1.0
K = 0.01
drive = 2.0
[modes.a]
frequency_hz = 5e9
[[terms]]
kind = "detuning"
mode = "a"
value = "delta"
[[terms]]
kind = "kerr"
mode = "a"
K = "K"
[[damping]]
mode = "a"
rate = "kappa"
[[drives]]
mode = "a"
amplitude = ["drive", 0.0]
"""

KAPPA, G = 1.0, 0.3


def opo_variances(t, v0=0.5):
    """Var u(t), Var v(t) of the OPO from a state with both variances v0 (vacuum: 1/2)."""
    t = np.asarray(t, float)
    out = []
    for lam in (KAPPA / 2 + G, KAPPA / 2 - G):
        v_inf = KAPPA / (4 * lam)
        out.append(v_inf + (v0 - v_inf) * np.exp(-2 * lam * t))
    return out


@pytest.fixture()
def opo_file():
    return str(OPO_FILE)


@pytest.fixture()
def kerr_file(tmp_path):
    path = tmp_path / "kerr.toml"
    path.write_text(KERR)
    return str(path)


def run_json(capsys, args, status=0):
    assert main([*args, "--json"]) == status, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


SINGLE = ("n", "n_thermal", "n_coherent", "min_variance", "squeezing_angle", "squeezing_db",
          "purity", "entropy")


# --- validate --------------------------------------------------------------------------------

def test_validate_a_one_mode_model_reports_its_observables(opo_file, capsys):
    out = run_json(capsys, ["validate", "--model", opo_file, "--n-traj", "4096"])
    assert out["pair"] is None and "E_N" not in out
    for k in SINGLE:
        for suffix in ("", "_stderr", "_analytic", "_z"):
            assert f"{k}_a{suffix}" in out, f"{k}_a{suffix}"
    # the references are the closed forms
    v_u, v_v = KAPPA / (4 * (KAPPA / 2 + G)), KAPPA / (4 * (KAPPA / 2 - G))
    assert out["squeezing_db_a_analytic"] == pytest.approx(-10 * math.log10(2 * v_u), rel=1e-10)
    assert out["n_a_analytic"] == pytest.approx((v_u + v_v) / 2 - 0.5, rel=1e-10)
    assert out["purity_a_analytic"] == pytest.approx(1 / (2 * math.sqrt(v_u * v_v)), rel=1e-10)
    # the verdict: 3 covariance elements and the smooth observables n, n_thermal, purity
    assert out["observables_in_verdict"] == ["n_a", "n_thermal_a", "purity_a"]
    assert out["n_compared"] == 3 + 3 and out["consistent"]
    # the squeezing (not in the verdict) agrees with its closed form within k·SE too
    z = [out[f"{k}_a_z"] for k in ("min_variance", "squeezing_db", "squeezing_angle")]
    assert np.max(np.abs(z)) <= out["z_threshold"]


def test_validate_a_nonlinear_one_mode_model(kerr_file, capsys):
    """The Kerr oscillator on the truncated Wigner engine: its occupation counts the coherent
    quanta of the mean field, and the reference is that of steady (mean field + σ∞)."""
    from langevin_sim.analyses.steady import steady_report

    out = run_json(capsys, ["validate", "--model", kerr_file, "--n-traj", "2048",
                            "--t-final", "100", "--record-every", "10"])
    assert out["method"] == "ll" and out["pair"] is None
    ref = steady_report(kerr_file).observable_values
    for k in ("n", "n_coherent", "n_thermal", "purity", "squeezing_db"):
        assert out[f"{k}_a_analytic"] == pytest.approx(ref[f"{k}_a"], rel=1e-9)
    assert out["n_coherent_a_analytic"] > 1  # a driven mode: mostly coherent quanta
    assert out["consistent"]
    assert abs(out["n_a_z"]) <= out["z_threshold"]


def test_validate_default_run_is_unchanged_and_observables_join_on_request(capsys):
    base = run_json(capsys, ["validate", "--n-traj", "2048", "--t-final", "100"])
    assert base["n_compared"] == 36 + 6 and "observables" not in base and "n_b" not in base
    asked = run_json(capsys, ["validate", "--n-traj", "2048", "--t-final", "100",
                              "--observables", "n,purity,E_N"])
    assert asked["n_compared"] == 36 + 6 + 4 * 2  # n and purity of the four modes
    # the same ensemble (same seed): the covariance and the pair measures are unchanged
    assert asked["E_N"] == base["E_N"] and asked["covariance"] == base["covariance"]
    # --observables E_N with the pair alone reports the pair's bipartition: E_N_b_m = E_N
    assert asked["E_N_b_m"] == pytest.approx(asked["E_N"], rel=1e-12)
    assert asked["E_N_b_m_analytic"] == pytest.approx(asked["E_N_analytic"], rel=1e-12)


def test_validate_parties_names_and_exact_references(capsys):
    from langevin_sim.analyses.steady import steady_report

    out = run_json(capsys, ["validate", "--n-traj", "2048", "--t-final", "100",
                            "--parties", "a1,b|m", "--observables", "E_N,I,G"])
    ref = steady_report(parties=["a1,b|m"]).observable_values
    for k in ("E_N_a1b_m", "I_a1b_m", "G_a1b_to_m", "G_m_to_a1b"):
        for suffix in ("", "_stderr", "_analytic", "_z"):
            assert k + suffix in out
        assert out[k + "_analytic"] == pytest.approx(ref[k], rel=1e-9, abs=1e-12)
        assert out[k + "_stderr"] > 0
    assert out["parties"] == ["a1,b|m"] and out["observables_in_verdict"] == []
    assert out["n_compared"] == 42  # bipartition measures are reported, not in the verdict
    z = [out[k + "_z"] for k in ("E_N_a1b_m", "I_a1b_m", "G_a1b_to_m")]
    assert np.max(np.abs(z)) <= out["z_threshold"]


def test_pair_is_the_short_form_of_parties_in_validate(capsys):
    common = ["validate", "--n-traj", "1024", "--t-final", "60", "--observables", "E_N"]
    by_pair = run_json(capsys, [*common, "--pair", "a1,m"])
    by_parties = run_json(capsys, [*common, "--parties", "a1|m"])
    for k in ("E_N", "E_N_stderr", "S_m_given_a1", "E_N_a1_m", "E_N_a1_m_stderr"):
        assert by_pair[k] == by_parties[k]
    assert by_pair["pair"] == by_parties["pair"] == ["a1", "m"]


# --- simulate --------------------------------------------------------------------------------

def test_simulate_a_one_mode_model_follows_the_closed_form(opo_file, capsys):
    """From the vacuum: n̄(t) = (V_u + V_v)/2 − 1/2 and squeezing −10 log10(2 V_u) at every
    record, sampled ± SE, by the max-|z| test (the squeezing from t > 0: at t = 0 the state is
    isotropic and the smallest sampled variance is biased low by O(SE))."""
    out = run_json(capsys, ["simulate", "--model", opo_file, "--n-traj", "4096",
                            "--t-final", "4", "--record-every", "1"])
    times = np.array(out["times"])
    assert out["pair"] is None and out["physical"] and "E_N" not in out
    assert len(out["n_a"]) == len(out["n_a_stderr"]) == times.size == 5
    v_u, v_v = opo_variances(times)
    z = list((np.array(out["n_a"]) - ((v_u + v_v) / 2 - 0.5)) / np.array(out["n_a_stderr"]))
    z += list(((np.array(out["squeezing_db_a"]) + 10 * np.log10(2 * v_u))
               / np.array(out["squeezing_db_a_stderr"]))[1:])
    z += list(((np.array(out["purity_a"]) - 0.5 / np.sqrt(v_u * v_v))
               / np.array(out["purity_a_stderr"]))[1:])
    check = consistency(np.array(z), alpha=0.01, dof=31)
    assert check.consistent, (check, z)
    # negative control: the closed form of a squeezing g 50% larger is rejected (about 0.7 dB,
    # 5-7 SE, from t = 1 on)
    G_wrong = 1.5 * G
    lam = KAPPA / 2 + G_wrong
    v_wrong = KAPPA / (4 * lam) + (0.5 - KAPPA / (4 * lam)) * np.exp(-2 * lam * times)
    z_wrong = ((np.array(out["squeezing_db_a"]) + 10 * np.log10(2 * v_wrong))
               / np.array(out["squeezing_db_a_stderr"]))[1:]
    assert np.max(np.abs(z_wrong)) > check.threshold


def test_simulate_text_and_parties(opo_file, capsys):
    assert main(["simulate", "--model", opo_file, "--n-traj", "512", "--t-final", "3"]) == 0
    text = capsys.readouterr().out
    assert "n_a" in text and "squeezing_db_a" in text and "nan" not in text
    out = run_json(capsys, ["simulate", "--n-traj", "512", "--t-final", "3",
                            "--parties", "a1,b|m", "--observables", "n,E_N"])
    assert out["parties"] == ["a1,b|m"] and len(out["E_N_a1b_m"]) == len(out["times"])
    assert "n_m_stderr" in out and "purity_m" not in out and "E_N" in out


# --- relax -----------------------------------------------------------------------------------

def test_relax_a_one_mode_model_with_a_fidelity_target(opo_file, tmp_path, capsys):
    """From the vacuum, against the vacuum: the exact fidelity is the overlap
    <0|ρ(t)|0> = 1/√det(σ(t) + I/2) = 1/√((V_u + 1/2)(V_v + 1/2)), the exact occupation
    (V_u + V_v)/2 − 1/2; the samples agree within k·SE where F is not at its maximum 1."""
    target = tmp_path / "vacuum.json"
    target.write_text(json.dumps({"modes": ["a"], "covariance": [[0.5, 0], [0, 0.5]]}))
    out_dir = tmp_path / "r"
    out = run_json(capsys, ["relax", "--model", opo_file, "--initial", "vacuum",
                            "--n-traj", "4096", "--n-times", "12", "--fidelity-target",
                            str(target), "--output", str(out_dir)])
    times = np.array(out["times"])
    v_u, v_v = opo_variances(times)
    f_exact = 1 / np.sqrt((v_u + 0.5) * (v_v + 0.5))
    np.testing.assert_allclose(out["fidelity_a_analytic"], f_exact, rtol=1e-9)
    np.testing.assert_allclose(out["n_a_analytic"], (v_u + v_v) / 2 - 0.5, rtol=1e-9,
                               atol=1e-12)
    away = 1 - f_exact > 0.05
    assert away.sum() >= 4
    z = ((np.array(out["fidelity_a"]) - f_exact) / np.array(out["fidelity_a_stderr"]))[away]
    check = consistency(z, alpha=0.01, dof=31)
    assert check.consistent, (check, z)
    assert out["pair"] is None and out["onsets"] == {}
    assert out["observables_in_verdict"] == ["n_a", "n_thermal_a", "purity_a"]
    assert out["n_compared"] == times.size * (3 + 2 + 3) and out["consistent"]
    # no pair: the distance plot only
    assert set(out["files"]) == {"distance", "ensemble", "report"}
    assert main(["relax", "--model", opo_file, "--n-traj", "512", "--n-times", "5"]) == 0
    text = capsys.readouterr().out
    assert "observables: max |z|" in text and "no pair" in text


def test_relax_parties_on_the_paper_model(capsys):
    out = run_json(capsys, ["relax", "--n-traj", "1024", "--n-times", "6",
                            "--parties", "a1,b|m", "--observables", "n,E_N"])
    assert len(out["E_N_a1b_m"]) == len(out["times"]) == 6
    assert "E_N_a1b_m_unclipped" in out and "n_b_analytic" in out
    assert out["onsets"]  # the pair (b, m) keeps its onsets
    assert out["n_compared"] == 6 * (36 + 8 + 4 * 1)


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["validate", "simulate", "relax", "evolve"])
@pytest.mark.parametrize("args,message", [
    (["--parties", "b|x"], "unknown mode 'x'"),
    (["--parties", "b|b"], "twice"),
    (["--observables", "nbar"], "unknown observable 'nbar'"),
    (["--pair", "b,b"], "two different modes"),
])
def test_bad_parties_exit_2_with_one_line(command, args, message, capsys):
    required = ["--t-final", "2"] if command == "evolve" else []
    assert main([command, *required, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("content,message", [
    (None, "must be an existing"),
    ("not json", "not a readable"),
    ('{"modes": ["z"], "covariance": [[0.5, 0], [0, 0.5]]}', "unknown mode 'z'"),
    ('{"modes": ["b"], "covariance": [[0.5, 0, 0], [0, 0.5, 0]]}', "(2, 2) covariance"),
    ('{"modes": ["b"], "covariance": [[0.1, 0], [0, 0.1]]}', "not a quantum state"),
    ('{"modes": ["b", "b"], "covariance": [[0.5, 0], [0, 0.5]]}', "distinct"),
    ('{"covariance": [[0.5, 0], [0, 0.5]]}', "no 'modes'"),
    ('[1, 2]', "JSON object"),
    ('{"modes": ["b"], "covariance": [[0.5, 0], [0, "x"]]}', "real numbers"),
])
def test_bad_fidelity_target_exits_2_with_one_line(content, message, tmp_path, capsys):
    path = tmp_path / "target.json"
    if content is not None:
        path.write_text(content)
    assert main(["relax", "--fidelity-target", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


# --- a one-mode model through every command that takes a model ------------------------------

@pytest.mark.parametrize("model", ["opo", "kerr"])
@pytest.mark.parametrize("command", [
    ["steady"],
    ["validate", "--n-traj", "512", "--t-final", "40", "--record-every", "5"],
    ["simulate", "--n-traj", "256", "--t-final", "2"],
    ["relax", "--n-traj", "512", "--n-times", "5"],
    ["sweep", "--axis", "kappa=1:2:3"],
    ["spectrum"],
    ["evolve", "--n-traj", "512", "--t-final", "4"],
])
def test_one_mode_model_with_every_command(model, command, opo_file, kerr_file, capsys):
    path = {"opo": opo_file, "kerr": kerr_file}[model]
    assert main([*command, "--model", path, "--json"]) == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    if command[0] in ("steady", "validate", "simulate", "relax", "evolve"):
        assert out["pair"] is None
        assert "n_a" in out and "squeezing_db_a" in out
    if command[0] == "sweep":
        assert "squeezing_db_a" in out["observables"]


def test_evolve_takes_parties_and_observables_against_its_reference(opo_file, capsys):
    """evolve reports the observables per record against the time-dependent reference (the
    OPO's closed form), n, n_thermal and purity joining its verdict; the paper's model with a
    bipartition names its keys after the modes."""
    out = run_json(capsys, ["evolve", "--model", opo_file, "--n-traj", "4096", "--t-final", "5",
                            "--initial", "vacuum"])
    v_u, v_v = opo_variances(np.asarray(out["times"]))
    assert np.allclose(out["n_a_analytic"], (v_u + v_v) / 2 - 0.5, rtol=1e-6, atol=1e-9)
    assert out["observables_in_verdict"] == ["n_a", "n_thermal_a", "purity_a"]
    assert out["consistent"] and out["n_compared"] == len(out["times"]) * (3 + 2 + 3)
    out = run_json(capsys, ["evolve", "--t-final", "2", "--n-traj", "512",
                            "--parties", "a1,b|m", "--observables", "E_N,I"])
    assert "E_N_a1b_m" in out and "E_N_a1b_m_stderr" in out and "I_a1b_m_z" in out
