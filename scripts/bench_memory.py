"""Peak memory of `langevin-sim simulate` against the ensemble size: a 1e4- and a
1e8-trajectory run of the same schedule, each in its own process.

    python scripts/bench_memory.py [--big 100000000]

Chunk moments are merged into at most 64 fixed groups as they arrive, so the result (and the
.npz) hold groups, not chunks: the peak should not grow with n_traj (target: big run within
1.3x of the small one).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time


def peak_rss_mb(n_traj: int, out: str) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "langevin_sim", "simulate", "--n-traj", str(n_traj),
           "--t-final", "1", "--no-progress", "--output", out]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with {proc.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=100_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for n in (args.small, args.big):
            path = os.path.join(tmp, f"run{n}.npz")
            rss, wall = peak_rss_mb(n, path)
            rows.append((n, rss, wall, os.path.getsize(path) / 1024))
    print("langevin-sim simulate --t-final 1 (exact step), peak resident memory of the process "
          "(2-core shared machine)")
    for n, rss, wall, size in rows:
        print(f"  n_traj = {n:>11,}: peak RSS {rss:7.1f} MB, .npz {size:7.1f} kB, {wall:6.1f} s")
    print(f"big / small peak RSS: {rows[1][1] / rows[0][1]:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
