"""Exact Ornstein–Uhlenbeck step: ``X_{n+1} = e^{AΔt} X_n + η_n``, ``η_n ~ N(0, Q(Δt))``."""

from __future__ import annotations

from ..gaussian import ou_transition, psd_factor, steady_state
from .base import Integrator


class ExactOU(Integrator):
    """Samples the exact transition of the linear SDE: no discretisation error at any Δt.

    ``Q(Δt)`` is factored by :func:`~langevin_sim.gaussian.psd_factor` (symmetric
    eigendecomposition), which tolerates its rank deficiency at η = 1.
    """

    name = "exact"
    strong_order = float("inf")
    weak_order = float("inf")
    exact = True
    uniform_steps = False
    default_dt = 1.0  # exact at any step; only sets how often a long gap is split

    def check_step(self, system, dt):
        super().check_step(system, dt)
        system.check_stable()

    def transition(self, system, dt):
        phi, q = ou_transition(system, dt)
        return phi, psd_factor(q)

    def stationary_covariance(self, system, dt):
        return steady_state(system)
