"""Throughput of the ensemble engine on the paper's 8-mode system, side by side with a
numpy-vectorised Euler–Maruyama baseline run in the same process.

    python scripts/bench_engine.py [--n-traj 16384] [--steps 3000]

Prints trajectory-steps per second for: numba EM (all cores), numba exact step, and the numpy
baseline (all trajectories as one array, ``X = X @ F.T + Z @ G.T`` per step).
"""

import argparse
import os
import time

import numpy as np

from langevin_sim.backends import LocalBackend
from langevin_sim.engine import simulate
from langevin_sim.integrators import get_integrator
from langevin_sim.models.cascade import build_system


def numpy_em(system, dt, n_traj, steps, seed=0):
    f, g = get_integrator("em").transition(system, dt)
    ft, gt = f.T.copy(), g.T.copy()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_traj, system.dim))
    for _ in range(steps):
        z = rng.standard_normal((n_traj, g.shape[1]))
        x = x @ ft + z @ gt
    return x


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-traj", type=int, default=16384)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--baseline-steps", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    system = build_system()
    dt = 0.002
    n, steps = args.n_traj, args.steps
    threads = LocalBackend().n_threads
    print(f"paper's 8-mode system, dt = {dt}/ω_b, {n} trajectories, {threads} threads "
          f"(os.cpu_count() = {os.cpu_count()})")
    times = np.array([0.0, steps * dt])
    for method in ("em", "exact"):
        run = lambda m=method: simulate(system, times, method=m, dt=dt, n_traj=n, seed=1)  # noqa
        simulate(system, [0.0, 10 * dt], method=method, dt=dt, n_traj=64, seed=0)  # compile
        t = best_of(run, args.repeat)
        rate = n * steps / t
        print(f"  numba {method:<6}: {rate / 1e6:8.1f} M trajectory-steps/s  ({t:.3f} s for "
              f"{n * steps:.3g})")
        if method == "em":
            em_rate = rate
    tb = best_of(lambda: numpy_em(system, dt, n, args.baseline_steps), args.repeat)
    base = n * args.baseline_steps / tb
    print(f"  numpy EM baseline: {base / 1e6:5.1f} M trajectory-steps/s  ({tb:.3f} s for "
          f"{n * args.baseline_steps:.3g})")
    print(f"EM speed-up over the numpy baseline: {em_rate / base:.1f}x "
          f"(targets: EM >= 75 M/s, exact >= 65 M/s, >= 4x numpy)")


if __name__ == "__main__":
    main()
