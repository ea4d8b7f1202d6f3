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
"""

from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass, field, replace

import numpy as np

from ._kernels.meanfield import mean_and_covariance_rhs
from .engine.initial import thermal_state  # noqa: F401  (its public path in 0.2)
from .integrators.ll import jacobians


@dataclass(frozen=True)
class Reference:
    """Mean field and fluctuation covariance along a switch-on, at the record times.

    Attributes
    ----------
    times : ndarray (n_t,)
    mean : ndarray (n_t, d)
        Mean-field quadratures.
    covariance : ndarray (n_t, d, d)
        Covariance of the fluctuations (vacuum variance 1/2).
    effective_detunings : ndarray (n_t, n_modes)
        ``(A[x,p] - A[p,x])/2`` of each mode's block of ``A(t)``: for a cavity with radiation
        pressure ``Δ(t) = δ + 2 g0 Re β(t)``.
    max_real_eigenvalue : ndarray (n_t,)
        Largest real part of the eigenvalues of ``A(t)`` (> 0: the instantaneous
        linearisation is unstable).
    mode_labels : tuple of str
    """

    times: np.ndarray
    mean: np.ndarray
    covariance: np.ndarray
    effective_detunings: np.ndarray
    max_real_eigenvalue: np.ndarray
    mode_labels: tuple
    solution: object = None
    """The dense output of the integration (mean and vectorised covariance), or None."""

    def mean_path(self):
        """The mean field as the path of an ``ll`` frame
        (:class:`~langevin_sim.integrators.ll.Path`, mean-field ordering)."""
        from .integrators.ll import Path

        d = self.mean.shape[1]
        return Path(solution=self.solution, t_end=float(self.times[-1]), ordering="mean-field",
                    components=d)


def reference(system, times, mean0=None, sigma0=None, rtol: float = 1e-11) -> Reference:
    """Integrate the mean field and the fluctuation covariance from ``(mean0, sigma0)``
    (default: means 0, every mode thermal at its bath) and record them at ``times``.

    Parameters
    ----------
    system : LangevinSystem
    times : array_like (n_t,)
        Increasing record times >= 0 (the drives switch on at t = 0).
    rtol : float
        Relative tolerance of the adaptive integrator (DOP853); the absolute tolerance is
        ``rtol`` times the scale of each component.
    """
    from scipy.integrate import solve_ivp

    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(~np.isfinite(t)) or np.any(t < 0) \
            or np.any(np.diff(t) <= 0):
        raise ValueError("times must be increasing, finite and >= 0")
    d = system.dim
    mean0 = np.zeros(d) if mean0 is None else np.asarray(mean0, float)
    sigma0 = thermal_state(system) if sigma0 is None else np.asarray(sigma0, float)
    diffusion = system.noise_input @ np.diag(system.occupations + 0.5) @ system.noise_input.T
    terms = system.compiled_terms("mean-field")

    def rhs(ti, y):  # compiled: (f(x, t), J σ + σ Jᵀ + D)
        out = np.empty(y.size)
        mean_and_covariance_rhs(ti, y, *terms, diffusion, out)
        return out

    steady = system.mean_field_states()
    scale_x = max(1.0, max((float(np.max(np.abs(st.state))) for st in steady), default=1.0))
    atol = np.concatenate([np.full(d, rtol * scale_x), np.full(d * d, rtol * max(
        1.0, float(np.max(np.abs(sigma0)))))])
    y0 = np.concatenate([mean0, sigma0.ravel()])
    sol = solve_ivp(rhs, (0.0, float(t[-1])), y0, method="DOP853", t_eval=t, rtol=rtol,
                    atol=atol, dense_output=True)
    if not sol.success:
        raise RuntimeError(f"the mean-field integration failed: {sol.message}")
    means = sol.y[:d].T
    covs = sol.y[d:].T.reshape(-1, d, d)
    covs = 0.5 * (covs + np.swapaxes(covs, -1, -2))
    jac = jacobians(system, means, ordering="mean-field")
    dets = 0.5 * (jac[:, 0::2, 1::2].diagonal(axis1=1, axis2=2)
                  - jac[:, 1::2, 0::2].diagonal(axis1=1, axis2=2))
    maxre = np.max(np.linalg.eigvals(jac).real, axis=1)
    return Reference(t, means, covs, dets, maxre, system.mode_labels, sol.sol)


# -- the scheme's own reference ------------------------------------------------------------------
def discrete_reference(system, times, method: str, dt: float, mean0, sigma0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances of the scheme's own discretisation of the switch-on, at ``times``
    (multiples of ``dt``).

    Means follow the scheme's noise-free map with the mean-field drift (the ensemble mean of
    the Weyl symbol ``(x² + p²)/2 − 1/2`` is ``|ᾱ|²`` up to the fluctuations' O(g0) share);
    the covariance follows the scheme's linear recursion along them, ``Σ ← F_n Σ F_nᵀ + G_n
    G_nᵀ``, with ``F_n``, ``G_n`` from the Jacobians at the mean and (exponential Heun) at its
    predictor, exactly as :func:`~langevin_sim.integrators.nonlinear.linear_reduction`.
    """
    from .twa import SCHEME_IDS, _mean_map, scheme_reduction

    if method not in SCHEME_IDS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(SCHEME_IDS)}")
    targets = np.round(np.asarray(times, float) / dt).astype(np.int64)
    advance = _mean_map(system, method, dt)
    reduce = scheme_reduction(system, method, dt)
    x = np.asarray(mean0, float).copy()
    s = np.asarray(sigma0, float).copy()
    means, covs, n = [], [], 0
    for target in targets:
        while n < target:
            x_next, xt = advance(x, n * dt)
            f, g = reduce(x, xt)
            s = f @ s @ f.T + g @ g.T
            x = x_next
            n += 1
        means.append(x.copy())
        covs.append(0.5 * (s + s.T))
    return np.array(means), np.array(covs)


