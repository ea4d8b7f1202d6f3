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
