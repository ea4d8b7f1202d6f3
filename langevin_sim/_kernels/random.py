"""Standard normal deviates for the ensemble kernels, drawn in bulk by SIMD instructions.

Drawing normals is most of the work of a step (six to eight per trajectory-step against a few
dozen multiply-adds), so the generator is written for the vector units:

* **Bits**: ``LANES`` independent xoshiro256++ generators (Blackman & Vigna 2019: period
  2²⁵⁶ − 1, passes BigCrush) held in structure-of-arrays form, ``state[w, lane]`` the state word
  ``w`` of lane ``lane``. One pass of the inner loop advances every lane by two outputs; that loop
  has no branch and no call, so LLVM turns it into vector code (eight lanes per AVX-512
  instruction, four with AVX2; ``vprolq``, ``vpternlogq``, ``vcvtqq2pd``, ``vfmadd``, ``vdivpd``,
  ``vsqrtpd`` on ``zmm`` registers, checked with ``fill_normals.inspect_asm()``).
* **Normals**: the Box–Muller transform ``(Z₁, Z₂) = √(−2 ln U) (cos Θ, sin Θ)``, exact for
  ``U`` uniform on (0, 1] and ``Θ`` uniform on the circle, computed branch-free so that it
  vectorises too: ``ln`` and ``sin`` are fdlibm's minimax polynomials on their reduced ranges
  in Horner form with fused multiply-adds (``llvm.fma``: the same bits on every machine), not
  calls to libm, which would stop the vectoriser; ``cos = √(1 − sin²)`` goes to the
  divide/square-root unit, which the rest leaves idle. ``U = 1 − m 2⁻⁵²`` from the top 52 bits
  ``m`` of one output (so ``|Z| ≤ 8.49``: the normal's mass beyond is 2e-17). The angle takes
  the top 52 bits of a second output for ``ψ`` uniform on [−π/4, π/4) and the lowest bit of
  each output for two signs: ``(±cos(ψ + π/4), ±sin(ψ + π/4))`` with independent random
  signs is uniform on the circle, which needs no quadrant tables or selects, and
  ``√2 cos(ψ + π/4) = cos ψ − sin ψ``. The radius is within 1 ulp, the angle's cosine and
  sine within 2 ulp of 1, of the same transform evaluated with libm (``tests/test_random.py``).
  Uniforms and exponents come from IEEE bit patterns (``1 + m 2⁻⁵²`` has the bits
  ``0x3FF… | m``), not int64 → float64 conversions, which AVX2 lacks as vector instructions.
* **Cost** (``scripts/bench_rng.py``): about 0.55 ns per normal on one core of the AVX-512
  development machine, 3.5× the legacy ziggurat below. The loop's body is some 66 vector
  arithmetic instructions per eight pairs (xoshiro: ``vpaddq``, ``vpxorq``, ``vprolq``,
  ``vpsllq``; transform: 15 ``vfmadd``, 2 ``vsqrtpd``, 1 ``vdivpd``) plus the lanes' state
  loads and stores, and it is bound by the vector pipes' throughput. Restricted to AVX2
  (``NUMBA_CPU_NAME=haswell`` and matching ``NUMBA_CPU_FEATURES``) it vectorises on ``ymm``
  registers, draws the same bits, and takes about 1.2 ns.

Layout: ``fill_normals`` fills ``z[:rows]`` as one flat run of ``rows × n`` values in blocks
of ``2 × LANES``: lane ``l`` writes ``Z₁`` at ``l`` and ``Z₂`` at ``LANES + l`` of its block; a
final partial block is computed whole and only its first values stored. The result is a
function of the state alone, so a chunk gives the same numbers on any thread or worker.

Seeding: :func:`seed_state` fills the ``4 × LANES`` state words from the chunk's
``SeedSequence`` (its hash of the entropy and spawn key), so lanes and chunks start at
independent, effectively random points of the one 2²⁵⁶-period sequence: the chance that any
two of N streams of L draws overlap is below N² L / 2²⁵⁶, 1e-44 for 10⁹ streams of 10¹⁵.

The previous generator (one xoshiro256++ stream, Marsaglia–Tsang ziggurat, one draw at a time)
is kept as :func:`seed_state_legacy` / :func:`fill_normals_legacy` for
``scripts/bench_rng.py``, which compares the two side by side; no kernel uses it.
"""

