"""Running a switch-on: the ramp, the references, the ensemble and the report
(:func:`switch_on`)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ...engine import (
    DEFAULT_DT,
    METHODS,
    check_verdict_size,
    discrete_steady_state,
    simulate_twa,
)
from ...engine.initial import thermal_state
from ...errors import StepTooLargeError
from ...gaussian import small_linear_algebra, steady_state, transient
from ...measures import clipped_at_zero, measure_names, measures_stack, onset_names
from ...models import as_model, check_pair
from ...statistics import MIN_VERDICT_GROUPS, consistency
from ..onsets import Onset, first_crossing, indicator, sample_onset
from ..relax import settling_time
from .limit_cycle import limit_cycle, unstable_time
from .references import FINE_STEP, discrete_reference, reference
from .report import (
    ContinuousOffset,
    EnsembleAtRecords,
    ReferenceAtRecords,
    Settling,
    SwitchOnReport,
)

RAMP_KINDS = ("sudden", "linear", "smooth")
DEFAULT_MODEL = "cascade-full"


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


def _clipped(values: np.ndarray, names) -> np.ndarray:
    """Measures (n, 6) named ``names`` with E_N and both G clipped at 0, as reported."""
    out = np.array(values, dtype=float, copy=True)
    cols = [i for i, k in enumerate(names) if clipped_at_zero(k)]
    out[:, cols] = np.maximum(out[:, cols], 0.0)
    return out


def _max_finite(a) -> float:
    """The largest finite entry (NaN if none: no standard error exists, e.g. one group)."""
    a = np.asarray(a, float)
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else float("nan")


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

    with small_linear_algebra():  # many small matrices: BLAS threads only cost
        return _switch_on(model, pair=pair, ramp=ramp, ramp_time=ramp_time, t_final=t_final,
                          record_every=record_every, method=method, dt=dt, n_traj=n_traj,
                          seed=seed, alpha=alpha, confidence=confidence, tol=tol,
                          chunk_size=chunk_size, backend=backend, progress=progress)


def _switch_on(model, *, pair, ramp, ramp_time, t_final, record_every, method, dt, n_traj,
               seed, alpha, confidence, tol, chunk_size, backend, progress) -> SwitchOnReport:

    model = as_model(DEFAULT_MODEL if model is None else model)
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

    def block(mean, cov) -> ReferenceAtRecords:
        values = measures_stack(cov[ix], clip=False)
        return ReferenceAtRecords(names, mean, cov, _clipped(values, names), values)

    ref_block = block(cont.mean[rec], cont.covariance[rec])
    dis_block = None if method == "ll" else block(dmean, dcov)
    # the standard error of max(0, x) is taken as that of x (clipping only where x < 0)
    ens = EnsembleAtRecords(names, res.mean, res.covariance, _clipped(raw.values, names),
                            raw.values, res.mean_stderr, res.covariance_stderr, raw.stderr,
                            raw.physical)
    iu = np.triu_indices(system.dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        zc = (res.covariance - dcov) / res.covariance_stderr
        zm = (res.mean - dmean) / res.mean_stderr
        off_m = np.abs(cont.mean[rec] - dmean) / res.mean_stderr
        off_c = np.abs(cont.covariance[rec] - dcov) / res.covariance_stderr
    check = consistency(np.concatenate([zc[:, iu[0], iu[1]].ravel(), zm.ravel()]), alpha,
                        res.jackknife_dof, min_groups=MIN_VERDICT_GROUPS)
    offset = ContinuousOffset(_max_finite(off_m), _max_finite(off_c),
                              float(np.max(np.abs(cont.mean[rec] - dmean))))

    quench = settle = None
    if stable:  # the one with the fewest photons, as linear_system() takes
        quench, settle = _against_the_steady_state(system, stable[0].state, times, fine, cont,
                                                   res, sigma0, alpha, tol)
    onsets = _onsets(pair, sel, times, fine, sub, ref_block, cont, raw, confidence)
    photon = system.radiation_pressure[0][0]
    det = cont.effective_detunings[:, system.mode_index(photon)]
    return SwitchOnReport(
        times=times, pair=pair, measure_names=names, quadratures=system.quadrature_labels(),
        unit=model.unit, reference=ref_block, discrete=dis_block,
        ensemble=ens, fine_times=fine, fine_mean=cont.mean,
        detuning_mode=photon,
        fine_effective_detuning=det, effective_detuning=det[rec],
        fine_max_real=cont.max_real_eigenvalue,
        unstable_time=unstable_time(fine, cont.max_real_eigenvalue), check=check,
        continuous_offset=offset, quench=quench, onsets=onsets,
        settling_time=settle or Settling(),
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

    lin = system.linearise(steady_mean)
    sigma_inf = steady_state(lin)
    _, qcov = transient(lin, times, sigma0, None, sigma_inf)
    iu = np.triu_indices(system.dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        zq = (res.covariance - qcov) / res.covariance_stderr
    quench = consistency(zq[:, iu[0], iu[1]].ravel(), alpha, res.jackknife_dof)
    dist_m = np.linalg.norm(cont.mean - steady_mean, axis=1) / np.linalg.norm(steady_mean)
    dist_c = np.linalg.norm(cont.covariance - sigma_inf, axis=(1, 2)) / np.linalg.norm(sigma_inf)
    return quench, Settling(settling_time(fine, dist_m, tol), settling_time(fine, dist_c, tol))


def _onsets(pair, sel, times, fine, sub, ref_block, cont, raw, confidence) -> dict:
    """Entanglement and steering onsets: the first crossing of the continuous reference at the
    records, located on the fine grid inside that record interval; the ensemble's with
    one-sided brackets (:func:`~langevin_sim.analyses.onsets.sample_onset`)."""

    onsets = {}
    names = measure_names(pair)
    for k in onset_names(pair):
        func, thr, above = indicator(k)
        col = names.index(k)
        _, i = first_crossing(times, ref_block.measure(k, clip=False), thr, above)
        exact = float("nan") if i < 0 else 0.0
        if i > 0:
            seg = slice((i - 1) * sub, i * sub + 1)
            vals = [func(c[np.ix_(sel, sel)]) for c in cont.covariance[seg]]
            exact, _ = first_crossing(fine[seg], np.array(vals), thr, above)
        point, low, high = sample_onset(times, raw.values[:, col], raw.stderr[:, col], k,
                                        confidence)
        onsets[k] = Onset(k, exact, point, low, high, confidence)
    return onsets
