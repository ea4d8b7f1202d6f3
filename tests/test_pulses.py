"""Pulses and temporal modes (issue 19): envelopes on terms and drives, output temporal modes,
the time-dependent reference and the ll ensemble along it.

Closed forms: a box beam-splitter pulse swaps a thermal mode into the output temporal mode
(fraction 1 - e^{-Gτ} as g/κ -> 0); a two-mode-squeezing pulse entangles the mechanics with
the output mode exp(+Gt/2) to E_N = 2 arccosh(e^{Gτ/2}) as g/κ -> 0 (Hofer et al. 2011), the
deficit falling as (g/κ)²; vacuum temporal modes have covariance I/2, thermal white noise
n̄ + 1/2; the filter cavity of cascade-detected is the temporal mode exp(Γ(t - T)/2) at the
filter's frequency. Ensembles: consistent with the reference by the max-|z| test.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from langevin_sim.analyses.evolve import evolve, exact_state
from langevin_sim.gaussian import steady_state
from langevin_sim.measures import log_negativity
from langevin_sim.models import load_model
from langevin_sim.models.description import (
    Damping,
    Drive,
    Mode,
    ModelDescription,
    ModelError,
    TemporalMode,
    Term,
)
from langevin_sim.models.expressions import box, gauss, ramp, smooth, step
from langevin_sim.systems.nonlinear import ramp_factor

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
RWA = EXAMPLES / "pulsed_entanglement_rwa.toml"
FULL = EXAMPLES / "pulsed_entanglement.toml"


def _swap_model(g, kappa=1.0, tau=None, nth=5.0, gtau=1.0) -> ModelDescription:
    """A box beam-splitter pulse g(a†b + a b†) between a damped cavity a (vacuum port) and a
    thermal mode b (n̄ = nth, no damping), the cavity output in the mode exp(-Gt/2)."""
    big_g = 4 * g * g / kappa
    tau = gtau / big_g if tau is None else tau
    return ModelDescription(
        name="swap", modes=(Mode("a"), Mode("b")),
        terms=(Term("beam_splitter", ("a", "b"), "g", "box(t, 0, tau)"),),
        damping=(Damping("a", "kappa"), Damping("b", 0.0, occupation="nth")),
        temporal_modes=(TemporalMode("A", "a", "exp(-G*t/2)", (0.0, "tau")),),
        parameters={"g": g, "kappa": kappa, "G": "4*g**2/kappa", "tau": tau, "nth": nth},
        default_pair=("b", "A"), unit="κ")


# -- the expression language -----------------------------------------------------------------
def test_pulse_shapes():
    t = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    assert np.array_equal(box(t, 0.0, 1.0), [0, 1, 1, 0, 0])
    assert np.array_equal(step(t, 0.5), [0, 0, 1, 1, 1])
    assert np.allclose(ramp(t, 0.0, 2.0), [0, 0, 0.25, 0.5, 1.0])
    assert np.allclose(smooth(t, 0.0, 1.0), [0, 0, 0.5, 1.0, 1.0])
    assert np.allclose(gauss(t, 1.0, 0.5), np.exp(-2 * (t - 1) ** 2))


def test_drive_ramps_are_envelopes():
    """The named ramps are special cases: sudden = step(t, 0), linear = ramp(t, 0, T),
    smooth = smooth(t, 0, T)."""
    t = np.linspace(0.0, 3.0, 31)
    for kind, text in (("sudden", "step(t, 0)"), ("linear", "ramp(t, 0, 2)"),
                       ("smooth", "smooth(t, 0, 2)")):
        model = ModelDescription("d", (Mode("a"),), damping=(Damping("a", 1.0),),
                                 drives=(Drive("a", (1.0, 0.5), envelope=text),))
        system = model.build()
        vec = np.array([system.drive_vector(x) for x in t])
        expected = np.array([ramp_factor(kind, 2.0, x) for x in t])[:, None] \
            * np.array([math.sqrt(2), math.sqrt(2) * 0.5])
        assert np.allclose(vec, expected, rtol=0, atol=1e-15)


def test_envelope_time_functions_and_breakpoints():
    model = _swap_model(0.1)
    system = model.build()
    assert system.is_time_dependent
    assert {0.0, model.parameter_values()["tau"]} <= set(system.envelope_breakpoints())
    lin_on, lin_off = system.linear_at(1.0), system.linear_at(1e6)
    assert lin_on[0, 3] == pytest.approx(0.1) and lin_off[0, 3] == 0.0


# -- bad envelopes ---------------------------------------------------------------------------
@pytest.mark.parametrize("envelope, message", [
    ("foo(t)", "only the functions"),
    ("t.real", "only numbers"),
    ("box(t, 0)", "cannot be evaluated"),
    ("gauss(t, 1, 0)", "needs a width"),
    ("unknown_p * t", "unknown parameter"),
])
def test_bad_envelope_is_one_line(envelope, message):
    with pytest.raises(ValueError) as err:
        model = ModelDescription("d", (Mode("a"), Mode("b")), damping=(Damping("a", 1.0),),
                                 drives=(Drive("a", (1.0, 0.0), envelope=envelope),))
        evolve(model, pair=("a", "b"), t_final=1.0, dt=0.1, n_traj=64, chunk_size=8)
    text = str(err.value)
    assert message in text and "\n" not in text


def test_nan_envelope_and_window_outside_the_run():
    model = ModelDescription("d", (Mode("a"), Mode("b")), damping=(Damping("a", 1.0),),
                             drives=(Drive("a", (1.0, 0.0), envelope="log(t - 5)"),),
                             default_pair=("a", "b"))
    with pytest.raises(ValueError, match="not finite at t = 0"):
        evolve(model, t_final=10.0, dt=0.1, n_traj=64, chunk_size=8)
    with pytest.raises(ValueError, match="ends after the run's last time"):
        evolve(_swap_model(0.1, tau=20.0), t_final=10.0, dt=0.1, n_traj=64, chunk_size=8)


def test_time_only_in_envelopes_and_bad_nonlinear_envelope():
    with pytest.raises(ModelError, match="only an envelope may use"):
        ModelDescription("d", (Mode("a"),), terms=(Term("detuning", ("a",), "2*t"),))
    with pytest.raises(ModelError, match=r"only the functions .*terms\[0\]\.envelope"):
        ModelDescription("d", (Mode("a"), Mode("b")),
                         terms=(Term("radiation_pressure", ("a", "b"), 0.1, "boxx(t,0,1)"),))
    with pytest.raises(ModelError, match="reserved"):
        ModelDescription("d", (Mode("a"),), parameters={"t": 1.0})


def test_steady_state_refuses_a_time_dependent_model():
    with pytest.raises(ValueError, match="time-dependent .*langevin-sim evolve"):
        _swap_model(0.1).build().linear_system()


def test_steady_command_exit_2(tmp_path, capsys):
    from langevin_sim.cli import main

    status = main(["steady", "--model", str(RWA), "--pair", "a,b"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and "time-dependent" in err and "\n" not in err


# -- exact closed forms ---------------------------------------------------------------------
def _pair_cov(cov, labels, pair):
    sel = [2 * labels.index(m) + q for m in pair for q in (0, 1)]
    return cov[np.ix_(sel, sel)]


def test_box_beam_splitter_swaps_a_thermal_mode_into_the_output_mode():
    """Fraction of b's thermal quanta in the output mode exp(-Gt/2) after a box pulse of
    G τ = 1: 1 - e^{-Gτ} as g/κ -> 0, the deficit falling as (g/κ)² (slope 2 on a log-log
    plot, ratio 4 per halving of g/κ: checked to lie in [3.5, 4.5])."""
    nth, deficits = 5.0, []
    for g in (0.04, 0.02):
        model = _swap_model(g, nth=nth)
        c0 = np.diag([0.5, 0.5, nth + 0.5, nth + 0.5])
        tau = model.parameter_values()["tau"]
        _, cov, system = exact_state(model, tau, initial=(None, c0))
        n_a = 0.5 * np.trace(_pair_cov(cov, system.mode_labels, ("A",))) - 0.5
        deficits.append((1 - math.exp(-1.0)) - n_a / nth)
    assert deficits[1] > 0 and deficits[1] < 0.01
    assert 3.5 < deficits[0] / deficits[1] < 4.5


def test_pulsed_entanglement_approaches_the_bad_cavity_limit():
    """E_N(b, A_out) after a two-mode-squeezing box pulse: below 2 arccosh(e^{Gτ/2}) and
    approaching it as (g/κ)² (ratio of the deficits per halving of g/κ in [3.5, 4.5])."""
    model = load_model(RWA)
    limit = 2 * math.acosh(math.e)  # G τ = 2
    deficits = []
    for g in (0.04, 0.02):
        m = model.replace(g=g)
        _, cov, system = exact_state(m, m.parameter_values()["tau"], initial="vacuum")
        deficits.append(limit - log_negativity(_pair_cov(cov, system.mode_labels,
                                                         ("b", "A_out"))))
    assert deficits[1] > 0 and deficits[1] < 0.05
    assert 3.5 < deficits[0] / deficits[1] < 4.5


def test_wrong_carrier_frequency_gives_no_entanglement():
    """Without the rotating-wave approximation (position coupling, detunings -ω_m and ω_m),
    the output mode at the Stokes sideband (-ω_m in the drive's frame) is entangled with the
    mechanics; the same mode at the mirror sideband (+ω_m) carries no entanglement at all."""
    model = load_model(FULL).replace(kappa=0.2, g=0.02)
    tau = model.parameter_values()["tau"]
    out = {}
    for omega in (-1.0, 1.0):
        _, cov, system = exact_state(model.replace(omega=omega), tau, initial="vacuum")
        out[omega] = log_negativity(_pair_cov(cov, system.mode_labels, ("b", "A_out")))
    assert out[-1.0] > 2.0
    assert out[1.0] == 0.0


@pytest.mark.parametrize("nth, eta", [(0.0, 1.0), (0.0, 0.6), (2.0, 1.0), (2.0, 0.3)])
def test_white_noise_temporal_modes(nth, eta):
    """A detuned cavity in equilibrium with its bath (n̄) reflects white thermal noise: any
    temporal mode of its output (here a Gaussian at a carrier of 0.7) has variance
    η n̄ + 1/2 in both quadratures and no x-p correlation; vacuum (n̄ = 0) gives I/2 and no
    correlation with the cavity either."""
    model = ModelDescription(
        "white", (Mode("a"),), terms=(Term("detuning", ("a",), 1.3),),
        damping=(Damping("a", 0.8, occupation=nth),),
        temporal_modes=(TemporalMode("A", "a", "gauss(t, 5, 1.5)", (0.0, 10.0), 0.7, eta),),
        default_pair=("a", "A"))
    _, cov, system = exact_state(model, 10.0, initial="thermal")
    block = _pair_cov(cov, system.mode_labels, ("A",))
    assert np.allclose(block, (eta * nth + 0.5) * np.eye(2), rtol=0, atol=1e-8)
    if nth == 0:
        assert np.allclose(cov, 0.5 * np.eye(4), rtol=0, atol=1e-8)


def test_filter_cavity_is_the_exponential_temporal_mode():
    """cascade-detected's filter cavities (linewidth Γ, detuning Δ) in the stationary state
    are the temporal modes exp(Γ(t - T)/2) at frequency Δ of the probes' outputs, measured on
    [0, T] (ΓT = 40: the tail before 0 weighs e^{-40}), up to the phase -e^{iΔT}: the whole
    joint covariance with b and m agrees."""
    base = load_model("cascade-detected").replace(filter=0.5, eta_d=0.7)
    t_end, gamma = 80.0, 0.5
    sigma = steady_state(base.linear_system())
    vals = base.parameter_values()
    tms = tuple(TemporalMode(f"A_{k}", f"p_{k}", f"exp({gamma}*(t - {t_end})/2)",
                             (0.0, t_end), freq, "eta_d")
                for k, freq in (("b", 1.0), ("m", vals["delta_m"])))
    model = dataclasses.replace(base, temporal_modes=tms)
    _, cov, system = exact_state(model, t_end, initial=(np.zeros(16), sigma))
    labels = system.mode_labels

    def rot(delta):
        c = -np.exp(1j * delta * t_end)
        return np.array([[c.real, -c.imag], [c.imag, c.real]])

    r = np.zeros((8, 8))
    r[0:2, 0:2] = r[2:4, 2:4] = np.eye(2)
    r[4:6, 4:6], r[6:8, 6:8] = rot(1.0), rot(vals["delta_m"])
    expected = r @ _pair_cov(sigma, labels[:8], ("b", "m", "f_b", "f_m")) @ r.T
    got = _pair_cov(cov, labels, ("b", "m", "A_b", "A_m"))
    assert np.allclose(got, expected, rtol=0, atol=1e-7 * np.abs(expected).max())
    assert log_negativity(_pair_cov(cov, labels, ("A_b", "A_m"))) == pytest.approx(
        log_negativity(_pair_cov(sigma, labels[:8], ("f_b", "f_m"))), abs=1e-7)


# -- ensembles on the ll step ----------------------------------------------------------------
def test_ensemble_swap_consistent_with_the_reference():
    model = _swap_model(0.1, tau=20.0)
    c0 = np.diag([0.5, 0.5, 5.5, 5.5])
    rep = evolve(model, t_final=24.0, record_every=4.0, initial=(None, c0), dt=0.05,
                 n_traj=4096, seed=11)
    assert rep.check.consistent
    assert not rep.complete[0] and rep.complete[-1]
    assert np.all(np.isnan(rep.measures[~rep.complete]))


def test_ensemble_pulsed_entanglement_consistent_and_entangled():
    model = load_model(RWA).replace(g=0.1)
    tau = model.parameter_values()["tau"]
    rep = evolve(model, t_final=tau, record_every=tau / 4, initial="vacuum", dt=0.05,
                 n_traj=4096, seed=5)
    assert rep.check.consistent
    k = rep.measure_names.index("E_N")
    est, se, ref = rep.measures[-1, k], rep.measures_stderr[-1, k], rep.reference_measures[-1, k]
    assert ref > 2.5 and abs(est - ref) < 4 * se


def test_ensemble_negative_control_wrong_reference():
    """The verdict can fail: the same ensemble judged against the reference of a pulse twice
    as strong is inconsistent."""
    from langevin_sim.statistics import consistency, z_scores

    model = _swap_model(0.1, tau=20.0)
    c0 = np.diag([0.5, 0.5, 5.5, 5.5])
    rep = evolve(model, t_final=20.0, record_every=10.0, initial=(None, c0), dt=0.05,
                 n_traj=4096, seed=11)
    _, wrong, _ = exact_state(_swap_model(0.2, tau=20.0), 20.0, initial=(None, c0))
    z = z_scores(rep.covariance[-1], wrong, rep.covariance_stderr[-1])
    assert consistency(z.ravel(), 0.01, rep.ensemble.jackknife_dof).consistent is False


def test_time_invariant_model_still_compiles():
    system = load_model("cascade").build()
    assert not system.is_time_dependent
    assert len(system.compiled_terms()) == 9


# -- the command line ----------------------------------------------------------------------
def test_evolve_command_json_and_plots(tmp_path, capsys):
    import json

    from langevin_sim.cli import main

    out = tmp_path / "out"
    status = main(["evolve", "--model", str(RWA), "--set", "g=0.1", "--t-final", "50",
                   "--record-every", "25", "--dt", "0.05", "--n-traj", "2048", "--initial",
                   "vacuum", "--no-progress", "--json", "--output", str(out)])
    payload = json.loads(capsys.readouterr().out)
    assert status == 0 and payload["consistent"] is True
    for key in ("times", "reference", "ensemble", "consistent", "max_abs_z", "z_threshold",
                "pair", "model"):
        assert key in payload
    assert payload["pair"] == ["b", "A_out"]
    assert payload["reference"]["E_N"][0] is None  # a partial accumulator: no measure
    assert payload["ensemble"]["E_N_stderr"][-1] > 0
    assert len(payload["reference"]["covariance"][-1]) == 6
    for name in ("evolve_envelopes.png", "evolve_measures.png", "evolve_report.json",
                 "evolve_ensemble.npz"):
        assert (out / name).is_file()


@pytest.mark.parametrize("extra, message", [
    (["--t-final", "10"], "ends after the run's last time"),
    (["--t-final", "50", "--method", "em"], "cannot evolve a time-dependent model"),
    (["--t-final", "50", "--dt", "0.03"], "multiple of dt"),
])
def test_evolve_command_bad_input_exit_2(extra, message, capsys):
    from langevin_sim.cli import main

    status = main(["evolve", "--model", str(RWA), "--set", "g=0.1", "--n-traj", "256",
                   "--no-progress", *extra])
    err = capsys.readouterr().err.strip()
    assert status == 2 and message in err and "\n" not in err


def test_evolve_command_bad_envelope_exit_2(tmp_path, capsys):
    from langevin_sim.cli import main

    text = RWA.read_text().replace('envelope = "box(t, 0, tau)"', 'envelope = "pulse(t)"')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    status = main(["evolve", "--model", str(path), "--t-final", "50", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and "terms[0].envelope" in err and "line" in err and "\n" not in err


# -- a nonlinear model with a drive envelope ------------------------------------------------
def test_drive_envelope_on_the_full_model_is_the_smooth_ramp():
    """cascade-full (radiation pressure) with the drive's envelope smooth(t, 0, 3): the
    reference (mean field and covariance) is the switch-on reference of the smooth ramp of
    3/ω_b, and the ll ensemble along it is consistent with it."""
    from langevin_sim.analyses.evolve import initial_state, reference
    from langevin_sim.analyses.switch_on import reference as switch_reference
    from langevin_sim.analyses.switch_on import with_ramp

    model = load_model("cascade-full")
    drive = dataclasses.replace(model.drives[0], envelope="smooth(t, 0, 3)")
    pulsed = dataclasses.replace(model, drives=(drive,))
    system = pulsed.build()
    times = np.array([0.0, 2.0, 4.0, 6.0])
    mean0, cov0 = initial_state(system, "thermal")
    means, covs = reference(system, times, mean0, cov0)
    ramped = with_ramp(model.build(), "smooth", 3.0)
    ref = switch_reference(ramped, times, mean0, cov0)
    scale = np.abs(ref.mean).max()
    assert np.allclose(means, ref.mean, rtol=0, atol=1e-7 * scale)
    assert np.allclose(covs, ref.covariance, rtol=0, atol=1e-6 * np.abs(ref.covariance).max())
    rep = evolve(pulsed, t_final=6.0, record_every=2.0, dt=0.1, n_traj=4096, seed=3)
    assert rep.check.consistent


# -- the paper's read-out with pulses ---------------------------------------------------------
READOUT = EXAMPLES / "pulsed_readout.toml"


def test_steady_initial_state_is_the_cascade_before_the_pulse():
    """--initial steady freezes the envelopes at t = 0 (probes off): the cascade's own steady
    state on (a1, a2, b, m), the probes in vacuum, the temporal modes empty."""
    from langevin_sim.analyses.evolve import initial_state

    system = load_model(READOUT).build()
    mean, cov = initial_state(system, "steady")
    sigma = steady_state(load_model("cascade").linear_system())
    assert np.allclose(cov[:8, :8], sigma, rtol=1e-10, atol=1e-12)
    assert np.allclose(cov[8:12, 8:12], 0.5 * np.eye(4)) and np.all(cov[12:, :] == 0)
    assert np.all(mean == 0)


def test_pulsed_readout_ensemble_consistent():
    model = load_model(READOUT).replace(g_probe=0.3, tau=10.0)
    rep = evolve(model, t_final=11.0, record_every=5.0, initial="steady", dt=0.05,
                 n_traj=4096, seed=7)
    assert rep.check.consistent
    k = rep.measure_names.index("E_N")
    assert rep.reference_measures[-1, k] > 0.2
    assert abs(rep.measures[-1, k] - rep.reference_measures[-1, k]) < 4 * rep.measures_stderr[-1, k]


def test_evolve_time_invariant_model_and_too_many_records():
    """A time-invariant model runs on the truncated Wigner engine (the paper's cascade from
    the thermal state), consistent with the exact transient; a record grid beyond
    MAX_RECORDS is refused in one line before any work."""
    rep = evolve("cascade", t_final=4.0, record_every=2.0, n_traj=2048, seed=4)
    assert rep.check.consistent and np.all(rep.complete)
    with pytest.raises(ValueError, match="exceed"):
        evolve("cascade", t_final=2000.0, record_every=0.1, dt=0.1, n_traj=64, chunk_size=8)


def test_pulsed_homodyne_reconstruction_consistent_with_the_reference():
    """The simulated pulsed experiment (one local-oscillator setting per pulse) reconstructs
    the detected modes' covariance within its jackknife SEs of the reference (max-|z| test over
    the 10 distinct elements); the certificates and pulses needed are those of detect's."""
    from langevin_sim.analyses.evolve import pulsed_homodyne
    from langevin_sim.statistics import consistency, z_scores

    model = load_model(READOUT).replace(g_probe=0.3, tau=10.0)
    exp = pulsed_homodyne(model, records=4000, seed=3)
    _, cov, system = exact_state(model, 11.0, initial="steady")
    ref = _pair_cov(cov, system.mode_labels, ("A_b", "A_m"))
    iu = np.triu_indices(4)
    z = z_scores(exp.estimate.covariance[iu], ref[iu], exp.estimate.covariance_stderr[iu])
    assert consistency(z, 0.01, exp.estimate.dof).consistent
    assert exp.exact["E_N"] == pytest.approx(log_negativity(ref))
    assert set(exp.records_needed) == {"E_N", "duan", "steer_b_by_a", "steer_a_by_b"}
    # negative control: the same records judged against the modes of probes 3x weaker
    _, other, _ = exact_state(model.replace(g_probe=0.1), 11.0, initial="steady")
    wrong = _pair_cov(other, system.mode_labels, ("A_b", "A_m"))
    z = z_scores(exp.estimate.covariance[iu], wrong[iu], exp.estimate.covariance_stderr[iu])
    assert consistency(z, 0.01, exp.estimate.dof).consistent is False


