"""Integrators and the registry that maps method names to them.

=========  ==========================  ============  ==========
name       scheme                      strong order  weak order
=========  ==========================  ============  ==========
``em``     Euler–Maruyama              0.5           1
``exact``  exact Ornstein–Uhlenbeck    exact (∞)     exact (∞)
=========  ==========================  ============  ==========
"""

from __future__ import annotations

from .base import Integrator
from .euler import EulerMaruyama
from .exact import ExactOU

METHODS: dict[str, type[Integrator]] = {"em": EulerMaruyama, "exact": ExactOU}


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


__all__ = ["Integrator", "EulerMaruyama", "ExactOU", "METHODS", "get_integrator"]
