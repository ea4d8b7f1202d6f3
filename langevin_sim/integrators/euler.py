"""Euler–Maruyama: ``X_{n+1} = (I + AΔt) X_n + B sqrt(N) ΔW_n``."""

from __future__ import annotations

import numpy as np

from ..gaussian import check_em_step, em_stationary
from ..systems.linear import LinearSystem
from .base import Integrator


class EulerMaruyama(Integrator):
    """Euler–Maruyama, strong order 0.5, weak order 1 (for this additive-noise SDE its strong
    order is in fact 1, but the declared orders are the scheme's general ones).

    Its stationary covariance is biased by O(Δt) (docs/physics.md): the honest reference for an EM
    ensemble is :func:`~langevin_sim.gaussian.em_stationary` at the same Δt. Steps beyond the
    stability bound ``min 2|Re λ|/|λ|²`` are refused.
    """

    name = "em"
    strong_order = 0.5
    weak_order = 1.0
    exact = False
    uniform_steps = True
    default_dt = 0.005  # inside the stability bound 0.0144/ω_b of the paper's defaults
    engines = ("linear", "nonlinear")
    scheme_id = 0

    def linear_reduction(self, phi, root, coupling, dt, coupling_predictor=None):
        """``F = I + Δt (L + C)``, ``G = √Δt B√N`` (``phi = I + Δt L``)."""
        return phi + dt * coupling, root

    def check_step(self, system: LinearSystem, dt: float) -> None:
        check_em_step(system, dt)

    def transition(self, system, dt):
        f = np.eye(system.dim) + system.drift * dt
        g = system.noise_amplitude * np.sqrt(dt)
        # inputs that drive nothing (e.g. the line loss at η = 1) need no random numbers
        g = g[:, np.any(g != 0, axis=0)]
        return f, g

    def stationary_covariance(self, system, dt):
        return em_stationary(system, dt)
