"""Bias of each scheme for a nonlinear drift at the paper's point, computed exactly from the
linear recursion each scheme reduces to at the steady mean field of `cascade-full`
(discrete Lyapunov), and the weak-order slopes; then the bias of what a truncated Wigner
ensemble of the full model realises: the scheme's own steady state (the fixed point of its
noise-free map, the Jacobian of exp-heun's corrector taken at its predictor there).

    python scripts/scheme_bias.py
"""

import argparse

import numpy as np

from langevin_sim import load_model
from langevin_sim.engine import discrete_steady_state
from langevin_sim.errors import StepTooLargeError
from langevin_sim.gaussian import steady_state
from langevin_sim.integrators.nonlinear import (
    NONLINEAR_METHODS,
    reduction_at,
    spectral_radius,
    stationary_covariance,
)
from langevin_sim.measures import measures

PAIR = ("b", "m")  # the paper's pair, measured on cascade-full's linearisation

DTS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)


def weak_slope(system, mean, method, dts, xb):
    sigma = steady_state(system.linear_system())[xb, xb]
    bias = [abs(stationary_covariance(method, system, mean, dt)[xb, xb] - sigma) for dt in dts]
    return float(np.polyfit(np.log(dts), np.log(bias), 1)[0])


def main():
    system = load_model("cascade-full").build()
    (mf,) = system.mean_field_states()
    lin = system.linear_system()
    s_inf = steady_state(lin)
    e_inf = measures(s_inf, lin, PAIR).E_N
    xb = 2 * system.mode_index("b")
    print(f"cascade-full at the paper's point (g0 = 1.5e-5), linearised at its steady mean field; "
          f"exact σ∞: E_N = {e_inf:.5f}, Var(x_b) = {s_inf[xb, xb]:.4f}")
    print("stationary E_N of each scheme minus σ∞'s (and the relative error of Var(x_b)); "
          "'div' where the spectral radius of the scheme's recursion is >= 1")
    print(f"{'dt (1/ω_b)':>10} | " + " | ".join(f"{m:^22}" for m in NONLINEAR_METHODS))
    for dt in DTS:
        cells = []
        for m in NONLINEAR_METHODS:
            try:
                s = stationary_covariance(m, system, mf.state, dt)
                rel = s[xb, xb] / s_inf[xb, xb] - 1
                cells.append(f"{measures(s, lin, PAIR).E_N - e_inf:+.2e} ({rel:+.1e})")
            except StepTooLargeError:
                f, _ = reduction_at(m, system, mf.state, dt)
                cells.append(f"div (ρ = {spectral_radius(f):.4f})")
        print(f"{dt:>10g} | " + " | ".join(f"{c:^22}" for c in cells))
    print("\nthe truncated Wigner ensemble's own steady state (twa.discrete_steady_state): E_N "
          "minus σ∞'s (relative error of Var(x_b)); |fixed point - mean field|")
    print(f"{'dt (1/ω_b)':>10} | " + " | ".join(f"{m:^32}" for m in NONLINEAR_METHODS))
    for dt in DTS:
        cells = []
        for m in NONLINEAR_METHODS:
            try:
                x, s = discrete_steady_state(system, m, dt, mf.state)
                rel = s[xb, xb] / s_inf[xb, xb] - 1
                cells.append(f"{measures(s, lin, PAIR).E_N - e_inf:+.2e} ({rel:+.1e}) "
                             f"{np.max(np.abs(x - mf.state)):.2g}")
            except StepTooLargeError:
                cells.append("div")
        print(f"{dt:>10g} | " + " | ".join(f"{c:^32}" for c in cells))
    print("weak-order slopes of the Var(x_b) bias (log-log fit):")
    for m, dts in (("em", (0.0005, 0.001, 0.002)), ("exp-euler", (0.002, 0.004, 0.008)),
                   ("exp-heun", (0.002, 0.004, 0.008))):
        print(f"  {m:<10} {weak_slope(system, mf.state, m, dts, xb):.3f} over dt = {dts} "
              f"(declared weak order {NONLINEAR_METHODS[m].weak_order:g})")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
