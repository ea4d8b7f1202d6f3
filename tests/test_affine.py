"""The ensemble kernels' affine step ``y = F x + G z (+ P[:, cols] r)`` against a plain loop.

``_affine`` groups up to four terms per pass over a row and computes two rows in one pass when
their non-zeros share columns; that regrouping must not change a single bit, since the tests of
the ``ll`` step (bit for bit against ``exact``, across threads and Dask) and the README's Monte
Carlo numbers rely on the per-element summation order ``0, + F[i, k] x[k] (k in order),
+ G[i, k] z[k] (k in order), + P[i, cols[m]] r[m] (m in order)``, exact zeros skipped. The
reference below is that order written out with numpy (one rounded multiply, then one rounded add,
per term), so equality is exact, not within a tolerance.
"""

import numpy as np
import pytest

from langevin_sim._kernels.propagate import _add_product, _affine, _affine_ll


def _reference(F, G, rank, x, z, P=None, cols=None, r=None, reverse=False):
    """The documented summation, term by term (``reverse``: the terms of each block in reverse
    order, the negative control)."""
    d, n = x.shape
    y = np.zeros((d, n))
    blocks = [(F, range(d), x, lambda k: k), (G, range(rank), z, lambda k: k)]
    if P is not None:
        blocks.append((P, range(cols.size), r, lambda m: cols[m]))
    for i in range(d):
        for M, ks, A, col in blocks:
            for k in (reversed(ks) if reverse else ks):
                c = M[i, col(k)]
                if c != 0.0:
                    y[i] = y[i] + c * A[k]
    return y


def _bits(a):
    return np.ascontiguousarray(a).view(np.int64)


def _case(seed, d, n, rank, density=0.6, nr=0, pair_rows=()):
    """Random matrices with exact zeros (``density`` the fraction of non-zeros) and states.

    ``pair_rows``: rows i whose zero pattern is copied to row i + 1 (pairs computed in one
    pass); G has one column more than ``rank`` and z one row more, which must be ignored.
    """
    rng = np.random.default_rng(seed)

    def sparse(rows, cols):
        m = rng.standard_normal((rows, cols)) * (rng.random((rows, cols)) < density)
        for i in pair_rows:
            if i + 1 < rows:
                m[i + 1] = rng.standard_normal(cols) * (m[i] != 0)
        return m

    F = sparse(d, d)
    G = sparse(d, rank + 1)
    x = rng.standard_normal((d, n))
    z = rng.standard_normal((rank + 1, n))
    if nr == 0:
        return F, G, x, z, None, None, None
    P = sparse(d, d)
    cols = np.sort(rng.choice(d, size=nr, replace=False)).astype(np.int64)
    r = rng.standard_normal((nr, n))
    return F, G, x, z, P, cols, r


SHAPES = [  # (d, n, rank): n not a multiple of a vector width, odd d, rank 0 (twa's F x)
    (1, 1, 0), (1, 7, 1), (2, 5, 2), (3, 37, 0), (5, 129, 3), (7, 1001, 7), (8, 1024, 6),
    (8, 513, 8), (13, 64, 4),
]


@pytest.mark.parametrize("density", [1.0, 0.6, 0.2])
@pytest.mark.parametrize("d, n, rank", SHAPES)
def test_affine_equals_the_plain_loop_bit_for_bit(d, n, rank, density):
    F, G, x, z, *_ = _case(d * 1000 + n + rank, d, n, rank, density, pair_rows=range(0, d, 3))
    y = np.full((d, n), np.nan)  # every element must be written, including all-zero rows
    _affine(F, G, rank, x, z, y)
    np.testing.assert_array_equal(_bits(y), _bits(_reference(F, G, rank, x, z)))


@pytest.mark.parametrize("density", [1.0, 0.5])
@pytest.mark.parametrize("d, n, rank, nr", [(1, 9, 1, 1), (3, 37, 2, 2), (8, 1000, 8, 3),
                                            (7, 65, 0, 7), (8, 512, 6, 1)])
def test_affine_ll_equals_the_plain_loop_bit_for_bit(d, n, rank, nr, density):
    F, G, x, z, P, cols, r = _case(7 * d + n + nr, d, n, rank, density, nr=nr,
                                   pair_rows=range(0, d, 2))
    y = np.full((d, n), np.nan)
    _affine_ll(F, G, rank, x, z, P, cols, r, y)
    np.testing.assert_array_equal(_bits(y), _bits(_reference(F, G, rank, x, z, P, cols, r)))


