"""The report of a switch-on (:class:`SwitchOnReport`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .limit_cycle import LimitCycle
from .references import FINE_STEP


@dataclass(frozen=True)
class SwitchOnReport:
    """Everything ``langevin-sim switch-on`` computes; arrays over the record ``times``, and
    over ``fine_times`` (the continuous reference's fine grid) for the exact curves.

    ``reference`` is the continuous reference, ``discrete`` a baseline scheme's own (what a
    baseline's ensemble is judged against; None for ``ll``, which is judged against the
    continuous one), each a dict with ``mean``, ``covariance`` and ``measures`` (n_rec, 6;
    unclipped E_N and G in ``measures_unclipped``). ``displacement`` (``ll``): the ensemble's
    mean of δ = X − β(t), with ``displacement_stderr``, shapes (n_rec, d).
    """

    times: np.ndarray
    pair: tuple
    measure_names: tuple
    quadratures: tuple
    unit: str
    reference: dict
    discrete: dict
    ensemble: dict
    fine_times: np.ndarray
    fine_mean: np.ndarray
    detuning_mode: str
    fine_effective_detuning: np.ndarray
    effective_detuning: np.ndarray
    fine_max_real: np.ndarray
    unstable_time: float
    check: object
    continuous_offset: dict
    quench: object
    onsets: dict
    settling_time: dict
    limit_cycle: LimitCycle | None
    method: str
    dt: float
    n_traj: int
    seed: int
    ramp: str
    ramp_time: float
    partial: bool
    parameters: dict
    model: str
    settling_tolerance: float = 0.01
    extras: dict = field(default_factory=dict)
    displacement: np.ndarray | None = None
    displacement_stderr: np.ndarray | None = None

    @property
    def judged(self) -> dict:
        """The reference the ensemble is judged against: the scheme's own for a baseline,
        the continuous one for ``ll``."""
        return self.reference if self.discrete is None else self.discrete

    @property
    def verdict_applies(self) -> bool:
        """False beyond the threshold: on a limit cycle the phase of the self-oscillation
        diffuses, which no linearised reference describes, so the max-|z| test is reported
        but is not a verdict on the simulation."""
        return self.limit_cycle is None or self.limit_cycle.kind == "fixed point"

    @property
    def consistent(self) -> bool | None:
        """The verdict: None beyond the threshold or with too few chunk groups (an
        interrupted run), else whether the ensemble agrees with its reference."""
        if not self.verdict_applies or self.check.consistent is None:
            return None
        return bool(self.check.consistent)

    @property
    def min_effective_detuning(self) -> float:
        return float(np.min(self.fine_effective_detuning))

    @property
    def max_effective_detuning(self) -> float:
        return float(np.max(self.fine_effective_detuning))

    def _block(self, part: dict, stderr: bool) -> dict:
        out = {}
        for i, k in enumerate(self.measure_names):
            out[k] = part["measures"][:, i]
            if stderr:
                out[f"{k}_stderr"] = part["measures_stderr"][:, i]
        out["E_N_unclipped"] = part["measures_unclipped"][:, self.measure_names.index("E_N")]
        for k in ("mean", "covariance"):
            out[k] = part[k]
            if stderr:
                out[f"{k}_stderr"] = part[f"{k}_stderr"]
        return out

    def to_dict(self) -> dict:
        """The ``--json`` report (NaN becomes null when dumped)."""
        return {
            "partial": self.partial, "model": self.model, "pair": list(self.pair),
            "quadratures": list(self.quadratures), "unit": self.unit,
            "method": self.method, "dt": self.dt, "n_traj": self.n_traj, "seed": self.seed,
            "ramp": self.ramp, "ramp_time": self.ramp_time, "times": self.times,
            "reference": self._block(self.reference, False),
            "discrete_reference": (None if self.discrete is None
                                   else self._block(self.discrete, False)),
            "displacement": self.displacement,
            "displacement_stderr": self.displacement_stderr,
            "ensemble": self._block(self.ensemble, True),
            "unphysical_record_times": self.times[~self.ensemble["physical"]],
            "effective_detuning_mode": self.detuning_mode,
            "effective_detuning": self.effective_detuning,
            "min_effective_detuning": self.min_effective_detuning,
            "max_effective_detuning": self.max_effective_detuning,
            "max_real_eigenvalue": self.fine_max_real[::self._stride],
            "unstable_time": self.unstable_time, "unstable_time_resolution": FINE_STEP,
            "consistent": self.consistent, "verdict_applies": self.verdict_applies,
            "max_abs_z": self.check.max_abs_z,
            "z_threshold": self.check.threshold, "n_compared": self.check.n_compared,
            "summary": self.check.summary(),
            "continuous_reference_offset": self.continuous_offset,
            "quench": None if self.quench is None else {
                "consistent": self.quench.consistent, "max_abs_z": self.quench.max_abs_z,
                "z_threshold": self.quench.threshold},
            "onsets": {k: {"exact": o.exact, "sample": o.sample, "sample_low": o.sample_low,
                           "sample_high": o.sample_high, "confidence": o.confidence}
                       for k, o in self.onsets.items()},
            "settling_time": self.settling_time,
            "settling_tolerance": self.settling_tolerance,
            "limit_cycle": None if self.limit_cycle is None else self.limit_cycle.to_dict(),
            "parameters": self.parameters,
        }

    @property
    def _stride(self) -> int:
        return max(1, round((self.times[1] - self.times[0]) / (self.fine_times[1]
                                                                - self.fine_times[0])))
