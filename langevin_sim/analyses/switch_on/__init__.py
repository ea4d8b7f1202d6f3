"""Switching the drive on: truncated Wigner ensembles of the full model against their
deterministic references (docs/physics.md, "Switching the drive on").

Two references are integrated along the switch-on:

* the **continuous** one (:func:`reference`): the mean-field equations of a
  :class:`~langevin_sim.systems.nonlinear.LangevinSystem` (``a†a → |α|²``, drives with their
  ramps) with the covariance of the fluctuations around them, ``dσ/dt = A(t)σ + σA(t)ᵀ + D``,
  ``A(t)`` the Jacobian along the mean-field trajectory: exact up to O(g0/g_ab) corrections;
* for the baselines ``em``, ``exp-euler``, ``exp-heun`` only, the **scheme's own** one
  (:func:`discrete_reference`): the same, discretised exactly as the baseline discretises it
  (its noise-free map for the means, its linear recursion ``Σ ← F_n Σ F_nᵀ + G_n G_nᵀ`` along
  them). The mean field is ~10⁴–10⁵ while the ensemble's standard errors are ~10⁻², so a
  baseline's O(Δt²) shift of the means dwarfs them: a baseline is judged against its own
  reference, and the continuous one is reported beside.

The default step, ``ll`` (local linearisation about the deterministic path,
:mod:`langevin_sim.integrators.ll`), follows the continuous physics at dt = 0.1: it is judged
against the continuous reference itself, and the ensemble's mean of δ (its displacement from
the deterministic path, beyond-linear physics where it departs from zero) is reported.

:func:`switch_on` runs both with the ensemble on the same records and gathers the report of
``langevin-sim switch-on``: z-scores and a verdict, the effective detuning Δ1(t), the time the
instantaneous linearisation is unstable, onset and settling times, and (beyond the instability
threshold) the limit cycle.

Layout: :mod:`.references`, :mod:`.limit_cycle`, :mod:`.report`, :mod:`.run` (:func:`switch_on`).
"""

from .limit_cycle import LimitCycle, limit_cycle, unstable_time
from .references import FINE_STEP, Reference, discrete_reference, reference
from .report import SwitchOnReport
from .run import (
    DEFAULT_MODEL,
    RAMP_KINDS,
    check_switchable,
    switch_on,
    with_ramp,
)

__all__ = ["DEFAULT_MODEL", "FINE_STEP", "RAMP_KINDS", "LimitCycle", "Reference", "SwitchOnReport",
           "check_switchable", "discrete_reference", "limit_cycle", "reference",
           "switch_on", "unstable_time", "with_ramp"]