# -- the switch-on report --------------------------------------------------------------------------
RAMP_KINDS = ("sudden", "linear", "smooth")
DEFAULT_MODEL = "cascade-full"
FINE_STEP = 0.05
"""Spacing (in the model's time unit) of the continuous reference's fine grid, on which the
effective detuning, the unstable time (resolved to this), onsets and settling are evaluated."""


def check_switchable(system, name: str) -> None:
    """``ValueError`` (one line saying what is missing) unless ``system`` is driven and has a
    radiation-pressure term, whose cavity's effective detuning the switch-on follows."""
    if system.is_driven and system.radiation_pressure:
        return
    missing = " and no ".join(w for w, ok in (("drive ([[drives]])", system.is_driven),
                                              ("radiation_pressure term",
                                               bool(system.radiation_pressure))) if not ok)
    raise ValueError(f"switch-on needs a driven model with radiation pressure (it follows the "
                     f"effective detuning of the radiation-pressure cavity); model {name!r} "
                     f"has no {missing} (any model switches on with `langevin-sim evolve "
                     "--initial vacuum`, a linear one relaxes with relax)")


def with_ramp(system, ramp: str, ramp_time: float | None):
    """``system`` with every drive switched on by ``ramp`` over ``ramp_time``: ``sudden``
    (at t = 0), ``linear`` (``E·min(1, t/T)``), ``smooth`` (``E·sin²(πt/2T)`` for t < T)."""
    if ramp not in RAMP_KINDS:
        raise ValueError(f"ramp must be one of {', '.join(RAMP_KINDS)}, got {ramp!r}")
    if ramp == "sudden":
        return replace(system, ramps=tuple(("sudden", 0.0) for _ in system.ramps))
    if ramp_time is None or not (math.isfinite(ramp_time) and ramp_time > 0):
        raise ValueError(f"ramp_time must be a finite number > 0 for a {ramp} ramp, got "
                         f"{ramp_time!r}")
    return replace(system, ramps=tuple((ramp, float(ramp_time)) for _ in system.ramps))


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


def _clipped(values: np.ndarray) -> np.ndarray:
    """Measures with E_N and both G clipped at 0 (columns 0, 4, 5), as reported."""
    out = np.array(values, dtype=float, copy=True)
    out[:, [0, 4, 5]] = np.maximum(out[:, [0, 4, 5]], 0.0)
    return out


def _max_finite(a) -> float:
    """The largest finite entry (NaN if none: no standard error exists, e.g. one group)."""
    a = np.asarray(a, float)
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else float("nan")


def _se(value, width: int = 7, spec: str = ".2g") -> str:
    """A standard error right-aligned, or "n/a" when there is none (fewer than 2 groups)."""
    return f"{value:{width}{spec}}" if np.isfinite(value) else f"{'n/a':>{width}}"


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


