"""Speed of the local-linearisation step (`ll`), measured side by side in one run:

1. kernels, in trajectory-steps per second (2 threads): the `exact` OU kernel on the linear
   cascade against the `ll` kernel on the same linear model (target: ll >= 0.8x exact), and
   `ll` on the full cascade (`cascade-full`, radiation pressure: the polynomial remainder) at
   its fixed point and along the switch-on's time-dependent path (per-step matrices, their
   precomputation included);
2. the default switch-on (`ll`, dt = 0.1) against exp-heun at dt = 0.02 (the previous default)
   with the same trajectories, record spacing and run length (target: >= 3x faster), whole
   `switch_on()` calls (references, ensemble, measures): exp-heun as this version runs it (its
   references and measures share this version's speed-ups), and as the release before this
   work ran its default (``--baseline-commit``, 456a3dc: the code checked out into a temporary
   folder by `git archive` and timed in a subprocess, after a warm-up call that compiles its
   kernels).

    python scripts/bench_ll.py [--n-traj 16384] [--steps 4000] [--switch-traj 4096]
                               [--baseline-commit 456a3dc]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from langevin_sim import load_model
from langevin_sim.analyses.switch_on import switch_on
from langevin_sim.backends import LocalBackend
from langevin_sim.engine import simulate, simulate_twa, thermal_state
from langevin_sim.integrators.ll import fixed_point


def rate(func, n_traj, steps, repeat=3) -> float:
    """Best of ``repeat`` runs, in trajectory-steps per second."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return n_traj * steps / best


BASELINE = """
import sys, time
sys.path.insert(0, {root!r})
import langevin_sim
assert langevin_sim.__file__.startswith({root!r}), langevin_sim.__file__
from langevin_sim.switch_on import switch_on  # the old tree (456a3dc): its own module path
switch_on(t_final=10.0, n_traj=256)  # compile
t0 = time.perf_counter()
r = switch_on(t_final={t_final!r}, record_every=1.0, n_traj={n_traj!r}, seed=2024)
print(time.perf_counter() - t0, r.method, r.dt)
"""


def baseline_switch_on(commit: str, t_final: float, n_traj: int):
    """Seconds of the default ``switch_on()`` of an earlier commit, in a subprocess."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", repo, "archive", commit, "langevin_sim"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        out = subprocess.run([sys.executable, "-c", BASELINE.format(
            root=tmp, t_final=t_final, n_traj=n_traj)], capture_output=True, text=True,
            env=env, check=True).stdout.split()
    return float(out[0]), out[1], float(out[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-traj", type=int, default=16384)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--switch-traj", type=int, default=4096)
    ap.add_argument("--t-final", type=float, default=1000.0)
    ap.add_argument("--baseline-commit", default="456a3dc")
    args = ap.parse_args()
    n, steps = args.n_traj, args.steps
    backend = LocalBackend(2)
    linear = load_model("cascade").build()
    full = load_model("cascade-full").build()
    dt = 0.05
    times = np.array([0.0, steps * dt])
    zero = (np.zeros(linear.dim), thermal_state(linear))
    mf = full.mean_field_states()[0].state
    steady = (mf, thermal_state(full))
    point = fixed_point(full, mf)

    def exact():
        simulate(linear.linear_system(), times, method="exact", dt=dt, n_traj=n, seed=1,
                 initial="thermal", backend=backend)

    def ll_linear():
        simulate_twa(linear, times, method="ll", dt=dt, n_traj=n, seed=1, initial=zero,
                     backend=backend)

    def ll_fixed():
        simulate_twa(full, times, method="ll", dt=dt, n_traj=n, seed=1, initial=steady,
                     path=point, backend=backend)

    def ll_path():
        simulate_twa(full, times, method="ll", dt=dt, n_traj=n, seed=1, backend=backend)

    for f in (exact, ll_linear, ll_fixed, ll_path):  # compile and warm up
        f()
    r_exact = rate(exact, n, steps)
    r_lin = rate(ll_linear, n, steps)
    r_fix = rate(ll_fixed, n, steps)
    r_path = rate(ll_path, n, steps)
    print(f"kernels, {n} trajectories x {steps} steps (dt = {dt}), 2 threads; 2-core shared "
          "machine, absolute rates are noisy, ratios measured in the same run")
    print(f"  exact, linear cascade           : {r_exact / 1e6:7.1f} M trajectory-steps/s")
    print(f"  ll, linear cascade              : {r_lin / 1e6:7.1f} M/s  ({r_lin / r_exact:.2f}x "
          "exact; target >= 0.8x)")
    print(f"  ll, cascade-full at fixed point : {r_fix / 1e6:7.1f} M/s  ({r_fix / r_exact:.2f}x)")
    print(f"  ll, cascade-full along its path : {r_path / 1e6:7.1f} M/s  ({r_path / r_exact:.2f}x;"
          " per-step matrices included)")

    kw = dict(t_final=args.t_final, record_every=1.0, n_traj=args.switch_traj, seed=2024,
              backend=backend)
    switch_on(t_final=10.0, n_traj=256, method="exp-heun")  # compile both
    switch_on(t_final=10.0, n_traj=256)
    walls = {}
    for method, step in (("ll", 0.1), ("exp-heun", 0.02)):
        t0 = time.perf_counter()
        r = switch_on(method=method, dt=step, **kw)
        walls[method] = time.perf_counter() - t0
        print(f"switch-on {method:>8} dt = {step:<5g}: {walls[method]:6.1f} s "
              f"({r.check.summary().split(';')[0]})")
    print(f"default switch-on (ll, dt 0.1) is {walls['exp-heun'] / walls['ll']:.1f}x faster than "
          f"exp-heun at dt 0.02 in this version ({args.switch_traj} trajectories to t = "
          f"{args.t_final:g})")
    if args.baseline_commit:
        old, method, step = baseline_switch_on(args.baseline_commit, args.t_final,
                                               args.switch_traj)
        print(f"switch-on of {args.baseline_commit} (its default: {method}, dt = {step:g}): "
              f"{old:6.1f} s")
        print(f"default switch-on now is {old / walls['ll']:.1f}x faster than the default of "
              f"{args.baseline_commit} (target >= 3x)")


if __name__ == "__main__":
    main()
