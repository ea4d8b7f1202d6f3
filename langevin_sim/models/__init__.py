"""Physical models built on :class:`langevin_sim.linear_system.LinearSystem`."""

from .cascade import CascadeParameters, build_system, drive_coupling

__all__ = ["CascadeParameters", "build_system", "drive_coupling"]
