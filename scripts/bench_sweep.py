"""A 101 × 101 map of all six measures over the Fig. 2(a) plane (κ1 = κ2, Δm), timed with
one worker and with every core in the same run (target: under 30 s on 2 cores).

    python scripts/bench_sweep.py [--resolution 101]
"""

import argparse
import time

import numpy as np

from langevin_sim.analyses.figures import FIGURES
from langevin_sim.analyses.sweep import sweep
from langevin_sim.backends import LocalBackend


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=int, default=101)
    args = ap.parse_args()
    plane = FIGURES["2"][0]
    grids = plane.grids(args.resolution)
    sweep(plane.params, {k: v[:3] for k, v in grids.items()})  # warm the compiled code
    n = args.resolution**2
    for workers in (1, LocalBackend().n_threads):
        t0 = time.perf_counter()
        res = sweep(plane.params, grids, backend=LocalBackend(workers))
        t = time.perf_counter() - t0
        print(f"{args.resolution}x{args.resolution} map, all six measures, {workers} worker(s): "
              f"{t:.1f} s ({t / n * 1e3:.2f} ms/point; {int(res.stable.sum())} stable, "
              f"min E_bm = {np.nanmin(res.values['E_bm']):.4f})")
    print("(target: under 30 s on 2 cores)")


if __name__ == "__main__":
    main()
