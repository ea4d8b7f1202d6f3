"""Optimisations behind the Duan and Reid measures of a two-mode covariance.

The 4×4 matrix ``s`` is in *xpxp* order ``(x_A, p_A, x_B, p_B)``. Party A is the one
measured to infer party B ("b" and "m" in the paper, with A = b).
"""

import math

import numba as nb
import numpy as np

_GRID_M = 24   # coarse grid over θ_B before the pattern search
_GRID_A = 48   # coarse grid over θ_A (covers [0, 2π) for Duan)
_ANGLE_TOL = 1e-9
_GAIN_MIN = 1e-12
_GAIN_MAX = 1e12


@nb.njit(cache=True, inline="always")
def _quad_moments(s, ta, tb):
    """Variances and covariances of the rotated quadratures of A (angle ta) and B (tb)."""
    ca, sa = math.cos(ta), math.sin(ta)
    cb, sb = math.cos(tb), math.sin(tb)
    # x^θ = c x + s p, p^θ = -s x + c p
    vxa = ca * ca * s[0, 0] + 2 * ca * sa * s[0, 1] + sa * sa * s[1, 1]
    vpa = sa * sa * s[0, 0] - 2 * ca * sa * s[0, 1] + ca * ca * s[1, 1]
    vxb = cb * cb * s[2, 2] + 2 * cb * sb * s[2, 3] + sb * sb * s[3, 3]
    vpb = sb * sb * s[2, 2] - 2 * cb * sb * s[2, 3] + cb * cb * s[3, 3]
    # Cov(u_Bᵀ q_B, u_Aᵀ q_A) = u_Bᵀ C u_A with C = s[2:4, 0:2]
    cxx = cb * (ca * s[2, 0] + sa * s[2, 1]) + sb * (ca * s[3, 0] + sa * s[3, 1])
    cpp = -sb * (-sa * s[2, 0] + ca * s[2, 1]) + cb * (-sa * s[3, 0] + ca * s[3, 1])
    return vxa, vpa, vxb, vpb, cxx, cpp


@nb.njit(cache=True, inline="always")
def _argmin_gain(a, b, c, w):
    """argmin over u in [GAIN_MIN, GAIN_MAX] of (a + 2uc + u²b) / (1 + uw)².

    Its derivative is proportional to ``(c - w a) + u (b - c w)``, linear in ``u``: the
    minimiser is the root if that is an increasing crossing, else a boundary.
    """
    slope = b - c * w
    if slope > 0:
        u = (w * a - c) / slope
        if u < _GAIN_MIN:
            u = _GAIN_MIN
        elif u > _GAIN_MAX:
            u = _GAIN_MAX
        return u
    lo = (a + 2 * _GAIN_MIN * c + _GAIN_MIN * _GAIN_MIN * b) / (1 + _GAIN_MIN * w) ** 2
    hi = (a + 2 * _GAIN_MAX * c + _GAIN_MAX * _GAIN_MAX * b) / (1 + _GAIN_MAX * w) ** 2
    return _GAIN_MIN if lo <= hi else _GAIN_MAX


@nb.njit(cache=True, nogil=True)
def duan_with_gains(s, ta, tb):
    """min over f_x, f_y > 0 of 4 V(x_B + f_x x_A) V(p_B - f_y p_A) / (1 + f_x f_y)², at fixed
    angles; returns ``(minimum, f_x, f_y)``."""
    vxa, vpa, vxb, vpb, cxx, cpp = _quad_moments(s, ta, tb)
    # V(x_B + u x_A) = vxb + 2u cxx + u² vxa ; V(p_B - w p_A) = vpb - 2w cpp + w² vpa
    u = 1.0
    w = 1.0
    best = np.inf
    bu = u
    bw = w
    for _ in range(500):
        u = _argmin_gain(vxb, vxa, cxx, w)
        w = _argmin_gain(vpb, vpa, -cpp, u)
        val = 4 * (vxb + 2 * u * cxx + u * u * vxa) * (vpb - 2 * w * cpp + w * w * vpa) \
            / (1 + u * w) ** 2
        if val >= best * (1 - 1e-13):
            if val < best:
                best, bu, bw = val, u, w
            break
        best, bu, bw = val, u, w
    return best, bu, bw


