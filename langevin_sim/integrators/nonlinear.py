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

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from ..errors import StepTooLargeError
from ..gaussian import ou_transition, psd_factor
from ..systems.linear import LinearSystem


@dataclass(frozen=True)
class Scheme:
    """A one-step scheme for ``dX = (L X + N(X, t)) dt + B√N dW`` with its declared orders."""

    name: str
    strong_order: float
    weak_order: float


NONLINEAR_METHODS = {
    "em": Scheme("em", 0.5, 1.0),
    "exp-euler": Scheme("exp-euler", 0.5, 1.0),
    "exp-heun": Scheme("exp-heun", 0.5, 2.0),
}
"""The schemes for a nonlinear drift, by name (``exp-heun`` is the default)."""


def get_scheme(name: str) -> Scheme:
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
    linearised remainder.

    * em: ``F = I + Δt (L + C)``, ``G = √Δt B√N``;
    * exp-euler: ``F = Φ (I + Δt C)``, ``G Gᵀ = Q_L``;
    * exp-heun: ``F = Φ + (Δt/2)(Φ C + C₂ Φ (I + Δt C))``, ``G = (I + Δt C₂/2) Q_L^{1/2}``,
      with ``C₂`` the coupling at the predictor (``coupling_predictor``; default ``C``).

    ``maps``: the scheme's ``(F, G)`` for ``C = 0`` (:func:`langevin_sim.twa.scheme_maps`), when
    the caller reduces at many points (it saves an OU transition per call).
    """
    scheme = get_scheme(method)
    eye = np.eye(free.dim)
    if scheme.name == "em":
        if maps is not None:
            return maps[0] + dt * coupling, maps[1]
        return eye + dt * (free.drift + coupling), np.sqrt(dt) * free.noise_amplitude
    if maps is not None:
        phi, root = maps
    else:
        phi, q = ou_transition(free, dt)
        root = psd_factor(q)
    if scheme.name == "exp-euler":
        return phi @ (eye + dt * coupling), root
    c2 = coupling if coupling_predictor is None else coupling_predictor
    f = phi + 0.5 * dt * (phi @ coupling + c2 @ phi @ (eye + dt * coupling))
    return f, (eye + 0.5 * dt * c2) @ root


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
