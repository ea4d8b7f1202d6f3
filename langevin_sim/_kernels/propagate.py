"""Ensemble propagation of ``X_{n+1} = F X_n + G Z_n`` for one chunk of trajectories.

State arrays are ``(d, n_traj)``: trajectories in the innermost, contiguous dimension, so the
inner loops vectorise. Both Euler–Maruyama (``F = I + AΔt``, ``G = B sqrt(N) sqrt(Δt)``) and the
exact Ornstein–Uhlenbeck step (``F = e^{AΔt}``, ``G G ᵀ = Q(Δt)``) run through this one kernel.
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


@nb.njit(cache=True, nogil=True)
def simulate_chunk(Fs, Gs, ranks, seg_steps, mean0, L0, state, x, y, z, out_mean, out_m2):
    """Sample ``X_0 = mean0 + L0 Z``, then for each segment ``s`` take ``seg_steps[s]`` steps
    with ``(Fs[s], Gs[s][:, :ranks[s]])`` and record the chunk's moments into
    ``out_mean[s]`` (d,) and ``out_m2[s]`` (d, d).

    ``x``, ``y`` (d, n) and ``z`` (r_max, n) are caller-allocated work arrays.
    """
    sample_initial(mean0, L0, state, z, x)
    for s in range(seg_steps.shape[0]):
        F = Fs[s]
        G = Gs[s]
        r = ranks[s]
        for _ in range(seg_steps[s]):
            fill_normals(z, r, state)
            _affine(F, G, r, x, z, y)
            x, y = y, x
        accumulate_moments(x, out_mean[s], out_m2[s])