@nb.njit(cache=True, nogil=True)
def _duan_at(s, ta, tb):
    """min over f_x, f_y > 0 of 4 V(x_B + f_x x_A) V(p_B - f_y p_A) / (1 + f_x f_y)²."""
    return duan_with_gains(s, ta, tb)[0]


@nb.njit(cache=True, nogil=True)
def _reid_at(s, ta, tb):
    """4 V_inf(x_B^tb | x_A^ta) V_inf(p_B^tb | p_A^ta) (party A steers party B)."""
    vxa, vpa, vxb, vpb, cxx, cpp = _quad_moments(s, ta, tb)
    return 4 * (vxb - cxx * cxx / vxa) * (vpb - cpp * cpp / vpa)


@nb.njit(cache=True, nogil=True)
def _objective(kind, s, ta, tb):
    if kind == 0:
        return _duan_at(s, ta, tb)
    return _reid_at(s, ta, tb)


@nb.njit(cache=True, nogil=True)
def minimize_over_angles(kind, s, period_a):
    """Minimise the Duan (kind 0) or Reid (kind 1) product over θ_A ∈ [0, period_a), θ_B ∈ [0, π).

    A coarse grid finds the basin; a compass (pattern) search refines it to ``_ANGLE_TOL``.
    Returns ``(minimum, θ_A, θ_B)``.
    """
    best = np.inf
    bta = 0.0
    btb = 0.0
    for i in range(_GRID_A):
        ta = period_a * i / _GRID_A
        for j in range(_GRID_M):
            tb = math.pi * j / _GRID_M
            v = _objective(kind, s, ta, tb)
            if v < best:
                best, bta, btb = v, ta, tb
    return _pattern_search(kind, s, period_a, best, bta, btb, math.pi / _GRID_M)


@nb.njit(cache=True, nogil=True)
def minimize_near(kind, s, period_a, ta, tb):
    """As :func:`minimize_over_angles`, but the compass search starts at ``(ta, tb)`` with the
    coarse grid's spacing as its first step instead of scanning the grid: for a matrix close
    to one whose minimiser is known (a leave-one-group-out replica of a jackknife, whose
    minimum moves by O(1/K) of the sample's)."""
    return _pattern_search(kind, s, period_a, _objective(kind, s, ta, tb), ta, tb,
                           math.pi / _GRID_M)


@nb.njit(cache=True, nogil=True)
def _pattern_search(kind, s, period_a, best, bta, btb, h):
    cta = bta
    ctb = btb
    while h > _ANGLE_TOL:
        moved = False
        for da in (-1.0, 0.0, 1.0):
            for db in (-1.0, 0.0, 1.0):
                if da == 0.0 and db == 0.0:
                    continue
                v = _objective(kind, s, bta + da * h, btb + db * h)
                if v < best:
                    best, cta, ctb = v, bta + da * h, btb + db * h
                    moved = True
        if moved:
            bta, btb = cta, ctb
        else:
            h *= 0.5
    return best, bta % period_a, btb % math.pi


@nb.njit(cache=True, nogil=True)
def _det2(s, i, j):
    return s[i, j] * s[i + 1, j + 1] - s[i, j + 1] * s[i + 1, j]


@nb.njit(cache=True, nogil=True)
def _det4(a):
    """Determinant of a 4×4 matrix by its 2×2 minors (Laplace expansion along rows 0–1): no
    LAPACK call and no work array per matrix inside the batched loop."""
    s0 = a[0, 0] * a[1, 1] - a[1, 0] * a[0, 1]
    s1 = a[0, 0] * a[1, 2] - a[1, 0] * a[0, 2]
    s2 = a[0, 0] * a[1, 3] - a[1, 0] * a[0, 3]
    s3 = a[0, 1] * a[1, 2] - a[1, 1] * a[0, 2]
    s4 = a[0, 1] * a[1, 3] - a[1, 1] * a[0, 3]
    s5 = a[0, 2] * a[1, 3] - a[1, 2] * a[0, 3]
    c5 = a[2, 2] * a[3, 3] - a[3, 2] * a[2, 3]
    c4 = a[2, 1] * a[3, 3] - a[3, 1] * a[2, 3]
    c3 = a[2, 1] * a[3, 2] - a[3, 1] * a[2, 2]
    c2 = a[2, 0] * a[3, 3] - a[3, 0] * a[2, 3]
    c1 = a[2, 0] * a[3, 2] - a[3, 0] * a[2, 2]
    c0 = a[2, 0] * a[3, 1] - a[3, 0] * a[2, 1]
    return s0 * c5 - s1 * c4 + s2 * c3 + s3 * c2 - s4 * c1 + s5 * c0


