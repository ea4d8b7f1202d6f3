"""Schemes for a drift that is not linear, ``f(X, t) = L X + N(X, t)`` (docs/physics.md).

``L`` is the constant linear part of the model (damping, detunings, quadratic Hamiltonian terms,
cascade links), ``N`` the rest (drives, radiation pressure, Kerr). With ``Φ = e^{LΔt}`` and the
exact Ornstein–Uhlenbeck noise of ``L`` over Δt, ``ξ ~ N(0, Q_L(Δt))``:

============  ==================================================================  ======  ====
name          step                                                                strong  weak
============  ==================================================================  ======  ====
``em``        ``X' = X + Δt f(X, t) + √Δt B√N Z``                                  0.5     1
``exp-euler`` ``X' = Φ (X + Δt N(X, t)) + ξ``                                      0.5     1
``exp-heun``  ``X̃ = Φ (X + Δt N(X, t)) + ξ``;                                      0.5     2
              ``X' = Φ X + (Δt/2)(Φ N(X, t) + N(X̃, t + Δt)) + ξ`` (the same ξ)
============  ==================================================================  ======  ====

Applied to a linear ``N(X) = C X`` (the linearisation of the model at a mean field) each is a
linear recursion ``X' = F X + G Z`` (:func:`linear_reduction`): its spectral radius is the
scheme's stability bound there, and ``Σ = F Σ Fᵀ + G Gᵀ`` its exact stationary covariance
(:func:`stationary_covariance`), so the bias of a scheme is computed, never assumed. The
exponential schemes integrate the free rotation of a lightly damped mechanics exactly, which
removes Euler–Maruyama's stability bound.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..errors import StepTooLargeError
from ..gaussian import ou_transition, psd_factor
from ..systems.linear import LinearSystem
from .base import Integrator
from .euler import EulerMaruyama
from .exp_euler import ExponentialEuler
from .exp_heun import ExponentialHeun

NONLINEAR_METHODS: dict[str, Integrator] = {
    cls.name: cls() for cls in (EulerMaruyama, ExponentialEuler, ExponentialHeun)}
"""The baselines for a nonlinear drift, by name, as instances of their registry classes
(:data:`langevin_sim.integrators.METHODS`); ``ll`` is the default scheme, whose linear
reduction at a fixed point is the exact OU step."""


def get_scheme(name: str) -> Integrator:
    try:
        return NONLINEAR_METHODS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown method {name!r}; allowed: "
                         f"{', '.join(NONLINEAR_METHODS)}") from None


def linear_reduction(method: str, free: LinearSystem, coupling: np.ndarray,
                     dt: float, coupling_predictor: np.ndarray | None = None,
                     maps: tuple[np.ndarray, np.ndarray] | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(F, G)`` of the scheme applied to the drift ``(L + C) X`` with the noise ``B√N``.

    ``free`` is the LinearSystem ``(L, B, n̄)``: ``L`` is the part the exponential schemes
    integrate exactly (its exact OU step gives ``Φ`` and ``Q_L``); ``coupling`` is ``C``, the
    linearised remainder. Each scheme's class gives its reduction:

    * em: ``F = I + Δt (L + C)``, ``G = √Δt B√N``;
    * exp-euler: ``F = Φ (I + Δt C)``, ``G Gᵀ = Q_L``;
    * exp-heun: ``F = Φ + (Δt/2)(Φ C + C₂ Φ (I + Δt C))``, ``G = (I + Δt C₂/2) Q_L^{1/2}``,
      with ``C₂`` the coupling at the predictor (``coupling_predictor``; default ``C``).

    ``maps``: the scheme's ``(F, G)`` for ``C = 0`` (:func:`langevin_sim.engine.scheme_maps`), when
    the caller reduces at many points (it saves an OU transition per call).
    """
    scheme = get_scheme(method)
    if maps is None:
        if scheme.name == "em":
            maps = (np.eye(free.dim) + dt * free.drift, np.sqrt(dt) * free.noise_amplitude)
        else:
            phi, q = ou_transition(free, dt)
            maps = (phi, psd_factor(q))
    return scheme.linear_reduction(maps[0], maps[1], coupling, dt, coupling_predictor)


def reduction_at(method: str, system, mean, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`linear_reduction` of a :class:`~langevin_sim.systems.nonlinear.LangevinSystem`
    linearised at the mean field ``mean``: ``L`` its truncated-Wigner linear part, ``C`` the
    Jacobian of the rest there."""
    linear = system.linear_part("weyl")
    coupling = system.jacobian(mean, ordering="weyl") - linear
    free = LinearSystem(linear, system.noise_input, system.occupations, system.mode_labels)
    return linear_reduction(method, free, coupling, dt)


def spectral_radius(f: np.ndarray) -> float:
    """Largest ``|λ|`` of ``F``: the scheme is stable (its moments converge) iff < 1."""
    return float(np.max(np.abs(np.linalg.eigvals(f))))


def stationary_covariance(method: str, system, mean, dt: float) -> np.ndarray:
    """The scheme's exact stationary covariance at the linearisation around ``mean``
    (``Σ = F Σ Fᵀ + G Gᵀ``); ``StepTooLargeError`` where the recursion diverges."""
    f, g = reduction_at(method, system, mean, dt)
    rho = spectral_radius(f)
    if rho >= 1:
        raise StepTooLargeError(f"{method} at dt = {dt:g} diverges here: the spectral radius "
                                f"of its linear recursion is {rho:.6g} >= 1")
    sigma = sla.solve_discrete_lyapunov(f, g @ g.T)
    return 0.5 * (sigma + sigma.T)
