"""Integrators and the registry that maps method names to them.

=========  ==========================  ============  ==========
name       scheme                      strong order  weak order
=========  ==========================  ============  ==========
``em``     Euler–Maruyama              0.5           1
``exact``  exact Ornstein–Uhlenbeck    exact (∞)     exact (∞)
``ll``     local linearisation         1             2
=========  ==========================  ============  ==========

``ll`` on a linear system is the exact step; on a nonlinear or time-dependent model it is the
displaced-frame step of :mod:`langevin_sim.integrators.ll`, run by the truncated Wigner engine.
"""

from __future__ import annotations

from .base import Integrator
from .euler import EulerMaruyama
from .exact import ExactOU
from .ll import LocalLinearisation

METHODS: dict[str, type[Integrator]] = {"em": EulerMaruyama, "exact": ExactOU,
                                        "ll": LocalLinearisation}


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


__all__ = ["Integrator", "EulerMaruyama", "ExactOU", "LocalLinearisation", "METHODS",
           "get_integrator"]
