"""Peer check: the linear cascade against QuTiP's cascaded master equation (Gardiner, Carmichael).

At zero temperature the linearised cascade is a quadratic open system whose master equation
has one collapse operator sqrt(η κ1) a1 + sqrt(κ2) a2 for the shared line, sqrt((1-η) κ1) a1
for the loss, and the Hamiltonian term (i/2) sqrt(η κ1 κ2)(a1† a2 - a2† a1) that makes the
coupling one-way. Its steady state in a truncated Fock space must converge to our Lyapunov
covariance: the error must be below the truncation error estimated from two truncations, and
shrink with the truncation. Without the shared (correlated) cascade noise the Lyapunov
covariance must disagree grossly.
"""

import numpy as np
import pytest
from scipy.linalg import solve_continuous_lyapunov

from langevin_sim.gaussian import steady_state
from langevin_sim.models import load_model
from langevin_sim.systems.linear import LinearSystem

qt = pytest.importorskip("qutip")
pytestmark = [pytest.mark.peer, pytest.mark.slow]  # 14 s: a QuTiP master equation

# small couplings, moderately damped mechanics and magnons, T = 0, an imperfect line
POINT = dict(kappa1=2.0, kappa2=2.0, gamma_b=0.5, gamma_m=0.5, g_ab=0.05, g_am=0.1, T=0.0,
             eta=0.8)


def qutip_covariance(cutoffs, p):
    ids = [qt.qeye(n) for n in cutoffs]

    def destroy(k):
        ops = list(ids)
        ops[k] = qt.destroy(cutoffs[k])
        return qt.tensor(*ops)

    a1, a2, b, m = (destroy(k) for k in range(4))
    s = np.sqrt(p["eta"] * p["kappa1"] * p["kappa2"])
    h = (a1.dag() * a1 - a2.dag() * a2 + b.dag() * b - m.dag() * m   # Δ1 = -Δ2 = ω_b = -Δm
         + p["g_ab"] * (a1 + a1.dag()) * (b + b.dag())
         + p["g_am"] * (a2.dag() * m + a2 * m.dag())
         + 0.5j * s * (a1.dag() * a2 - a2.dag() * a1))
    c_ops = [np.sqrt(p["eta"] * p["kappa1"]) * a1 + np.sqrt(p["kappa2"]) * a2,
             np.sqrt((1 - p["eta"]) * p["kappa1"]) * a1,
             np.sqrt(p["gamma_b"]) * b, np.sqrt(p["gamma_m"]) * m]
    rho = qt.steadystate(h, c_ops, method="direct", solver="lgmres", rtol=1e-14, atol=1e-15)
    quads = []
    for o in (a1, a2, b, m):
        quads += [(o + o.dag()) / np.sqrt(2), -1j * (o - o.dag()) / np.sqrt(2)]
    mu = np.array([qt.expect(q, rho).real for q in quads])
    return np.array([[qt.expect(0.5 * (qi * qj + qj * qi), rho).real - mu[i] * mu[j]
                      for j, qj in enumerate(quads)] for i, qi in enumerate(quads)])


def without_cascade_correlation(system: LinearSystem) -> LinearSystem:
    """Cavity 2 driven by an independent copy of a1's input noise instead of the same one."""
    b = system.noise_input
    own = np.zeros((system.dim, 2))
    own[2:4] = b[2:4, 0:2]
    b = b.copy()
    b[2:4, 0:2] = 0.0
    return LinearSystem(system.drift, np.hstack([b, own]),
                        np.concatenate([system.occupations, system.occupations[:2]]),
                        system.mode_labels)


def test_cascaded_master_equation_agrees_with_lyapunov():
    system = load_model("cascade").replace(**POINT).linear_system()
    lyap = steady_state(system)
    coarse = qutip_covariance((3, 3, 3, 3), POINT)
    fine = qutip_covariance((4, 4, 4, 4), POINT)
    truncation = np.max(np.abs(fine - coarse))
    err_fine, err_coarse = np.max(np.abs(fine - lyap)), np.max(np.abs(coarse - lyap))
    assert err_fine <= truncation            # within the estimated truncation error
    assert err_fine < 0.1 * err_coarse       # and converging to it as the space grows
    # the shared input noise of the two cavities is what the master equation describes: with
    # independent noise the Lyapunov solution (not even a quantum state: steady_state refuses
    # it) is far off
    bad = without_cascade_correlation(system)
    wrong = solve_continuous_lyapunov(bad.drift, -bad.diffusion)
    assert np.max(np.abs(fine - wrong)) > 100 * truncation
