"""The report of a switch-on (:class:`SwitchOnReport`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .limit_cycle import LimitCycle
from .references import FINE_STEP


def _se(value, width: int = 7, spec: str = ".2g") -> str:
    """A standard error right-aligned, or "n/a" when there is none (fewer than 2 groups)."""
    return f"{value:{width}{spec}}" if np.isfinite(value) else f"{'n/a':>{width}}"


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

    def render(self, rows: int = 11) -> str:
        """A table at ``rows`` records and the summary lines."""
        q = self.quadratures
        a, b = self.pair
        ixb = q.index(f"x_{a}")
        idx = np.unique(np.linspace(0, self.times.size - 1, rows).round().astype(int))
        en, ref, dis = self.ensemble, self.reference, self.judged
        own = "scheme" if self.discrete is not None else "contin."
        lines = [
            f"switch-on of {self.model} ({self.ramp}"
            + (f", ramp time {self.ramp_time:g}" if self.ramp != "sudden" else "")
            + f"): {self.n_traj} truncated Wigner trajectories, {self.method}, dt = "
            f"{self.dt:g}/{self.unit}, seed {self.seed}"
            + (" (PARTIAL: interrupted)" if self.partial else ""),
            f"{'t (1/' + self.unit + ')':>8} {'Δ_' + self.detuning_mode:>9} "
            f"{'Var x_' + a:>10} {'± SE':>7} "
            f"{own:>9} {'contin.':>9} {'E_N':>8} {'± SE':>7} {own:>8}",
        ]
        en_col = self.measure_names.index("E_N")
        for i in idx:
            var, var_se = en["covariance"][i, ixb, ixb], en["covariance_stderr"][i, ixb, ixb]
            lines.append(
                f"{self.times[i]:8.4g} {self.effective_detuning[i]:9.4f} {var:10.4g} "
                f"{_se(var_se)} "
                f"{dis['covariance'][i, ixb, ixb]:9.4g} {ref['covariance'][i, ixb, ixb]:9.4g} "
                f"{en['measures'][i, en_col]:8.4f} {_se(en['measures_stderr'][i, en_col])} "
                f"{dis['measures'][i, en_col]:8.4f}")
        lines += ["", f"effective detuning Δ_{self.detuning_mode}(t) between "
                  f"{self.min_effective_detuning:.4g} and {self.max_effective_detuning:.4g} "
                  f"{self.unit}; instantaneous linearisation unstable for "
                  f"{self.unstable_time:.3g}/{self.unit} in total (resolution {FINE_STEP:g})"]
        for k, o in self.onsets.items():
            exact = "not within the run" if math.isnan(o.exact) else f"{o.exact:.4g}"
            sample = (f"not confidently within the run at {o.confidence:.0%}"
                      if math.isnan(o.sample_high) else
                      f"in ({o.sample_low:.4g}, {o.sample_high:.4g}] at {o.confidence:.0%}")
            lines.append(f"onset of {k}: exact {exact}; ensemble {sample}")
        st = self.settling_time
        def when(t):
            return "not within the run" if math.isnan(t) else f"{t:.4g}"

        lines.append(f"settling (within {self.settling_tolerance:g} of the steady state, "
                     f"continuous reference): mean {when(st['mean'])}, covariance "
                     f"{when(st['covariance'])}")
        lc = self.limit_cycle
        if lc is not None:
            if lc.kind == "fixed point":
                lines.append(f"end state: stable steady mean field (mean-field swing of x_{lc.mode}"
                             f" in the last quarter {lc.amplitude_mean_field:.4g}, "
                             f"{lc.amplitude_ratio:.3g}× the previous quarter's)")
            else:
                lines.append(f"end state: {lc.kind.upper()} (no stable steady mean field): "
                             f"mean-field amplitude of x_{lc.mode} {lc.amplitude_mean_field:.5g}"
                             f" ({lc.amplitude_ratio:.3g}× the previous quarter's); rms radius "
                             f"of (x_{lc.mode}, p_{lc.mode}): ensemble {lc.radius_ensemble:.6g} ± "
                             f"{_se(lc.radius_ensemble_stderr, 0)}, mean field "
                             f"{lc.radius_mean_field:.6g}")
        bad = ~self.ensemble["physical"]
        if bad.any():
            lines.append(f"WARNING: the sampled ({', '.join(self.pair)}) covariance is not "
                         f"physical at {int(bad.sum())} record(s) (first t = "
                         f"{self.times[bad][0]:g}): its measures there are unreliable")
        off = self.continuous_offset
        if self.discrete is not None:
            lines.append(f"continuous reference vs the scheme's: means differ by up to "
                         f"{_se(off['mean_max_abs_z'], 0, '.3g')} SE, covariances by up to "
                         f"{_se(off['covariance_max_abs_z'], 0, '.3g')} SE (discretisation "
                         "error)")
        if self.displacement is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                zd = np.abs(self.displacement / self.displacement_stderr)
            if np.any(np.isfinite(zd)):
                zd = np.where(np.isfinite(zd), zd, 0.0)
                r, c = np.unravel_index(int(np.argmax(zd)), zd.shape)
                lines.append(f"mean of δ (the ensemble's displacement from the mean field): "
                             f"largest {self.displacement[r, c]:.3g} ± "
                             f"{self.displacement_stderr[r, c]:.2g} at {q[c]}, t = "
                             f"{self.times[r]:g} ({zd[r, c]:.2f} SE)")
            else:
                r, c = np.unravel_index(int(np.argmax(np.abs(self.displacement))),
                                        self.displacement.shape)
                lines.append(f"mean of δ (the ensemble's displacement from the mean field): "
                             f"largest {self.displacement[r, c]:.3g} at {q[c]}, t = "
                             f"{self.times[r]:g} (standard error n/a)")
        if self.quench is not None:
            lines.append(f"quench of the linearised system (Δ_{self.detuning_mode} frozen at its "
                         f"final value, today's relax): max |z| = {self.quench.max_abs_z:.3g} "
                         "against this "
                         f"ensemble ({'consistent' if self.quench.consistent else 'INCONSISTENT'})")
        if self.verdict_applies:
            which = "the scheme's" if self.discrete is not None else "the continuous"
            lines.append(self.check.summary() + f" (ensemble vs {which} reference: means "
                         "and covariances at every record)")
        else:
            lines.append(f"no verdict beyond the threshold (max |z| = {self.check.max_abs_z:.3g} "
                         "against the linearised reference, which cannot follow the diffusing "
                         "phase of a self-oscillation)")
        return "\n".join(lines)