def drive_parameters(model, overrides: dict) -> dict:
    """Resolve ``drive_power_w`` (W) or ``drive_amplitude`` (|E|, the model's rate unit) into
    the model's ``drive_re``/``drive_im`` (a real E), as ``--set`` values.

    ``|E| = sqrt(κ1 P / (ħ ω_d))`` for a drive of power P through cavity 1's port (rates in the
    model's unit ω_b = 2π·omega_b_hz; ω_d = 2π(f_m_hz − delta_m·omega_b_hz), the drive's lab
    frequency). Other entries pass through; the bare detuning keeps its value (``delta1_bare``
    may be set alongside).
    """
    from .conventions import HBAR

    out = dict(overrides)
    power = out.pop("drive_power_w", None)
    amp = out.pop("drive_amplitude", None)
    if power is None and amp is None:
        return out
    if power is not None and amp is not None:
        raise ValueError("set either drive_power_w or drive_amplitude, not both")
    params = model.replace(**out).as_dict()
    needed = ("drive_re", "drive_im", "kappa1", "omega_b_hz", "f_m_hz", "delta_m")
    if any(k not in params for k in needed):
        raise ValueError("drive_power_w and drive_amplitude apply to a model with the "
                         f"parameters {', '.join(needed)} (cascade-full)")
    if amp is None:
        if not (math.isfinite(power) and power >= 0):
            raise ValueError(f"drive_power_w must be a finite number >= 0 (W), got {power!r}")
        unit = 2 * math.pi * params["omega_b_hz"]
        omega_d = 2 * math.pi * (params["f_m_hz"] - params["delta_m"] * params["omega_b_hz"])
        amp = math.sqrt(params["kappa1"] * unit * power / (HBAR * omega_d)) / unit
    elif not (math.isfinite(amp) and amp >= 0):
        raise ValueError(f"drive_amplitude must be a finite number >= 0, got {amp!r}")
    return {**out, "drive_re": float(amp), "drive_im": 0.0}


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
        out["E_N_unclipped"] = part["measures_unclipped"][:, 0]
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
        for i in idx:
            var, var_se = en["covariance"][i, ixb, ixb], en["covariance_stderr"][i, ixb, ixb]
            lines.append(
                f"{self.times[i]:8.4g} {self.effective_detuning[i]:9.4f} {var:10.4g} "
                f"{_se(var_se)} "
                f"{dis['covariance'][i, ixb, ixb]:9.4g} {ref['covariance'][i, ixb, ixb]:9.4g} "
                f"{en['measures'][i, 0]:8.4f} {_se(en['measures_stderr'][i, 0])} "
                f"{dis['measures'][i, 0]:8.4f}")
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


def switch_on(model=None, *, pair=None, ramp: str = "sudden", ramp_time: float | None = None,
              t_final: float = 1000.0, record_every: float = 1.0, method: str = "ll",
              dt: float | None = None, n_traj: int = 4096, seed: int | None = 2024,
              alpha: float = 0.01, confidence: float = 0.99, tol: float = 0.01,
              chunk_size: int | None = None, backend=None, progress: bool = False
              ) -> SwitchOnReport:
    """Switch the drive on: a truncated Wigner ensemble of the full model from the thermal
    state (drive off before t = 0), against the continuous reference (ll, the default) or a
    baseline scheme's own reference (the continuous one reported beside).

    Parameters
    ----------
    model : model, name or file, optional
        A nonlinear driven model (default ``cascade-full`` at the paper's point, g0 = 1.5e-5).
    ramp, ramp_time : str, float
        ``sudden``; ``linear`` (``E·min(1, t/T)``) or ``smooth`` (``E·sin²(πt/2T)``) over T.
    t_final, record_every : float
        Run length and record spacing (the model's time unit; multiples of ``dt``).
    method, dt : str, float
        ``ll`` (default, dt = 0.1; judged against the continuous reference), or a baseline
        ``em`` (dt 0.002), ``exp-euler`` (0.01), ``exp-heun`` (0.02), judged against its own.
    alpha : float
        Family-wise significance of the max-|z| test.
    confidence : float
        One-sided confidence of the ensemble's onset brackets.
    tol : float
        Settling tolerance (relative distance of means and covariance to the steady state).
    """
    from .gaussian import small_linear_algebra

    with small_linear_algebra():  # many small matrices: BLAS threads only cost
        return _switch_on(model, pair=pair, ramp=ramp, ramp_time=ramp_time, t_final=t_final,
                          record_every=record_every, method=method, dt=dt, n_traj=n_traj,
                          seed=seed, alpha=alpha, confidence=confidence, tol=tol,
                          chunk_size=chunk_size, backend=backend, progress=progress)


