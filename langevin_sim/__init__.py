"""langevin_sim: stochastic Langevin simulation of Tan & Li's cascaded phonon–magnon system.

Data flows one way: model description (:class:`ModelDescription`, a TOML file or the
paper's :class:`CascadeParameters`) → Langevin system (:class:`LangevinSystem`: drift, noise,
mean field; :class:`LinearSystem` for its linearisation) → analytic Gaussian solutions
(:mod:`langevin_sim.gaussian`) and trajectory ensembles (:mod:`langevin_sim.ensemble`) →
measures (:mod:`langevin_sim.measures`) → analyses, CLI, plots.
"""

from ._signals import is_command_line as _is_command_line
from ._signals import startup_guard as _startup_guard

if _is_command_line():  # `langevin-sim`: an interrupt during the imports is one line, exit 130
    _startup_guard()

from . import measures  # the module, callable as the function measures(sigma, ...)
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

__version__ = "0.3.0"


def __getattr__(name):
    # langevin_sim.switch_on: the module, callable as the function switch_on(model, ...),
    # imported when first used (it is not needed at start-up)
    if name == "switch_on":
        import importlib

        return importlib.import_module(".switch_on", __name__)
    raise AttributeError(f"module 'langevin_sim' has no attribute {name!r}")

__all__ = [
    "VACUUM_VARIANCE", "is_physical", "symplectic_form", "thermal_occupation",
    "StepTooLargeError", "UnstableSystemError", "em_stationary", "linear_recursion",
    "ou_transition", "psd_factor", "steady_state", "transient", "LinearSystem", "Measures",
    "measures", "CascadeParameters", "build_system", "ModelDescription", "ModelError",
    "library_models", "load_model", "LangevinSystem", "switch_on", "__version__",
]
