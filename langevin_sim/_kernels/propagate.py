"""The pieces every ensemble kernel shares: the affine step ``y = F x + G z`` (with the ``ll``
step's ``+ P R``: :func:`_affine_ll`; the noise alone, ``y += G z``: :func:`_add_product`), the
initial sample and the centred moments of a chunk.

State arrays are ``(d, n_traj)``: trajectories in the innermost, contiguous dimension, so the
inner loops vectorise. The kernels (:mod:`.ll`: every linear model and the ``ll`` step;
:mod:`.twa`: the baselines for a nonlinear drift) inline them.
"""

import numba as nb
import numpy as np

from .random import fill_normals


@nb.njit(cache=True, nogil=True)
def _pass1(first, m, y, i, A, c1, k1, c2, k2, c3, k3, c4, k4):
    """``y[i] = (0.0 if first else y[i]) + c1 A[k1] + ... + cm A[km]``, left to right, for
    ``m`` of 1 to 4 terms (the unused coefficients are ignored): one pass over the row
    loads and stores ``y[i]`` once for up to four multiply-adds."""
    n = y.shape[1]
    if first:
        if m == 1:
            for j in range(n):
                u = 0.0 + c1 * A[k1, j]
                y[i, j] = u
        elif m == 2:
            for j in range(n):
                u = 0.0 + c1 * A[k1, j]
                u = u + c2 * A[k2, j]
                y[i, j] = u
        elif m == 3:
            for j in range(n):
                u = 0.0 + c1 * A[k1, j]
                u = u + c2 * A[k2, j]
                u = u + c3 * A[k3, j]
                y[i, j] = u
        else:
            for j in range(n):
                u = 0.0 + c1 * A[k1, j]
                u = u + c2 * A[k2, j]
                u = u + c3 * A[k3, j]
                u = u + c4 * A[k4, j]
                y[i, j] = u
    else:
        if m == 1:
            for j in range(n):
                u = y[i, j] + c1 * A[k1, j]
                y[i, j] = u
        elif m == 2:
            for j in range(n):
                u = y[i, j] + c1 * A[k1, j]
                u = u + c2 * A[k2, j]
                y[i, j] = u
        elif m == 3:
            for j in range(n):
                u = y[i, j] + c1 * A[k1, j]
                u = u + c2 * A[k2, j]
                u = u + c3 * A[k3, j]
                y[i, j] = u
        else:
            for j in range(n):
                u = y[i, j] + c1 * A[k1, j]
                u = u + c2 * A[k2, j]
                u = u + c3 * A[k3, j]
                u = u + c4 * A[k4, j]
                y[i, j] = u


@nb.njit(cache=True, nogil=True)
def _pass2(first, m, y, i, A, c1, e1, k1, c2, e2, k2, c3, e3, k3, c4, e4, k4):
    """:func:`_pass1` for rows ``i`` (coefficients ``c``) and ``i + 1`` (``e``) at once:
    the two rows share each load of ``A``."""
    n = y.shape[1]
    if first:
        if m == 1:
            for j in range(n):
                a = A[k1, j]
                u = 0.0 + c1 * a
                v = 0.0 + e1 * a
                y[i, j] = u
                y[i + 1, j] = v
        elif m == 2:
            for j in range(n):
                a = A[k1, j]
                u = 0.0 + c1 * a
                v = 0.0 + e1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                y[i, j] = u
                y[i + 1, j] = v
        elif m == 3:
            for j in range(n):
                a = A[k1, j]
                u = 0.0 + c1 * a
                v = 0.0 + e1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                a = A[k3, j]
                u = u + c3 * a
                v = v + e3 * a
                y[i, j] = u
                y[i + 1, j] = v
        else:
            for j in range(n):
                a = A[k1, j]
                u = 0.0 + c1 * a
                v = 0.0 + e1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                a = A[k3, j]
                u = u + c3 * a
                v = v + e3 * a
                a = A[k4, j]
                u = u + c4 * a
                v = v + e4 * a
                y[i, j] = u
                y[i + 1, j] = v
    else:
        if m == 1:
            for j in range(n):
                a = A[k1, j]
                u = y[i, j] + c1 * a
                v = y[i + 1, j] + e1 * a
                y[i, j] = u
                y[i + 1, j] = v
        elif m == 2:
            for j in range(n):
                a = A[k1, j]
                u = y[i, j] + c1 * a
                v = y[i + 1, j] + e1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                y[i, j] = u
                y[i + 1, j] = v
        elif m == 3:
            for j in range(n):
                a = A[k1, j]
                u = y[i, j] + c1 * a
                v = y[i + 1, j] + e1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                a = A[k3, j]
                u = u + c3 * a
                v = v + e3 * a
                y[i, j] = u
                y[i + 1, j] = v
        else:
            for j in range(n):
                a = A[k1, j]
                u = y[i, j] + c1 * a
                v = y[i + 1, j] + e1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                a = A[k3, j]
                u = u + c3 * a
                v = v + e3 * a
                a = A[k4, j]
                u = u + c4 * a
                v = v + e4 * a
                y[i, j] = u
                y[i + 1, j] = v


