"""The SIMD normal generator against the legacy scalar ziggurat, side by side in one run.

    python scripts/bench_rng.py [--n-traj 16384] [--steps 3000] [--repeat 5] [--skip-command]

Rows (each a ratio of throughputs measured interleaved in this process, best of ``--repeat``;
the machine is shared, so absolute rates vary by tens of percent and only ratios are compared):

1. normals per second of ``fill_normals`` (one thread, a 6 × 1024 chunk-sized block per call);
2. the Euler–Maruyama kernel on the paper's 8-mode system (dt 0.002, ``--n-traj``
   trajectories, all threads), the whole ``ensemble.simulate`` call;
3. the exact Ornstein–Uhlenbeck kernel, same system and step;
4. the local-linearisation kernel on ``cascade-full`` (dt 0.1, the chunks of a prepared plan,
   its per-step matrices built once outside the timing);
5. the whole command ``langevin-sim simulate --method em --dt 0.01 --n-traj 20000
   --t-final 400`` (a fresh process, 8e8 trajectory-steps) against the numpy-vectorised EM
   baseline of ``scripts/bench_engine.py`` run in the same process (``X = X Fᵀ + Z Gᵀ``), the
   better of its runs with BLAS's default threads and with one (on a loaded machine BLAS's
   threads spin and the default can be ten times slower, which would flatter the ratio).

The legacy rows run the same kernels compiled here with the legacy generator
(``fill_normals_legacy``, ``seed_state_legacy``) in place of the production one, swapped into
the engine's modules for the duration of the measurement only; no production code chooses
between them. Both sides run today's affine step, so a ratio is the generator's gain alone:
against the kernel as it was before issue 24 (legacy generator and the plain affine loop) the
exact and ``ll`` steps gained more, by the factor of the ``affine step alone`` lines on their
share of a step.

The arithmetic limit
--------------------
A trajectory-step of the linear kernels is ``y = F x + G z`` with exact zeros of ``F`` and
``G`` skipped (``_kernels.propagate._affine``), so it costs ``n_fma = nnz(F) + nnz(G)``
multiply-adds per trajectory (32 for EM on the paper's system: ``F = I + AΔt`` has 24
non-zeros, ``G = √Δt B√N`` 8 in six noise columns; 112 for the exact step, whose ``e^{AΔt}``
and ``Q(Δt)^{1/2}`` are denser; printed below). Trajectories are the innermost, contiguous
dimension, so these multiply-adds vectorise fully. If normals were free and every load and
store hidden, a core would take ``n_fma / P`` seconds per trajectory-step, ``P`` its peak rate
of float64 multiply-adds, and ``c`` cores (the kernel's threads) reach

    limit = c · P / n_fma  trajectory-steps per second.

``P`` is measured here, not taken from a datasheet: an FMA-bound kernel (32 dependent
``llvm.fma`` per element of an L1-resident array, independent across elements, so the
vectoriser fills every FMA pipe) on one thread. The fraction of the limit reached is the
kernel's trajectory-steps per cpu-second (its throughput per core, which contention from other
processes on a shared machine does not deflate) over ``P / n_fma``. A second ceiling adds the
normals at the generator's measured cost ``t_z`` per normal (``rank`` of them per step):
``1 / (n_fma / P + rank · t_z)`` per core.

What the gap is. The step cannot use the FMA peak itself: every term is a rounded multiply,
then a rounded add (no fused multiply-add, no reordering), because each element must be the
plain loop's sum bit for bit (the ``ll`` tests compare with ``exact`` bit for bit, and seeded
results are documented). So a term costs two vector operations, not one. The rest is memory
traffic: a chunk's rows are 4–8 kB (512–1024 trajectories), so ``x``, ``z`` and ``y`` together
overflow the 48 kB L1 and the step streams them from L2. ``_affine`` therefore adds up to four
terms per pass over a row (one load and one store of ``y[i]`` per four terms; the plain loop
zeroed ``y[i]`` and loaded and stored it again for every term) and computes four (or two)
rows per pass when their non-zeros share columns, so that each load of ``x``, ``z`` or ``r``
serves four rows (the ``ll`` step's dense ``E``, ``G`` and ``P``: two quadruples of rows) or
two (the exact step's pairs); Euler–Maruyama's sparse rows go one by one. The lines ``affine
step alone`` time it against that plain loop on one thread at the chunk size, and the split
of a kernel step (per core) that follows. (Tiling the trajectories so that a tile stays in L1
did not pay here: each extra pass over a short tile costs about 10 ns of loop set-up and
branch misses, more than the L2 traffic it saves; eight terms per pass gained nothing.)
"""

