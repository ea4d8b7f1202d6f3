"""The local-linearisation step in a displaced frame (``ll``): exact on a linear model, the
continuous σ∞ at any step at a fixed point, second order along a time-dependent path."""

import numpy as np
import pytest

from langevin_sim import load_model
from langevin_sim.analyses.switch_on import reference
from langevin_sim.analyses.validate import validate
from langevin_sim.backends import LocalBackend
from langevin_sim.cli.validate import render as render_validation
from langevin_sim.engine import simulate, simulate_twa, thermal_state
from langevin_sim.gaussian import steady_state
from langevin_sim.integrators import METHODS, get_integrator
from langevin_sim.integrators.ll import (
    exponential_maps,
    fixed_point,
    jacobians,
    ou_noise,
    path_from,
    psd_factors,
    step_matrices,
)


def test_ll_is_registered_with_its_orders():
    ll = get_integrator("ll")
    assert "ll" in METHODS and ll.weak_order == 2.0 and ll.nonlinear_default_dt == 0.1


def test_step_matrices_against_their_definitions():
    """e^{ΔtJ}, Δt φ₁(ΔtJ) and Q_J against independent closed forms: the series of φ₁, and
    the Lyapunov identity Q = σ∞ − e^{ΔtJ} σ∞ e^{ΔtJᵀ} of a stable J."""
    system = load_model("cascade-full").build()
    x = system.mean_field_states()[0].state
    jac = jacobians(system, x)
    assert np.allclose(jac[0], system.jacobian(x, ordering="weyl"), rtol=0, atol=1e-12)
    dt = 0.3
    e, p = exponential_maps(jac, dt)
    a = jac[0] * dt
    series, term = np.zeros_like(a), np.eye(a.shape[0]) * dt
    for k in range(1, 60):  # Δt φ₁(ΔtJ) = Δt Σ (ΔtJ)^k / (k+1)!
        series += term
        term = term @ a / (k + 1)
    assert np.allclose(p[0], series, rtol=0, atol=1e-12)
    assert np.allclose(e[0], np.eye(a.shape[0]) + a @ p[0] / dt, rtol=0, atol=1e-12)
    lin = system.linearise(x)
    sigma = steady_state(lin)
    q = ou_noise(jac, lin.diffusion, dt)[0]
    assert np.allclose(q, sigma - e[0] @ sigma @ e[0].T, rtol=0, atol=1e-9 * np.abs(sigma).max())
    g = psd_factors(q[None])[0]
    assert np.allclose(g @ g.T, q, rtol=0, atol=1e-10 * np.abs(q).max())


def test_ll_on_a_linear_model_is_the_exact_step_bit_for_bit():
    """No nonlinear terms and a constant Jacobian: the ll kernel is the exact OU step."""
    system = load_model("cascade").build()
    assert system.is_linear
    times = np.array([0.0, 1.0, 2.5, 4.0])
    kw = dict(n_traj=256, seed=4, chunk_size=32)
    ll = simulate_twa(system, times, method="ll", dt=0.5,
                      initial=(np.zeros(system.dim), thermal_state(system)), **kw)
    exact = simulate(system.linear_system(), times, method="exact", dt=0.5, initial="thermal",
                     **kw)
    assert ll.metadata["path"] == "fixed point"
    assert np.array_equal(ll.covariance, exact.covariance)
    assert np.array_equal(ll.mean, exact.mean)


def test_ll_ensemble_is_bit_identical_on_one_or_two_threads():
    system = load_model("cascade-full").build()
    kw = dict(method="ll", dt=0.1, n_traj=256, seed=9)
    one = simulate_twa(system, [0.0, 3.0], backend=LocalBackend(1), **kw)
    two = simulate_twa(system, [0.0, 3.0], backend=LocalBackend(2), **kw)
    assert np.array_equal(one.covariance, two.covariance) and np.array_equal(one.mean, two.mean)


def test_the_fixed_point_is_the_truncated_wigner_drift_root_near_the_mean_field():
    system = load_model("cascade-full").build()
    mf = system.mean_field_states()[0].state
    beta = fixed_point(system, mf).point
    scale = np.abs(mf).max()
    assert np.abs(system.drift(beta, ordering="weyl")).max() < 1e-14 * scale * 1e3
    # the Weyl ordering's constant force shifts it from the mean field, but only by O(g0)
    assert 0 < np.abs(beta - mf).max() < 1e-3


