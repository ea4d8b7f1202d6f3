"""Initial Gaussian states of an ensemble."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..conventions import PHYSICALITY_TOL, physicality_margin
from ..integrators import Integrator
from ..systems.linear import LinearSystem


@dataclass(frozen=True)
class InitialState:
    """Gaussian initial state: mean (d,) and covariance (d, d), with a descriptive label."""

    mean: np.ndarray
    covariance: np.ndarray
    label: str = "custom"


def make_initial_state(system: LinearSystem, spec="thermal", integrator: Integrator | None = None,
                       dt: float | None = None) -> InitialState:
    """Build the initial state from a name, an :class:`InitialState` or ``(mean, cov)``.

    Names: ``"thermal"`` (each mode thermal at its bath), ``"vacuum"`` (σ = I/2),
    ``"steady"`` (the stationary covariance *of the integrator at dt*: continuous σ∞ for the
    exact step, the discrete-Lyapunov one for EM, so that no burn-in is needed).
    """
    d = system.dim
    if isinstance(spec, InitialState):
        mean, cov, label = spec.mean, spec.covariance, spec.label
    elif isinstance(spec, str):
        if spec == "thermal":
            mean, cov = np.zeros(d), system.thermal_covariance()
        elif spec == "vacuum":
            mean, cov = np.zeros(d), 0.5 * np.eye(d)
        elif spec == "steady":
            if integrator is None or dt is None:
                raise ValueError("initial='steady' needs the integrator and dt")
            mean, cov = np.zeros(d), integrator.stationary_covariance(system, dt)
        else:
            raise ValueError(f"unknown initial state {spec!r}; allowed: thermal, vacuum, steady, "
                             "or (mean, covariance)")
        label = spec
    else:
        try:
            mean, cov = spec
        except (TypeError, ValueError):
            raise ValueError("initial must be a name, an InitialState or (mean, covariance)"
                             ) from None
        label = "custom"
    mean = np.zeros(d) if mean is None else np.asarray(mean, float)
    cov = np.asarray(cov, float)
    if mean.shape != (d,) or not np.all(np.isfinite(mean)):
        raise ValueError(f"initial mean must be a finite vector of length {d}")
    if cov.shape != (d, d) or not np.all(np.isfinite(cov)):
        raise ValueError(f"initial covariance must be a finite ({d}, {d}) matrix")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
        raise ValueError("initial covariance must be symmetric")
    if np.linalg.eigvalsh(cov)[0] < -1e-10 * max(1.0, np.abs(cov).max()):
        raise ValueError("initial covariance must be positive semidefinite")
    margin = physicality_margin(0.5 * (cov + cov.T))
    if margin < -PHYSICALITY_TOL * max(1.0, float(np.abs(cov).max())):
        raise ValueError(f"initial covariance is not a quantum state: σ + iΩ/2 has eigenvalue "
                         f"{margin:.3g} < 0 (below the vacuum, whose variance is 1/2)")
    return InitialState(mean, 0.5 * (cov + cov.T), label)




def thermal_state(system) -> np.ndarray:
    """Every mode in equilibrium with its baths (the state before a drive), shape (d, d)."""
    return LinearSystem(system.linear, system.noise_input, system.occupations,
                        system.mode_labels).thermal_covariance()
