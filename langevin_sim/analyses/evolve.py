"""Evolve any model from its initial state: the continuous reference beside an ensemble.

A model may be time-dependent: envelopes on its terms and drives, and temporal modes of its
output fields (:mod:`langevin_sim.models.description`). The reference integrates the mean
field ``dx/dt = f(x, t)`` together with the covariance equation

``dσ/dt = J(t) σ + σ J(t)ᵀ + D(t)``,   ``J = ∂f/∂X`` at ``(x(t), t)``,

by DOP853 at a tight tolerance, one piece between consecutive envelope breakpoints (a box
pulse's edges). For a linear model this is exact; for a nonlinear one it is the linearisation
along the mean-field path (exact up to O(g0/g), docs/physics.md). A temporal mode is a mode of
the state (an accumulator, ``D(t)`` carrying its noise and the cross terms with the port's
mode), so its joint Gaussian state with the others comes out of the same equation.

The ensemble runs the truncated Wigner dynamics on the ``ll`` step
(:mod:`langevin_sim.integrators.ll`): the frame follows the deterministic path β(t), and each
step's matrices come from ``J(β(t_m), t_m)`` and ``D(t_m)`` at the step's midpoint ``t_m``, the
envelopes included. Every trajectory thereby accumulates each temporal mode's integral from its
own noise increments, the way a matched filter integrates a homodyne record.

Before its window closes, a temporal mode holds a partial integral: its moments are reported
(they are what the accumulator holds) but the measures of a pair that contains it are not
(``null`` in JSON, "partial" in text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..engine import (
    DEFAULT_DT,
    DEFAULT_N_TRAJ,
    JACKKNIFE_GROUPS,
    METHODS,
    EnsembleResult,
    check_cost,
    check_verdict_size,
    chunk_sizes,
    run_plan,
    simulate_twa,
    thermal_state,
)
from ..engine.plans import plan_with_terms
from ..gaussian import psd_factor, steady_state
from ..integrators.ll import (
    BLOCK_STEPS,
    PATH_RTOL,
    StepMatrices,
    add_polynomial_jacobian,
    block_matrices,
    check_matrix_memory,
)
from ..measures import Measures, measure_names, measures_stack, two_mode_measures
from ..models import as_model, check_pair
from ..observables import at_records
from ..statistics import MIN_VERDICT_GROUPS, Consistency, Moments, consistency, z_scores
from ..systems.nonlinear import ramp_factor
from .detect import (
    PHASE_SETTINGS,
    certify,
    estimate,
    record_layout,
    records_needed,
)
from .steady import resolve_observable_request
from .validate import compare_observables

REFERENCE_RTOL = 1e-10
"""Relative tolerance of the DOP853 integration of the reference (mean and covariance)."""
FINE_POINTS = 400
"""Points of the reference's fine grid (plots)."""
MAX_RECORDS = 10000
"""Most record times of one run (each holds the moments of every chunk)."""


# -- initial state -------------------------------------------------------------------------
def initial_state(system, spec="thermal") -> tuple[np.ndarray, np.ndarray]:
    """``(mean, covariance)`` of the initial state: ``"thermal"`` (every mode at its baths),
    ``"vacuum"``, ``"steady"`` (the steady state of the model with every envelope frozen at
    its value at t = 0, e.g. before a pulse that starts later), a path to an ``.npz``
    (:func:`~langevin_sim.analyses.relax.load_initial`) or ``(mean, covariance)`` of the model's
    physical modes (or of every mode). Temporal modes start empty: mean 0 and zero
    covariance (an accumulator, not a field)."""

    d = system.dim
    n_tm = 2 * len(system.temporal_modes)
    d0 = d - n_tm
    if isinstance(spec, str):
        if spec == "steady":
            mean, cov = _frozen_steady_state(system, d0)
        elif spec == "thermal":
            mean, cov = np.zeros(d), thermal_state(system)
        elif spec == "vacuum":
            mean, cov = np.zeros(d), 0.5 * np.eye(d)
        else:
            from .relax import load_initial

            mean, cov = load_initial(spec)
    else:
        mean, cov = spec
    cov = np.asarray(cov, float)
    mean = np.zeros(cov.shape[0]) if mean is None else np.asarray(mean, float)
    if cov.shape not in ((d, d), (d0, d0)) or mean.shape != (cov.shape[0],):
        raise ValueError(f"the initial state must have a covariance of shape ({d0}, {d0}) or "
                         f"({d}, {d}) and a mean to match, got {cov.shape} and {mean.shape}")
    if not (np.all(np.isfinite(cov)) and np.all(np.isfinite(mean))):
        raise ValueError("the initial mean and covariance must be finite")
    full_mean, full_cov = np.zeros(d), np.zeros((d, d))
    full_mean[:d0], full_cov[:d0, :d0] = mean[:d0], cov[:d0, :d0]
    return full_mean, 0.5 * (full_cov + full_cov.T)