@pytest.mark.parametrize("d, n, rank", [(3, 37, 2), (8, 512, 8), (8, 100, 6)])
def test_affine_ll_without_remainder_rows_is_affine(d, n, rank):
    """The ll kernel's call for a linear model (no nonlinear rows: ``cols`` empty, ``P`` the
    propagator, as the plans pass it) gives ``_affine``'s bits."""
    F, G, x, z, *_ = _case(d * n + rank, d, n, rank, density=0.7, pair_rows=range(0, d, 2))
    y, y_ll = np.empty((d, n)), np.full((d, n), np.nan)
    _affine(F, G, rank, x, z, y)
    _affine_ll(F, G, rank, x, z, F, np.zeros(0, np.int64), np.empty((0, n)), y_ll)
    np.testing.assert_array_equal(_bits(y_ll), _bits(y))
    np.testing.assert_array_equal(_bits(y), _bits(_reference(F, G, rank, x, z)))


@pytest.mark.parametrize("density", [1.0, 0.4])
@pytest.mark.parametrize("d, n, rank", [(1, 3, 1), (5, 77, 5), (8, 512, 8), (9, 100, 0)])
def test_add_product_equals_the_plain_loop_bit_for_bit(d, n, rank, density):
    """``y += G z`` (the truncated Wigner kernel's noise): ``y[i] + G[i, 0] z[0] + ...``."""
    _, G, x, z, *_ = _case(d + n + rank, d, n, rank, density, pair_rows=range(0, d, 2))
    y = x.copy()
    _add_product(G, rank, z, y)
    ref = x.copy()
    for i in range(d):
        for k in range(rank):
            if G[i, k] != 0.0:
                ref[i] = ref[i] + G[i, k] * z[k]
    np.testing.assert_array_equal(_bits(y), _bits(ref))


def test_quadruples_pairs_and_single_rows_in_one_matrix():
    """Rows 0-3 dense (one pass for the four: the ll step's case), rows 4-5 sharing a sparse
    pattern (a pair: the exact step's case), rows 6-10 each alone (Euler-Maruyama's case): a
    zero row, a row with one term, rows whose patterns differ, the last row of an odd d."""
    d, n, rank = 11, 700, 6
    rng = np.random.default_rng(3)
    F, G, x, z, *_ = _case(3, d, n, rank, density=1.0)
    mask_f, mask_g = rng.random(d) < 0.5, rng.random(rank + 1) < 0.5
    mask_f[0] = mask_g[0] = True
    F[4:6] *= mask_f
    G[4:6] *= mask_g
    F[6:] *= rng.random((d - 6, d)) < 0.4
    G[6:] *= rng.random((d - 6, rank + 1)) < 0.4
    F[7], G[7] = 0.0, 0.0
    F[8], G[8] = 0.0, 0.0
    F[8, 2] = 0.5
    y = np.full((d, n), np.nan)
    _affine(F, G, rank, x, z, y)
    np.testing.assert_array_equal(_bits(y), _bits(_reference(F, G, rank, x, z)))
    assert np.all(y[7] == 0.0) and not np.signbit(y[7]).any()


def test_zeros_are_skipped_not_multiplied():
    """A zero coefficient does not touch its source: an infinite or NaN component of ``x`` or
    ``z`` whose column is zero leaves ``y`` finite, as the plain loop does (0 · inf is NaN);
    a single term -0.0 gives +0.0 (the sum starts from +0.0)."""
    d, n, rank = 4, 17, 2
    F, G, x, z, *_ = _case(11, d, n, rank, density=1.0)
    F[:, 1] = 0.0
    G[:, 0] = 0.0
    x[1, 3], z[0, 5] = np.inf, np.nan
    F[2, :], G[2, :] = 0.0, 0.0
    F[2, 0] = -1.0
    x[0, 4] = 0.0  # -1.0 * 0.0 = -0.0, and 0.0 + -0.0 = +0.0
    y = np.empty((d, n))
    _affine(F, G, rank, x, z, y)
    assert np.isfinite(y).all()
    assert y[2, 4] == 0.0 and not np.signbit(y[2, 4])
    np.testing.assert_array_equal(_bits(y), _bits(_reference(F, G, rank, x, z)))


def test_negative_control_another_order_changes_bits():
    """The comparison is sharp enough to see a reordering: the same terms summed in reverse
    order differ from ``_affine`` in the last bits of many elements."""
    d, n, rank = 8, 1024, 8
    F, G, x, z, *_ = _case(21, d, n, rank, density=1.0)
    y = np.empty((d, n))
    _affine(F, G, rank, x, z, y)
    rev = _reference(F, G, rank, x, z, reverse=True)
    assert np.allclose(y, rev, rtol=1e-12, atol=1e-12)
    assert np.count_nonzero(_bits(y) != _bits(rev)) > 0.1 * y.size
