"""Models: a network described as data, and the paper's cascade.

Every analysis takes a *model*: anything that implements :class:`~langevin_sim.models.base.Model`
(``build()``, ``linear_system(branch)``, ``replace(**changes)``, ``as_dict()``,
``parameter_names()``, ``pair(pair)``, ``name``, ``unit``, ``mode_labels``,
``default_pair``). Three kinds exist:

* :class:`~langevin_sim.models.description.ModelDescription` (any network, from Python or a
  TOML file; the shipped ones are listed by :func:`library_models`);
* :class:`~langevin_sim.models.cascade.CascadeParameters` (the paper's linearised cascade as a
  validated dataclass, built from the shipped description ``cascade``);
* a bare :class:`~langevin_sim.systems.linear.LinearSystem` (no parameters), through
  :func:`as_model`, as a :class:`~langevin_sim.models.base.FixedSystem`.
"""

from __future__ import annotations

from .base import FixedSystem, Model
from .cascade import CascadeParameters, build_system, cascade_model, drive_coupling
from .description import (
    Cascade,
    Damping,
    Drive,
    Mode,
    ModelDescription,
    ModelError,
    Term,
    library_models,
    load_model,
)


def as_model(model=None):
    """The model an analysis works on: ``None`` (the paper's linearised cascade), a model
    object, a shipped model's name or a TOML path, or a bare ``LinearSystem``."""
    from ..systems.linear import LinearSystem

    if model is None:
        return CascadeParameters()
    if isinstance(model, LinearSystem):
        return FixedSystem(model)
    if isinstance(model, str):
        return load_model(model)
    if isinstance(model, Model):
        return model
    raise ValueError(f"not a model: {model!r} (give a ModelDescription, CascadeParameters, a "
                     "model name or file, or a LinearSystem)")


def check_pair(labels, pair) -> tuple:
    """``pair`` as two distinct names among the mode ``labels`` (``ValueError`` naming the
    modes otherwise)."""
    pair, labels = tuple(pair), tuple(labels)
    if len(pair) != 2:
        raise ValueError(f"a pair names two modes, got {pair!r}")
    for m in pair:
        if m not in labels:
            raise ValueError(f"unknown mode {m!r} in the pair; modes: {', '.join(labels)}")
    if pair[0] == pair[1]:
        raise ValueError(f"a pair needs two different modes, got {pair!r}")
    return pair


__all__ = ["CascadeParameters", "build_system", "cascade_model", "drive_coupling", "Cascade",
           "Damping", "Drive", "Mode", "ModelDescription", "ModelError", "Term",
           "library_models", "load_model", "FixedSystem", "Model", "as_model", "check_pair"]
