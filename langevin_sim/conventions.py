"""Conventions shared by every module: ordering, normalisation, symplectic form.

All of ``langevin_sim`` uses one convention (see ``docs/physics.md``):

* quadratures ``x = (o + o†)/√2`` and ``p = -i(o - o†)/√2``, so ``[x, p] = i``;
* the **vacuum variance is 1/2** (``VACUUM_VARIANCE``);
* state vectors are in *xpxp* order, ``(x_1, p_1, x_2, p_2, ...)``;
* the covariance is the symmetrised one, ``σ_ij = <μ_i μ_j + μ_j μ_i>/2 - <μ_i><μ_j>``;
* a rotated quadrature is ``x^θ = x cos θ + p sin θ`` and ``p^θ = -x sin θ + p cos θ``.

Converters to other common conventions live here too, so that a covariance matrix from
another package (vacuum variance 1, or ħ = 2 as in thewalrus) can be brought in safely.
"""

from __future__ import annotations

import numpy as np

VACUUM_VARIANCE = 0.5
"""Variance of each vacuum quadrature in this package's convention (ħ = 1)."""

PLANCK_H = 6.62607015e-34
"""Planck constant h in J s (exact, SI 2019)."""

HBAR = PLANCK_H / (2 * np.pi)
"""Reduced Planck constant ħ in J s."""

BOLTZMANN_K = 1.380649e-23
"""Boltzmann constant k_B in J/K (exact, SI 2019)."""

# Above this value of h f / (k_B T) the thermal occupation exp(-x)/(1 - exp(-x)) is below
# 1e-304; it is returned as 0 instead of letting expm1 overflow.
_MAX_EXPONENT = 700.0


def symplectic_form(n_modes: int) -> np.ndarray:
    """Return the symplectic form ``Ω = ⊕ [[0, 1], [-1, 0]]`` for *xpxp* ordering.

    Parameters
    ----------
    n_modes : int
        Number of bosonic modes.

    Returns
    -------
    ndarray, shape (2 n_modes, 2 n_modes)
    """
    if n_modes < 1:
        raise ValueError(f"n_modes must be >= 1, got {n_modes}")
    return np.kron(np.eye(n_modes), np.array([[0.0, 1.0], [-1.0, 0.0]]))


def mode_slice(index: int) -> slice:
    """Rows/columns of mode number ``index`` (0-based) in an *xpxp* vector."""
    return slice(2 * index, 2 * index + 2)


def quadrature_indices(modes) -> np.ndarray:
    """Indices ``(x_m, p_m, ...)`` of the listed modes (0-based) in an *xpxp* vector."""
    return np.concatenate([[2 * int(m), 2 * int(m) + 1] for m in modes])


def reduced_covariance(sigma: np.ndarray, modes) -> np.ndarray:
    """Covariance of the listed modes (0-based), in the order given.

    Works on a stack of matrices: ``sigma`` may have shape ``(..., 2N, 2N)``.
    """
    idx = quadrature_indices(modes)
    return sigma[..., idx[:, None], idx[None, :]]


def thermal_occupation(frequency_hz, temperature_k):
    """Bose–Einstein occupation ``n̄ = 1/(exp(h f / k_B T) - 1)``.

    Parameters
    ----------
    frequency_hz : float or array_like
        Lab frequency f of the bath, in Hz (> 0).
    temperature_k : float or array_like
        Bath temperature T, in kelvin (>= 0). ``T = 0`` gives ``n̄ = 0`` exactly.

    Returns
    -------
    float or ndarray
        The mean thermal quantum number (dimensionless). No overflow warning is ever
        raised: occupations below ~1e-304 are returned as 0.
    """
    f = np.asarray(frequency_hz, dtype=float)
    t = np.asarray(temperature_k, dtype=float)
    if np.any(~np.isfinite(f)) or np.any(f <= 0):
        raise ValueError(f"frequency_hz must be finite and > 0 Hz, got {frequency_hz!r}")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"temperature_k must be finite and >= 0 K, got {temperature_k!r}")
    f, t = np.broadcast_arrays(f, t)
    n = np.zeros(f.shape)
    hot = t > 0
    x = np.full(f.shape, np.inf)
    x[hot] = PLANCK_H * f[hot] / (BOLTZMANN_K * t[hot])
    ok = x < _MAX_EXPONENT
    n[ok] = 1.0 / np.expm1(x[ok])
    return float(n) if n.ndim == 0 else n


PHYSICALITY_TOL = 1e-9
"""Relative round-off allowance of the physicality check σ + iΩ/2 ≥ 0."""

THRESHOLD_TOL = 1e-9
"""Margin by which a measure must pass its threshold to signal a correlation, so that
round-off (a product state's Duan product 1 - 3e-15) never counts."""


def is_physical(sigma: np.ndarray, tol: float = PHYSICALITY_TOL) -> bool:
    """Whether ``σ + iΩ/2 ≥ 0`` (the uncertainty principle), up to ``tol``.

    Parameters
    ----------
    sigma : ndarray, shape (2N, 2N)
        Symmetric covariance in this package's convention (vacuum variance 1/2).
    tol : float
        Eigenvalues down to ``-tol * max(1, ||σ||)`` are accepted as round-off.
    """
    return physicality_margin(sigma) >= -tol * max(1.0, float(np.max(np.abs(sigma))))


def physicality_margin(sigma: np.ndarray) -> float:
    """Smallest eigenvalue of the Hermitian matrix ``σ + iΩ/2`` (>= 0 iff physical)."""
    sigma = np.asarray(sigma, dtype=float)
    n = sigma.shape[-1]
    if sigma.ndim != 2 or n != sigma.shape[0] or n % 2:
        raise ValueError(f"sigma must be a square matrix of even size, got shape {sigma.shape}")
    h = 0.5 * (sigma + sigma.T) + 0.5j * symplectic_form(n // 2)
    return float(np.linalg.eigvalsh(h)[0])


def from_vacuum_one(sigma: np.ndarray) -> np.ndarray:
    """Convert a covariance with vacuum variance 1 (e.g. ħ = 2 conventions) to ours (1/2)."""
    return np.asarray(sigma) * VACUUM_VARIANCE


def to_vacuum_one(sigma: np.ndarray) -> np.ndarray:
    """Convert a covariance in our convention (vacuum variance 1/2) to vacuum variance 1."""
    return np.asarray(sigma) / VACUUM_VARIANCE


def xxpp_to_xpxp(sigma: np.ndarray) -> np.ndarray:
    """Reorder a covariance from *xxpp* ``(x_1..x_N, p_1..p_N)`` to *xpxp* order."""
    n = sigma.shape[-1] // 2
    perm = np.ravel(np.column_stack([np.arange(n), np.arange(n) + n]))
    return sigma[..., perm[:, None], perm[None, :]]