import argparse
import os
import resource
import subprocess
import sys
import time
import types
from contextlib import contextmanager

import numba as nb
import numpy as np
from bench_engine import numpy_em  # the numpy EM baseline of the engine benchmark
from threadpoolctl import threadpool_limits

from langevin_sim import engine as twa
from langevin_sim import load_model
from langevin_sim._kernels import ll as ll_kernels
from langevin_sim._kernels import propagate
from langevin_sim._kernels import random as rng
from langevin_sim.backends import LocalBackend
from langevin_sim.engine import chunk_sizes, record_times, run_plan, simulate, thermal_state
from langevin_sim.integrators import get_integrator
from langevin_sim.models.cascade import build_system


# ---------------------------------------------------------------------------------------------
# the kernels compiled with the legacy generator
def _recompiled(func, overrides):
    """A fresh jitted copy of the kernel ``func`` whose globals ``overrides`` replaces."""
    py = func.py_func
    g = {**py.__globals__, **overrides}
    return nb.njit(nogil=True)(types.FunctionType(py.__code__, g, py.__name__, py.__defaults__,
                                                  py.__closure__))


def _legacy_kernels():
    """``{production function: its legacy counterpart}``: the generator's two functions and
    the ensemble kernel (``ll_chunk``: every linear method and the ``ll`` step) recompiled
    with the legacy ``fill_normals``."""
    over = {"fill_normals": rng.fill_normals_legacy}
    over["sample_initial"] = _recompiled(propagate.sample_initial, over)
    return {rng.seed_state: rng.seed_state_legacy,
            ll_kernels.ll_chunk: _recompiled(ll_kernels.ll_chunk, over)}


@contextmanager
def legacy_generator(swaps):
    """The engine runs the legacy generator inside the ``with`` block: every module of the
    package that holds a production function of ``swaps`` gets its legacy counterpart,
    wherever the engine's modules import them from."""
    saved = []
    for name, mod in list(sys.modules.items()):  # the kernels' own modules keep theirs
        if not name.startswith("langevin_sim") or name.startswith("langevin_sim._kernels"):
            continue
        for attr, value in list(vars(mod).items()):
            legacy = next((new for old, new in swaps.items() if value is old), None)
            if legacy is not None:
                saved.append((mod, attr, value))
                setattr(mod, attr, legacy)
    if not any(value is ll_kernels.ll_chunk for _, _, value in saved):
        raise RuntimeError("no engine module holds ll_chunk: the legacy rows would not differ")
    try:
        yield
    finally:
        for mod, attr, value in saved:
            setattr(mod, attr, value)


# ---------------------------------------------------------------------------------------------
@nb.njit(nogil=True, error_model="numpy")
def _fma_peak_kernel(a, out, reps):
    """32 dependent multiply-adds per element, elements independent (vectorised)."""
    for _ in range(reps):
        for j in range(a.shape[0]):
            x = a[j]
            y = x
            for _ in range(16):
                y = rng._fma(y, x, 0.5)
                y = rng._fma(y, x, -0.25)
            out[j] = y


def peak_fma_rate(repeat):
    """Measured float64 multiply-adds per second on one core (best of ``repeat``)."""
    a = np.random.default_rng(0).random(1024)
    out = np.empty_like(a)
    _fma_peak_kernel(a, out, 1)
    reps = 3000
    best = min(_timed(lambda: _fma_peak_kernel(a, out, reps))[1] for _ in range(repeat))
    return 32 * a.size * reps / best


