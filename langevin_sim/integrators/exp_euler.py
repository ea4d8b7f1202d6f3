"""Exponential (Lawson) Euler for a drift ``f = L X + N(X, t)``: ``X' = Φ (X + Δt N(X, t)) + ξ``
with ``Φ = e^{LΔt}`` and ``ξ ~ N(0, Q_L(Δt))``, ``L`` the model's constant linear part (a named
baseline; docs/physics.md, "Integrators for a drift that is not linear")."""

from __future__ import annotations

import numpy as np

from ..gaussian import ou_transition, psd_factor, steady_state
from .base import Integrator


class ExponentialBaseline(Integrator):
    """What the exponential (Lawson) baselines share: they run on the truncated Wigner engine
    only, and on a linear drift (``N = 0``) their step is the exact OU step."""

    engines = ("nonlinear",)

    def check_step(self, system, dt):
        raise ValueError(f"method {self.name!r} is for nonlinear models; a linear model runs "
                         "with exact, ll (the exact step there) or em")

    def transition(self, system, dt):
        phi, q = ou_transition(system, dt)
        return phi, psd_factor(q)

    def stationary_covariance(self, system, dt):
        return steady_state(system)


class ExponentialEuler(ExponentialBaseline):
    """Strong order 0.5, weak order 1. Its O(Δt) shift of a driven model's fixed point (2400
    in quadrature units at Δt = 0.02 on ``cascade-full``) makes it a baseline only."""

    name = "exp-euler"
    strong_order = 0.5
    weak_order = 1.0
    scheme_id = 1
    default_dt = 0.01

    def linear_reduction(self, phi, root, coupling, dt, coupling_predictor=None):
        """``F = Φ (I + Δt C)``, ``G Gᵀ = Q_L``: the step applied to ``(L + C) X``."""
        return phi @ (np.eye(phi.shape[0]) + dt * coupling), root