@nb.njit(cache=True, nogil=True)
def _pass4(first, m, y, i, A, c1, e1, g1, h1, k1, c2, e2, g2, h2, k2, c3, e3, g3, h3, k3,
           c4, e4, g4, h4, k4):
    """:func:`_pass1` for rows ``i`` to ``i + 3`` (coefficients ``c``, ``e``, ``g``, ``h``) at
    once: the four rows share each load of ``A``."""
    n = y.shape[1]
    if first:
        if m == 1:
            for j in range(n):
                a = A[k1, j]
                u = 0.0 + c1 * a
                v = 0.0 + e1 * a
                w = 0.0 + g1 * a
                s = 0.0 + h1 * a
                y[i, j] = u
                y[i + 1, j] = v
                y[i + 2, j] = w
                y[i + 3, j] = s
        elif m == 2:
            for j in range(n):
                a = A[k1, j]
                u = 0.0 + c1 * a
                v = 0.0 + e1 * a
                w = 0.0 + g1 * a
                s = 0.0 + h1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                w = w + g2 * a
                s = s + h2 * a
                y[i, j] = u
                y[i + 1, j] = v
                y[i + 2, j] = w
                y[i + 3, j] = s
        elif m == 3:
            for j in range(n):
                a = A[k1, j]
                u = 0.0 + c1 * a
                v = 0.0 + e1 * a
                w = 0.0 + g1 * a
                s = 0.0 + h1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                w = w + g2 * a
                s = s + h2 * a
                a = A[k3, j]
                u = u + c3 * a
                v = v + e3 * a
                w = w + g3 * a
                s = s + h3 * a
                y[i, j] = u
                y[i + 1, j] = v
                y[i + 2, j] = w
                y[i + 3, j] = s
        else:
            for j in range(n):
                a = A[k1, j]
                u = 0.0 + c1 * a
                v = 0.0 + e1 * a
                w = 0.0 + g1 * a
                s = 0.0 + h1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                w = w + g2 * a
                s = s + h2 * a
                a = A[k3, j]
                u = u + c3 * a
                v = v + e3 * a
                w = w + g3 * a
                s = s + h3 * a
                a = A[k4, j]
                u = u + c4 * a
                v = v + e4 * a
                w = w + g4 * a
                s = s + h4 * a
                y[i, j] = u
                y[i + 1, j] = v
                y[i + 2, j] = w
                y[i + 3, j] = s
    else:
        if m == 1:
            for j in range(n):
                a = A[k1, j]
                u = y[i, j] + c1 * a
                v = y[i + 1, j] + e1 * a
                w = y[i + 2, j] + g1 * a
                s = y[i + 3, j] + h1 * a
                y[i, j] = u
                y[i + 1, j] = v
                y[i + 2, j] = w
                y[i + 3, j] = s
        elif m == 2:
            for j in range(n):
                a = A[k1, j]
                u = y[i, j] + c1 * a
                v = y[i + 1, j] + e1 * a
                w = y[i + 2, j] + g1 * a
                s = y[i + 3, j] + h1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                w = w + g2 * a
                s = s + h2 * a
                y[i, j] = u
                y[i + 1, j] = v
                y[i + 2, j] = w
                y[i + 3, j] = s
        elif m == 3:
            for j in range(n):
                a = A[k1, j]
                u = y[i, j] + c1 * a
                v = y[i + 1, j] + e1 * a
                w = y[i + 2, j] + g1 * a
                s = y[i + 3, j] + h1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                w = w + g2 * a
                s = s + h2 * a
                a = A[k3, j]
                u = u + c3 * a
                v = v + e3 * a
                w = w + g3 * a
                s = s + h3 * a
                y[i, j] = u
                y[i + 1, j] = v
                y[i + 2, j] = w
                y[i + 3, j] = s
        else:
            for j in range(n):
                a = A[k1, j]
                u = y[i, j] + c1 * a
                v = y[i + 1, j] + e1 * a
                w = y[i + 2, j] + g1 * a
                s = y[i + 3, j] + h1 * a
                a = A[k2, j]
                u = u + c2 * a
                v = v + e2 * a
                w = w + g2 * a
                s = s + h2 * a
                a = A[k3, j]
                u = u + c3 * a
                v = v + e3 * a
                w = w + g3 * a
                s = s + h3 * a
                a = A[k4, j]
                u = u + c4 * a
                v = v + e4 * a
                w = w + g4 * a
                s = s + h4 * a
                y[i, j] = u
                y[i + 1, j] = v
                y[i + 2, j] = w
                y[i + 3, j] = s