import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 32
"""Independent xoshiro256++ generators drawn side by side (a multiple of any vector width)."""


def seed_state(seed: np.random.SeedSequence) -> np.ndarray:
    """The generator state of a chunk, from its ``SeedSequence``.

    Returns
    -------
    ndarray of uint64, shape (4, LANES)
        Column ``l`` is the 256-bit xoshiro256++ state of lane ``l``.
    """
    state = seed.generate_state(4 * LANES, np.uint64).reshape(4, LANES)
    state[0, ~state.any(axis=0)] = 1  # the one forbidden state (probability 2**-256 per lane)
    return state


@intrinsic
def _as_double(typingctx, bits):
    """The float64 whose IEEE bits are ``bits`` (no instruction: a register reinterpretation)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.uint64), codegen


@intrinsic
def _as_bits(typingctx, x):
    """The IEEE bits of the float64 ``x``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """``a b + c`` rounded once (``llvm.fma``: a vector FMA where the machine has one)."""
    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(d, [d, d, d]),
                                            "llvm.fma.f64")
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


# fdlibm e_log.c: ln(1 + f) = 2 atanh(s), s = f / (2 + f), |s| < 0.1716, minimax in s²
_LN2 = 6.93147180559945286227e-01
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
# fdlibm k_sin.c on [-π/4, π/4]
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_HALF_PI = 0.5 * math.pi
_ONE = 0x3FF0000000000000  # the bits of 1.0: with 52 random mantissa bits, uniform on [1, 2)
_TWO52 = 0x4330000000000000  # the bits of 2**52: with an integer below 2**52 in the mantissa


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


@nb.njit(inline="always")
def _radius(bits):
    """``√(−ln U)``, ``U = 1 − (bits >> 12) 2⁻⁵²`` in (0, 1] (the Box–Muller radius over √2)."""
    # U and the exponent below by IEEE bit patterns, not int64 -> float64 conversions, which
    # AVX2 lacks as vector instructions
    u = 2.0 - _as_double((bits >> nb.uint64(12)) | nb.uint64(_ONE))  # exact
    # u = 2**k (1 + f), 1 + f in [√2/2, √2): exponent and mantissa from the bits (fdlibm)
    ix = _as_bits(u) + nb.uint64(_ONE - 0x3FE6A09E00000000)
    k = _as_double((ix >> nb.uint64(52)) | nb.uint64(_TWO52)) - (2.0**52 + 1023.0)  # exact
    f = _as_double((ix & nb.uint64(0x000FFFFFFFFFFFFF)) + nb.uint64(0x3FE6A09E00000000)) - 1.0
    s = f / (2.0 + f)  # ln(1 + f) = 2 atanh(s) = 2 s + s z P(z), z = s**2
    z = s * s
    p = _fma(z, _LG7, _LG6)
    p = _fma(z, p, _LG5)
    p = _fma(z, p, _LG4)
    p = _fma(z, p, _LG3)
    p = _fma(z, p, _LG2)
    p = _fma(z, p, _LG1)
    log_u = _fma(k, _LN2, _fma(s * z, p, s + s))
    return math.sqrt(-log_u)


