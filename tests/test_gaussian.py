import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from langevin_sim.conventions import is_physical
from langevin_sim.errors import StepTooLargeError, UnphysicalStateError, UnstableSystemError
from langevin_sim.gaussian import (
    em_stability_bound,
    em_stationary,
    em_transition,
    linear_recursion,
    lyapunov_residual,
    ou_transition,
    psd_factor,
    steady_state,
    transient,
)
from langevin_sim.models.cascade import CascadeParameters, build_system

from .conftest import random_stable_systems


def test_lyapunov_residual_at_defaults(default_system):
    sigma = steady_state(default_system)
    assert lyapunov_residual(default_system, sigma) < 1e-10
    assert np.allclose(sigma, sigma.T)


@pytest.mark.parametrize("k", range(20))
def test_lyapunov_residual_at_random_stable_parameters(k):
    (_, system), = random_stable_systems(1, seed=100 + k)
    assert lyapunov_residual(system, steady_state(system)) < 1e-10


def test_steady_state_is_physical_at_a_thousand_random_stable_points():
    """Catches a wrong sign or a missing cascade correlation (unphysical states appear)."""
    bad = []
    for p, system in random_stable_systems(1000, seed=7):
        if not is_physical(steady_state(system), tol=1e-9):
            bad.append(p)
    assert not bad, f"{len(bad)} unphysical steady states, e.g. {bad[0]}"


def test_dropping_the_cascade_correlation_gives_unphysical_states():
    """The physicality test above has teeth: independent noise per cavity violates it."""
    violations = 0
    for _, system in random_stable_systems(200, seed=8):
        b = system.noise_input.copy()
        # replace the shared a1_in in cavity 2 by an independent input of the same strength
        b_wrong = np.zeros((8, 10))
        b_wrong[:, :8] = b
        b_wrong[2:4, 8:10] = b[2:4, 0:2]
        b_wrong[2:4, 0:2] = 0
        occ = np.concatenate([system.occupations, system.occupations[:2]])
        from langevin_sim.systems.linear import LinearSystem
        wrong = LinearSystem(system.drift, b_wrong, occ, system.mode_labels)
        # steady_state refuses an unphysical solution (reported, never returned as numbers)
        try:
            steady_state(wrong)
        except UnphysicalStateError:
            violations += 1
    assert violations > 0


def test_unstable_system_raises_with_eigenvalue():
    system = build_system(CascadeParameters(delta1=-0.5))
    assert not system.is_stable
    with pytest.raises(UnstableSystemError, match=r"eigenvalue .* real part >= 0") as info:
        steady_state(system)
    assert info.value.eigenvalue.real >= 0


