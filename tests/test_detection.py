"""The detection scheme: the probe/filter network against closed forms, the simulated homodyne
experiment against the exact detected covariance, its error bars, and its certificates."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from langevin_sim.analyses.detect import (
    DETECTED_PAIR,
    detect,
    detection_model,
    estimate,
    exact_measures,
    homodyne_moments,
    reconstruct,
)
from langevin_sim.cli import main
from langevin_sim.gaussian import steady_state
from langevin_sim.measures import log_negativity, measures
from langevin_sim.models import Cascade, Damping, Mode, ModelDescription, Term, load_model
from langevin_sim.statistics import consistency


def _block(system, sigma, modes):
    idx = np.concatenate([[2 * system.mode_index(m), 2 * system.mode_index(m) + 1]
                          for m in modes])
    return sigma[np.ix_(idx, idx)]


def test_probes_off_leave_the_cascade_alone_and_detect_vacuum():
    model = detection_model(g_probe=0.0, T=0.1, eta=0.7)
    system = model.linear_system()
    sigma = steady_state(system)
    cascade = load_model("cascade").replace(T=0.1, eta=0.7).linear_system()
    np.testing.assert_allclose(_block(system, sigma, ("a1", "a2", "b", "m")),
                               steady_state(cascade), rtol=1e-10, atol=1e-12)
    det = _block(system, sigma, DETECTED_PAIR)
    np.testing.assert_allclose(det, 0.5 * np.eye(4), atol=1e-12)
    assert measures(det).E_N == 0.0


def test_reference_numbers_of_the_read_out():
    # weak probes barely perturb (b, m) and detect little; strong ones perturb and detect more
    weak = exact_measures(detection_model(g_probe=0.01))
    strong = exact_measures(detection_model(g_probe=0.3))
    assert weak[1]["E_N"] == pytest.approx(weak[0]["E_N"], abs=1e-3)
    assert weak[2]["E_N"] < 0.01
    assert strong[1]["E_N"] < weak[1]["E_N"] - 0.2 and strong[2]["E_N"] > weak[0]["E_N"]


@pytest.mark.parametrize("eta", [0.8, 0.5, 0.1])
def test_detection_loss_is_a_beam_splitter_with_vacuum(eta):
    """σ_det(η_d) = η_d σ_det(1) + (1 - η_d) I/2 exactly (a one-way lossy link into a linear
    filter fed by vacuum)."""
    full = exact_measures(detection_model())[3]
    lossy = exact_measures(detection_model(eta_d=eta))[3]
    np.testing.assert_allclose(lossy, eta * full + (1 - eta) * 0.5 * np.eye(4), atol=1e-10)


def probe_and_filter(kappa_p, g=1.0, gamma=0.01, nbar=10.0, filter_width=0.02):
    """A thermal mode s read through a resonant probe p (beam splitter g) whose output feeds a
    filter f: all in the frame of s (no detunings)."""
    return ModelDescription(
        "readout", (Mode("s"), Mode("p"), Mode("f")),
        terms=(Term("beam_splitter", ("s", "p"), g),),
        damping=(Damping("s", gamma, occupation=nbar), Damping("p", kappa_p),
                 Damping("f", filter_width)),
        cascades=(Cascade("p", "f"),)).linear_system()


def test_weak_adiabatic_read_out_closed_form():
    """Adiabatic elimination of a resonant probe (κ_p ≫ g): the output is
    p_out = -i √Γ s - p_in with Γ = 4 g²/κ_p, the probe damps s to n_s = γ n̄/(γ + Γ), and a
    filter of width Γ_f in steady state holds n_f = 4 Γ n_s/(Γ_f + γ + Γ) photons (gain times
    the source's occupation, plus vacuum): corrections vanish like 1/κ_p."""
    gamma, nbar, gf, g = 0.01, 10.0, 0.02, 1.0
    errors = []
    for kappa_p in (100.0, 1000.0, 10000.0):
        rate = 4 * g**2 / kappa_p
        n_s = gamma * nbar / (gamma + rate)
        n_f = 4 * rate * n_s / (gf + gamma + rate)
        sigma = steady_state(probe_and_filter(kappa_p, g, gamma, nbar, gf))
        err_s = np.max(np.abs(sigma[0:2, 0:2] - (n_s + 0.5) * np.eye(2))) / n_s
        err_f = np.max(np.abs(sigma[4:6, 4:6] - (n_f + 0.5) * np.eye(2))) / n_f
        errors.append(max(err_s, err_f))
    assert errors[-1] < 1e-3
    assert errors[1] < 0.2 * errors[0] and errors[2] < 0.2 * errors[1]  # ∝ 1/κ_p


def test_reconstruction_from_phase_settings_is_exact_on_exact_moments():
    sigma4 = exact_measures(detection_model())[3]
    from langevin_sim.analyses.detect import PHASE_SETTINGS
    covs = []
    for t1, t2 in PHASE_SETTINGS:
        u = np.zeros((4, 2))
        u[0:2, 0] = [math.cos(t1), math.sin(t1)]
        u[2:4, 1] = [math.cos(t2), math.sin(t2)]
        covs.append(u.T @ sigma4 @ u)
    np.testing.assert_allclose(reconstruct(np.array(covs), np.ones(5)), sigma4, atol=1e-12)


def test_simulated_records_agree_with_the_exact_detected_state():
    model = detection_model()
    system = model.linear_system()
    exact = exact_measures(model)[3]
    est = estimate(homodyne_moments(system, 20000, seed=5))
    iu = np.triu_indices(4)
    z = ((est.covariance - exact) / est.covariance_stderr)[iu]
    ex = np.array([log_negativity(exact, clip=False)]
                  + list(measures(exact).values()[1:4]))
    zm = (est.bias_corrected[:4] - ex) / est.stderr[:4]
    assert consistency(np.concatenate([z, zm]), 0.01, est.dof).consistent
    # and the test has teeth: records of the wrong mode pair are grossly inconsistent
    wrong = estimate(homodyne_moments(system, 20000, seed=5, pair=("b", "m")))
    zw = ((wrong.covariance - exact) / wrong.covariance_stderr)[iu]
    assert not consistency(zw, 0.01, wrong.dof).consistent


@pytest.mark.slow
def test_record_standard_errors_match_the_spread_over_repetitions():
    system = detection_model().linear_system()
    reps = 30
    vals, ses = [], []
    for k in range(reps):
        e = estimate(homodyne_moments(system, 12000, seed=100 + k))
        vals.append(e.values[1])  # Duan
        ses.append(e.stderr[1])
    ratio2 = np.var(vals, ddof=1) / np.mean(np.square(ses))
    dof = estimate(homodyne_moments(system, 12000, seed=1)).dof
    lo, hi = stats.f.ppf([0.0005, 0.9995], reps - 1, reps * dof)
    assert lo < ratio2 < hi, (ratio2, lo, hi)


@pytest.mark.slow
@pytest.mark.parametrize("settings, criteria", [
    ({"g_probe": 0.0}, ("E_N", "duan", "steer_b_by_a", "steer_a_by_b")),  # vacuum: on every
    ({"eta_d": 0.02}, ("steer_b_by_a", "steer_a_by_b")),  # threshold; η_d = 0.02: entangled
    ({"T": 1.0}, ("E_N", "duan", "steer_b_by_a", "steer_a_by_b")),  # (E_N 0.012) but not
])                                                                  # steerable; 1 K: separable
def test_no_false_certificates(settings, criteria):
    """False-positive rate of each certificate at most 1 - C within its binomial error (3 SE),
    on detected states where the criterion does not hold; the vacuum sits exactly on every
    threshold, the hardest case. (A witness fitted and evaluated on the same records fails
    this: its minimisation over angles and gains fakes correlations out of noise.)"""
    from langevin_sim.analyses.detect import certify
    confidence, n_seeds = 0.95, 120
    system = detection_model(**settings).linear_system()
    hits = {c: 0 for c in criteria}
    for k in range(n_seeds):
        cert = certify(estimate(homodyne_moments(system, 6000, seed=7000 + k)), confidence)
        for c in criteria:
            hits[c] += cert[c]["certified"]
    bound = (1 - confidence) + 3 * math.sqrt(confidence * (1 - confidence) / n_seeds)
    for c, h in hits.items():
        assert h / n_seeds <= bound, (c, h)


@pytest.mark.slow
def test_witness_standard_errors_are_calibrated():
    """On the vacuum, the linear witness's spread over seeds equals its reported SE (χ²)."""
    system = detection_model(g_probe=0.0).linear_system()
    reps = 60
    w, se = [], []
    for k in range(reps):
        e = estimate(homodyne_moments(system, 6000, seed=500 + k))
        w.append(e.witness[0])
        se.append(e.witness_stderr[0])
    ratio2 = np.var(w, ddof=1) / np.mean(np.square(se))
    dof = estimate(homodyne_moments(system, 6000, seed=1)).witness_dof
    lo, hi = stats.f.ppf([0.0005, 0.9995], reps - 1, reps * dof)
    assert lo < ratio2 < hi, (ratio2, lo, hi)


def test_detect_report_and_cli(tmp_path, capsys):
    rep = detect(records=4000, repetitions=2, seed=3, check=False)
    d = rep.to_dict()
    for key in ("without_probes", "with_probes", "detected", "records", "certified",
                "records_needed"):
        assert key in d
    assert set(d["detected"]) >= {"E_N", "E_f_b_f_m", "S_f_m_given_f_b", "G_f_b_to_f_m"}
    assert d["records"]["n"] >= 4000 and "E_f_b_f_m_stderr" in d["records"]
    assert d["certified"]["E_f_b_f_m < 1"]["certified"]
    assert main(["detect", "--records", "2000", "--repetitions", "0", "--no-check", "--json",
                 "--output", str(tmp_path), "--set", "g_probe=0.2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"]["g_bp"] == 0.2 and (tmp_path / "detect_report.json").exists()
    assert main(["detect", "--records", "2000", "--repetitions", "0", "--no-check", "--scan",
                 "--output", str(tmp_path), "--no-progress"]) == 0
    assert "detected E_N is largest" in capsys.readouterr().out
    assert (tmp_path / "detect_scan.png").exists()
    scan = json.loads((tmp_path / "detect_report.json").read_text())["scan"]
    assert scan["optimum"]["E_N_detected"] > scan["optimum"]["E_N_intracavity"]


def test_detect_is_reproducible():
    a = detect(records=1000, repetitions=1, seed=9, check=False)
    b = detect(records=1000, repetitions=1, seed=9, check=False)
    assert np.array_equal(a.records.values, b.records.values)
    assert np.array_equal(a.repetitions, b.repetitions)


def test_detect_refuses_an_output_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["detect", "--output", str(f)]) == 2
    assert "not a directory" in capsys.readouterr().err
