"""Trajectory ensembles of a linear system (the public path of version 0.2; the code lives in
:mod:`langevin_sim.engine`): :func:`simulate`, :class:`EnsembleResult`, :func:`exact_moments`
and the chunk, schedule and initial-state helpers."""

from .engine import *  # noqa: F403
from .engine import __all__  # noqa: F401
from .engine.chunks import _minutes  # noqa: F401
from .engine.drivers import _linear_system_of  # noqa: F401
from .engine.result import _describe_difference  # noqa: F401