# -- envelopes on the nonlinear terms ----------------------------------------------------------
def _with_envelope(model, kind, envelope):
    """``model`` with ``envelope`` on its (only) term of ``kind``."""
    terms = tuple(dataclasses.replace(t, envelope=envelope) if t.kind == kind else t
                  for t in model.terms)
    return dataclasses.replace(model, terms=terms)


def _kerr_model(envelope=None, K=0.05):
    """A driven, damped Kerr cavity K a†a†a a (rates in κ)."""
    return ModelDescription(
        name="kerr", modes=(Mode("a"),),
        terms=(Term("detuning", ("a",), -0.5), Term("kerr", ("a",), "K", envelope)),
        damping=(Damping("a", 1.0),), drives=(Drive("a", ("E", 0.0)),),
        parameters={"K": K, "E": 2.0}, unit="κ")


@pytest.mark.parametrize("kind, make", [
    ("radiation_pressure", lambda env: _with_envelope(load_model("optomech"),
                                                      "radiation_pressure", env)),
    ("kerr", lambda env: _kerr_model(env)),
])
def test_nonlinear_envelope_scales_the_term_and_its_ordering_corrections(kind, make):
    """An envelope on a radiation-pressure or Kerr term multiplies its whole drift: at
    envelope 1/2 the system is the one with half the coupling (its Weyl corrections
    included), inside a box's gap the term is absent, and the Jacobian is the drift's
    derivative at that time."""
    rng = np.random.default_rng(7)
    key = "g0" if kind == "radiation_pressure" else "K"
    base = make(None)
    g = base.parameter_values()[key]
    half = make("0.5").build()
    assert half.is_time_dependent and len(half.nonlinear_envelopes) == 1
    halved = make(None).replace(**{key: g / 2}).build()
    gap = make("box(t, 1, 2)").build()
    absent = dataclasses.replace(base, terms=tuple(t for t in base.terms if t.kind != kind))
    absent = absent.build()
    d = half.dim
    for _ in range(3):
        x = rng.normal(size=d) * 3
        for ordering in ("weyl", "mean-field"):
            np.testing.assert_allclose(half.drift(x, 0.3, ordering), halved.drift(x, 0.3, ordering),
                                       rtol=1e-13, atol=1e-13)
            np.testing.assert_allclose(half.jacobian(x, ordering, t=0.3),
                                       halved.jacobian(x, ordering), rtol=1e-13, atol=1e-13)
            np.testing.assert_allclose(gap.drift(x, 0.5, ordering), absent.drift(x, 0.5, ordering),
                                       rtol=1e-13, atol=1e-13)
            # the Jacobian inside the box, against central differences of the drift (exact
            # for the quadratic terms up to round-off ~ 1e-16 |f| / h; h² K for the cubic)
            h = 1e-3
            fd = np.column_stack([(gap.drift(x + h * e, 1.5, ordering)
                                   - gap.drift(x - h * e, 1.5, ordering)) / (2 * h)
                                  for e in np.eye(d)])
            np.testing.assert_allclose(gap.jacobian(x, ordering, t=1.5), fd, rtol=1e-7,
                                       atol=1e-7)
    # the ordering corrections in closed form (module docstring of the description)
    if kind == "radiation_pressure":  # + g0/√2 on p_b
        expected = np.zeros(d)
        expected[3] = 0.5 * g / math.sqrt(2)
        np.testing.assert_allclose(half.weyl_constant_at(0.3), expected, rtol=1e-15)
        np.testing.assert_array_equal(gap.weyl_constant_at(0.5), np.zeros(d))
    else:  # ẋ ⊃ −2K p, ṗ ⊃ +2K x
        np.testing.assert_allclose(half.linear_at(0.3, "weyl") - half.linear_at(0.3, "mean-field"),
                                   [[0.0, -g], [g, 0.0]], rtol=1e-15)


