"""Langevin systems: the linear one (A, B, n̄) and the polynomial (truncated Wigner) one."""

from .linear import LinearSystem

__all__ = ["LinearSystem"]
