"""Exact Gaussian solutions of a :class:`~langevin_sim.systems.linear.LinearSystem`.

* :func:`steady_state` solves the continuous Lyapunov equation ``A σ + σ Aᵀ + D = 0``.
* :func:`transient` gives the exact mean and covariance ``σ(t)`` from any initial state.
* :func:`ou_transition` gives the exact one-step transition ``(e^{AΔt}, Q(Δt))``.
* :func:`linear_recursion` propagates ``Σ_{n+1} = F Σ_n Fᵀ + Q`` (Euler–Maruyama or exact
  steps), and :func:`em_stationary` solves its discrete Lyapunov fixed point for EM.

Layout: :mod:`.continuous` (Lyapunov, σ(t), the exact transition), :mod:`.discrete` (any
``(F, Q)`` recursion, Euler–Maruyama), :mod:`.linalg` (shared helpers).
"""

from ..errors import StepTooLargeError, UnstableSystemError
from .continuous import lyapunov_residual, ou_transition, propagators, steady_state, transient
from .discrete import (
    check_em_step,
    compose_transitions,
    em_spectral_radius,
    em_stability_bound,
    em_stationary,
    em_transition,
    linear_recursion,
    power_transition,
)
from .linalg import psd_factor, small_linear_algebra

__all__ = [
    "UnstableSystemError", "StepTooLargeError", "steady_state", "lyapunov_residual",
    "ou_transition", "psd_factor", "transient", "linear_recursion", "power_transition",
    "compose_transitions", "em_transition", "propagators", "small_linear_algebra",
    "em_stability_bound", "em_spectral_radius", "check_em_step", "em_stationary",
]
