"""The report of a switch-on (:class:`SwitchOnReport`) and its named parts: the references and
the ensemble along the records (:class:`ReferenceAtRecords`, :class:`EnsembleAtRecords`), the
continuous reference's offset from a baseline's own (:class:`ContinuousOffset`), settling
times (:class:`Settling`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .limit_cycle import LimitCycle
from .references import FINE_STEP


@dataclass(frozen=True)
class ReferenceAtRecords:
    """A reference along the records: ``mean`` (n_rec, d), ``covariance`` (n_rec, d, d) and the
    six measures of the pair (n_rec, 6), named ``names`` (E_N and G clipped at 0 in
    ``measures``, unclipped in ``measures_unclipped``)."""

    names: tuple
    mean: np.ndarray
    covariance: np.ndarray
    measures: np.ndarray
    measures_unclipped: np.ndarray

    def measure(self, name: str, clip: bool = True) -> np.ndarray:
        """One measure over the records (n_rec,), by name."""
        return (self.measures if clip else self.measures_unclipped)[:, self._column(name)]

    def _column(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"unknown measure {name!r}; names: {', '.join(self.names)}") from None

    def to_dict(self) -> dict:
        """Its part of the ``--json`` report: each measure by name, E_N unclipped, the
        moments."""
        out = {k: self.measures[:, i] for i, k in enumerate(self.names)}
        out["E_N_unclipped"] = self.measure("E_N", clip=False)
        out.update(mean=self.mean, covariance=self.covariance)
        return out


@dataclass(frozen=True)
class EnsembleAtRecords(ReferenceAtRecords):
    """The ensemble along the records: a :class:`ReferenceAtRecords` with the jackknife
    standard errors of each part, and whether each record's sampled pair is a quantum state
    (``physical``, (n_rec,))."""

    mean_stderr: np.ndarray
    covariance_stderr: np.ndarray
    measures_stderr: np.ndarray
    physical: np.ndarray

    def measure_stderr(self, name: str) -> np.ndarray:
        """The standard error of one measure over the records (the same clipped or not)."""
        return self.measures_stderr[:, self._column(name)]

    def to_dict(self) -> dict:
        out = {}
        for i, k in enumerate(self.names):
            out[k] = self.measures[:, i]
            out[f"{k}_stderr"] = self.measures_stderr[:, i]
        out["E_N_unclipped"] = self.measure("E_N", clip=False)
        out.update(mean=self.mean, mean_stderr=self.mean_stderr, covariance=self.covariance,
                   covariance_stderr=self.covariance_stderr)
        return out


@dataclass(frozen=True)
class ContinuousOffset:
    """How far the continuous reference is from the one a baseline's ensemble is judged
    against (its own): the largest ``|continuous − judged|`` in standard errors of the
    ensemble, of the means and of the covariances, and of the means in their own units."""

    mean_max_abs_z: float
    covariance_max_abs_z: float
    mean_max_abs: float

    def to_dict(self) -> dict:
        return {"mean_max_abs_z": self.mean_max_abs_z,
                "covariance_max_abs_z": self.covariance_max_abs_z,
                "mean_max_abs": self.mean_max_abs}


@dataclass(frozen=True)
class Settling:
    """Settling times (the model's time unit) of the continuous reference's means and
    covariance to the steady state, within the report's tolerance; NaN if not within the run
    or without a stable steady state."""

    mean: float = float("nan")
    covariance: float = float("nan")

    def to_dict(self) -> dict:
        return {"mean": self.mean, "covariance": self.covariance}


@dataclass(frozen=True)
class SwitchOnReport:
    """Everything ``langevin-sim switch-on`` computes; arrays over the record ``times``, and
    over ``fine_times`` (the continuous reference's fine grid) for the exact curves.

    ``reference`` is the continuous reference, ``discrete`` a baseline scheme's own (what a
    baseline's ensemble is judged against; None for ``ll``, which is judged against the
    continuous one), each a :class:`ReferenceAtRecords`; ``ensemble`` an :class:`EnsembleAtRecords`.
    ``displacement`` (``ll``): the ensemble's mean of δ = X − β(t), with
    ``displacement_stderr``, shapes (n_rec, d).
    """

    times: np.ndarray
    pair: tuple
    measure_names: tuple
    quadratures: tuple
    unit: str
    reference: ReferenceAtRecords
    discrete: ReferenceAtRecords | None
    ensemble: EnsembleAtRecords
    fine_times: np.ndarray
    fine_mean: np.ndarray
    detuning_mode: str
    fine_effective_detuning: np.ndarray
    effective_detuning: np.ndarray
    fine_max_real: np.ndarray
    unstable_time: float
    check: object
    continuous_offset: ContinuousOffset
    quench: object
    onsets: dict
    settling_time: Settling
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
    def judged(self) -> ReferenceAtRecords:
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

    def to_dict(self) -> dict:
        """The ``--json`` report (NaN becomes null when dumped)."""
        return {
            "partial": self.partial, "model": self.model, "pair": list(self.pair),
            "quadratures": list(self.quadratures), "unit": self.unit,
            "method": self.method, "dt": self.dt, "n_traj": self.n_traj, "seed": self.seed,
            "ramp": self.ramp, "ramp_time": self.ramp_time, "times": self.times,
            "reference": self.reference.to_dict(),
            "discrete_reference": None if self.discrete is None else self.discrete.to_dict(),
            "displacement": self.displacement,
            "displacement_stderr": self.displacement_stderr,
            "ensemble": self.ensemble.to_dict(),
            "unphysical_record_times": self.times[~self.ensemble.physical],
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
            "continuous_reference_offset": self.continuous_offset.to_dict(),
            "quench": None if self.quench is None else {
                "consistent": self.quench.consistent, "max_abs_z": self.quench.max_abs_z,
                "z_threshold": self.quench.threshold},
            "onsets": {k: {"exact": o.exact, "sample": o.sample, "sample_low": o.sample_low,
                           "sample_high": o.sample_high, "confidence": o.confidence}
                       for k, o in self.onsets.items()},
            "settling_time": self.settling_time.to_dict(),
            "settling_tolerance": self.settling_tolerance,
            "limit_cycle": None if self.limit_cycle is None else self.limit_cycle.to_dict(),
            "parameters": self.parameters,
        }

    @property
    def _stride(self) -> int:
        return max(1, round((self.times[1] - self.times[0]) / (self.fine_times[1]
                                                                - self.fine_times[0])))
