"""Exact Gaussian solutions of a :class:`~langevin_sim.systems.linear.LinearSystem`.

* :func:`steady_state` solves the continuous Lyapunov equation ``A σ + σ Aᵀ + D = 0``.
* :func:`transient` gives the exact mean and covariance ``σ(t)`` from any initial state.
* :func:`ou_transition` gives the exact one-step transition ``(e^{AΔt}, Q(Δt))``.
* :func:`linear_recursion` propagates ``Σ_{n+1} = F Σ_n Fᵀ + Q`` (Euler–Maruyama or exact
  steps), and :func:`em_stationary` solves its discrete Lyapunov fixed point for EM.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla

from .conventions import PHYSICALITY_TOL, physicality_margin
from .errors import StepTooLargeError, UnphysicalStateError, UnstableSystemError
from .systems.linear import LinearSystem

_VAN_LOAN_MAX_NORM = 0.5  # ||A h|| above which Van Loan's exponential is split by doubling
_EIG_COND_MAX = 1e8  # eigenvector condition number above which propagators fall back to expm


def _sym(m: np.ndarray) -> np.ndarray:
    return 0.5 * (m + np.swapaxes(m, -1, -2))


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


def psd_factor(q: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
    """A factor ``L`` (shape (d, r)) with ``L Lᵀ = Q`` for a symmetric PSD ``Q``.

    Uses the symmetric eigendecomposition, clips round-off negatives and drops the null
    space, so a rank-deficient ``Q`` (for example the noise of the perfect cascade, η = 1)
    gives ``r < d`` columns and no Cholesky failure. Eigenvalues below
    ``rtol · max eigenvalue`` are treated as zero.
    """
    q = _sym(np.asarray(q, dtype=float))
    w, v = np.linalg.eigh(q)
    top = max(float(w[-1]), 0.0)
    keep = w > rtol * top
    if not np.any(keep):
        return np.zeros((q.shape[0], 0))
    return v[:, keep] * np.sqrt(w[keep])[None, :]


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


def small_linear_algebra():
    """Context in which BLAS/LAPACK run single-threaded: the package's matrices are 8×8 to
    16×16, where threads only cost (and oversubscribe a loaded machine or a Dask worker)."""
    global _CONTROLLER
    if _CONTROLLER is None:  # scanning the loaded libraries is slow: once per process
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1)


_CONTROLLER = None


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


def _check_covariance(sigma, d: int, name: str) -> np.ndarray:
    s = np.asarray(sigma, dtype=float)
    if s.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} must be finite")
    if not np.allclose(s, s.T, rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name} must be symmetric")
    if np.linalg.eigvalsh(_sym(s))[0] < -1e-10 * max(1.0, np.abs(s).max()):
        raise ValueError(f"{name} must be positive semidefinite")
    return _sym(s)


def _check_vector(v, d: int, name: str) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    if v.shape != (d,) or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be a finite vector of length {d}, got shape {v.shape}")
    return v


__all__ = [
    "UnstableSystemError", "StepTooLargeError", "steady_state", "lyapunov_residual",
    "ou_transition", "psd_factor", "transient", "linear_recursion", "power_transition",
    "compose_transitions", "em_transition",
    "em_stability_bound", "em_spectral_radius", "check_em_step", "em_stationary",
]