@nb.njit(cache=True, nogil=True)
def _log_negativity(s, clip):
    sig = _det2(s, 0, 0) + _det2(s, 2, 2) - 2 * _det2(s, 0, 2)
    disc = sig * sig - 4 * _det4(s)
    nu2 = 0.5 * (sig - math.sqrt(max(disc, 0.0)))
    if nu2 <= 0:
        return np.nan
    v = -math.log(2 * math.sqrt(nu2))
    return max(0.0, v) if clip else v


@nb.njit(cache=True, nogil=True)
def _steerability(s, clip):
    det_s = _det4(s)
    det_a = _det2(s, 0, 0)
    if det_s <= 0 or det_a <= 0:
        return np.nan
    v = 0.5 * math.log(det_a / (4 * det_s))
    return max(0.0, v) if clip else v


@nb.njit(cache=True)
def batch_measures(stack, which, clip):
    """The six measures ``[E_N, Duan, S_B|A, S_A|B, G_A→B, G_B→A]`` of each 4×4 covariance of
    ``stack`` (n, 4, 4), computed where ``which`` (6 booleans) asks (NaN elsewhere); E_N and G
    unclipped unless ``clip``. Parallel over the matrices."""
    n = stack.shape[0]
    angles = np.full((n, 3, 2), np.nan)
    return _batch(stack, which, clip, angles, False)


@nb.njit(cache=True)
def batch_measures_angles(stack, which, clip):
    """:func:`batch_measures`, and the minimising angles ``(θ_A, θ_B)`` of Duan, S_B|A and
    S_A|B, shape (n, 3, 2)."""
    n = stack.shape[0]
    angles = np.full((n, 3, 2), np.nan)
    out = _batch(stack, which, clip, angles, False)
    return out, angles


@nb.njit(cache=True)
def batch_measures_near(stack, which, clip, angles):
    """:func:`batch_measures` with the three angle minimisations started at ``angles``
    (n, 3, 2) (:func:`minimize_near`): the jackknife replicas of estimates whose minimisers
    :func:`batch_measures_angles` found."""
    return _batch(stack, which, clip, angles.copy(), True)


@nb.njit(cache=True, parallel=True)
def _batch(stack, which, clip, angles, near):
    n = stack.shape[0]
    out = np.full((n, 6), np.nan)
    perm = np.array([2, 3, 0, 1])
    for k in nb.prange(n):
        s = np.empty((4, 4))
        w = np.empty((4, 4))
        for i in range(4):
            for j in range(4):
                s[i, j] = 0.5 * (stack[k, i, j] + stack[k, j, i])
        for i in range(4):
            for j in range(4):
                w[i, j] = s[perm[i], perm[j]]
        ok = True
        for i in range(4):
            for j in range(4):
                if not math.isfinite(s[i, j]):
                    ok = False
        if not ok:
            continue
        if which[0]:
            out[k, 0] = _log_negativity(s, clip)
        for m in range(3):
            if not which[m + 1]:
                continue
            kind = 0 if m == 0 else 1
            period = 2 * math.pi if m == 0 else math.pi
            mat = w if m == 2 else s
            if near and math.isfinite(angles[k, m, 0]) and math.isfinite(angles[k, m, 1]):
                v, ta, tb = minimize_near(kind, mat, period, angles[k, m, 0], angles[k, m, 1])
            else:
                v, ta, tb = minimize_over_angles(kind, mat, period)
            out[k, m + 1] = v
            angles[k, m, 0] = ta
            angles[k, m, 1] = tb
        if which[4]:
            out[k, 4] = _steerability(s, clip)
        if which[5]:
            out[k, 5] = _steerability(w, clip)
    return out
