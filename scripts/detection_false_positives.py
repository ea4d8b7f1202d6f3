"""False-positive rates of the detection certificates on the vacuum (probes decoupled: the
detected state sits exactly on every threshold), and the calibration of the witness SEs.

Run: python scripts/detection_false_positives.py [EXPERIMENTS] [RECORDS]
(defaults 400 experiments of 20000 records at C = 0.95; about 2 minutes on 2 cores)
"""

import argparse
import math
import time

import numpy as np

from langevin_sim.analyses.detect import (
    CRITERIA,
    certify,
    detection_model,
    estimate,
    homodyne_moments,
)


def main(experiments=400, records=20000, confidence=0.95):
    system = detection_model(g_probe=0.0).linear_system()
    t0 = time.perf_counter()
    w, se, hits = [], [], {c: 0 for c in CRITERIA}
    for k in range(experiments):
        e = estimate(homodyne_moments(system, records, seed=90000 + k))
        w.append(e.witness)
        se.append(e.witness_stderr)
        for c, v in certify(e, confidence).items():
            hits[c] += v["certified"]
    w, se = np.array(w), np.array(se)
    binom = math.sqrt(confidence * (1 - confidence) / experiments)
    print(f"{experiments} simulated experiments of {records} records on the vacuum, "
          f"certificates at C = {confidence} (expected false-positive rate at most "
          f"{1 - confidence:.3f} ± {binom:.3f})")
    print(f"{'criterion':<14}{'false positives':>16}{'rate':>8}{'witness mean':>14}"
          f"{'spread':>9}{'rms SE':>9}")
    for i, c in enumerate(CRITERIA):
        print(f"{c:<14}{hits[c]:>16}{hits[c] / experiments:>8.3f}{w[:, i].mean():>14.4f}"
              f"{w[:, i].std(ddof=1):>9.4f}{np.sqrt(np.mean(se[:, i] ** 2)):>9.4f}")
    print(f"total {time.perf_counter() - t0:.0f} s (shared 2-core machine: times are noisy)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", type=int, nargs="?", default=400)
    parser.add_argument("records", type=int, nargs="?", default=20000)
    args = parser.parse_args()
    main(args.experiments, args.records)
