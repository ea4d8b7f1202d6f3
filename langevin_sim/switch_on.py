"""Switching the drive on: the deterministic reference of the full model (docs/physics.md,
"Mean field and linearisation").

The mean-field equations of a :class:`~langevin_sim.systems.nonlinear.LangevinSystem`
(``a†a → |α|²``, drives with their ramps) are integrated together with the covariance of the
fluctuations around them, ``dσ/dt = A(t) σ + σ A(t)ᵀ + D``, ``A(t)`` the Jacobian along the
mean-field trajectory. This is exact up to O(g0/g_ab) corrections, and is what a truncated
Wigner ensemble of the switch-on must reproduce when the single-photon coupling is small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .systems.linear import LinearSystem


@dataclass(frozen=True)
class Reference:
    """Mean field and fluctuation covariance along a switch-on, at the record times.

    Attributes
    ----------
    times : ndarray (n_t,)
    mean : ndarray (n_t, d)
        Mean-field quadratures.
    covariance : ndarray (n_t, d, d)
        Covariance of the fluctuations (vacuum variance 1/2).
    effective_detunings : ndarray (n_t, n_modes)
        ``(A[x,p] - A[p,x])/2`` of each mode's block of ``A(t)``: for a cavity with radiation
        pressure ``Δ(t) = δ + 2 g0 Re β(t)``.
    max_real_eigenvalue : ndarray (n_t,)
        Largest real part of the eigenvalues of ``A(t)`` (> 0: the instantaneous
        linearisation is unstable).
    mode_labels : tuple of str
    """

    times: np.ndarray
    mean: np.ndarray
    covariance: np.ndarray
    effective_detunings: np.ndarray
    max_real_eigenvalue: np.ndarray
    mode_labels: tuple


def thermal_state(system) -> np.ndarray:
    """Every mode in equilibrium with its baths (the state before the drive), shape (d, d)."""
    return LinearSystem(system.linear, system.noise_input, system.occupations,
                        system.mode_labels).thermal_covariance()


def reference(system, times, mean0=None, sigma0=None, rtol: float = 1e-11) -> Reference:
    """Integrate the mean field and the fluctuation covariance from ``(mean0, sigma0)``
    (default: means 0, every mode thermal at its bath) and record them at ``times``.

    Parameters
    ----------
    system : LangevinSystem
    times : array_like (n_t,)
        Increasing record times >= 0 (the drives switch on at t = 0).
    rtol : float
        Relative tolerance of the adaptive integrator (DOP853); the absolute tolerance is
        ``rtol`` times the scale of each component.
    """
    from scipy.integrate import solve_ivp

    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(~np.isfinite(t)) or np.any(t < 0) \
            or np.any(np.diff(t) <= 0):
        raise ValueError("times must be increasing, finite and >= 0")
    d = system.dim
    mean0 = np.zeros(d) if mean0 is None else np.asarray(mean0, float)
    sigma0 = thermal_state(system) if sigma0 is None else np.asarray(sigma0, float)
    diffusion = system.noise_input @ np.diag(system.occupations + 0.5) @ system.noise_input.T

    def rhs(ti, y):
        x = y[:d]
        s = y[d:].reshape(d, d)
        a = system.jacobian(x)
        ds = a @ s + s @ a.T + diffusion
        return np.concatenate([system.drift(x, ti, ordering="mean-field"), ds.ravel()])

    steady = system.mean_field_states()
    scale_x = max(1.0, max((float(np.max(np.abs(st.state))) for st in steady), default=1.0))
    atol = np.concatenate([np.full(d, rtol * scale_x), np.full(d * d, rtol * max(
        1.0, float(np.max(np.abs(sigma0)))))])
    y0 = np.concatenate([mean0, sigma0.ravel()])
    sol = solve_ivp(rhs, (0.0, float(t[-1])), y0, method="DOP853", t_eval=t, rtol=rtol,
                    atol=atol)
    if not sol.success:
        raise RuntimeError(f"the mean-field integration failed: {sol.message}")
    means = sol.y[:d].T
    covs = sol.y[d:].T.reshape(-1, d, d)
    covs = 0.5 * (covs + np.swapaxes(covs, -1, -2))
    dets, maxre = [], []
    for x in means:
        a = system.jacobian(x)
        dets.append([0.5 * (a[2 * i, 2 * i + 1] - a[2 * i + 1, 2 * i])
                     for i in range(system.n_modes)])
        maxre.append(float(np.max(np.linalg.eigvals(a).real)))
    return Reference(t, means, covs, np.array(dets), np.array(maxre), system.mode_labels)