def test_transient_starts_at_sigma0_and_reaches_steady_state_at_long_times(default_system):
    sigma0 = default_system.thermal_covariance()
    mean0 = np.arange(8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        means, covs = transient(default_system, [0.0, 1e4], sigma0, mean0)
    assert np.allclose(covs[0], sigma0, rtol=1e-12, atol=1e-12)
    assert np.allclose(means[0], mean0)
    sigma_inf = steady_state(default_system)
    assert np.all(np.isfinite(covs[1]))
    assert np.max(np.abs(covs[1] - sigma_inf)) / np.max(np.abs(sigma_inf)) < 1e-10
    assert np.max(np.abs(means[1])) < 1e-10


def test_transient_matches_fine_ode_integration(default_system):
    a, d = default_system.drift, default_system.diffusion
    sigma0 = default_system.thermal_covariance()

    def rhs(_, y):
        s = y.reshape(8, 8)
        return (a @ s + s @ a.T + d).ravel()

    times = np.array([0.1, 1.0, 5.0, 20.0, 60.0])
    sol = solve_ivp(rhs, (0, times[-1]), sigma0.ravel(), t_eval=times, rtol=1e-11, atol=1e-12,
                    method="DOP853")
    _, covs = transient(default_system, times, sigma0)
    for i in range(times.size):
        ref = sol.y[:, i].reshape(8, 8)
        assert np.max(np.abs(covs[i] - ref)) < 1e-7 * np.max(np.abs(ref))


def test_ou_transition_matches_transient_and_long_steps_are_sound(default_system):
    sigma0 = default_system.thermal_covariance()
    for dt in (1e-3, 0.5, 30.0, 5000.0):
        phi, q = ou_transition(default_system, dt)
        assert np.all(np.isfinite(q)) and np.linalg.eigvalsh(q)[0] > -1e-10
        _, cov = transient(default_system, [dt], sigma0)
        assert np.allclose(phi @ sigma0 @ phi.T + q, cov[0], rtol=1e-8, atol=1e-10)


def test_ou_transition_small_step_is_dt_times_diffusion(default_system):
    # Q(dt) = D dt + (A D + D Aᵀ) dt²/2 + O(dt³): relative deviation of order ||A|| dt
    dt = 1e-7
    _, q = ou_transition(default_system, dt)
    d = default_system.diffusion
    a_norm = np.linalg.norm(default_system.drift, 2)
    assert np.max(np.abs(q / dt - d)) < 2 * a_norm * dt * np.max(np.abs(d))


def test_psd_factor_handles_rank_deficient_noise():
    system = build_system(CascadeParameters(eta=1.0))
    for dt in (1e-4, 0.5):
        _, q = ou_transition(system, dt)
        fac = psd_factor(q)
        assert np.allclose(fac @ fac.T, q, atol=1e-12 * np.abs(q).max())
    d = system.diffusion
    fac = psd_factor(d)
    assert fac.shape[1] < 8  # the singular direction of D at η = 1 is dropped
    assert np.allclose(fac @ fac.T, d, atol=1e-12 * np.abs(d).max())


def test_em_stationary_solves_its_discrete_lyapunov_equation(default_system):
    dt = 0.005
    sigma = em_stationary(default_system, dt)
    f, q = em_transition(default_system, dt)
    assert np.linalg.norm(f @ sigma @ f.T + q - sigma) / np.linalg.norm(sigma) < 1e-10
    # and it is the long-time limit of the recursion Σ_{n+1} = F Σ Fᵀ + Δt D
    # 10⁶ steps = 5000/ω_b, about 35 slowest relaxation times
    _, covs = linear_recursion([(f, q)], [10**6], default_system.thermal_covariance())
    assert np.allclose(covs[0], sigma, rtol=1e-9, atol=1e-12)


def test_linear_recursion_powering_equals_step_by_step(default_system):
    f, q = em_transition(default_system, 0.003)
    sigma = default_system.thermal_covariance()
    mean = np.linspace(-1, 1, 8)
    means, covs = linear_recursion([(f, q), (f, 2 * q)], [37, 5], sigma, mean)
    for n, qq in ((37, q), (5, 2 * q)):
        for _ in range(n):
            sigma = f @ sigma @ f.T + qq
            mean = f @ mean
    assert np.allclose(covs[1], sigma, rtol=1e-12) and np.allclose(means[1], mean, rtol=1e-12)


def test_em_stationary_converges_to_continuous_with_slope_one(default_system):
    sigma = steady_state(default_system)
    dts = 1e-4 * np.array([8.0, 4.0, 2.0, 1.0])  # asymptotic regime (bias ~1 % at 1e-4)
    gaps = [np.linalg.norm(em_stationary(default_system, h) - sigma) for h in dts]
    slope = np.polyfit(np.log(dts), np.log(gaps), 1)[0]
    assert 0.95 < slope < 1.05


def test_em_bias_at_dt_001_is_as_model_md_says(default_system):
    """docs/physics.md: at Δt = 0.01 EM's stationary Var(x_b) is about 3.3× the exact value."""
    ratio = em_stationary(default_system, 0.01)[4, 4] / steady_state(default_system)[4, 4]
    assert 3.0 < ratio < 3.6


def test_em_beyond_stability_bound_is_refused(default_system):
    bound = em_stability_bound(default_system)
    assert bound == pytest.approx(0.0144, abs=3e-4)
    with pytest.raises(StepTooLargeError, match=r"stability bound dt < 0\.014"):
        em_stationary(default_system, 1.05 * bound)
    em_stationary(default_system, 0.95 * bound)  # just inside: fine
