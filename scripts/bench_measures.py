"""Speed of the six measures of one 4×4 covariance (target: about 1 ms or less).

    python scripts/bench_measures.py
"""

import argparse
import time

import numpy as np

from langevin_sim.gaussian import steady_state
from langevin_sim.measures import (
    duan_product,
    gaussian_steerability,
    log_negativity,
    reid_steering,
    two_mode_measures,
)
from langevin_sim.models.cascade import build_system


def per_call(fn, arg, n):
    fn(arg)
    t0 = time.perf_counter()
    for _ in range(n):
        fn(arg)
    return (time.perf_counter() - t0) / n


def main():
    system = build_system()
    s = steady_state(system)[4:8, 4:8]
    n = 2000
    print("per call, steady (b, m) covariance at the paper's defaults:")
    for name, fn in (("log_negativity", log_negativity), ("duan_product", duan_product),
                     ("reid_steering", reid_steering),
                     ("gaussian_steerability", gaussian_steerability),
                     ("all six + physicality", two_mode_measures)):
        print(f"  {name:<24} {per_call(fn, s, n) * 1e3:7.3f} ms")
    print(f"(target for all six: about 1 ms or less; {np.__name__} {np.__version__})")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
