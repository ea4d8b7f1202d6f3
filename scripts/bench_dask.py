"""Scaling of the Dask backend on this machine: the same ensemble (same seed) on a
LocalCluster with 1 and with 2 worker processes, beside the local thread backend.

    python scripts/bench_dask.py [--n-traj 65536] [--steps 2000]

Cluster start-up is excluded (timed separately); each run is timed after a warm-up run on the
same cluster. Prints wall time, throughput and whether the numbers are bit-identical.
"""

import argparse
import time

import numpy as np

from langevin_sim.backends import DaskBackend, LocalBackend
from langevin_sim.engine import simulate
from langevin_sim.models.cascade import build_system


def timed(backend, system, times, n_traj, dt):
    simulate(system, times[:2], method="em", dt=dt, n_traj=2048, seed=0, backend=backend)
    t0 = time.perf_counter()
    r = simulate(system, times, method="em", dt=dt, n_traj=n_traj, seed=42, backend=backend)
    return time.perf_counter() - t0, r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-traj", type=int, default=65536)
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    system = build_system()
    dt = 0.002
    times = np.array([0.0, args.steps * dt / 2, args.steps * dt])
    work = args.n_traj * args.steps
    print(f"EM ensemble, {args.n_traj} trajectories x {args.steps} steps = {work:.3g} "
          f"trajectory-steps, chunks of 1024")
    rows = []
    for label, make in (("local, 2 threads", lambda: LocalBackend(2)),
                        ("dask LocalCluster, 1 worker", lambda: DaskBackend(n_workers=1)),
                        ("dask LocalCluster, 2 workers", lambda: DaskBackend(n_workers=2))):
        t0 = time.perf_counter()
        with make() as backend:
            start = time.perf_counter() - t0
            t, r = timed(backend, system, times, args.n_traj, dt)
        rows.append((label, t, r))
        print(f"  {label:<30} {t:6.2f} s  {work / t / 1e6:6.1f} M steps/s  "
              f"(start-up {start:.1f} s)")
    ref = rows[0][2]
    same = all(np.array_equal(r.covariance, ref.covariance) for _, _, r in rows)
    print(f"speed-up 1 -> 2 dask workers: {rows[1][1] / rows[2][1]:.2f}x; results "
          f"bit-identical across all three: {same}")


if __name__ == "__main__":
    main()
