"""Ensemble propagation of ``dX = (L X + N(X, t)) dt + B√N dW`` with a polynomial ``N``.

State arrays are ``(d, n_traj)``: trajectories in the innermost, contiguous dimension. ``N``
is a constant plus ramped drive vectors plus quadratic and cubic monomials (see
:class:`langevin_sim.systems.nonlinear.LangevinSystem`). Schemes (ids): 0 Euler–Maruyama
(``F = I + LΔt``, ``G = √Δt B√N``), 1 exponential Euler and 2 exponential Heun (``F = e^{LΔt}``,
``G Gᵀ = Q_L(Δt)``).
"""

import math

import numba as nb

from .propagate import _add_product, _affine, accumulate_moments, sample_initial
from .random import fill_normals


@nb.njit(cache=True, nogil=True)
def _ramp(kind, ramp_time, t):
    if t < 0.0:
        return 0.0
    if kind == 0 or ramp_time <= 0.0:
        return 1.0
    s = min(t / ramp_time, 1.0)
    if kind == 1:
        return s
    return math.sin(0.5 * math.pi * s) ** 2


@nb.njit(cache=True, nogil=True)
def _nonlinear(x, t, drives, kinds, ramp_times, const, qidx, qcoef, cidx, ccoef, out):
    """out = N(x, t) for every column of x."""
    d, n = x.shape
    for i in range(d):
        c = const[i]
        for k in range(drives.shape[0]):
            c += _ramp(kinds[k], ramp_times[k], t) * drives[k, i]
        for j in range(n):
            out[i, j] = c
    for m in range(qcoef.shape[0]):
        i, a, b = qidx[m, 0], qidx[m, 1], qidx[m, 2]
        cf = qcoef[m]
        for j in range(n):
            out[i, j] += cf * x[a, j] * x[b, j]
    for m in range(ccoef.shape[0]):
        i, a, b, c3 = cidx[m, 0], cidx[m, 1], cidx[m, 2], cidx[m, 3]
        cf = ccoef[m]
        for j in range(n):
            out[i, j] += cf * x[a, j] * x[b, j] * x[c3, j]


@nb.njit(cache=True, nogil=True)
def _add_noise(G, rank, z, out):
    """out += G[:, :rank] z[:rank] (the plain loop's bits, grouped as the affine step)."""
    _add_product(G, rank, z, out)


@nb.njit(cache=True, nogil=True)
def twa_chunk(scheme, F, G, dt, drives, kinds, ramp_times, const, qidx, qcoef, cidx, ccoef,
              seg_steps, mean0, L0, state, x, fx, fn, n1, n2, xt, z, out_mean, out_m2):
    """Sample ``X_0 = mean0 + L0 Z``, then take ``seg_steps[s]`` steps of the scheme before
    recording the chunk's moments into ``out_mean[s]`` (d,) and ``out_m2[s]`` (d, d).

    ``x, fx, fn, n1, n2, xt`` (d, n) and ``z`` (r, n) are caller-allocated work arrays.
    """
    d, n = x.shape
    rank = G.shape[1]
    sample_initial(mean0, L0, state, z, x)
    t = 0.0
    for s in range(seg_steps.shape[0]):
        for _ in range(seg_steps[s]):
            _nonlinear(x, t, drives, kinds, ramp_times, const, qidx, qcoef, cidx, ccoef, n1)
            fill_normals(z, rank, state)
            _affine(F, G, 0, x, z, fx)  # F x (no noise yet)
            if scheme == 0:  # X' = (I + LΔt) X + Δt N + G Z
                for i in range(d):
                    for j in range(n):
                        fx[i, j] += dt * n1[i, j]
            elif scheme == 1:  # X' = Φ (X + Δt N) + ξ
                _affine(F, G, 0, n1, z, fn)
                for i in range(d):
                    for j in range(n):
                        fx[i, j] += dt * fn[i, j]
            else:  # X̃ = ΦX + Δt ΦN + ξ;  X' = ΦX + Δt/2 (ΦN + N(X̃)) + ξ
                _affine(F, G, 0, n1, z, fn)
                for i in range(d):
                    for j in range(n):
                        xt[i, j] = fx[i, j] + dt * fn[i, j]
                _add_noise(G, rank, z, xt)
                _nonlinear(xt, t + dt, drives, kinds, ramp_times, const, qidx, qcoef, cidx,
                           ccoef, n2)
                for i in range(d):
                    for j in range(n):
                        fx[i, j] += 0.5 * dt * (fn[i, j] + n2[i, j])
            _add_noise(G, rank, z, fx)
            for i in range(d):
                for j in range(n):
                    x[i, j] = fx[i, j]
            t += dt
        accumulate_moments(x, out_mean[s], out_m2[s])
