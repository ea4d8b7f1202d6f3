"""Small dense linear algebra shared by the Gaussian solutions: symmetrising, a PSD factor,
input checks, and BLAS kept single-threaded for small matrices."""

from __future__ import annotations

import numpy as np


def _sym(m: np.ndarray) -> np.ndarray:
    return 0.5 * (m + np.swapaxes(m, -1, -2))


def small_linear_algebra():
    """Context in which BLAS/LAPACK run single-threaded: the package's matrices are 8×8 to
    16×16, where threads only cost (and oversubscribe a loaded machine or a Dask worker)."""
    global _CONTROLLER
    if _CONTROLLER is None:  # scanning the loaded libraries is slow: once per process
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1)


_CONTROLLER = None


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
