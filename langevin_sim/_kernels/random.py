"""Standard normal deviates for the ensemble kernels: xoshiro256++ bits, Marsaglia–Tsang
ziggurat (256 layers, the layout of numpy's ``random_standard_normal``).

Drawing normals is most of the work of a step (six to eight per trajectory-step). numpy's
``Generator`` reached from numba calls its bit generator through a function pointer for every
draw; this generator keeps its 256-bit state in registers and inlines into the step loop, which
draws about 1.4× faster on this machine (``scripts/bench_engine.py``). xoshiro256++ (Blackman &
Vigna 2019) passes BigCrush and has period 2²⁵⁶ − 1; each chunk seeds it from its own
``SeedSequence`` child, so chunks are independent streams and results stay reproducible.

Ziggurat: a 64-bit draw gives the layer (low 8 bits), the sign (1 bit) and a 52-bit abscissa;
about 99 % of draws are accepted by one comparison. The wedges use a second draw; the tail
beyond ``R`` uses Marsaglia's exponential rejection.
"""

import math

import numba as nb
import numpy as np

R = 3.6541528853610088
"""Start of the normal tail: the base strip of the 256-layer ziggurat."""
_AREA = 0.00492867323399  # area of each layer
_M52 = 2.0**52


def _tables():
    """``(k, w, f)``: acceptance bounds (52-bit integers), widths per unit abscissa, densities."""
    dn = tn = R
    q = _AREA / math.exp(-0.5 * dn * dn)
    k = np.zeros(256, np.uint64)
    w = np.zeros(256)
    f = np.zeros(256)
    k[0] = np.uint64((dn / q) * _M52)
    w[0], w[255] = q / _M52, dn / _M52
    f[0], f[255] = 1.0, math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(_AREA / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1] = np.uint64((dn / tn) * _M52)
        tn = dn
        f[i] = math.exp(-0.5 * dn * dn)
        w[i] = dn / _M52
    return k, w, f


_K, _W, _F = _tables()
_U53 = 1.0 / 9007199254740992.0  # 2**-53


def seed_state(seed: np.random.SeedSequence) -> np.ndarray:
    """The 4 × uint64 xoshiro256++ state of a chunk, from its ``SeedSequence``."""
    state = seed.generate_state(4, np.uint64)
    if not state.any():  # the one forbidden state (probability 2**-256)
        state[0] = 1
    return state


@nb.njit(inline="always")
def _rotl(x, k):
    return (x << nb.uint64(k)) | (x >> nb.uint64(64 - k))


@nb.njit(inline="always")
def _next(s0, s1, s2, s3):
    """One xoshiro256++ output and the advanced state."""
    out = _rotl(s0 + s3, 23) + s0
    t = s1 << nb.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return out, s0, s1, s2, s3


@nb.njit(cache=True, nogil=True)
def fill_normals(z, rows, state):
    """Fill ``z[:rows, :]`` with standard normals, row by row; advance ``state`` in place."""
    k_tab, w_tab, f_tab = _K, _W, _F
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    n = z.shape[1]
    for k in range(rows):
        for j in range(n):
            while True:
                r, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                idx = r & nb.uint64(0xFF)
                r >>= nb.uint64(8)
                negative = (r & nb.uint64(1)) != 0
                rabs = (r >> nb.uint64(1)) & nb.uint64(0x000FFFFFFFFFFFFF)
                x = rabs * w_tab[idx]
                if negative:
                    x = -x
                if rabs < k_tab[idx]:
                    break  # inside the layer's rectangle: ~99 % of draws
                if idx == 0:  # the tail |x| > R
                    while True:
                        r, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                        xx = -math.log1p(-((r >> nb.uint64(11)) * _U53)) / R
                        r, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                        yy = -math.log1p(-((r >> nb.uint64(11)) * _U53))
                        if yy + yy > xx * xx:
                            break
                    x = -(R + xx) if negative else R + xx
                    break
                r, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
                u = (r >> nb.uint64(11)) * _U53
                if (f_tab[idx - 1] - f_tab[idx]) * u + f_tab[idx] < math.exp(-0.5 * x * x):
                    break  # inside the wedge under the density
            z[k, j] = x
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