def _frozen_steady_state(system, d0: int) -> tuple[np.ndarray, np.ndarray]:
    """The steady state (mean field, covariance) of the physical modes (the first ``d0``
    quadratures) with every envelope frozen at t = 0; ``UnstableSystemError`` if there is
    none."""

    t0 = 0.0

    envs = system.drive_envelopes or (None,) * len(system.ramps)
    scale = np.array([float(ramp_factor(kind, tr, t0)) * (1.0 if e is None else float(e(t0)))
                      for e, (kind, tr) in zip(envs, system.ramps)])
    frozen = replace(
        system, mode_labels=system.mode_labels[:d0 // 2],
        linear=system.linear_at(t0, "mean-field")[:d0, :d0],
        noise_input=system.noise_input_at(t0)[:d0],
        weyl_linear=system.weyl_linear_at(t0)[:d0, :d0],
        weyl_constant=system.weyl_constant_at(t0)[:d0],
        quadratic_coef=system.quadratic_coef_at(t0), cubic_coef=system.cubic_coef_at(t0),
        drives=(system.drives * scale[:, None])[:, :d0],
        ramps=tuple(("sudden", 0.0) for _ in system.ramps), linear_envelopes=(),
        noise_envelopes=(), drive_envelopes=(), nonlinear_envelopes=(), temporal_modes={})
    if frozen.is_linear:
        c = frozen.drive_vector(np.inf)
        mean = np.linalg.solve(frozen.linear, -c) if np.any(c) else np.zeros(d0)
    else:
        from ..systems.meanfield import stable_states

        states, _ = stable_states(frozen)
        if not states:
            from ..errors import UnstableSystemError

            raise UnstableSystemError(complex("nan"), "no stable steady mean field at t = 0")
        mean = states[0].state
    return mean, steady_state(frozen.linear_system())


# -- the continuous reference ----------------------------------------------------------------
def jacobians_at(system, beta: np.ndarray, times: np.ndarray, ordering: str = "weyl"
                 ) -> np.ndarray:
    """``∂f/∂X`` at the states ``beta`` (n, d) and times ``times`` (n,) → (n, d, d): the
    linear part with its envelopes at each time plus the polynomial terms at each state."""

    beta = np.atleast_2d(beta)
    times = np.asarray(times, float)
    return add_polynomial_jacobian(system, beta, system.linear_at(times, ordering), times)


def _pieces(system, t_end: float) -> list:
    """``[0, t_end]`` cut at the envelopes' breakpoints."""
    cuts = {0.0, float(t_end)} | {b for b in system.envelope_breakpoints() if 0 < b < t_end}
    cuts |= {float(tr) for kind, tr in system.ramps if kind != "sudden" and 0 < tr < t_end}
    cuts = sorted(cuts)
    return list(zip(cuts[:-1], cuts[1:]))


def _integrate(rhs, y0, times, pieces, rtol, atol):
    """DOP853 piece by piece; the state at ``times`` (n, len(y0)) and the dense outputs."""
    from scipy.integrate import solve_ivp

    out = np.empty((times.size, y0.size))
    y, dense = np.asarray(y0, float), []
    for i, (a, b) in enumerate(pieces):
        last = i == len(pieces) - 1
        sel = np.flatnonzero((times >= a) & ((times <= b) if last else (times < b)))
        sol = solve_ivp(rhs, (a, b), y, method="DOP853", rtol=rtol, atol=atol,
                        dense_output=True)
        if not sol.success:
            raise RuntimeError(f"the reference integration failed at t = {sol.t[-1]:g}: "
                               f"{sol.message}")
        if sel.size:
            out[sel] = sol.sol(times[sel]).T
        dense.append((a, b, sol.sol))
        y = sol.y[:, -1]
    if times.size and times[0] == 0.0:
        out[0] = y0
    return out, dense


def reference(system, times, mean0, cov0, rtol: float = REFERENCE_RTOL):
    """The continuous reference at ``times`` (n,): ``(means (n, d), covariances (n, d, d))``
    from ``(mean0, cov0)``, the mean field (``a†a → |α|²``) with the covariance of the
    fluctuations around it (see the module docstring)."""
    t = np.asarray(times, float)
    d = system.dim
    mean0, cov0 = np.asarray(mean0, float), np.asarray(cov0, float)
    timed = system.is_time_dependent

    def rhs(ti, y):
        x, sig = y[:d], y[d:].reshape(d, d)
        if timed:
            jac = jacobians_at(system, x[None], np.array([ti]), "mean-field")[0]
            diff = system.diffusion_at(ti)
        else:
            jac = system.jacobian(x, "mean-field")
            diff = diffusion
        f = system.drift(x, ti, ordering="mean-field")
        ds = jac @ sig
        return np.concatenate([f, (ds + ds.T + diff).ravel()])

    diffusion = None if timed else system.diffusion_at(0.0)
    scale_x = max(1.0, float(np.max(np.abs(mean0), initial=0.0)))
    scale_s = max(1.0, float(np.max(np.abs(cov0), initial=0.0)))
    atol = np.concatenate([np.full(d, rtol * scale_x), np.full(d * d, rtol * 1e-2 * scale_s)])
    y, _ = _integrate(rhs, np.concatenate([mean0, cov0.ravel()]), t,
                      _pieces(system, float(t[-1])), rtol, atol)
    covs = y[:, d:].reshape(-1, d, d)
    return y[:, :d], 0.5 * (covs + np.swapaxes(covs, -1, -2))


# -- the ensemble on the ll step ---------------------------------------------------------------
def ll_plan_timed(system, times, dt: float, mean0, cov0):
    """The ``ll`` plan (:class:`~langevin_sim.engine.LLPlan`) of a time-dependent model: the
    frame follows β(t) (``β' = f(β, t)``, truncated Wigner drift with its envelopes, DOP853 at
    :data:`~langevin_sim.integrators.ll.PATH_RTOL`, cut at the envelopes' breakpoints), and
    step k's matrices ``(e^{ΔtJ}, Δt φ₁(ΔtJ), Q_J(Δt)^{1/2})`` use ``J = ∂f/∂X(β(t_m), t_m)``
    and ``D(t_m)`` at its midpoint ``t_m = (k + 1/2) Δt``."""

    t = np.asarray(times, float)
    d = system.dim
    steps_total = np.round(t / dt).astype(np.int64)
    steps = np.diff(np.concatenate([[0], steps_total]))
    n = int(steps_total[-1])
    check_matrix_memory(n, d)
    mean0 = np.asarray(mean0, float)
    mid = (np.arange(n) + 0.5) * dt
    if system.is_driven or np.any(mean0 != 0) or not system.is_linear:
        scale = max(1.0, float(np.max(np.abs(mean0), initial=0.0)))
        pieces = _pieces(system, float(t[-1]))
        grid = np.union1d(mid, t)
        path, _ = _integrate(lambda ti, x: system.drift(x, ti, ordering="weyl"), mean0, grid,
                             pieces, PATH_RTOL, PATH_RTOL * scale)
        beta_mid = path[np.searchsorted(grid, mid)]
        beta_rec = path[np.searchsorted(grid, t)]
    else:  # undriven linear model from mean 0: the path stays at 0
        beta_mid, beta_rec = np.zeros((n, d)), np.zeros((t.size, d))
    prop, phi1, noise = np.empty((n, d, d)), np.empty((n, d, d)), np.empty((n, d, d))
    for a in range(0, n, BLOCK_STEPS):
        b = min(a + BLOCK_STEPS, n)
        jac = jacobians_at(system, beta_mid[a:b], mid[a:b])
        diff = system.diffusion_at(mid[a:b])
        bad = ~(np.isfinite(jac).all(axis=(1, 2)) & np.isfinite(diff).all(axis=(1, 2)))
        if np.any(bad):
            raise ValueError(f"the drift or the noise is not finite at t = "
                             f"{mid[a:b][bad][0]:.6g} (an envelope or the path): nothing to "
                             "step")
        prop[a:b], phi1[a:b], noise[a:b] = block_matrices(jac, diff, dt)
    mats = StepMatrices(prop, phi1, noise, np.full(n, d, np.int64), beta_mid.copy())
    # β(0) is the initial mean: δ starts with mean 0
    return plan_with_terms(system, mats, True, steps, np.zeros(d),
                           psd_factor(np.asarray(cov0, float)), beta_rec, coef_times=mid)


def simulate_evolve(system, times, *, dt: float, n_traj: int, seed, mean0, cov0,
                    method: str = "ll", chunk_size=None, backend=None, progress=False,
                    metadata=None, groups="default") -> EnsembleResult:
    """The ensemble of :func:`evolve` recorded at ``times`` (multiples of ``dt``): the
    truncated Wigner engine (:func:`~langevin_sim.engine.simulate_twa`) for a time-invariant
    model, :func:`ll_plan_timed` for a time-dependent one (``ll`` only)."""

    groups = JACKKNIFE_GROUPS if groups == "default" else groups
    if not system.is_time_dependent:
        return simulate_twa(system, times, method=method, dt=dt, n_traj=n_traj, seed=seed,
                            initial=(mean0, cov0), chunk_size=chunk_size, backend=backend,
                            progress=progress, metadata=metadata, groups=groups)
    if method != "ll":
        raise ValueError(f"method {method!r} cannot evolve a time-dependent model (envelopes or "
                         "temporal modes): only ll follows J(t) and D(t); use --method ll")

    t = np.asarray(times, float)
    check_cost(n_traj, int(round(t[-1] / dt)))  # before the per-step matrices are built
    plan = ll_plan_timed(system, t, dt, mean0, cov0)
    meta = {"scheme": "ll", "path": "ode (time-dependent)", **(metadata or {})}
    return run_plan(plan, chunk_sizes(n_traj, chunk_size), seed, t, method="ll", dt=dt,
                    mode_labels=system.mode_labels, metadata=meta, backend=backend,
                    progress=progress, groups=groups)


# -- the study ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvolveReport:
    """Everything ``langevin-sim evolve`` computes (arrays over the record times ``times``).

    Attributes
    ----------
    times : (n_t,) record times, in 1/unit
    pair : the two modes measured; measure_names : their six measure names
    reference_mean (n_t, d), reference_covariance (n_t, d, d), reference_measures (n_t, 6)
    mean, mean_stderr (n_t, d); covariance, covariance_stderr (n_t, d, d);
    measures, measures_stderr (n_t, 6): the ensemble's estimates (jackknife SE)
    complete : (n_t,) bool, False where a temporal mode of the pair is still a partial
        accumulator (its window has not closed): the measures there are NaN
    check : Consistency of the sampled covariances and means with the reference
    fine_times (n_f,), fine_measures (n_f, 6): the reference on a fine grid (NaN where
        partial); envelopes : dict label -> (n_f,) values of each envelope on ``fine_times``
    temporal_modes : dict name -> description (port, window, frequency, efficiency)
    """

    times: np.ndarray
    pair: tuple
    measure_names: tuple
    reference_mean: np.ndarray
    reference_covariance: np.ndarray
    reference_measures: np.ndarray
    mean: np.ndarray
    mean_stderr: np.ndarray
    covariance: np.ndarray
    covariance_stderr: np.ndarray
    measures: np.ndarray
    measures_stderr: np.ndarray
    complete: np.ndarray
    check: Consistency
    fine_times: np.ndarray
    fine_measures: np.ndarray
    envelopes: dict
    temporal_modes: dict
    quadratures: tuple
    method: str
    dt: float
    n_traj: int
    seed: object
    initial: str
    model: str
    parameters: dict
    ensemble: EnsembleResult
    unit: str = "ω_b"
    measures_physical: np.ndarray = field(default=None)
    observables: dict | None = None
    """The observables asked for (``--parties``/``--observables``), per record, as
    :attr:`~langevin_sim.analyses.relax.RelaxationReport.observables`; None when none."""

    @property
    def partial(self) -> bool:
        """True if the ensemble was interrupted (statistics from the finished chunks)."""
        return self.ensemble.partial

    def to_dict(self) -> dict:
        """The ``--json`` payload: times, reference (measures, mean, covariance), ensemble
        (each with ``_stderr``), the verdict, pair and model."""
        ref = {k: self.reference_measures[:, i] for i, k in enumerate(self.measure_names)}
        obs = {} if self.observables is None else self.observables.to_dict()
        ref.update(mean=self.reference_mean, covariance=self.reference_covariance)
        ens = {}
        for i, k in enumerate(self.measure_names):
            ens[k] = self.measures[:, i]
            ens[f"{k}_stderr"] = self.measures_stderr[:, i]
        ens.update(mean=self.mean, mean_stderr=self.mean_stderr, covariance=self.covariance,
                   covariance_stderr=self.covariance_stderr)
        return {**obs, "model": self.model,
                "pair": list(self.pair) if self.pair else None, "times": self.times,
                "complete": self.complete, "reference": ref, "ensemble": ens,
                "consistent": self.check.consistent, "max_abs_z": self.check.max_abs_z,
                "z_threshold": self.check.threshold, "n_compared": self.check.n_compared,
                "summary": self.check.summary(), "temporal_modes": self.temporal_modes,
                "quadratures": list(self.quadratures), "method": self.method, "dt": self.dt,
                "n_traj": self.n_traj, "seed": str(self.seed), "initial": self.initial,
                "parameters": self.parameters, "partial": self.partial}


def record_times(t_final: float, record_every: float | None, dt: float, extra=()) -> np.ndarray:
    """``0, every, 2 every, ..., t_final`` (multiples of ``dt``) plus the times ``extra``
    (the windows' ends); ``ValueError`` if a time is not a multiple of ``dt``."""
    if not (math.isfinite(t_final) and t_final > 0):
        raise ValueError(f"t_final must be finite and > 0, got {t_final!r}")
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0, got {dt!r}")
    every = t_final / 40 if record_every is None else float(record_every)
    if not (math.isfinite(every) and every > 0):
        raise ValueError(f"record_every must be finite and > 0, got {every!r}")
    every = max(dt, round(every / dt) * dt)
    n_final = round(t_final / dt)
    if abs(n_final * dt - t_final) > 1e-9 * max(t_final, dt):
        raise ValueError(f"t_final = {t_final:g} must be a multiple of dt = {dt:g}")
    k = np.unique(np.concatenate([np.round(np.arange(0.0, t_final + 0.5 * every, every) / dt),
                                  [n_final]]))
    for x, what in extra:
        n = round(x / dt)
        if abs(n * dt - x) > 1e-9 * max(abs(x), dt):
            raise ValueError(f"{what} = {x:g} must be a multiple of dt = {dt:g} (the ll step "
                             "switches the temporal mode on and off at step boundaries)")
        k = np.union1d(k, [n])
    k = k[k <= n_final]
    if k.size > MAX_RECORDS:
        raise ValueError(f"{k.size} records (t_final = {t_final:g}, every {every:g}) exceed "
                         f"{MAX_RECORDS}: use a larger record_every")
    return k * dt


def evolve(model=None, *, pair=None, t_final: float, record_every: float | None = None,
           initial="thermal", method: str = "ll", dt: float | None = None,
           n_traj: int = DEFAULT_N_TRAJ, seed: int | None = 2024, alpha: float = 0.01,
           chunk_size: int | None = None, backend=None, progress: bool = False,
           parties=(), observables=None) -> EvolveReport:
    """Evolve ``model`` (time-dependent or not, linear or not) from its initial state to
    ``t_final`` and compare the ensemble with the continuous reference at every record.

    Parameters
    ----------
    model : ModelDescription, name or path
    pair : (A, B), optional
        The two modes measured (default: the model's pair; none for a model without one, e.g.
        one mode); temporal modes allowed.
    parties, observables : optional
        Bipartitions (``"a1,b|m"``) and observables reported per record against the
        reference, as in :func:`~langevin_sim.analyses.relax.relax` (``n``, ``n_thermal`` and
        ``purity`` join the verdict); a temporal mode's only once its window has closed.
    t_final, record_every : float
        Last record time and spacing, in 1/unit (multiples of ``dt``); each temporal mode's
        window end is recorded too.
    initial : "thermal", "vacuum", path to .npz, or (mean, covariance)
    method : str
        ``ll`` (default); a baseline of the truncated Wigner engine for a time-invariant model.
    dt : float, optional
        Step in 1/unit (default: the method's default on a nonlinear or time-dependent path).
    alpha : float
        Significance of the max-|z| test over every covariance element and mean.

    Returns
    -------
    EvolveReport
    """

    model = as_model(model)
    system = model.build()
    labels = tuple(system.mode_labels)
    pair, obs_names, groups = resolve_observable_request(model, labels, pair, parties,
                                                         observables)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    if system.is_time_dependent and method != "ll":
        raise ValueError(f"method {method!r} cannot evolve a time-dependent model (envelopes "
                         "or temporal modes): only ll follows J(t) and D(t); use --method ll")
    dt = DEFAULT_DT[method] if dt is None else float(dt)
    check_verdict_size(n_traj, chunk_size)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    system.check_envelopes(float(t_final))
    extra = [(tm.stop, f"temporal mode {n}'s window end") for n, tm in
             system.temporal_modes.items()]
    extra += [(tm.start, f"temporal mode {n}'s window start") for n, tm in
              system.temporal_modes.items()]
    times = record_times(float(t_final), record_every, dt, extra)
    label = initial if isinstance(initial, str) else "custom"
    mean0, cov0 = initial_state(system, initial)
    names = measure_names(pair) if pair else ()
    sel = _selector(system.mode_labels, pair) if pair else np.zeros(0, int)
    ix = np.ix_(sel, sel)
    in_groups = {m for g in groups for part in g for m in part}
    stop = max([system.temporal_modes[m].stop for m in (*(pair or ()), *in_groups)
                if m in system.temporal_modes], default=-np.inf)

    res = simulate_evolve(system, times, dt=dt, n_traj=n_traj, seed=seed, mean0=mean0,
                          cov0=cov0, method=method, chunk_size=chunk_size, backend=backend,
                          progress=progress,
                          metadata={"parameters": model.as_dict(), "model": model.name,
                                    "pair": list(pair) if pair else None})
    fine = np.union1d(np.linspace(0.0, times[-1], FINE_POINTS), times)
    ref_mean, ref_cov = reference(system, fine, mean0, cov0)
    at = np.searchsorted(fine, times)
    complete = times >= stop - 1e-9 * max(1.0, abs(stop))
    fine_complete = fine >= stop - 1e-9 * max(1.0, abs(stop))
    fine_m = np.full((fine.size, len(names)), np.nan)
    if np.any(fine_complete) and names:
        fine_m[fine_complete] = measures_stack(ref_cov[fine_complete][(slice(None),) + ix])
    cov, se = res.covariance, res.covariance_stderr
    z = z_scores(cov, ref_cov[at], se)
    zm = z_scores(res.mean, ref_mean[at], res.mean_stderr)
    # an accumulator before its window opens is empty by construction (0 in the reference,
    # round-off of e^{JΔt} in the ensemble): not a comparison
    judged = np.ones((times.size, system.dim), bool)
    for name, tm in system.temporal_modes.items():
        i = 2 * system.mode_labels.index(name)
        judged[times <= tm.start + 1e-12 * max(1.0, tm.start), i:i + 2] = False
    iu = np.triu_indices(system.dim)
    pairs = (judged[:, iu[0]] & judged[:, iu[1]])
    obs = None
    zs = [z[:, iu[0], iu[1]][pairs], zm[judged]]
    if obs_names and np.any(complete):  # a temporal mode's observables once it is complete
        obs = compare_observables(at_records(res, np.flatnonzero(complete)),
                                  ref_cov[at][complete],
                                  ref_mean[at][complete], labels, groups, obs_names)
        obs = replace(obs, times=times[complete])
        zs += [np.asarray(obs.z[k], float) for k in obs.in_verdict]
    check = consistency(np.concatenate(zs), alpha, res.jackknife_dof,
                        min_groups=MIN_VERDICT_GROUPS)
    est_v = np.full((times.size, len(names)), np.nan)
    est_e = np.full((times.size, len(names)), np.nan)
    physical = np.ones(times.size, bool)
    rec = np.flatnonzero(complete)
    if rec.size and names:
        est = res.measures(pair, records=rec)
        est_v[rec], est_e[rec], physical[rec] = est.values, est.stderr, est.physical
    env_t = fine
    envelopes = {label_: f(env_t) for label_, f in system.envelope_functions().items()}
    tms = {n: tm.to_dict() for n, tm in system.temporal_modes.items()}
    return EvolveReport(
        times=times, pair=tuple(pair) if pair else None, measure_names=names,
        reference_mean=ref_mean[at],
        reference_covariance=ref_cov[at], reference_measures=fine_m[at], mean=res.mean,
        mean_stderr=res.mean_stderr, covariance=cov, covariance_stderr=se,
        measures=est_v, measures_stderr=est_e, complete=complete, check=check,
        fine_times=fine, fine_measures=fine_m, envelopes=envelopes, temporal_modes=tms,
        quadratures=system.quadrature_labels(), method=method, dt=dt, n_traj=res.n_traj,
        seed=res.seed, initial=label, model=model.name, parameters=model.as_dict(),
        ensemble=res, unit=model.unit, measures_physical=physical,
        observables=obs)


def _selector(labels, pair) -> np.ndarray:
    a, b = (labels.index(m) for m in pair)
    return np.array([2 * a, 2 * a + 1, 2 * b, 2 * b + 1])


def exact_state(model, t_final: float, initial="thermal", pair=None):
    """The reference alone at ``t_final``: ``(mean (d,), covariance (d, d), system)``, e.g. the
    joint state of the temporal modes after their windows (no ensemble)."""
    model = as_model(model)
    system = model.build()
    system.check_envelopes(float(t_final))
    mean0, cov0 = initial_state(system, initial)
    means, covs = reference(system, np.array([0.0, float(t_final)]), mean0, cov0)
    return means[-1], covs[-1], system


# -- a simulated pulsed homodyne experiment -----------------------------------------------------
@dataclass(frozen=True)
class PulsedExperiment:
    """A simulated pulsed read-out (see :func:`pulsed_homodyne`).

    Attributes
    ----------
    pair : the two detected (temporal) modes; t_end : the time they are complete (1/unit)
    exact : Measures, the six measures of the pair from the reference (by name: ``exact["E_N"]``)
    estimate : RecordEstimate (:mod:`langevin_sim.analyses.detect`): reconstructed covariance,
        measures with jackknife SEs, witnesses
    certificates : dict, per criterion (E_N, duan, steer_b_by_a, steer_a_by_b)
    records_needed : dict, per criterion, pulses for a certificate (None: on the wrong side)
    """

    pair: tuple
    t_end: float
    exact: Measures
    estimate: object
    certificates: dict
    records_needed: dict
    confidence: float

    def to_dict(self) -> dict:
        e = self.estimate
        return {"pair": list(self.pair), "t_end": self.t_end, "exact": self.exact.as_dict(),
                "records": e.n, "estimate": e.values, "stderr": e.stderr,
                "covariance": e.covariance, "certificates": self.certificates,
                "records_needed": self.records_needed, "confidence": self.confidence}


def pulsed_homodyne(model, *, records: int = 20000, seed: int | None = 2024,
                    confidence: float = 0.99, initial="steady", dt: float = 0.05, pair=None,
                    backend=None) -> PulsedExperiment:
    """The pulsed read-out as an experiment does it: ``records`` pulses, each a trajectory of
    the ``ll`` ensemble from ``initial`` to the end of the pair's windows (the system reset
    to ``initial`` between pulses); the pulses of chunk i measure one quadrature of each
    detected mode at the local-oscillator phases ``PHASE_SETTINGS[i mod 5]``
    (:mod:`langevin_sim.analyses.detect`), the 4×4 covariance is reconstructed from the measured
    second moments, and the certificates and the pulses each needs follow as for the
    continuous read-out (:func:`~langevin_sim.analyses.detect.estimate`,
    :func:`~langevin_sim.analyses.detect.certify`,
    :func:`~langevin_sim.analyses.detect.records_needed`).
    """

    model = as_model(model)
    system = model.build()
    pair = check_pair(system.mode_labels, model.pair(pair))
    stops = [system.temporal_modes[m].stop for m in pair if m in system.temporal_modes]
    if not stops:
        raise ValueError(f"pulsed_homodyne measures temporal modes; the pair {pair} has none")
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must be in (0.5, 1), got {confidence!r}")
    t_end = max(stops)
    system.check_envelopes(t_end)
    times = record_times(t_end, t_end, dt, [(x, "a window end") for x in stops])
    blocks, per_chunk = record_layout(records)
    n_set = len(PHASE_SETTINGS)
    mean0, cov0 = initial_state(system, initial)
    res = simulate_evolve(system, times, dt=dt, n_traj=blocks * n_set * per_chunk,
                          seed=seed, mean0=mean0, cov0=cov0, chunk_size=per_chunk,
                          backend=backend, groups=None)  # one group per chunk: one setting
    if res.partial:  # an experiment with settings missing cannot be reconstructed
        raise KeyboardInterrupt
    c = res.groups
    idx = [system.mode_labels.index(m) for m in pair]
    count = np.zeros((blocks, n_set))
    mean = np.zeros((blocks, n_set, 2))
    m2 = np.zeros((blocks, n_set, 2, 2))
    for i in range(c.count.shape[0]):
        b, k = divmod(i, n_set)
        u = np.zeros((system.dim, 2))
        for j, (mode, theta) in enumerate(zip(idx, PHASE_SETTINGS[k])):
            u[2 * mode, j], u[2 * mode + 1, j] = math.cos(theta), math.sin(theta)
        count[b, k] = c.count[i, -1]
        mean[b, k] = c.mean[i, -1] @ u
        m2[b, k] = u.T @ c.m2[i, -1] @ u
    est = estimate(Moments(count, mean, m2))
    _, ref = reference(system, np.array([0.0, t_end]), mean0, cov0)
    sel = _selector(system.mode_labels, pair)
    exact = two_mode_measures(ref[-1][np.ix_(sel, sel)], pair=pair)
    return PulsedExperiment(tuple(pair), t_end, exact, est, certify(est, confidence),
                            records_needed(est, confidence), confidence)
