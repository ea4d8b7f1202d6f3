"""The paper's read-out with pulses (docs/examples/pulsed_readout.toml), exact: the detected
measures of the two matched output temporal modes (A_b, A_m) after red-detuned probe pulses
of strength g and length τ, started from the cascade's steady state, against the
intracavity (b, m) values just before the pulse and against today's continuous read-out
(cascade-detected: the same probes left on, filter cavities of linewidth Γ_f), at equal
detection efficiency η_d.

Then the simulated pulsed experiment (langevin_sim.analyses.evolve.pulsed_homodyne: every pulse a
trajectory of the ll ensemble, one local-oscillator setting per pulse, as ``detect`` does for
the continuous read-out) at g = 0.3, τ = 20: its estimates, the pulses each certificate needs
at 99 % confidence and 90 % power, and a check run at the predicted number for E_N.

Usage: python scripts/pulsed_readout.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from langevin_sim.analyses.detect import detection_model, exact_measures
from langevin_sim.analyses.evolve import exact_state, initial_state, pulsed_homodyne
from langevin_sim.measures import two_mode_measures
from langevin_sim.models import load_model

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "pulsed_readout.toml"
KEYS = ("E_N", "E_bm", "S_m_given_b", "S_b_given_m")


def row(values: dict) -> str:
    return "  ".join(f"{values[k]:.4f}" for k in KEYS)


def main():
    model = load_model(EXAMPLE)
    system = model.build()
    _, cov0 = initial_state(system, "steady")
    b, m = system.mode_labels.index("b"), system.mode_labels.index("m")
    sel = [2 * b, 2 * b + 1, 2 * m, 2 * m + 1]
    print("intracavity (b, m) just before the pulse:  E_N, Duan, S_m|b, S_b|m =",
          row(two_mode_measures(cov0[np.ix_(sel, sel)], pair=("b", "m")).as_dict()))
    for eta in (1.0, 0.5):
        print(f"\neta_d = {eta:g}")
        print("pulsed (A_b, A_m):  g_probe  tau  Gamma tau  E_N  Duan  S_m|b  S_b|m")
        for g in (0.05, 0.1, 0.2, 0.3, 0.5):
            for tau in (10.0, 20.0, 40.0):
                mm = model.replace(g_probe=g, tau=tau, eta_d=eta)
                _, cov, sy = exact_state(mm, 1.0 + tau, initial="steady")
                a = [2 * sy.mode_labels.index(k) + q for k in ("A_b", "A_m") for q in (0, 1)]
                vals = two_mode_measures(cov[np.ix_(a, a)], pair=("b", "m")).as_dict()
                print(f"  {g:<5g} {tau:<5g} {4 * g * g * tau:<8.3g} {row(vals)}", flush=True)
        print("continuous (f_b, f_m), cascade-detected:  g_probe  filter  E_N  Duan  S_m|b  "
              "S_b|m  | intracavity E_N with probes on")
        for g in (0.05, 0.1, 0.2, 0.3, 0.5):
            for filt in (0.01, 0.1):
                cm = detection_model().replace(g_probe=g, filter=filt, eta_d=eta)
                _, with_p, _, detected_cov = exact_measures(cm)
                detected = two_mode_measures(detected_cov, pair=("b", "m")).as_dict()
                print(f"  {g:<5g} {filt:<6g} {row(detected)}  | {with_p['E_N']:.4f}",
                      flush=True)
    print("\nsimulated pulsed experiment, g_probe = 0.3, tau = 20 (99 % confidence, 90 % power)")
    for eta in (1.0, 0.5):
        mm = model.replace(g_probe=0.3, tau=20.0, eta_d=eta)
        exp = pulsed_homodyne(mm, records=20000, seed=2024)
        e = exp.estimate
        print(f"eta_d = {eta:g}: {e.n} pulses, E_N = {e.values[0]:.3f} +- {e.stderr[0]:.3f} "
              f"(exact {exp.exact['E_N']:.4f}), Duan = {e.values[1]:.3f} +- {e.stderr[1]:.3f} "
              f"(exact {exp.exact['E_A_b_A_m']:.4f}); certified: "
              + ", ".join(f"{k} {v['certified']} ({v['statistic']:.2f})"
                          for k, v in exp.certificates.items()))
        print(f"  pulses needed: {exp.records_needed}", flush=True)
        n = exp.records_needed["E_N"]
        if n is not None and n <= 400000:
            for factor in (1, 2):
                check = pulsed_homodyne(mm, records=factor * n, seed=7 + factor)
                c = check.certificates["E_N"]
                print(f"  check at {check.estimate.n} pulses: E_N certified {c['certified']} "
                      f"(statistic {c['statistic']:.2f}, quantile {c['quantile']:.2f})",
                      flush=True)


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