@nb.njit(cache=True, nogil=True)
def _coef(M, i, t, cols):
    """Coefficient ``t`` of row ``i`` of a block: ``M[i, t]``, or ``M[i, cols[t]]``."""
    return M[i, t] if cols is None else M[i, cols[t]]


@nb.njit(cache=True, nogil=True)
def _block1(first, y, i, A, M, nt, cols):
    """Add row ``i``'s non-zero terms ``_coef(M, i, t, cols) A[t]`` (``t < nt``, in order) to
    ``y[i]``, four per pass; return the new ``first`` (false once a term was added)."""
    m = np.int64(0)  # not a literal 0 (see _affine_ll)
    c1 = c2 = c3 = 0.0
    k1 = k2 = k3 = m
    for t in range(nt):
        c = _coef(M, i, t, cols)
        if c != 0.0:
            m += 1
            if m == 1:
                c1, k1 = c, t
            elif m == 2:
                c2, k2 = c, t
            elif m == 3:
                c3, k3 = c, t
            else:
                _pass1(first, m, y, i, A, c1, k1, c2, k2, c3, k3, c, t)
                first = False
                m = 0
    if m > 0:  # the last one to three terms (the fourth slot is ignored)
        _pass1(first, m, y, i, A, c1, k1, c2, k2, c3, k3, c3, k3)
        first = False
    return first


@nb.njit(cache=True, nogil=True)
def _block2(first, y, i, A, M, nt, cols):
    """:func:`_block1` for rows ``i`` and ``i + 1``, whose non-zeros are in the same columns."""
    m = np.int64(0)  # not a literal 0 (see _affine_ll)
    c1 = c2 = c3 = e1 = e2 = e3 = 0.0
    k1 = k2 = k3 = m
    for t in range(nt):
        c = _coef(M, i, t, cols)
        if c != 0.0:
            e = _coef(M, i + 1, t, cols)
            m += 1
            if m == 1:
                c1, e1, k1 = c, e, t
            elif m == 2:
                c2, e2, k2 = c, e, t
            elif m == 3:
                c3, e3, k3 = c, e, t
            else:
                _pass2(first, m, y, i, A, c1, e1, k1, c2, e2, k2, c3, e3, k3, c, e, t)
                first = False
                m = 0
    if m > 0:
        _pass2(first, m, y, i, A, c1, e1, k1, c2, e2, k2, c3, e3, k3, c3, e3, k3)
        first = False
    return first


@nb.njit(cache=True, nogil=True)
def _block4(first, y, i, A, M, nt, cols):
    """:func:`_block1` for rows ``i`` to ``i + 3``, whose non-zeros are in the same columns."""
    m = np.int64(0)  # not a literal 0 (see _affine_ll)
    c1 = e1 = g1 = h1 = 0.0
    c2 = e2 = g2 = h2 = 0.0
    c3 = e3 = g3 = h3 = 0.0
    k1 = k2 = k3 = m
    for t in range(nt):
        c = _coef(M, i, t, cols)
        if c != 0.0:
            e, g, h = (_coef(M, i + 1, t, cols), _coef(M, i + 2, t, cols),
                       _coef(M, i + 3, t, cols))
            m += 1
            if m == 1:
                c1, e1, g1, h1, k1 = c, e, g, h, t
            elif m == 2:
                c2, e2, g2, h2, k2 = c, e, g, h, t
            elif m == 3:
                c3, e3, g3, h3, k3 = c, e, g, h, t
            else:
                _pass4(first, m, y, i, A, c1, e1, g1, h1, k1, c2, e2, g2, h2, k2, c3, e3, g3, h3,
                       k3, c, e, g, h, t)
                first = False
                m = 0
    if m > 0:
        _pass4(first, m, y, i, A, c1, e1, g1, h1, k1, c2, e2, g2, h2, k2, c3, e3, g3, h3, k3,
               c3, e3, g3, h3, k3)
        first = False
    return first


@nb.njit(cache=True, nogil=True)
def _same_columns(M, i, nt, cols, rows):
    """Whether rows ``i + 1`` to ``i + rows - 1`` of a block have their non-zeros in the
    columns of row ``i``'s."""
    for q in range(i + 1, i + rows):
        for t in range(nt):
            if (_coef(M, i, t, cols) != 0.0) != (_coef(M, q, t, cols) != 0.0):
                return False
    return True


@nb.njit(cache=True, nogil=True)
def _zero_if(first, y, i):
    """A row without any non-zero term is 0."""
    if first:
        for j in range(y.shape[1]):
            y[i, j] = 0.0