def test_kernel_takes_each_steps_own_nonlinear_coefficients():
    """The ll kernel's remainder uses coefficient row k at step k: with E = 1, P = Δt, no
    noise and the term c_k δ_0 δ_1 on row 0, δ_0 ← δ_0 (1 + Δt c_k δ_1) exactly."""
    from langevin_sim._kernels.ll import ll_chunk
    from langevin_sim._kernels.random import seed_state

    n_steps, dt, n = 6, 0.1, 3
    coef = np.array([[0.0], [1.0], [-2.0], [0.5], [3.0], [0.0]])
    eye = np.broadcast_to(np.eye(2), (n_steps, 2, 2)).copy()
    x0 = np.array([0.7, -1.3])
    x, y = np.empty((2, n)), np.empty((2, n))
    out_mean, out_m2 = np.empty((1, 2)), np.empty((1, 2, 2))
    ll_chunk(eye, dt * eye, np.zeros((n_steps, 2, 2)), np.zeros(n_steps, np.int64),
             np.zeros((n_steps, 2)), np.zeros((1, 2)), False, True, np.zeros(1, np.int64),
             np.array([n_steps], np.int64), np.array([[0, 0, 1]], np.int64), coef,
             np.zeros((0, 4), np.int64), np.zeros((n_steps, 0)), np.array([0], np.int64),
             np.array([0, -1], np.int64), x0, np.zeros((2, 1)),
             seed_state(np.random.SeedSequence(1)), x, y, np.empty((1, n)), np.empty((2, n)),
             out_mean, out_m2)
    expected = x0[0]
    for c in coef[:, 0]:
        expected *= 1 + dt * c * x0[1]
    np.testing.assert_allclose(out_mean[0], [expected, x0[1]], rtol=1e-14)
    frozen = x0[0] * (1 + dt * coef[0, 0] * x0[1]) ** n_steps  # row 0 at every step
    assert abs(out_mean[0, 0] - frozen) > 0.1


