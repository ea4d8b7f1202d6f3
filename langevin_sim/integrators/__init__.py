"""Integrators and the registry that maps method names to them.

One registry, :data:`METHODS`, for every scheme; the command line takes its choices from it.

=============  ==========================  ======  ====  ===============  =====================
name           scheme                      strong  weak  default step     engines
=============  ==========================  ======  ====  ===============  =====================
``exact``      exact Ornstein–Uhlenbeck    ∞       ∞     1                linear
``ll``         local linearisation         1       2     1; 0.1 driven    linear (= exact), TWA
``em``         Euler–Maruyama              0.5     1     0.005            linear, TWA (baseline)
``exp-euler``  exponential Euler           0.5     1     0.01             TWA (baseline)
``exp-heun``   exponential Heun            0.5     2     0.02             TWA (baseline)
=============  ==========================  ======  ====  ===============  =====================

``ll`` on a linear system is the exact step; on a driven, nonlinear or time-dependent model it is
the displaced-frame step of :mod:`langevin_sim.integrators.ll`, the default of the truncated
Wigner engine (:mod:`langevin_sim.engine`); the baselines keep their own discrete references.
"""

from __future__ import annotations

from .base import Integrator
from .euler import EulerMaruyama
from .exact import ExactOU
from .exp_euler import ExponentialEuler
from .exp_heun import ExponentialHeun
from .ll import LocalLinearisation

METHODS: dict[str, type[Integrator]] = {
    "exact": ExactOU, "ll": LocalLinearisation, "em": EulerMaruyama,
    "exp-euler": ExponentialEuler, "exp-heun": ExponentialHeun}


def methods_for(engine: str) -> tuple[str, ...]:
    """The names of the schemes that run on ``engine`` (``"linear"`` or ``"nonlinear"``)."""
    return tuple(k for k, cls in METHODS.items() if engine in cls.engines)


def get_integrator(method: str | Integrator) -> Integrator:
    """An integrator instance from its registry name (or pass one through)."""
    if isinstance(method, Integrator):
        return method
    try:
        return METHODS[method]()
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown method {method!r}; allowed: {', '.join(sorted(METHODS))}"
        ) from None


__all__ = ["Integrator", "EulerMaruyama", "ExactOU", "ExponentialEuler", "ExponentialHeun",
           "LocalLinearisation", "METHODS", "get_integrator", "methods_for"]
