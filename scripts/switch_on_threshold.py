"""Beyond linearisation (2): near the instability threshold, does the switch-on pass through
the unstable regime, for how long, and which linear ramp time avoids it?

    python scripts/switch_on_threshold.py [--deltas 0.3,0.2,0.1,0.05,0.02] [--ensemble]

For each target effective detuning Δ1 (cascade-full at the paper's point otherwise, g0 =
1.5e-5) it integrates the continuous reference of a sudden switch-on (to 300/ω_b) and prints
the range of Δ1(t) and the total time the instantaneous linearisation A(t) is unstable
(Re λ > 0, resolved to 0.05/ω_b); then it finds by bisection the shortest linear ramp time T
(to 1/ω_b) for which A(t) stays stable throughout (run to T + 300/ω_b). With --ensemble it also
runs the truncated Wigner ensemble of the sudden switch-on at the smallest Δ1 and reports its
verdict against the scheme's reference.
"""

import argparse
import time

import numpy as np

from langevin_sim import load_model
from langevin_sim.switch_on import FINE_STEP, reference, switch_on, unstable_time, with_ramp


def passage(model, ramp, ramp_time, t_after=300.0):
    t_end = (ramp_time or 0.0) + t_after
    t = np.arange(0.0, t_end + FINE_STEP / 2, FINE_STEP)
    system = with_ramp(model.build(), ramp, ramp_time)
    ref = reference(system, t, rtol=1e-9)
    det = ref.effective_detunings[:, system.mode_index("a1")]
    return det.min(), det.max(), unstable_time(t, ref.max_real_eigenvalue)


def shortest_safe_ramp(model, t_max=2000.0):
    lo, hi = 0.0, 10.0
    while passage(model, "linear", hi)[2] > 0:
        lo, hi = hi, 2 * hi
        if hi > t_max:
            return float("nan")
    while hi - lo > 1.0:
        mid = 0.5 * (lo + hi)
        if passage(model, "linear", mid)[2] > 0:
            lo = mid
        else:
            hi = mid
    return hi


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deltas", default="0.3,0.2,0.1,0.05,0.02")
    ap.add_argument("--ensemble", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    deltas = [float(v) for v in args.deltas.split(",")]
    print("cascade-full, g_ab = 0.5, g0 = 1.5e-5, sudden switch-on from the thermal state")
    print(f"{'target Δ1':>10} {'bare δ1':>8} {'min Δ1(t)':>10} {'max Δ1(t)':>10} "
          f"{'unstable time':>14} {'shortest safe linear ramp':>26}")
    for d in deltas:
        model = load_model("cascade-full").replace(delta1=d)
        lo, hi, unst = passage(model, "sudden", None)
        ramp = shortest_safe_ramp(model) if unst > 0 else 0.0
        print(f"{d:10.3g} {model.as_dict()['delta1_bare']:8.4g} {lo:10.4f} {hi:10.4f} "
              f"{unst:14.3f} {ramp:26.4g}", flush=True)
    if args.ensemble:
        d = min(deltas)
        r = switch_on(load_model("cascade-full").replace(delta1=d), t_final=300.0,
                      n_traj=4096, seed=3)
        print(f"\nensemble, target Δ1 = {d:g}, sudden: unstable for {r.unstable_time:.3g}; "
              f"end state {r.limit_cycle.kind}; {r.check.summary()}")
    print(f"total {time.perf_counter() - t0:.0f} s (shared 2-core machine)")


if __name__ == "__main__":
    main()