def test_plan_coefficients_follow_the_envelope_at_the_steps_midpoints():
    from langevin_sim.analyses.evolve import ll_plan_timed

    model = _with_envelope(load_model("optomech"), "radiation_pressure", "ramp(t, 0, 1)")
    system = model.build()
    dt = 0.1
    plan = ll_plan_timed(system, np.array([0.5, 1.5]), dt, np.zeros(system.dim),
                         0.5 * np.eye(system.dim))
    mid = (np.arange(15) + 0.5) * dt
    assert plan.quadratic_coef.shape == (15, system.quadratic_coef.size)
    np.testing.assert_allclose(plan.quadratic_coef,
                               np.minimum(mid, 1.0)[:, None] * system.quadratic_coef[None],
                               rtol=1e-15)


def _coupling_switch_on(envelope):
    """optomech (driven from t = 0) with its radiation-pressure coupling under ``envelope``."""
    return _with_envelope(load_model("optomech"), "radiation_pressure", envelope)


def test_ensemble_with_a_nonlinear_envelope_consistent_and_the_frozen_coupling_is_not():
    """The coupling switched on smoothly over 20/ω_m: the ll ensemble agrees with the
    continuous reference of the same model, and an ensemble whose coupling is on from the start
    (the envelope ignored) is judged inconsistent against it."""
    from langevin_sim.statistics import consistency, z_scores

    kwargs = dict(t_final=20.0, record_every=5.0, dt=0.1, n_traj=4096, seed=3)
    rep = evolve(_coupling_switch_on("smooth(t, 0, 20)"), **kwargs)
    assert rep.check.consistent
    frozen = evolve(_coupling_switch_on(None), **kwargs)
    z = z_scores(frozen.covariance[1:], rep.reference_covariance[1:],
                 frozen.covariance_stderr[1:])
    assert consistency(z.ravel(), 0.01, frozen.ensemble.jackknife_dof).consistent is False