@nb.njit(cache=True, nogil=True)
def _affine_ll(F, G, rank, x, z, P, cols, r, y):
    """``y = F x + G[:, :rank] z[:rank] + P[:, cols] r``: :func:`_affine` with a third block
    (``cols`` (nr,) int, ``r`` (nr, n)), summed after the first two, each ``P[i, cols[m]]`` in
    the order of ``m`` (the local-linearisation step's ``P_k R``; ``nr`` may be 0); ``P`` None:
    no third block. The ``ll`` kernel calls this directly (one wrapper less to compile).

    From row ``i`` on: four rows in one pass when they share their columns in every block,
    else two, else row ``i`` alone; then on from the next row not done.
    """
    d = x.shape[0]
    # Runtime values, not literals (a runtime True here, np.int64(0) for the row and term
    # indices): numba compiles a function once more for every literal argument, and each
    # extra copy of the passes costs seconds of compilation (not speed).
    new_row = d > 0
    i = np.int64(0)
    while i < d:
        quad = i + 4 <= d and _same_columns(F, i, d, None, 4) \
            and _same_columns(G, i, rank, None, 4)
        if P is not None:
            quad = quad and _same_columns(P, i, cols.shape[0], cols, 4)
        pair = False
        if not quad:
            pair = i + 2 <= d and _same_columns(F, i, d, None, 2) \
                and _same_columns(G, i, rank, None, 2)
            if P is not None:
                pair = pair and _same_columns(P, i, cols.shape[0], cols, 2)
        if quad:
            f = _block4(new_row, y, i, x, F, d, None)
            f = _block4(f, y, i, z, G, rank, None)
            if P is not None:
                f = _block4(f, y, i, r, P, cols.shape[0], cols)
            for q in range(i, i + 4):
                _zero_if(f, y, q)
            i += 4
        elif pair:
            f = _block2(new_row, y, i, x, F, d, None)
            f = _block2(f, y, i, z, G, rank, None)
            if P is not None:
                f = _block2(f, y, i, r, P, cols.shape[0], cols)
            _zero_if(f, y, i)
            _zero_if(f, y, i + 1)
            i += 2
        else:
            f = _block1(new_row, y, i, x, F, d, None)
            f = _block1(f, y, i, z, G, rank, None)
            if P is not None:
                f = _block1(f, y, i, r, P, cols.shape[0], cols)
            _zero_if(f, y, i)
            i += 1


@nb.njit(cache=True, nogil=True)
def _affine(F, G, rank, x, z, y):
    """``y = F x + G[:, :rank] z[:rank]`` for every trajectory (column).

    ``F`` (d, d), ``G`` (d, ≥ rank), ``x``, ``y`` (d, n), ``z`` (≥ rank, n); ``y`` must not
    share memory with ``x`` or ``z``. Each element is summed exactly as
    ``y = 0; y += F[i, k] x[k] (k in order); y += G[i, k] z[k] (k in order)`` with the exact
    zeros of ``F`` and ``G`` skipped (a plain loop's bits, whatever the grouping below).

    Memory traffic, not arithmetic, bounds this step (a chunk's rows are 4–8 kB, so ``x``, ``z``
    and ``y`` together overflow L1): each pass over a row therefore adds up to four terms in
    registers and stores ``y[i]`` once, and four (or two) consecutive rows whose non-zeros
    share their columns are computed in the same pass, sharing each load of ``x`` and ``z``
    (the ``ll`` step's dense propagators: two quadruples; the exact step's on the paper's
    system: pairs; Euler–Maruyama's sparse ``I + AΔt``: rows one by one). The pass functions
    are written out term by term so that each is one straight loop LLVM vectorises; the
    product of each term is rounded before it is added (no fused multiply-add), as in the
    plain loop. ``tests/test_affine.py`` checks the bits against that loop.
    """
    _affine_ll(F, G, rank, x, z, None, None, None, y)


@nb.njit(cache=True, nogil=True)
def _add_product(G, rank, z, y):
    """``y += G[:, :rank] z[:rank]``: each element summed as ``y += G[i, k] z[k]`` for ``k`` in
    order, exact zeros skipped (the plain loop's bits), grouped as in :func:`_affine`."""
    d = y.shape[0]
    add = d < 0  # a runtime False (see _affine_ll)
    i = np.int64(0)
    while i < d:
        if i + 4 <= d and _same_columns(G, i, rank, None, 4):
            _block4(add, y, i, z, G, rank, None)
            i += 4
        elif i + 2 <= d and _same_columns(G, i, rank, None, 2):
            _block2(add, y, i, z, G, rank, None)
            i += 2
        else:
            _block1(add, y, i, z, G, rank, None)
            i += 1


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
