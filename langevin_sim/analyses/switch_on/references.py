"""The deterministic references of a switch-on: the continuous one (mean field and
fluctuation covariance, :func:`reference`) and a baseline scheme's own discrete one
(:func:`discrete_reference`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._kernels.meanfield import mean_and_covariance_rhs
from ...engine import SCHEME_IDS, scheme_reduction
from ...engine.initial import thermal_state
from ...engine.references import _mean_map
from ...integrators.ll import Path, jacobians

FINE_STEP = 0.05
"""Spacing (in the model's time unit) of the continuous reference's fine grid, on which the
effective detuning, the unstable time (resolved to this), onsets and settling are evaluated."""


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
    solution: object = None
    """The dense output of the integration (mean and vectorised covariance), or None."""

    def mean_path(self):
        """The mean field as the path of an ``ll`` frame
        (:class:`~langevin_sim.integrators.ll.Path`, mean-field ordering)."""

        d = self.mean.shape[1]
        return Path(solution=self.solution, t_end=float(self.times[-1]), ordering="mean-field",
                    components=d)


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
    terms = system.compiled_terms("mean-field")

    def rhs(ti, y):  # compiled: (f(x, t), J σ + σ Jᵀ + D)
        out = np.empty(y.size)
        mean_and_covariance_rhs(ti, y, *terms, diffusion, out)
        return out

    steady = system.mean_field_states()
    scale_x = max(1.0, max((float(np.max(np.abs(st.state))) for st in steady), default=1.0))
    atol = np.concatenate([np.full(d, rtol * scale_x), np.full(d * d, rtol * max(
        1.0, float(np.max(np.abs(sigma0)))))])
    y0 = np.concatenate([mean0, sigma0.ravel()])
    sol = solve_ivp(rhs, (0.0, float(t[-1])), y0, method="DOP853", t_eval=t, rtol=rtol,
                    atol=atol, dense_output=True)
    if not sol.success:
        raise RuntimeError(f"the mean-field integration failed: {sol.message}")
    means = sol.y[:d].T
    covs = sol.y[d:].T.reshape(-1, d, d)
    covs = 0.5 * (covs + np.swapaxes(covs, -1, -2))
    jac = jacobians(system, means, ordering="mean-field")
    dets = 0.5 * (jac[:, 0::2, 1::2].diagonal(axis1=1, axis2=2)
                  - jac[:, 1::2, 0::2].diagonal(axis1=1, axis2=2))
    maxre = np.max(np.linalg.eigvals(jac).real, axis=1)
    return Reference(t, means, covs, dets, maxre, system.mode_labels, sol.sol)


# -- the scheme's own reference ------------------------------------------------------------------
def discrete_reference(system, times, method: str, dt: float, mean0, sigma0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances of the scheme's own discretisation of the switch-on, at ``times``
    (multiples of ``dt``).

    Means follow the scheme's noise-free map with the mean-field drift (the ensemble mean of
    the Weyl symbol ``(x² + p²)/2 − 1/2`` is ``|ᾱ|²`` up to the fluctuations' O(g0) share);
    the covariance follows the scheme's linear recursion along them, ``Σ ← F_n Σ F_nᵀ + G_n
    G_nᵀ``, with ``F_n``, ``G_n`` from the Jacobians at the mean and (exponential Heun) at its
    predictor, exactly as :func:`~langevin_sim.integrators.nonlinear.linear_reduction`.
    """

    if method not in SCHEME_IDS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(SCHEME_IDS)}")
    targets = np.round(np.asarray(times, float) / dt).astype(np.int64)
    advance = _mean_map(system, method, dt)
    reduce = scheme_reduction(system, method, dt)
    x = np.asarray(mean0, float).copy()
    s = np.asarray(sigma0, float).copy()
    means, covs, n = [], [], 0
    for target in targets:
        while n < target:
            x_next, xt = advance(x, n * dt)
            f, g = reduce(x, xt)
            s = f @ s @ f.T + g @ g.T
            x = x_next
            n += 1
        means.append(x.copy())
        covs.append(0.5 * (s + s.T))
    return np.array(means), np.array(covs)
