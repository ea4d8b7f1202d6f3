"""A baseline scheme's own discrete steady state: the fixed point of its noise-free map and the
stationary covariance of its linear recursion there (what a baseline's ensemble samples)."""

from __future__ import annotations

import numpy as np

from ..systems.linear import LinearSystem
from .plans import scheme_maps


def _mean_map(system, method: str, dt: float):
    """The noise-free map of the scheme applied to the mean field (``a†a → |α|²``), with the
    same constant linear part as the ensemble's kernel: ``advance(x, t)`` returns the next
    mean and the predictor (exponential Euler's step, where exponential Heun's corrector
    evaluates the drift; the next mean itself for the other schemes)."""
    free_l = system.linear_part("weyl")
    f_map, _ = scheme_maps(system, method, dt)

    def nonlinear(x, t):
        return system.drift(x, t, ordering="mean-field") - free_l @ x

    def advance(x, t=np.inf):
        n1 = nonlinear(x, t)
        if method == "em":
            x_next = f_map @ x + dt * n1
            return x_next, x_next
        xt = f_map @ (x + dt * n1)
        if method == "exp-euler":
            return xt, xt
        return f_map @ x + 0.5 * dt * (f_map @ n1 + nonlinear(xt, t + dt)), xt

    return advance


def scheme_reduction(system, method: str, dt: float):
    """``reduce(x, xt)``: the scheme's linear recursion ``(F, G)`` for the fluctuations around
    the mean ``x`` with predictor ``xt`` (:func:`~langevin_sim.integrators.nonlinear.
    linear_reduction`, its maps computed once)."""
    from ..integrators.nonlinear import linear_reduction

    free = LinearSystem(system.linear_part("weyl"), system.noise_input, system.occupations,
                        system.mode_labels)
    maps = scheme_maps(system, method, dt)
    lin_mf = system.linear_part("mean-field")

    def reduce(x, xt):
        c1 = system.jacobian(x) - lin_mf
        c2 = system.jacobian(xt) - lin_mf if method == "exp-heun" else None
        return linear_reduction(method, free, c1, dt, c2, maps=maps)

    return reduce


def discrete_steady_state(system, method: str, dt: float, start):
    """The scheme's own steady state near ``start`` (a continuous mean field): the fixed point
    of its noise-free map, and the stationary covariance of its linear recursion there
    (``Σ = F Σ Fᵀ + G Gᵀ``, F and G from the Jacobians at the point and at Heun's predictor).

    Returns ``(mean, covariance)``; ``StepTooLargeError`` if the recursion diverges there.
    """
    import scipy.linalg as sla
    from scipy import optimize

    from ..errors import StepTooLargeError
    from ..integrators.nonlinear import spectral_radius

    advance = _mean_map(system, method, dt)
    sol = optimize.root(lambda x: advance(x)[0] - x, np.asarray(start, float), method="hybr",
                        options={"xtol": 1e-14})
    x = sol.x
    f, g = scheme_reduction(system, method, dt)(x, advance(x)[1])
    rho = spectral_radius(f)
    if rho >= 1:
        raise StepTooLargeError(f"{method} at dt = {dt:g} diverges at this mean field: the "
                                f"spectral radius of its recursion is {rho:.6g} >= 1")
    sigma = sla.solve_discrete_lyapunov(f, g @ g.T)
    return x, 0.5 * (sigma + sigma.T)