@pytest.mark.parametrize("model", ["cascade-full", "optomech"])
@pytest.mark.parametrize("dt", [0.05, 0.2, 0.5])
def test_stationary_ensemble_samples_the_continuous_steady_state_at_any_step(model, dt):
    """At the fixed point ll's linear reduction is the exact OU step: covariance, measures
    and means consistent with the continuous σ∞ and mean field (max-|z|, family-wise 0.01)."""
    r = validate(model, method="ll", dt=dt, n_traj=4096, t_final=200.0, seed=7)
    assert r.method == "ll" and r.means is not None
    assert np.array_equal(r.analytic, r.continuous)
    assert r.check.consistent, r.check.summary()


def test_a_baseline_is_far_from_the_continuous_steady_state():
    """The negative control of the test above: exponential Heun at dt 0.05 holds its own
    steady state, but its fixed point lies thousands of SE from the continuous mean field."""
    r = validate("cascade-full", method="exp-heun", dt=0.05, n_traj=4096, t_final=200.0, seed=7)
    assert r.check.consistent, r.check.summary()
    assert not r.continuous_check.consistent
    assert r.continuous_check.max_abs_z > 100


def test_weak_order_two_along_the_switch_on_path():
    """The covariance recursion of ll's linear part along the sudden switch-on's path,
    ``Σ ← E_n Σ E_nᵀ + Q_n`` with the midpoint Jacobian, converges to the continuous σ(t) with
    slope 2 in Δt (the path itself is solved to 1e-12)."""
    system = load_model("cascade-full").build()
    t_end = 8.0
    ref = reference(system, [t_end]).covariance[0]
    sigma0 = thermal_state(system)
    path = path_from(system, np.zeros(system.dim), t_end)
    dts = np.array([0.4, 0.2, 0.1, 0.05])
    errors = []
    for dt in dts:
        n = int(round(t_end / dt))
        m = step_matrices(system, path((np.arange(n) + 0.5) * dt), dt)
        s = sigma0.copy()
        for k in range(n):
            g = m.noise[k]
            s = m.propagator[k] @ s @ m.propagator[k].T + g @ g.T
        errors.append(np.linalg.norm(s - ref) / np.linalg.norm(ref))
    slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert 1.8 < slope < 2.2, (errors, slope)


def _kerr_oscillator():
    """A driven Kerr oscillator (κ = 1, Δ = 1, K = 0.05, E = 2): its Weyl-ordering correction
    moves the drift's fixed point by ~0.1 from the mean field, a hundred of the means' SEs."""
    from langevin_sim.models import Damping, Mode, ModelDescription, Term
    from langevin_sim.models.description import Drive

    return ModelDescription(
        "kerr", (Mode("a"),), (Term("detuning", ("a",), 1.0), Term("kerr", ("a",), 0.05)),
        damping=(Damping("a", 1.0),), drives=(Drive("a", (2.0, 0.0)),)).build()


def test_a_mean_field_frame_with_its_forcing_is_the_same_truncated_wigner_dynamics():
    """The frame may follow the mean field instead of the truncated Wigner drift's own path if
    the step adds Δt φ₁(ΔtJ)(f(β) − β'): the stationary means agree with the Weyl frame's
    within their SE. Dropping the forcing would leave them ~0.1 apart, many SE."""
    from langevin_sim.integrators.ll import Path

    system = _kerr_oscillator()
    x_mf = [st for st in system.mean_field_states() if st.stable][0].state
    weyl = fixed_point(system, x_mf)
    assert np.abs(weyl.point - x_mf).max() > 0.05
    sigma = steady_state(system.linearise(x_mf))
    times = np.arange(0.0, 40.5, 0.5)
    kw = dict(method="ll", dt=0.25, n_traj=8192, initial=(x_mf, sigma))
    a = simulate_twa(system, times, seed=1, path=weyl, **kw).time_average(10.0)
    b = simulate_twa(system, times, seed=2, path=Path(point=x_mf, ordering="mean-field"),
                     **kw).time_average(10.0)
    se = np.hypot(a.mean_stderr[0], b.mean_stderr[0])
    assert np.all(np.abs(a.mean[0] - b.mean[0]) < 4 * se), (a.mean[0], b.mean[0], se)
    assert np.all(np.abs(weyl.point - x_mf) > 10 * se)  # the control: a missing forcing shows


def test_beyond_the_linearisation_validate_says_so_with_the_quanta():
    """At g0 = 0.05 (|α| = 10) the truncated Wigner steady state leaves the linearised one:
    the verdict fails and the report names the mean-field quanta and the relative size of the
    fluctuations."""
    r = validate(load_model("cascade-full").replace(g0=0.05), n_traj=4096, t_final=200.0,
                 seed=3)
    assert r.check.consistent is False
    text = render_validation(r)
    assert "linearisation (the continuous reference) may not hold" in text
    assert "a1: 100 quanta" in text  # |α|² = (g_ab/g0)² = 100
