"""The deterministic reference of the drive's switch-on (mean field + fluctuation covariance),
against exact results and the numbers of the specification."""

import numpy as np
import pytest

from langevin_sim import load_model
from langevin_sim.gaussian import transient
from langevin_sim.measures import measures
from langevin_sim.switch_on import reference, thermal_state


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
    en = [measures(c, lin).E_N for c in ref.covariance]
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
    from langevin_sim.gaussian import linear_recursion
    from langevin_sim.integrators.nonlinear import linear_reduction
    from langevin_sim.statistics import consistency
    from langevin_sim.systems.linear import LinearSystem
    from langevin_sim.twa import simulate_twa
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
    from langevin_sim.statistics import consistency
    from langevin_sim.twa import discrete_steady_state, simulate_twa
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