def _switch_on(model, *, pair, ramp, ramp_time, t_final, record_every, method, dt, n_traj,
               seed, alpha, confidence, tol, chunk_size, backend, progress) -> SwitchOnReport:
    from .ensemble import check_verdict_size
    from .errors import StepTooLargeError
    from .measures import measure_names, measures_stack
    from .models import as_model, check_pair
    from .statistics import MIN_VERDICT_GROUPS, consistency
    from .twa import DEFAULT_DT, METHODS, discrete_steady_state, simulate_twa

    model = as_model(DEFAULT_MODEL if model is None else model)
    if not hasattr(model, "build"):
        raise ValueError("switch-on needs a model description with drives and a "
                         "radiation-pressure term (such as cascade-full or optomech), not a "
                         "fixed linear system")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    dt = DEFAULT_DT[method] if dt is None else float(dt)
    for name, v in (("dt", dt), ("t_final", t_final), ("record_every", record_every)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    if not 0 < alpha < 1 or not 0.5 < confidence < 1:
        raise ValueError("alpha must be in (0, 1) and confidence in (0.5, 1)")
    per = round(record_every / dt)
    if per < 1 or abs(per * dt - record_every) > 1e-9 * record_every:
        raise ValueError(f"record_every = {record_every:g} must be a multiple of dt = {dt:g}")
    n_rec = int(math.floor(t_final / record_every + 1e-9))
    if n_rec < 4:
        raise ValueError(f"t_final = {t_final:g} gives {n_rec} records after t = 0; need at "
                         f"least 4 (record_every = {record_every:g})")
    check_verdict_size(n_traj, chunk_size)
    system = with_ramp(model.build(), ramp, ramp_time)
    check_switchable(system, model.name)
    pair = check_pair(system.mode_labels, model.pair(pair))
    names = measure_names(pair)
    stable = [s for s in system.mean_field_states() if s.stable]
    if stable and method != "ll":  # a baseline must be stable where the switch-on ends
        discrete_steady_state(system, method, dt, stable[0].state)  # (StepTooLargeError)
    times = record_every * np.arange(n_rec + 1)
    sub = max(1, math.ceil(record_every / FINE_STEP))
    fine = np.arange(n_rec * sub + 1) * (record_every / sub)
    mean0 = np.zeros(system.dim)
    sigma0 = thermal_state(system)

    # the references (cheap; computed first so that a failure costs no simulation)
    cont = reference(system, fine, mean0, sigma0)
    rec = slice(None, None, sub)
    path = None
    if method == "ll":  # judged against the continuous reference, whose mean it follows
        path = cont.mean_path()
        dmean, dcov = cont.mean[rec], cont.covariance[rec]
    else:
        dmean, dcov = discrete_reference(system, times, method, dt, mean0, sigma0)
    res = simulate_twa(system, times, method=method, dt=dt, n_traj=n_traj, seed=seed,
                       initial=(mean0, sigma0), chunk_size=chunk_size, backend=backend,
                       progress=progress, metadata={"parameters": model.as_dict(),
                                                    "model": model.name, "pair": list(pair)},
                       path=path)

    bad = ~(np.all(np.isfinite(res.mean), axis=1)
            & np.all(np.isfinite(res.covariance), axis=(1, 2)))
    if bad.any():
        raise StepTooLargeError(f"the {method} ensemble diverged at t = {times[bad][0]:g} "
                                f"(dt = {dt:g}): take a smaller dt")
    sel = res.two_mode_selector(pair)
    ix = (slice(None),) + np.ix_(sel, sel)
    raw = res.measures(pair, clip=False, progress=progress)  # one pass; clipped = max(0, ·)

    def block(mean, cov):
        values = measures_stack(cov[ix], clip=False)
        return {"mean": mean, "covariance": cov, "measures": _clipped(values),
                "measures_unclipped": values}

    ref_block = block(cont.mean[rec], cont.covariance[rec])
    dis_block = None if method == "ll" else block(dmean, dcov)
    ens = {"mean": res.mean, "mean_stderr": res.mean_stderr, "covariance": res.covariance,
           "covariance_stderr": res.covariance_stderr, "measures": _clipped(raw.values),
           "measures_stderr": raw.stderr, "measures_unclipped": raw.values,
           "measures_unclipped_stderr": raw.stderr, "physical": raw.physical}
    iu = np.triu_indices(system.dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        zc = (res.covariance - dcov) / res.covariance_stderr
        zm = (res.mean - dmean) / res.mean_stderr
        off_m = np.abs(cont.mean[rec] - dmean) / res.mean_stderr
        off_c = np.abs(cont.covariance[rec] - dcov) / res.covariance_stderr
    check = consistency(np.concatenate([zc[:, iu[0], iu[1]].ravel(), zm.ravel()]), alpha,
                        res.jackknife_dof, min_groups=MIN_VERDICT_GROUPS)
    offset = {"mean_max_abs_z": _max_finite(off_m), "covariance_max_abs_z": _max_finite(off_c),
              "mean_max_abs": float(np.max(np.abs(cont.mean[rec] - dmean)))}

    quench = settle = None
    if stable:  # the one with the fewest photons, as linear_system() takes
        quench, settle = _against_the_steady_state(system, stable[0].state, times, fine, cont,
                                                   res, sigma0, alpha, tol)
    onsets = _onsets(names, sel, times, fine, sub, ref_block, cont, raw, confidence)
    photon = system.radiation_pressure[0][0]
    det = cont.effective_detunings[:, system.mode_index(photon)]
    return SwitchOnReport(
        times=times, pair=pair, measure_names=names, quadratures=system.quadrature_labels(),
        unit=getattr(model, "unit", "ω_b") or "ω_b", reference=ref_block, discrete=dis_block,
        ensemble=ens, fine_times=fine, fine_mean=cont.mean,
        detuning_mode=photon,
        fine_effective_detuning=det, effective_detuning=det[rec],
        fine_max_real=cont.max_real_eigenvalue,
        unstable_time=unstable_time(fine, cont.max_real_eigenvalue), check=check,
        continuous_offset=offset, quench=quench, onsets=onsets,
        settling_time=settle or {"mean": float("nan"), "covariance": float("nan")},
        limit_cycle=limit_cycle(system, fine, cont.mean, res, bool(stable)), method=method,
        dt=dt,
        n_traj=res.n_traj, seed=res.seed, ramp=ramp,
        ramp_time=0.0 if ramp == "sudden" else float(ramp_time), partial=res.partial,
        parameters=model.as_dict(), model=model.name, settling_tolerance=tol,
        displacement=None if path is None else res.mean - path(times),
        displacement_stderr=None if path is None else res.mean_stderr)


def _against_the_steady_state(system, steady_mean, times, fine, cont, res, sigma0, alpha, tol):
    """Today's ``relax`` (the linearisation at the final mean field quenched from ``sigma0``,
    Δ1 frozen) checked against the ensemble, and the settling times of the continuous
    reference's means and covariance to the steady state."""
    from .gaussian import steady_state, transient
    from .relaxation import settling_time
    from .statistics import consistency

    lin = system.linearise(steady_mean)
    sigma_inf = steady_state(lin)
    _, qcov = transient(lin, times, sigma0, None, sigma_inf)
    iu = np.triu_indices(system.dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        zq = (res.covariance - qcov) / res.covariance_stderr
    quench = consistency(zq[:, iu[0], iu[1]].ravel(), alpha, res.jackknife_dof)
    dist_m = np.linalg.norm(cont.mean - steady_mean, axis=1) / np.linalg.norm(steady_mean)
    dist_c = np.linalg.norm(cont.covariance - sigma_inf, axis=(1, 2)) / np.linalg.norm(sigma_inf)
    return quench, {"mean": settling_time(fine, dist_m, tol),
                    "covariance": settling_time(fine, dist_c, tol)}


def _onsets(names, sel, times, fine, sub, ref_block, cont, raw, confidence) -> dict:
    """Entanglement and steering onsets: the first crossing of the continuous reference at the
    records, located on the fine grid inside that record interval; the ensemble's with
    one-sided brackets (:func:`~langevin_sim.relaxation.sample_onset`)."""
    from .relaxation import Onset, _first_crossing, _indicator, sample_onset

    onsets = {}
    for k in (names[0], names[2], names[4]):
        func, thr, above = _indicator(k)
        col = names.index(k)
        _, i = _first_crossing(times, ref_block["measures_unclipped"][:, col], thr, above)
        exact = float("nan") if i < 0 else 0.0
        if i > 0:
            seg = slice((i - 1) * sub, i * sub + 1)
            vals = [func(c[np.ix_(sel, sel)]) for c in cont.covariance[seg]]
            exact, _ = _first_crossing(fine[seg], np.array(vals), thr, above)
        point, low, high = sample_onset(times, raw.values[:, col], raw.stderr[:, col], k,
                                        confidence)
        onsets[k] = Onset(k, exact, point, low, high, confidence)
    return onsets


class _CallableModule(types.ModuleType):
    """``langevin_sim.switch_on`` is this module, and calling it is :func:`switch_on`, so that
    both ``langevin_sim.switch_on(...)`` and ``langevin_sim.switch_on.reference`` work."""

    def __call__(self, *args, **kwargs):
        return switch_on(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