@nb.njit(inline="always")
def _circle(bits, sign_bits):
    """``√2 (cos Θ, sin Θ)`` for ``Θ`` uniform on the circle: the angle from bits 12-63 of
    ``bits``, the signs from bit 0 of ``bits`` and of ``sign_bits``."""
    x = (_as_double((bits >> nb.uint64(12)) | nb.uint64(_ONE)) - 1.5) * _HALF_PI  # [-π/4, π/4)
    z = x * x
    p = _fma(z, _S6, _S5)
    p = _fma(z, p, _S4)
    p = _fma(z, p, _S3)
    p = _fma(z, p, _S2)
    p = _fma(z, p, _S1)
    s = _fma(z * x, p, x)
    # cos x from sin x: one sqrt on the divide/sqrt unit, which the rest leaves idle, instead
    # of a second polynomial on the busy FMA pipes (1 - s**2 >= 1/2: no cancellation)
    c = math.sqrt(_fma(-s, s, 1.0))
    # rotate by π/4 (√2 cos(x + π/4) = c - s, √2 sin(x + π/4) = c + s), then random signs:
    # (±cos φ, ±sin φ) with φ uniform on a quarter circle is uniform on the circle
    a = _as_double(_as_bits(c - s) ^ (bits << nb.uint64(63)))
    b = _as_double(_as_bits(c + s) ^ (sign_bits << nb.uint64(63)))
    return a, b


@nb.njit(cache=True, nogil=True, error_model="numpy")
def fill_normals(z, rows, state):
    """Fill ``z[:rows, :]`` with independent standard normals; advance ``state`` in place.

    Parameters
    ----------
    z : ndarray of float64, shape (r, n), C-contiguous
        Output; rows ``rows:`` are not touched.
    rows : int
        Rows to fill (``0 <= rows <= r``).
    state : ndarray of uint64, shape (4, LANES), C-contiguous
        From :func:`seed_state`.
    """
    n = z.shape[1]
    m = rows * n
    flat = z[:rows].reshape(m)
    st = state.reshape(4 * LANES)  # one flat array: lane rows at constant offsets (vectorises)
    block = 2 * LANES
    full = m // block
    for b in range(full):
        base = b * block
        for lane in range(LANES):  # the vectorised loop
            s0, s1, s2, s3 = st[lane], st[LANES + lane], st[2 * LANES + lane], st[3 * LANES + lane]
            r1, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
            r2, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
            st[lane] = s0
            st[LANES + lane] = s1
            st[2 * LANES + lane] = s2
            st[3 * LANES + lane] = s3
            rho = _radius(r1)
            c, s = _circle(r2, r1)
            flat[base + lane] = rho * c
            flat[base + LANES + lane] = rho * s
    base = full * block
    if base < m:  # the last, partial block: every lane drawn, the values needed stored
        for lane in range(LANES):
            s0, s1, s2, s3 = st[lane], st[LANES + lane], st[2 * LANES + lane], st[3 * LANES + lane]
            r1, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
            r2, s0, s1, s2, s3 = _next(s0, s1, s2, s3)
            st[lane] = s0
            st[LANES + lane] = s1
            st[2 * LANES + lane] = s2
            st[3 * LANES + lane] = s3
            rho = _radius(r1)
            c, s = _circle(r2, r1)
            if base + lane < m:
                flat[base + lane] = rho * c
            if base + LANES + lane < m:
                flat[base + LANES + lane] = rho * s


# ---------------------------------------------------------------------------------------------
# the generator of versions <= 0.2, for scripts/bench_rng.py only: one xoshiro256++ stream and
# a Marsaglia–Tsang ziggurat (256 layers, the layout of numpy's random_standard_normal), one
# draw at a time (a 64-bit draw gives the layer, the sign and a 52-bit abscissa; about 99 % of
# draws are accepted by one comparison, the wedges use a second draw, the tail beyond R
# Marsaglia's exponential rejection)
R = 3.6541528853610088
"""Start of the legacy ziggurat's normal tail (its base strip)."""
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


def seed_state_legacy(seed: np.random.SeedSequence) -> np.ndarray:
    """The 4 × uint64 state of the legacy generator, from a ``SeedSequence``."""
    state = seed.generate_state(4, np.uint64)
    if not state.any():
        state[0] = 1
    return state


@nb.njit(cache=True, nogil=True)
def fill_normals_legacy(z, rows, state):
    """The legacy :func:`fill_normals` (``state`` from :func:`seed_state_legacy`)."""
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
