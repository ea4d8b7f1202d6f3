"""What every model is: the :class:`Model` protocol.

A model is anything that builds its Langevin system (:meth:`Model.build`) and its
linearisation (:meth:`Model.linear_system`), can be copied with other parameter values
(:meth:`Model.replace`), and names its default pair of modes. Three kinds implement it:

* :class:`~langevin_sim.models.description.ModelDescription` (any network, from Python or a
  TOML file);
* :class:`~langevin_sim.models.cascade.CascadeParameters` (the paper's linearised cascade as a
  validated dataclass);
* :class:`FixedSystem` (a bare :class:`~langevin_sim.systems.linear.LinearSystem`, without
  parameters).

The analyses take any of them (through :func:`~langevin_sim.models.as_model`) and ask nothing
else of a model: no probing of attributes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..systems.linear import LinearSystem
from ..systems.nonlinear import LangevinSystem


@runtime_checkable
class Model(Protocol):
    """The model protocol (structural: a class implements it by having these members).

    Attributes
    ----------
    name : str
        The model's name (reports, metadata).
    unit : str
        The rate unit of its parameters (``"ω_b"`` for the paper).
    mode_labels : tuple of str
        Its modes, in state order.
    default_pair : tuple of two str, or None
        The pair ``(A, B)`` whose six measures are reported when none is named (None: the
        model names none, and pair measures need one).
    """

    name: str
    unit: str
    default_pair: tuple | None

    @property
    def mode_labels(self) -> tuple: ...

    def build(self) -> LangevinSystem:
        """The full Langevin system (drift, noise, drives, nonlinear terms, outputs)."""

    def linear_system(self, branch: int = 0) -> LinearSystem:
        """The linear system (a nonlinear model linearised at stable mean-field branch
        ``branch``)."""

    def replace(self, **changes) -> Model:
        """A copy with some parameters changed (``ValueError`` naming an unknown one)."""

    def as_dict(self) -> dict:
        """The parameters, for reports and metadata."""

    def parameter_names(self) -> tuple:
        """The names :meth:`replace` accepts."""

    def pair(self, pair=None) -> tuple:
        """``pair`` as a tuple, or the default pair (``ValueError`` if there is none)."""


class FixedSystem:
    """A :class:`LinearSystem` seen as a model without parameters (implements :class:`Model`).

    Its default pair is the system's own (:attr:`LinearSystem.default_pair`, set by the model
    that built it), else none.
    """

    unit = "time unit⁻¹"

    def __init__(self, system: LinearSystem, name: str = "linear system"):
        self.system, self.name = system, name

    @property
    def mode_labels(self) -> tuple:
        return self.system.mode_labels

    @property
    def default_pair(self) -> tuple | None:
        return self.system.default_pair

    def build(self) -> LangevinSystem:
        """The system as a Langevin system with no drive and no nonlinear term (its
        :meth:`~LangevinSystem.linear_system` is this linear system)."""
        s = self.system
        d = s.dim
        return LangevinSystem(
            mode_labels=s.mode_labels, noise_labels=s.noise_labels, linear=s.drift,
            noise_input=s.noise_input, occupations=s.occupations, drives=np.zeros((0, d)),
            ramps=(), quadratic_index=np.zeros((0, 3), dtype=np.int64),
            quadratic_coef=np.zeros(0), cubic_index=np.zeros((0, 4), dtype=np.int64),
            cubic_coef=np.zeros(0), weyl_constant=np.zeros(d), weyl_linear=np.zeros((d, d)),
            name=self.name)

    def linear_system(self, branch: int = 0) -> LinearSystem:
        return self.system

    def replace(self, **changes) -> FixedSystem:
        if changes:
            raise ValueError(f"a bare LinearSystem has no parameters to set "
                             f"({', '.join(changes)}); describe the model to vary them")
        return self

    def as_dict(self) -> dict:
        return {"model": self.name}

    def parameter_names(self) -> tuple:
        return ()

    def pair(self, pair=None) -> tuple:
        if pair is not None:
            return tuple(pair)
        if self.default_pair is not None:
            return tuple(self.default_pair)
        raise ValueError("name the two modes to measure (pair=(A, B)); modes: "
                         + ", ".join(self.system.mode_labels))
