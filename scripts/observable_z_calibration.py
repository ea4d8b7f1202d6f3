"""Why only n̄, its thermal part and the purity join an ensemble command's verdict (issue 21):
the jackknife z-scores of the single-mode observables over many independent ensembles, for a
squeezed mode and for an isotropic one (a vacuum mode: g = 0).

A degenerate parametric oscillator, H = (g/2)(x² − p²), decay κ = 1, vacuum bath; each
ensemble is validate's estimator (1024 trajectories in 32 jackknife groups, time average of
5 records 10/κ apart, started in the stationary state), compared with the exact stationary
value. For z-scores that are Student t with 31 dof: mean 0, standard deviation
√(31/29) = 1.034, and P(|z| > 2.744) = 0.01.

    python scripts/observable_z_calibration.py [--seeds 300]
"""

import argparse
from pathlib import Path

import numpy as np

from langevin_sim import observables as ob
from langevin_sim.engine import simulate
from langevin_sim.gaussian import steady_state
from langevin_sim.models import load_model

OPO_FILE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "opo.toml"
NAMES = ("n", "n_thermal", "purity", "min_variance", "squeezing_db", "entropy")
T_QUANTILE = 2.744  # two-sided 0.01 quantile of Student's t with 31 dof


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=300)
    args = parser.parse_args()
    model = load_model(OPO_FILE)
    for g in (0.3, 0.0):
        system = model.replace(g=g).linear_system()
        exact = ob.exact_observables(steady_state(system)[None], system.mode_labels, (), NAMES)
        zs = {k: [] for k in exact}
        for seed in range(args.seeds):
            r = simulate(system, np.arange(0, 41, 10.0), n_traj=1024, seed=seed,
                         initial="steady").time_average(0.0)
            for k, (v, e) in ob.ensemble_observables(r, (), NAMES).items():
                zs[k].append(float(ob.observable_z(k, v, e, exact[k])[0]))
        print(f"g = {g} (κ = 1): {args.seeds} ensembles")
        for k, z in zs.items():
            z = np.array(z)
            ok = np.isfinite(z)
            print(f"  {k:<16} in verdict: {str(ob.in_verdict(k, ('a',))):<5}  mean z "
                  f"{np.mean(z[ok]):+.3f}  sd z {np.std(z[ok], ddof=1):.3f}  "
                  f"P(|z| > {T_QUANTILE}) {np.mean(np.abs(z[ok]) > T_QUANTILE):.3f}  "
                  f"non-finite {int((~ok).sum())}")


if __name__ == "__main__":
    main()
