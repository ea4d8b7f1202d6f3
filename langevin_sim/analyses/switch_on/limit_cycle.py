"""What a switch-on settles on: a fixed point, a limit cycle, still growing or not settled
(:func:`limit_cycle`), and the time the instantaneous linearisation is unstable
(:func:`unstable_time`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def unstable_time(times, max_real) -> float:
    """Total time with ``max Re λ > 0``, linear interpolation between grid points."""
    t = np.asarray(times, float)
    v = np.asarray(max_real, float)
    total = 0.0
    for a, b, h in zip(v[:-1], v[1:], np.diff(t)):
        if a > 0 and b > 0:
            total += h
        elif a > 0 or b > 0:
            total += h * max(a, b) / (abs(a) + abs(b))
    return float(total)


def _amplitude(x) -> float:
    return 0.5 * float(np.max(x) - np.min(x)) if len(x) else float("nan")


@dataclass(frozen=True)
class LimitCycle:
    """What the switch-on settles on, from the last half of the run.

    ``kind`` is ``"fixed point"`` when a stable steady mean field exists (the ringing decays),
    ``"limit cycle"`` when none does and the mechanical oscillation of the mean field keeps its
    amplitude (within 10 % between the last two quarters of the run), ``"growing"`` when none
    does and it is still growing, ``"not settled"`` when none does but the switch-on's ringing
    is still decaying (near the threshold the instability grows too slowly to show within the
    run: run longer). Amplitudes are half the peak-to-peak swing of
    the displaced mode's x quadrature (mean field), and the rms radius
    ``sqrt(<(x − x̄)² + (p − p̄)²>)`` of (x, p) about the centre of the oscillation over the last
    quarter of the run, for the mean field and for the ensemble (± its jackknife SE; thermal
    fluctuations alone give about sqrt(2 n̄ + 1)).
    """

    kind: str
    mode: str
    fixed_point_stable: bool
    amplitude_mean_field: float
    amplitude_ratio: float
    radius_ensemble: float
    radius_ensemble_stderr: float
    radius_mean_field: float = float("nan")

    @property
    def detected(self) -> bool:
        return self.kind == "limit cycle"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "detected": self.detected, "mode": self.mode,
                "fixed_point_stable": self.fixed_point_stable,
                "amplitude_mean_field": self.amplitude_mean_field,
                "amplitude_ratio_last_quarters": self.amplitude_ratio,
                "radius_ensemble": self.radius_ensemble,
                "radius_ensemble_stderr": self.radius_ensemble_stderr,
                "radius_mean_field": self.radius_mean_field}


def limit_cycle(system, fine_times, fine_mean, result=None, stable: bool | None = None
                ) -> LimitCycle | None:
    """Classify the end of a switch-on (see :class:`LimitCycle`); None if no mode is displaced
    by radiation pressure. ``stable``: whether a stable steady mean field exists (found here
    if not given)."""
    if not system.radiation_pressure:
        return None
    mode = system.radiation_pressure[0][1]
    ix = 2 * system.mode_index(mode)
    t_end = fine_times[-1]
    q3 = (fine_times >= 0.5 * t_end) & (fine_times < 0.75 * t_end)
    q4 = fine_times >= 0.75 * t_end
    a3, a4 = _amplitude(fine_mean[q3, ix]), _amplitude(fine_mean[q4, ix])
    ratio = a4 / a3 if a3 > 0 else float("nan")
    if stable is None:
        stable = any(s.stable for s in system.mean_field_states())
    if stable:
        kind = "fixed point"
    elif ratio > 1.1:
        kind = "growing"
    elif ratio < 0.9:
        kind = "not settled"
    else:
        kind = "limit cycle"

    def rms_radius(means, covs=None):
        m = means[:, ix:ix + 2]
        r2 = np.sum((m - m.mean(axis=0)) ** 2, axis=1)
        if covs is not None:
            r2 = r2 + covs[:, ix, ix] + covs[:, ix + 1, ix + 1]
        return [math.sqrt(max(float(r2.mean()), 0.0))]

    radius = radius_se = float("nan")
    if result is not None:
        window = result.times >= 0.75 * result.times[-1]
        (radius,), (radius_se,) = result.record_statistic(
            lambda means, covs: rms_radius(means[window], covs[window]))
    return LimitCycle(kind, mode, bool(stable), a4, float(ratio), float(radius),
                      float(radius_se), rms_radius(fine_mean[q4])[0])
