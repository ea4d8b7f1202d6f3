"""Beyond linearisation (2): near the instability threshold, does the switch-on pass through
the unstable regime, for how long, and which linear ramp time avoids it?

    python scripts/switch_on_threshold.py [--deltas 0.3,0.2,0.1,0.05,0.02] [--ensemble]

For each target effective detuning Δ1 (cascade-full at the paper's point otherwise, g0 =
1.5e-5) it integrates the continuous reference of a sudden switch-on (to 300/ω_b) and prints
the range of Δ1(t) and the total time the instantaneous linearisation A(t) is unstable
(Re λ > 0, resolved to 0.05/ω_b); then the unstable time after linear ramps over
T = 1 ... 100/ω_b (each run to T + 300/ω_b), and the shortest T from which every longer ramp of
the grid is safe. With --ensemble it also runs the truncated Wigner ensemble of the sudden
switch-on at the smallest Δ1 (the default ll step) and reports its verdict against the
continuous reference.
"""

import argparse
import time

import numpy as np

from langevin_sim import load_model
from langevin_sim.analyses.switch_on import (
    FINE_STEP,
    reference,
    switch_on,
    unstable_time,
    with_ramp,
)


def passage(model, ramp, ramp_time, t_after=300.0):
    t_end = (ramp_time or 0.0) + t_after
    t = np.arange(0.0, t_end + FINE_STEP / 2, FINE_STEP)
    system = with_ramp(model.build(), ramp, ramp_time)
    ref = reference(system, t, rtol=1e-9)
    det = ref.effective_detunings[:, system.mode_index("a1")]
    return det.min(), det.max(), unstable_time(t, ref.max_real_eigenvalue)


RAMPS = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50, 70, 100)


def ramp_scan(model):
    """Unstable time after a linear ramp over each of RAMPS (1/ω_b), and the shortest ramp
    time from which every longer one on the grid is safe (the ringing a ramp leaves depends
    on T non-monotonically, so a bisection could stop on a lucky null)."""
    unstable = [passage(model, "linear", float(t))[2] for t in RAMPS]
    safe_from = float("nan")
    for t, u in zip(reversed(RAMPS), reversed(unstable)):
        if u > 0:
            break
        safe_from = float(t)
    return unstable, safe_from


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deltas", default="0.3,0.2,0.1,0.05,0.02")
    ap.add_argument("--ensemble", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    deltas = [float(v) for v in args.deltas.split(",")]
    print("cascade-full, g_ab = 0.5, g0 = 1.5e-5, sudden switch-on from the thermal state")
    print(f"{'target Δ1':>10} {'bare δ1':>8} {'min Δ1(t)':>10} {'max Δ1(t)':>10} "
          f"{'unstable time':>14} {'safe for T >=':>14}   unstable time after a linear ramp "
          f"over T = {', '.join(map(str, RAMPS))}")
    for d in deltas:
        model = load_model("cascade-full").replace(delta1=d)
        lo, hi, unst = passage(model, "sudden", None)
        scan, safe = ramp_scan(model)
        print(f"{d:10.3g} {model.as_dict()['delta1_bare']:8.4g} {lo:10.4f} {hi:10.4f} "
              f"{unst:14.3f} {safe:14.4g}   " + " ".join(f"{u:.3g}" for u in scan), flush=True)
    if args.ensemble:
        d = min(deltas)
        r = switch_on(load_model("cascade-full").replace(delta1=d), t_final=300.0,
                      n_traj=4096, seed=3)
        print(f"\nensemble, target Δ1 = {d:g}, sudden: unstable for {r.unstable_time:.3g}; "
              f"end state {r.limit_cycle.kind}; {r.check.summary()}")
    print(f"total {time.perf_counter() - t0:.0f} s (shared 2-core machine)")


if __name__ == "__main__":
    main()