@nb.njit(nogil=True)
def _affine_plain(F, G, rank, x, z, P, cols, r, y):
    """The affine step as a plain loop (the engine's before issue 24): ``y[i]`` zeroed, then
    loaded and stored once per non-zero term of ``F``, ``G[:, :rank]`` and ``P[:, cols]``."""
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
        for m in range(cols.shape[0]):
            p = P[i, cols[m]]
            if p != 0.0:
                for j in range(n):
                    y[i, j] += p * r[m, j]


@nb.njit(nogil=True)
def _affine_new(F, G, rank, x, z, P, cols, r, y):
    """The engine's affine step: ``_affine``, or ``_affine_ll`` with a third block."""
    if cols.shape[0] > 0:
        propagate._affine_ll(F, G, rank, x, z, P, cols, r, y)
    else:
        propagate._affine(F, G, rank, x, z, y)


@nb.njit(nogil=True)
def _affine_steps(affine, F, G, x, z, P, cols, r, y, steps):
    """``steps`` affine steps back and forth between ``x`` and ``y``."""
    for _ in range(steps // 2):
        affine(F, G, G.shape[1], x, z, P, cols, r, y)
        affine(F, G, G.shape[1], y, z, P, cols, r, x)


def affine_alone(f, g, n, repeat, p=None, cols=None):
    """Cpu seconds per trajectory-step of the engine's affine step and of the plain loop (one
    thread, one chunk of ``n`` trajectories, interleaved, best of ``repeat``), after checking
    that both give the same bits. ``p``, ``cols``: the ``ll`` step's ``P[:, cols] R`` block."""
    rng_ = np.random.default_rng(0)
    f, g = np.ascontiguousarray(f), np.ascontiguousarray(g)
    d = f.shape[0]
    p = np.zeros((d, d)) if p is None else np.ascontiguousarray(p)
    cols = np.zeros(0, np.int64) if cols is None else np.asarray(cols, np.int64)
    x, z = rng_.standard_normal((d, n)), rng_.standard_normal((g.shape[1], n))
    r = rng_.standard_normal((cols.size, n))
    y, y_plain = np.empty_like(x), np.empty_like(x)
    _affine_new(f, g, g.shape[1], x, z, p, cols, r, y)
    _affine_plain(f, g, g.shape[1], x, z, p, cols, r, y_plain)
    if not np.array_equal(y.view(np.int64), y_plain.view(np.int64)):
        raise RuntimeError("the affine step and the plain loop differ")
    steps = max(2, 2 * (4_000_000 // (2 * n)))
    best = {}
    for _ in range(repeat):
        for name, fn in (("plain", _affine_plain), ("new", _affine_new)):
            t = _timed(lambda fn=fn: _affine_steps(fn, f, g, x, z, p, cols, r, y, steps))[1]
            best[name] = min(best.get(name, np.inf), t / (steps * n))
    return best["new"], best["plain"]


def print_split(t_aff, t_plain, n, t_step, t_normals):
    """The affine step's cost against the plain loop's, and a kernel step's split (per core;
    from separate measurements, so ``the rest`` is approximate and may come out slightly
    negative on a noisy machine)."""
    print(f"    affine step alone (1 thread, chunk of {n}): {t_aff * 1e9:.2f} ns per "
          f"trajectory-step vs {t_plain * 1e9:.2f} for the plain loop ({t_plain / t_aff:.2f}x); "
          f"of the kernel's {t_step * 1e9:.2f} ns per cpu: normals {t_normals * 1e9:.2f}, "
          f"affine {t_aff * 1e9:.2f}, the rest {(t_step - t_normals - t_aff) * 1e9:.2f}")


def _timed(fn):
    """(wall, cpu) seconds of ``fn()``."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def side_by_side(run_new, run_legacy, repeat):
    """Best (wall, cpu) seconds of each, runs interleaved: ``{"new": (w, c), "legacy": ...}``."""
    best = {"new": [np.inf, np.inf], "legacy": [np.inf, np.inf]}
    for _ in range(repeat):
        for name, fn in (("legacy", run_legacy), ("new", run_new)):
            w, c = _timed(fn)
            best[name] = [min(best[name][0], w), min(best[name][1], c)]
    return best


def report(label, work, best, target=None, unit="M trajectory-steps/s"):
    """Print a row; return the new generator's throughput per cpu-second.

    The verdict is given for both clocks: the cpu ratio is what contention from other
    processes on a shared machine does not deflate; the wall ratio is what a user waits for.
    """
    rn, rl = work / best["new"][0], work / best["legacy"][0]
    ratio_w = best["legacy"][0] / best["new"][0]
    ratio_c = best["legacy"][1] / best["new"][1]
    tgt = "" if target is None else \
        (f" (target >= {target}x: {'met' if ratio_c >= target else 'NOT met'} per cpu, "
         f"{'met' if ratio_w >= target else 'NOT met'} wall)")
    print(f"  {label:<34} new {rn / 1e6:8.1f}  legacy {rl / 1e6:8.1f} {unit}:  "
          f"{ratio_w:4.2f}x wall, {ratio_c:4.2f}x cpu{tgt}")
    return work / best["new"][1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-traj", type=int, default=16384)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-command", action="store_true", help="skip the whole-command row")
    args = ap.parse_args()
    n, steps, rep = args.n_traj, args.steps, args.repeat
    threads = LocalBackend().n_threads
    print(f"{os.cpu_count()} cores, {threads} kernel threads; shared machine: absolute rates "
          f"are noisy, ratios are measured side by side (best of {rep}, interleaved)")
    legacy = _legacy_kernels()

    # 1. normals per second, one thread
    z = np.empty((6, 1024))
    s_new = rng.seed_state(np.random.SeedSequence(1))
    s_old = rng.seed_state_legacy(np.random.SeedSequence(1))
    calls = 1000

    def loop(fill, state):
        for _ in range(calls):
            fill(z, 6, state)

    loop(rng.fill_normals, s_new), loop(rng.fill_normals_legacy, s_old)
    best = side_by_side(lambda: loop(rng.fill_normals, s_new),
                        lambda: loop(rng.fill_normals_legacy, s_old), rep)
    report("normals (fill_normals, 1 thread)", z.size * calls, best, 3, "M normals/s")
    t_z = best["new"][1] / (z.size * calls)  # cpu seconds per normal (one thread)
    t_z_legacy = best["legacy"][1] / (z.size * calls)
    print(f"    {t_z * 1e9:.2f} ns per normal (legacy {t_z_legacy * 1e9:.2f}), cpu time")

    # 2.-3. the linear kernels on the paper's system
    system = build_system()
    dt = 0.002
    peak = peak_fma_rate(rep)
    print(f"  peak float64 FMA rate (measured, 1 core): {peak / 1e9:.1f} G/s")
    times = np.array([0.0, steps * dt])
    for method, target in (("em", 2), ("exact", 1.8)):
        def run(m=method):
            simulate(system, times, method=m, dt=dt, n_traj=n, seed=1)

        run_small = lambda m=method: simulate(system, [0.0, 10 * dt], method=m, dt=dt,  # noqa
                                              n_traj=64, seed=0)
        run_small()
        with legacy_generator(legacy):
            run_small()

        def run_legacy():
            with legacy_generator(legacy):
                run()

        best = side_by_side(run, run_legacy, rep)
        per_cpu = report(f"{method} kernel (8 modes, dt {dt})", n * steps, best, target)
        f, g = get_integrator(method).transition(system, dt)
        n_fma = np.count_nonzero(f) + np.count_nonzero(g)
        rank = g.shape[1]
        limit = peak / n_fma  # per core
        with_z = 1.0 / (n_fma / peak + rank * t_z)
        print(f"    {n_fma} FMAs and {rank} normals per trajectory-step; per core: arithmetic "
              f"limit {limit / 1e6:.0f} M/s, reached {per_cpu / 1e6:.0f} M per cpu-second = "
              f"{per_cpu / limit:.1%}; with the normals at {t_z * 1e9:.2f} ns: "
              f"{with_z / 1e6:.0f} M/s -> {per_cpu / with_z:.1%}")
        t_aff, t_plain = affine_alone(f, g, chunk_sizes(n)[0], rep)
        print_split(t_aff, t_plain, chunk_sizes(n)[0], 1.0 / per_cpu, rank * t_z)

    # 4. local linearisation on cascade-full (the chunks of a prepared plan)
    full = load_model("cascade-full").build()
    dt_ll = 0.1
    t_ll = np.array([0.0, steps * dt_ll])
    plan = twa.ll_plan(full, t_ll, dt_ll, np.zeros(full.dim), thermal_state(full))
    sizes = chunk_sizes(n)

    def run_ll():
        run_plan(plan, sizes, 1, t_ll, method="ll", dt=dt_ll, mode_labels=full.mode_labels,
                 metadata={})

    def run_ll_legacy():
        with legacy_generator(legacy):
            run_ll()

    small = twa.ll_plan(full, t_ll[:2] / steps, dt_ll, np.zeros(full.dim), thermal_state(full))
    for fn in (lambda: small.run(64, np.random.SeedSequence(0)),):
        fn()
        with legacy_generator(legacy):
            fn()
    best = side_by_side(run_ll, run_ll_legacy, rep)
    per_cpu = report(f"ll kernel (cascade-full, dt {dt_ll})", n * steps, best, 1.8)
    mats = plan.matrices  # the first step's (the path's matrices vary little along it)
    rank0 = mats.ranks[0]
    t_aff, t_plain = affine_alone(mats.propagator[0], mats.noise[0][:, :rank0], sizes[0], rep,
                                  mats.phi1[0], plan.rows)
    print_split(t_aff, t_plain, sizes[0], 1.0 / per_cpu, rank0 * t_z)

    # 5. the whole command against the numpy EM baseline
    if args.skip_command:
        return
    n_cmd, t_final, dt_cmd = 20000, 400.0, 0.01
    work = n_cmd * round(t_final / dt_cmd)
    cmd = [sys.executable, "-m", "langevin_sim", "simulate", "--method", "em", "--dt",
           str(dt_cmd), "--n-traj", str(n_cmd), "--t-final", str(t_final), "--no-progress"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as pip has it
    subprocess.run(cmd[:4] + ["--t-final", "1", "--n-traj", "64", "--no-progress"], check=True,
                   env=env, stdout=subprocess.DEVNULL)  # bytecode and compiled kernels cached
    whole = [np.inf, np.inf]
    kernel = [np.inf, np.inf]
    base, base_steps = [0.0, 0.0], 200
    em_times = record_times(t_final, 1.0, get_integrator("em"), dt_cmd)

    def command():
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        w = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        w = time.perf_counter() - w
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return w, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    for _ in range(rep):  # interleaved, best of each
        whole = np.minimum(whole, command())
        kernel = np.minimum(kernel, _timed(lambda: simulate(
            system, em_times, method="em", dt=dt_cmd, n_traj=n_cmd, seed=2024,
            initial="thermal")))
        for blas_threads in (None, 1):  # the better of BLAS's own threads and one
            with threadpool_limits(limits=blas_threads, user_api="blas"):
                t = _timed(lambda: numpy_em(system, dt_cmd, n_cmd, base_steps))
            base = np.maximum(base, n_cmd * base_steps / np.array(t))
    for i, clock in enumerate(("wall", "cpu")):
        r = work / whole[i]
        met = "met" if r / base[i] >= 12 else "NOT met"
        print(f"  whole `simulate` command (EM, 8e8 steps), {clock}: {whole[i]:.2f} s = "
              f"{r / 1e6:.1f} M steps/s, {kernel[i] / whole[i]:.1%} of the warm kernel's "
              f"{work / kernel[i] / 1e6:.1f}; numpy EM {base[i] / 1e6:.1f} M/s -> "
              f"{r / base[i]:.1f}x numpy (target >= 12x: {met})")


if __name__ == "__main__":
    main()
