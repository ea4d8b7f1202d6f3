"""Truncated Wigner ensembles of a Langevin system (the public path of version 0.2; the code
lives in :mod:`langevin_sim.engine`): :func:`simulate_twa` with the ``ll`` step (default) or a
baseline, and a baseline's own discrete steady state."""

from .engine import *  # noqa: F403
from .engine import __all__  # noqa: F401
from .engine.references import _mean_map  # noqa: F401
