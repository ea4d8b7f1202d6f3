"""The drift of a polynomial Langevin system and the covariance equation along it, compiled:
the right-hand sides that the deterministic references integrate (DOP853 calls them tens of
thousands of times per run, where a Python right-hand side costs more than the step).
"""

import numba as nb
import numpy as np

from .twa import _ramp


@nb.njit(cache=True)
def drift_and_jacobian(x, t, L, drives, kinds, ramp_times, const, qidx, qcoef, cidx, ccoef,
                       f, jac):
    """``f = L x + Σ r_k(t) e_k + const + Σ c x_j x_k + Σ c x_j x_k x_l`` and ``jac = ∂f/∂x``
    for one state ``x`` (d,); ``f`` (d,) and ``jac`` (d, d) are written."""
    d = x.shape[0]
    for i in range(d):
        s = const[i]
        for k in range(drives.shape[0]):
            s += _ramp(kinds[k], ramp_times[k], t) * drives[k, i]
        for j in range(d):
            s += L[i, j] * x[j]
            jac[i, j] = L[i, j]
        f[i] = s
    for m in range(qcoef.shape[0]):
        i, a, b = qidx[m, 0], qidx[m, 1], qidx[m, 2]
        c = qcoef[m]
        f[i] += c * x[a] * x[b]
        jac[i, a] += c * x[b]
        jac[i, b] += c * x[a]
    for m in range(ccoef.shape[0]):
        i, a, b, e = cidx[m, 0], cidx[m, 1], cidx[m, 2], cidx[m, 3]
        c = ccoef[m]
        f[i] += c * x[a] * x[b] * x[e]
        jac[i, a] += c * x[b] * x[e]
        jac[i, b] += c * x[a] * x[e]
        jac[i, e] += c * x[a] * x[b]


@nb.njit(cache=True)
def mean_and_covariance_rhs(t, y, L, drives, kinds, ramp_times, const, qidx, qcoef, cidx,
                            ccoef, D, out):
    """``y = (x, vec σ)``: ``out = (f(x, t), vec(J σ + σ Jᵀ + D))``, J the Jacobian at x."""
    d = L.shape[0]
    x = y[:d]
    f = out[:d]
    jac = np.empty((d, d))
    drift_and_jacobian(x, t, L, drives, kinds, ramp_times, const, qidx, qcoef, cidx, ccoef, f,
                       jac)
    for i in range(d):
        for j in range(i, d):
            s = D[i, j]
            for k in range(d):
                s += jac[i, k] * y[d + k * d + j] + y[d + i * d + k] * jac[j, k]
            out[d + i * d + j] = s
            out[d + j * d + i] = s
