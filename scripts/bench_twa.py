"""Throughput of the truncated Wigner kernel (exponential Heun) on the full cascade
(`cascade-full`, 8 modes, radiation pressure and drive), side by side with a numpy-vectorised
implementation of the same scheme in the same run.

    python scripts/bench_twa.py [--n-traj 16384] [--steps 2000]
"""

import argparse
import time

import numpy as np

from langevin_sim import load_model
from langevin_sim.backends import LocalBackend
from langevin_sim.engine import scheme_maps, simulate_twa


def numpy_exp_heun(system, dt, n_traj, steps, seed=0):
    phi, g = scheme_maps(system, "exp-heun", dt)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((system.dim, n_traj))
    drive = system.drive_vector() + system.weyl_constant
    qi, qc = system.quadratic_index, system.quadratic_coef

    def nonlinear(y):
        out = np.repeat(drive[:, None], y.shape[1], axis=1)
        for (i, a, b), c in zip(qi, qc):
            out[i] += c * y[a] * y[b]
        return out

    for _ in range(steps):
        n1 = nonlinear(x)
        xi = g @ rng.standard_normal((g.shape[1], n_traj))
        fx, fn = phi @ x, phi @ n1
        xt = fx + dt * fn + xi
        x = fx + 0.5 * dt * (fn + nonlinear(xt)) + xi
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-traj", type=int, default=16384)
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    system = load_model("cascade-full").build()
    dt = 0.02
    times = np.array([0.0, args.steps * dt])
    simulate_twa(system, times / 10, method="exp-heun", dt=dt, n_traj=1024, seed=1)  # compile
    t0 = time.perf_counter()
    simulate_twa(system, times, method="exp-heun", dt=dt, n_traj=args.n_traj, seed=1,
                 backend=LocalBackend())
    kernel = args.n_traj * args.steps / (time.perf_counter() - t0)
    n_np, s_np = args.n_traj, max(20, args.steps // 20)
    t0 = time.perf_counter()
    numpy_exp_heun(system, dt, n_np, s_np)
    base = n_np * s_np / (time.perf_counter() - t0)
    print(f"exp-heun on cascade-full (8 modes), dt = {dt}, {args.n_traj} trajectories, 2 threads; "
          "2-core shared machine, times are noisy")
    print(f"  numba kernel   : {kernel / 1e6:6.1f} M trajectory-steps/s (target >= 30)")
    print(f"  numpy baseline : {base / 1e6:6.1f} M trajectory-steps/s")
    print(f"speed-up over numpy: {kernel / base:.1f}x (target >= 5x)")


if __name__ == "__main__":
    main()
