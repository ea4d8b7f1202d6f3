"""Sampled records of a linear system's trajectories, for spectral estimates.

One chunk of trajectories starts in the stationary state ``x = L0 Z`` and is propagated by an
exact step ``y = F x + G Z`` whose result ``y`` (shape ``(e,)`` per trajectory, ``e >= d``)
holds the new state in its first ``d`` rows and, below it, anything integrated over the step
(the output currents of a homodyne detector, averaged over the sampling interval). Each
record is ``P y``. State arrays are ``(rows, n_traj)``: trajectories innermost and contiguous.
"""

import numba as nb
import numpy as np

from .propagate import sample_initial
from .random import fill_normals


@nb.njit(cache=True, nogil=True)
def record_chunk(F, G, rank, L0, P, state, x, y, z, out):
    """Fill ``out`` (channels, n_records, n_traj) with ``P y`` after every step.

    Parameters
    ----------
    F : (e, d) float64
        Maps the state to the next augmented state (state rows first).
    G : (e, r) float64
        Noise factor of the step, ``G Gᵀ = Q``; only its first ``rank`` columns are used.
    rank : int
    L0 : (d, r0) float64
        Factor of the stationary covariance, for the initial state.
    P : (c, e) float64
        Rows of the recorded channels.
    state : (4, LANES) uint64
        Generator state (:mod:`.random`, advanced in place).
    x : (d, n) float64; y : (e, n) float64; z : (max(r, r0), n) float64
        Work arrays (``x`` ends in the last state).
    out : (c, n_records, n) float64
    """
    d, n = x.shape
    e = y.shape[0]
    c, n_rec, _ = out.shape
    sample_initial(np.zeros(d), L0, state, z, x)  # x = L0 Z: the stationary state, mean 0
    for t in range(n_rec):
        fill_normals(z, rank, state)
        for i in range(e):
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
        for i in range(d):
            for j in range(n):
                x[i, j] = y[i, j]
        for ch in range(c):
            for j in range(n):
                out[ch, t, j] = 0.0
            for k in range(e):
                p = P[ch, k]
                if p != 0.0:
                    for j in range(n):
                        out[ch, t, j] += p * y[k, j]
