"""Continuous-time Gaussian solutions of a :class:`~langevin_sim.systems.linear.LinearSystem`:
the Lyapunov steady state, the exact transient ``σ(t)`` (one eigendecomposition) and the exact
one-step transition ``(e^{AΔt}, Q(Δt))`` (Van Loan)."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla

from ..conventions import PHYSICALITY_TOL, physicality_margin
from ..errors import UnphysicalStateError
from ..systems.linear import LinearSystem
from .linalg import _check_covariance, _check_vector, _sym, small_linear_algebra

_VAN_LOAN_MAX_NORM = 0.5  # ||A h|| above which Van Loan's exponential is split by doubling
_EIG_COND_MAX = 1e8  # eigenvector condition number above which propagators fall back to expm


def steady_state(system: LinearSystem) -> np.ndarray:
    """Stationary covariance σ∞ solving ``A σ + σ Aᵀ + D = 0``.

    Parameters
    ----------
    system : LinearSystem

    Returns
    -------
    ndarray, shape (d, d)
        Symmetric covariance (vacuum variance 1/2).

    Raises
    ------
    UnstableSystemError
        If ``A`` has an eigenvalue with non-negative real part (no steady state), or one within
        round-off of 0.
    UnphysicalStateError
        If the solution violates ``σ + iΩ/2 ≥ 0`` beyond round-off (relative
        :data:`~langevin_sim.conventions.PHYSICALITY_TOL`): too ill-conditioned to trust.
    """
    if not isinstance(system, LinearSystem):  # not an AttributeError deep inside
        raise TypeError("steady_state(system=...) takes a LinearSystem (a model's "
                        f"model.linear_system()), got {type(system).__name__}")
    system.check_stable()
    with warnings.catch_warnings():  # near-singular cases are caught by the check below
        warnings.simplefilter("ignore", RuntimeWarning)
        sigma = _sym(sla.solve_continuous_lyapunov(system.drift, -system.diffusion))
    margin = physicality_margin(sigma)
    if not np.all(np.isfinite(sigma)) or \
            margin < -PHYSICALITY_TOL * max(1.0, float(np.max(np.abs(sigma)))):
        raise UnphysicalStateError(
            f"the steady state is not physical: σ + iΩ/2 has eigenvalue {margin:.3g} (the "
            f"system is too close to an instability; slowest rate "
            f"{system.slowest_rate:.3g}) — no numbers are reported")
    return sigma


def lyapunov_residual(system: LinearSystem, sigma: np.ndarray) -> float:
    """Relative residual ``||A σ + σ Aᵀ + D|| / ||D||`` (Frobenius norms)."""
    a, d = system.drift, system.diffusion
    return float(np.linalg.norm(a @ sigma + sigma @ a.T + d) / np.linalg.norm(d))


def _van_loan(a: np.ndarray, d: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    n = a.shape[0]
    m = np.zeros((2 * n, 2 * n))
    m[:n, :n] = -a
    m[:n, n:] = d
    m[n:, n:] = a.T
    e = sla.expm(m * h)
    phi = e[n:, n:].T
    return phi, _sym(phi @ e[:n, n:])


def ou_transition(system: LinearSystem, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact transition of the SDE over a step ``dt``: ``X(t+dt) = Φ X(t) + η``.

    ``Φ = e^{A dt}`` and ``η ~ N(0, Q(dt))`` with ``Q(dt) = ∫_0^dt e^{As} D e^{Aᵀs} ds``.
    ``Q`` is computed by Van Loan's block exponential on a sub-step ``h = dt / 2^k`` short
    enough to be accurate (``||A|| h <= 0.5``) and doubled back up with
    ``Q(2h) = Q(h) + Φ(h) Q(h) Φ(h)ᵀ``: every term is positive semidefinite, so there is no
    cancellation and no overflow for stable ``A`` at any ``dt`` (and it works for unstable
    ``A`` as long as ``e^{A dt}`` is representable).

    Parameters
    ----------
    system : LinearSystem
    dt : float
        Step, in the system's time unit (>= 0).

    Returns
    -------
    phi : ndarray, shape (d, d)
    q : ndarray, shape (d, d)
        Symmetric positive semidefinite (possibly rank-deficient) noise covariance.
    """
    if not np.isfinite(dt) or dt < 0:
        raise ValueError(f"dt must be finite and >= 0, got {dt!r}")
    a, d = system.drift, system.diffusion
    norm = np.linalg.norm(a, 1) * dt
    k = 0 if norm <= _VAN_LOAN_MAX_NORM else int(np.ceil(np.log2(norm / _VAN_LOAN_MAX_NORM)))
    phi, q = _van_loan(a, d, dt / 2**k)
    for _ in range(k):
        q = _sym(q + phi @ q @ phi.T)
        phi = phi @ phi
    return phi, q


def propagators(drift: np.ndarray, times) -> np.ndarray:
    """``e^{A t}`` for every ``t`` of ``times`` at once, shape (n_t, d, d).

    One eigendecomposition ``A = V Λ V⁻¹`` serves all times (``V e^{Λt} V⁻¹``); if ``V`` is
    ill-conditioned (a nearly defective ``A``), one ``expm`` per time instead.
    """
    t = np.asarray(times, dtype=float)
    w, v = np.linalg.eig(drift)
    if np.linalg.cond(v) < _EIG_COND_MAX:
        vinv = np.linalg.inv(v)
        with np.errstate(under="ignore"):
            e = np.exp(np.outer(t, w))
        return np.einsum("ij,tj,jk->tik", v, e, vinv).real
    return np.array([sla.expm(drift * ti) for ti in t])


def transient(system: LinearSystem, times, sigma0: np.ndarray, mean0=None, sigma_inf=None):
    """Exact mean and covariance at each of ``times`` from a Gaussian initial state.

    ``σ(t) = e^{At} σ0 e^{Aᵀt} + Q(t)``. For a stable system this is evaluated as
    ``σ(t) = σ∞ + e^{At} (σ0 - σ∞) e^{Aᵀt}`` (docs/physics.md), sound at every t: at
    ``t = 10⁴/ω_b`` it returns σ∞ with no overflow; all times share one eigendecomposition of
    ``A`` (:func:`propagators`) and σ∞ is solved once (or passed in as ``sigma_inf``). For an
    unstable system ``Q(t)`` comes from :func:`ou_transition` (finite while ``e^{At}`` is
    representable).

    Parameters
    ----------
    system : LinearSystem
    times : array_like, shape (n_t,)
        Times >= 0 in the system's time unit.
    sigma0 : ndarray, shape (d, d)
        Initial covariance.
    mean0 : ndarray, shape (d,), optional
        Initial mean (default zero).
    sigma_inf : ndarray, shape (d, d), optional
        The steady state, if already known.

    Returns
    -------
    means : ndarray, shape (n_t, d)
    covariances : ndarray, shape (n_t, d, d)
    """
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be a 1-D array of finite values >= 0")
    d = system.dim
    sigma0 = _check_covariance(sigma0, d, "sigma0")
    mean0 = np.zeros(d) if mean0 is None else _check_vector(mean0, d, "mean0")
    with small_linear_algebra():
        phi = propagators(system.drift, t)
        means = phi @ mean0
        if system.is_stable:
            sigma_inf = steady_state(system) if sigma_inf is None else sigma_inf
            covs = _sym(sigma_inf + phi @ (sigma0 - sigma_inf) @ np.swapaxes(phi, -1, -2))
        else:
            covs = np.array([_sym(p @ sigma0 @ p.T + ou_transition(system, ti)[1])
                             for p, ti in zip(phi, t)])
    return means, covs
