"""The integrator interface: a method turns a system and a step into a linear transition."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..systems.linear import LinearSystem


class Integrator(ABC):
    """One-step scheme ``X_{n+1} = F X_n + G Z_n``, ``Z_n ~ N(0, I)``, for ``dX = AX dt + B√N dW``.

    Subclasses declare their convergence orders and build ``(F, G)``; the ensemble engine and
    the analytic reference (``Σ_{n+1} = F Σ Fᵀ + G Gᵀ``) both use that one pair, so the
    stochastic and the exact side can never disagree on what is being integrated.
    """

    name: str = ""
    strong_order: float = 0.0
    weak_order: float = 0.0
    exact: bool = False
    uniform_steps: bool = True
    """Whether record times must be integer multiples of the step (EM) or may be any times."""
    default_dt: float = 0.0
    """Step used when none is given (system time unit; 1/ω_b for the paper's model)."""
    nonlinear_default_dt: float | None = None
    """Default step on a driven, nonlinear or time-dependent model, if not ``default_dt``."""
    engines: tuple = ("linear",)
    """Where the scheme runs: ``"linear"`` (a LinearSystem, transition ``(F, G)``) and/or
    ``"nonlinear"`` (a LangevinSystem's truncated Wigner drift)."""
    scheme_id: int | None = None
    """The scheme's number in :func:`langevin_sim._kernels.twa.twa_chunk` (the baselines)."""

    def default_step(self, nonlinear: bool = False) -> float:
        """The default step on a linear (``nonlinear=False``) or a nonlinear model."""
        if nonlinear and self.nonlinear_default_dt is not None:
            return self.nonlinear_default_dt
        return self.default_dt

    def resolve_dt(self, dt: float | None) -> float:
        """``dt``, or :attr:`default_dt` when ``None`` (``ValueError`` if not a number)."""
        if dt is None:
            return self.default_dt
        if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating)):
            raise ValueError(f"dt must be a number, got {dt!r}")
        return float(dt)

    @abstractmethod
    def transition(self, system: LinearSystem, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """``(F, G)`` for one step ``dt``: drift map (d, d) and noise factor (d, r)."""

    def check_step(self, system: LinearSystem, dt: float) -> None:
        """Raise ``ValueError`` (or a subclass) if ``dt`` is not usable for ``system``."""
        if not np.isfinite(dt) or dt <= 0:
            raise ValueError(f"dt must be finite and > 0, got {dt!r}")

    def stationary_covariance(self, system: LinearSystem, dt: float) -> np.ndarray:
        """Stationary covariance of the *discrete* scheme at step ``dt``."""
        raise NotImplementedError

    def linear_reduction(self, phi, root, coupling, dt, coupling_predictor=None):
        """A baseline for a nonlinear drift applied to ``(L + C) X``: ``(F, G)`` from its maps
        ``(phi, root)`` for ``C = 0`` (:func:`langevin_sim.engine.scheme_maps`) and the coupling
        ``C`` (at the predictor: ``coupling_predictor``)."""
        raise NotImplementedError(f"{self.name} has no linear reduction of a nonlinear drift")

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, strong_order={self.strong_order}, "
                f"weak_order={self.weak_order})")
