"""The pieces every ensemble kernel shares: the affine step ``y = F x + G z``, the initial
sample and the centred moments of a chunk.

State arrays are ``(d, n_traj)``: trajectories in the innermost, contiguous dimension, so the
inner loops vectorise. The kernels (:mod:`.ll`: every linear model and the ``ll`` step;
:mod:`.twa`: the baselines for a nonlinear drift) inline them.
"""

import numba as nb

from .random import fill_normals


@nb.njit(cache=True, nogil=True)
def _affine(F, G, rank, x, z, y):
    """y = F x + G[:, :rank] z[:rank], skipping exact zeros of F and G."""
    d, n = x.shape
    for i in range(d):
        for j in range(n):
            y[i, j] = 0.0
        for k in range(d):
            f = F[i, k]
            if f != 0.0:
                for j in range(n):
                    y[i, j] += f * x[k, j]
        for k in range(rank):
            g = G[i, k]
            if g != 0.0:
                for j in range(n):
                    y[i, j] += g * z[k, j]


@nb.njit(cache=True, nogil=True)
def sample_initial(mean0, L0, state, z, x):
    """x = mean0 + L0 Z column by column (Z standard normals drawn into z)."""
    d, n = x.shape
    r0 = L0.shape[1]
    fill_normals(z, r0, state)
    for i in range(d):
        for j in range(n):
            x[i, j] = mean0[i]
        for k in range(r0):
            lik = L0[i, k]
            if lik != 0.0:
                for j in range(n):
                    x[i, j] += lik * z[k, j]


@nb.njit(cache=True, nogil=True)
def accumulate_moments(x, out_mean, out_m2):
    """Two-pass mean and centred second-moment sum ``M2 = Σ (x - x̄)(x - x̄)ᵀ`` of columns."""
    d, n = x.shape
    for i in range(d):
        s = 0.0
        for j in range(n):
            s += x[i, j]
        out_mean[i] = s / n
    for i in range(d):
        mi = out_mean[i]
        for k in range(i, d):
            mk = out_mean[k]
            s = 0.0
            for j in range(n):
                s += (x[i, j] - mi) * (x[k, j] - mk)
            out_m2[i, k] = s
            out_m2[k, i] = s
