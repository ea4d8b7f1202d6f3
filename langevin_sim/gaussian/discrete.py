"""Discrete-time Gaussian recursions ``Σ_{n+1} = F Σ_n Fᵀ + Q`` for any transition ``(F, Q)``,
and the Euler–Maruyama step: its transition, stability bound and discrete stationary state."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..errors import StepTooLargeError
from ..systems.linear import LinearSystem
from .linalg import _sym


def compose_transitions(first, second):
    """The pair ``(F, Q)`` of applying ``first`` then ``second``: ``(F₂F₁, F₂Q₁F₂ᵀ + Q₂)``."""
    (f1, q1), (f2, q2) = first, second
    return f2 @ f1, _sym(f2 @ q1 @ f2.T + q2)


def power_transition(f: np.ndarray, q: np.ndarray, n: int):
    """``(F, Q)`` applied ``n`` times, by binary powering (``O(log n)`` products).

    Every accumulated ``Q`` term is a congruence of a PSD matrix, so nothing cancels.
    """
    d = f.shape[0]
    result = (np.eye(d), np.zeros((d, d)))
    base = (np.asarray(f, float), np.asarray(q, float))
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    while n:
        if n & 1:
            result = compose_transitions(result, base)
        n >>= 1
        if n:
            base = compose_transitions(base, base)
    return result


def linear_recursion(transitions, steps, sigma0: np.ndarray, mean0=None):
    """Moments of ``X_{n+1} = F X_n + ε_n``, ``ε_n ~ N(0, Q)``, recorded after each segment.

    Parameters
    ----------
    transitions : sequence of (F, Q)
        One pair per segment, each ``(d, d)``.
    steps : sequence of int
        Number of steps taken with each segment's pair before its record (>= 0).
    sigma0 : ndarray, shape (d, d)
    mean0 : ndarray, shape (d,), optional

    Returns
    -------
    means : ndarray, shape (n_segments, d)
    covariances : ndarray, shape (n_segments, d, d)
        ``Σ_{n+1} = F Σ_n Fᵀ + Q`` exactly, which is what an Euler–Maruyama ensemble
        (``F = I + A Δt``, ``Q = Δt D``) or an exact-step ensemble samples. Many steps of a
        segment are taken at once by :func:`power_transition`.
    """
    d = sigma0.shape[0]
    sigma = np.array(sigma0, dtype=float)
    mean = np.zeros(d) if mean0 is None else np.array(mean0, dtype=float)
    means = np.empty((len(steps), d))
    covs = np.empty((len(steps), d, d))
    for s, ((f, q), n) in enumerate(zip(transitions, steps)):
        fn, qn = power_transition(f, q, n)
        sigma = _sym(fn @ sigma @ fn.T + qn)
        mean = fn @ mean
        means[s], covs[s] = mean, sigma
    return means, covs


def em_transition(system: LinearSystem, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Euler–Maruyama's one-step pair ``(F, Q) = (I + A dt, dt D)``."""
    return np.eye(system.dim) + system.drift * dt, system.diffusion * dt


def em_stability_bound(system: LinearSystem) -> float:
    """Largest step for which Euler–Maruyama is stable: ``min_λ 2|Re λ| / |λ|²``.

    EM's mean propagates with ``F = I + A Δt``, stable iff ``|1 + λ Δt| < 1`` for every
    eigenvalue λ of ``A``. Returns 0 for an unstable ``A`` (no step is stable).
    """
    ev = system.eigenvalues
    if np.any(ev.real >= 0):
        return 0.0
    return float(np.min(2 * np.abs(ev.real) / np.abs(ev) ** 2))


def em_spectral_radius(system: LinearSystem, dt: float) -> float:
    """Spectral radius of ``F = I + A dt`` (EM is stable iff < 1)."""
    return float(np.max(np.abs(np.linalg.eigvals(np.eye(system.dim) + system.drift * dt))))


def check_em_step(system: LinearSystem, dt: float) -> None:
    """Raise :class:`StepTooLargeError` if EM with step ``dt`` diverges."""
    if not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be finite and > 0, got {dt!r}")
    system.check_stable()
    rho = em_spectral_radius(system, dt)
    if rho >= 1:
        raise StepTooLargeError(
            f"Euler-Maruyama step dt = {dt:g} is beyond its stability bound "
            f"dt < {em_stability_bound(system):.6g} (spectral radius of I + A dt is {rho:.6g}); "
            "use a smaller dt or the 'exact' method"
        )


def em_stationary(system: LinearSystem, dt: float) -> np.ndarray:
    """Stationary covariance of Euler–Maruyama at step ``dt``: ``Σ = F Σ Fᵀ + dt D``.

    Exists iff the spectral radius of ``F = I + A dt`` is < 1; otherwise
    :class:`StepTooLargeError` is raised (a discrete Lyapunov "solution" would be
    meaningless). It differs from the continuous σ∞ by O(dt).
    """
    check_em_step(system, dt)
    f, q = em_transition(system, dt)
    return _sym(sla.solve_discrete_lyapunov(f, q))
