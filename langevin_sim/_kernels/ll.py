"""Ensemble propagation of the local-linearisation step in a displaced frame:

``δ' = E_k δ + P_k R(δ; β_k) + G_k Z``

with ``E_k = e^{ΔtJ}``, ``P_k = Δt φ₁(ΔtJ)``, ``G_k G_kᵀ = Q_J(Δt)`` and ``β_k`` the path at the
step's midpoint (see :mod:`langevin_sim.integrators.ll`). ``R`` is the polynomial remainder
``f(β + δ) − f(β) − J δ``: for a quadratic term ``c X_a X_b`` it is ``c δ_a δ_b``, for a cubic
term ``c X_a X_b X_c`` it is ``c (β_a δ_b δ_c + δ_a β_b δ_c + δ_a δ_b β_c + δ_a δ_b δ_c)``.

State arrays are ``(d, n_traj)``, trajectories innermost and contiguous. Matrix index ``k`` is
the segment's (``per_step`` false: a time-invariant path) or the global step's.
"""

import numba as nb

from .propagate import _affine_ll, accumulate_moments, sample_initial
from .random import fill_normals


@nb.njit(cache=True, nogil=True)
def _remainder(x, beta, qidx, qcoef, cidx, ccoef, row_of, r):
    """r[row_of[i]] = R_i(x) for the rows i that carry nonlinear terms."""
    nr, n = r.shape
    for m in range(nr):
        for j in range(n):
            r[m, j] = 0.0
    for m in range(qcoef.shape[0]):
        i, a, b = qidx[m, 0], qidx[m, 1], qidx[m, 2]
        row = row_of[i]
        cf = qcoef[m]
        for j in range(n):
            r[row, j] += cf * x[a, j] * x[b, j]
    for m in range(ccoef.shape[0]):
        i, a, b, c = cidx[m, 0], cidx[m, 1], cidx[m, 2], cidx[m, 3]
        row = row_of[i]
        cf = ccoef[m]
        ba, bb, bc = beta[a], beta[b], beta[c]
        for j in range(n):
            xa, xb, xc = x[a, j], x[b, j], x[c, j]
            r[row, j] += cf * (ba * xb * xc + xa * bb * xc + xa * xb * bc + xa * xb * xc)


@nb.njit(cache=True, nogil=True)
def ll_chunk(E, P, G, ranks, beta, forcing, forced, per_step, seg_mat, seg_steps, qidx, qcoef,
             cidx, ccoef, rows, row_of, mean0, L0, state, x, y, r, z, out_mean, out_m2):
    """Sample ``δ_0 = mean0 + L0 Z``, then take ``seg_steps[s]`` steps before recording the
    chunk's moments of δ into ``out_mean[s]`` (d,) and ``out_m2[s]`` (d, d).

    ``qcoef`` (1, n_q) and ``ccoef`` (1, n_c) are the terms' coefficients, or one row per
    step (global step index) for terms with envelopes. ``rows`` (nr,) are the state rows
    with nonlinear terms, ``row_of`` (d,) their position in
    ``r`` (nr, n); ``forcing[k]`` (d,) is added to every trajectory when ``forced`` (a path
    that does not solve the truncated Wigner drift itself); ``x``, ``y`` (d, n) and ``z``
    (r_max, n) are caller-allocated work arrays.
    With no nonlinear terms the step is ``E δ + G Z`` with the bits of ``_affine(E, G)``: the
    exact OU kernel's, bit for bit.
    """
    d, n = x.shape
    nr = rows.shape[0]
    sample_initial(mean0, L0, state, z, x)
    step = 0
    for s in range(seg_steps.shape[0]):
        for _ in range(seg_steps[s]):
            k = step if per_step else seg_mat[s]
            rank = ranks[k]
            if nr > 0:
                kc = step if qcoef.shape[0] > 1 else 0  # per-step coefficients: envelopes
                _remainder(x, beta[k], qidx, qcoef[kc], cidx, ccoef[kc], row_of, r)
            fill_normals(z, rank, state)
            # y = E δ + G Z + P R (nr = 0: no P R terms; _affine's bits for E δ + G Z)
            _affine_ll(E[k], G[k], rank, x, z, P[k], rows, r, y)
            if forced:
                fk = forcing[k]
                for i in range(d):
                    c = fk[i]
                    for j in range(n):
                        y[i, j] += c
            x, y = y, x
            step += 1
        accumulate_moments(x, out_mean[s], out_m2[s])
