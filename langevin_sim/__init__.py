"""langevin_sim: stochastic Langevin simulation of Tan & Li's cascaded phonon–magnon system.

Data flows one way: model description (:class:`ModelDescription`, a TOML file or the
paper's :class:`CascadeParameters`) → Langevin system (:class:`LangevinSystem`: drift, noise,
mean field; :class:`LinearSystem` for its linearisation) → analytic Gaussian solutions
(:mod:`langevin_sim.gaussian`) and trajectory ensembles (:mod:`langevin_sim.engine`) →
measures (:mod:`langevin_sim.measures`) → analyses (:mod:`langevin_sim.analyses`), the command
line (:mod:`langevin_sim.cli`), plots (:mod:`langevin_sim.plotting`).
"""

from ._signals import is_command_line as _is_command_line
from ._signals import startup_guard as _startup_guard

if _is_command_line():  # `langevin-sim`: an interrupt during the imports is one line, exit 130
    _startup_guard()

from . import measures  # the module: measures.measures(sigma, ...), measures.log_negativity, ...
from .conventions import VACUUM_VARIANCE, is_physical, symplectic_form, thermal_occupation
from .errors import StepTooLargeError, UnstableSystemError
from .gaussian import (
    em_stationary,
    linear_recursion,
    ou_transition,
    psd_factor,
    steady_state,
    transient,
)
from .measures import Measures
from .models import ModelDescription, ModelError, library_models, load_model
from .models.cascade import CascadeParameters, build_system
from .systems.linear import LinearSystem
from .systems.nonlinear import LangevinSystem


def switch_on(model=None, **options):
    """Switch the drive on: :func:`langevin_sim.analyses.switch_on.switch_on` (the options and
    the returned :class:`~langevin_sim.analyses.switch_on.SwitchOnReport` are documented
    there). Imported when first called: the ensemble engine it needs is not imported by
    ``import langevin_sim`` (every command of ``langevin-sim`` would pay ~60 ms more)."""
    from .analyses.switch_on import switch_on as run

    return run(model, **options)


__version__ = "0.4.0"
"""The package's version, as in ``pyproject.toml`` (a test checks that they agree)."""


__all__ = [
    "VACUUM_VARIANCE", "is_physical", "symplectic_form", "thermal_occupation",
    "StepTooLargeError", "UnstableSystemError", "em_stationary", "linear_recursion",
    "ou_transition", "psd_factor", "steady_state", "transient", "LinearSystem", "Measures",
    "measures", "CascadeParameters", "build_system", "ModelDescription", "ModelError",
    "library_models", "load_model", "LangevinSystem", "switch_on", "__version__",
]
