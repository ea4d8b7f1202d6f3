"""Running an ensemble: one driver for every plan (:func:`run_plan`), the linear engine
(:func:`simulate`) and the truncated Wigner engine (:func:`simulate_twa`), and the exact
moments a linear ensemble samples (:func:`exact_moments`)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..gaussian import linear_recursion, psd_factor
from ..integrators import Integrator, get_integrator
from ..integrators.ll import Path
from ..systems.linear import LinearSystem
from .accumulate import GroupAccumulator
from .chunks import (
    ASSUMED_THROUGHPUT,
    DEFAULT_N_TRAJ,
    JACKKNIFE_GROUPS,
    LONG_RUN_SECONDS,
    ChildSeeds,
    ChunkArgs,
    _minutes,
    check_cost,
    check_step_count,
    chunk_sizes,
    run_time_estimate,
)
from .initial import make_initial_state, thermal_state
from .plans import (
    DEFAULT_DT,
    METHODS,
    RAMP_IDS,
    SCHEME_IDS,
    TWAPlan,
    linear_plan,
    ll_plan,
    run_chunk,
    scheme_maps,
)
from .result import EnsembleResult
from .schedule import build_schedule


def simulate(system: LinearSystem, times, *, method: str | Integrator = "exact",
             dt: float | None = None, n_traj: int = DEFAULT_N_TRAJ, seed: int | None = None,
             initial="thermal", chunk_size: int | None = None, backend=None,
             progress: bool = False, metadata: dict | None = None,
             groups: int | None = JACKKNIFE_GROUPS) -> EnsembleResult:
    """Run an ensemble of ``dX = A X dt + B sqrt(N) dW`` and record its moments.

    Parameters
    ----------
    system : LinearSystem or model
        A model (``ModelDescription``, ``CascadeParameters``, a shipped model's name or a
        TOML path) runs its linear system, and its name and parameters go into the metadata.
    times : array_like, shape (n_rec,)
        Strictly increasing record times >= 0 (system time unit; 1/ω_b for the paper's model).
    method : {"exact", "em"} or Integrator
        Integrator from :data:`langevin_sim.integrators.METHODS`.
    dt : float, optional
        Step (maximum step for ``exact``). Default: the integrator's ``default_dt`` (1 for
        ``exact``, 0.005 for ``em``).
    n_traj : int
        Number of trajectories (>= 4).
    seed : int, optional
        Root seed; ``None`` draws fresh entropy (recorded in the result).
    initial : str, InitialState or (mean, cov)
        See :func:`make_initial_state`.
    chunk_size : int, optional
        Trajectories per chunk (see :func:`chunk_sizes`). Part of what the seed reproduces.
    backend : Backend, optional
        Where chunks run; default :class:`~langevin_sim.backends.LocalBackend` (threads).
    progress : bool
        Show a progress bar over chunks.
    groups : int or None
        Chunks are merged into this many fixed groups as they arrive (memory independent of
        ``n_traj``); ``None`` keeps one group per chunk (for analyses that need the chunks).

    Returns
    -------
    EnsembleResult
        If interrupted with Ctrl-C, the chunks finished so far, with ``partial == True``.
    """

    system, model = _linear_system_of(system)
    if model is not None:  # a model given: its parameters travel with the result (merge)
        metadata = {"model": model.name, "parameters": model.as_dict(), **(metadata or {})}
    integrator = get_integrator(method)
    dt = integrator.resolve_dt(dt)
    sizes = chunk_sizes(n_traj, chunk_size)
    check_step_count(times, dt, n_traj)
    # the notice comes before the schedule, whose build alone is long with 10⁵ records
    ensemble_s, records_s = run_time_estimate(n_traj, times, dt, groups)
    if ensemble_s + records_s > LONG_RUN_SECONDS:
        n_rec = np.size(times)
        warnings.warn(f"this run is about {ensemble_s * ASSUMED_THROUGHPUT:.2g} "
                      f"trajectory-steps and {n_rec} records: {_minutes(ensemble_s)} for the "
                      f"ensemble at {ASSUMED_THROUGHPUT:.0e} steps/s, {_minutes(records_s)} for "
                      f"the records' transitions and measures at every record; fewer records "
                      "or trajectories are faster", stacklevel=2)
    schedule = build_schedule(system, integrator, times, dt)
    check_cost(n_traj, schedule.total_steps)
    init = make_initial_state(system, initial, integrator, dt)
    plan = linear_plan(schedule, init.mean, psd_factor(init.covariance))
    meta = {"initial": init.label, **(metadata or {})}
    pair = model.default_pair if model is not None else system.default_pair
    if "pair" not in meta and pair is not None:  # what EnsembleResult.measures() measures
        meta["pair"] = list(pair)
    return run_plan(plan, sizes, seed, schedule.times, method=integrator.name, dt=dt,
                    mode_labels=system.mode_labels, metadata=meta, backend=backend,
                    progress=progress, groups=groups)


def _linear_system_of(system) -> tuple:
    """``(LinearSystem, model or None)`` for :func:`simulate`'s first argument: a
    ``LinearSystem`` as it is, a model (or a model's name or file) by its linear system;
    ``TypeError`` (one line) for anything else."""
    if isinstance(system, LinearSystem):
        return system, None
    if system is not None:
        from ..models import as_model

        try:
            model = as_model(system)
        except ValueError:
            if isinstance(system, str):
                raise  # a model name or file that does not load: its own message
            model = None
        if model is not None:
            return model.linear_system(), model
    raise TypeError("simulate(system=...) takes a LinearSystem or a model (ModelDescription, "
                    "CascadeParameters, a model name or file), got "
                    f"{type(system).__name__}")


def run_plan(plan, sizes, seed, times, *, method: str, dt: float, mode_labels, metadata: dict,
             backend=None, progress: bool = False, groups: int | None = JACKKNIFE_GROUPS
             ) -> EnsembleResult:
    """Run every chunk of ``plan`` (sizes from :func:`chunk_sizes`, chunk ``i`` with child
    ``i`` of ``SeedSequence(seed)``) on ``backend``, merging the chunks into fixed groups as
    they arrive, and wrap the result. Shared by every kind of ensemble; Ctrl-C returns the
    chunks that finished (``partial``), and ``KeyboardInterrupt`` if none did.

    Chunks start in an order that takes one chunk from each group in turn (chunk 0 of every
    group, then chunk 1 of every group, ...), so that a run interrupted early has its finished
    chunks spread over many groups and still a jackknife standard error; each group is still
    merged in chunk-index order, so the bits do not depend on that order.
    """
    from .._signals import interrupts
    from ..backends import LocalBackend

    root = np.random.SeedSequence(seed)
    backend = LocalBackend() if backend is None else backend
    acc = GroupAccumulator(sizes.size, groups)
    stopped_before = interrupts() > 0  # a command already interrupted starts no new run
    backend.map_tasks(run_chunk, plan, ChunkArgs(sizes, ChildSeeds(root, sizes.size)),
                      sink=acc.add, order=acc.start_order(), progress=progress,
                      desc="ensemble", unit="chunk")
    if acc.n_done == 0:
        raise KeyboardInterrupt("" if stopped_before else "before any trajectory finished")
    meta = {"n_traj_planned": int(sizes.sum()), "chunk_size": int(sizes[0]),
            "backend": backend.describe(), **metadata}
    return EnsembleResult(times=np.asarray(times, float), groups=acc.groups(),
                          n_chunks=acc.n_done, method=method, dt=float(dt),
                          seed=int(root.entropy), n_chunks_planned=int(sizes.size),
                          mode_labels=tuple(mode_labels), metadata=meta)


def exact_moments(system: LinearSystem, times, *, method="exact", dt=None, initial="thermal"):
    """The exact mean and covariance that an ensemble of :func:`simulate` samples.

    Uses the very ``(F, G)`` pairs of the integrator: for ``exact`` it is ``σ(t)``, for ``em``
    the discrete recursion ``Σ_{n+1} = F Σ Fᵀ + Δt D``. Returns ``(means, covariances)``
    of shapes (n_rec, d) and (n_rec, d, d).
    """
    integrator = get_integrator(method)
    dt = integrator.resolve_dt(dt)
    schedule = build_schedule(system, integrator, times, dt)
    init = make_initial_state(system, initial, integrator, dt)
    return linear_recursion(schedule.transitions(), schedule.steps, init.covariance, init.mean)


def simulate_twa(system, times, *, method: str = "ll", dt: float | None = None,
                 n_traj: int = 4096, seed: int | None = None, initial=None,
                 chunk_size: int | None = None, backend=None, progress: bool = False,
                 metadata: dict | None = None, groups: int | None = JACKKNIFE_GROUPS,
                 path: Path | None = None) -> EnsembleResult:
    """Run a truncated Wigner ensemble and record its moments at ``times``.

    Parameters
    ----------
    system : LangevinSystem
    times : array_like
        Increasing record times >= 0, multiples of ``dt`` (the drives switch on at t = 0).
    method : {"ll", "em", "exp-euler", "exp-heun"}
        ``ll`` (default): local linearisation about the deterministic path; the others are
        the named baselines of :mod:`langevin_sim.integrators.nonlinear`.
    dt : float, optional
        Step (default :data:`DEFAULT_DT`).
    initial : (mean, covariance), optional
        Gaussian initial state (default: means 0, every mode thermal at its bath).
    path : Path, optional
        ``ll`` only: the frame's deterministic path (default: the path from the initial mean,
        solved once by DOP853; pass :func:`~langevin_sim.integrators.ll.fixed_point` to start
        at a steady state).
    Other parameters as for :func:`langevin_sim.engine.simulate`.

    Returns
    -------
    EnsembleResult
        Moments of X (for ``ll``, the path plus the moments of δ).
    """

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    dt = DEFAULT_DT[method] if dt is None else float(dt)
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0, got {dt!r}")
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0 or np.any(t < 0) or np.any(np.diff(t) <= 0):
        raise ValueError("times must be a non-empty increasing sequence of values >= 0")
    steps_total = np.round(t / dt).astype(np.int64)
    if np.any(np.abs(steps_total * dt - t) > 1e-9 * np.maximum(t, dt)):
        raise ValueError(f"record times must be multiples of dt = {dt:g}")
    steps = np.diff(np.concatenate([[0], steps_total]))
    sizes = chunk_sizes(n_traj, chunk_size)
    check_cost(n_traj, int(steps_total[-1]))
    mean0, cov0 = (np.zeros(system.dim), thermal_state(system)) if initial is None else initial
    mean0 = np.zeros(system.dim) if mean0 is None else np.asarray(mean0, float)
    meta = {"initial": "thermal" if initial is None else "custom", "scheme": method,
            **(metadata or {})}
    if method == "ll":
        plan = ll_plan(system, t, dt, mean0, cov0, path)
        meta["path"] = "ode" if plan.per_step else "fixed point"
        return run_plan(plan, sizes, seed, t, method=method, dt=dt,
                        mode_labels=system.mode_labels, metadata=meta, backend=backend,
                        progress=progress, groups=groups)
    f, g = scheme_maps(system, method, dt)
    plan = TWAPlan(
        SCHEME_IDS[method], np.ascontiguousarray(f), np.ascontiguousarray(g), dt,
        np.ascontiguousarray(system.drives.reshape(-1, system.dim)),
        np.array([RAMP_IDS[k] for k, _ in system.ramps], np.int64),
        np.array([tr for _, tr in system.ramps], float),
        np.ascontiguousarray(system.weyl_constant),
        np.ascontiguousarray(system.quadratic_index), np.ascontiguousarray(system.quadratic_coef),
        np.ascontiguousarray(system.cubic_index), np.ascontiguousarray(system.cubic_coef),
        steps, mean0, psd_factor(np.asarray(cov0, float)))
    return run_plan(plan, sizes, seed, t, method=method, dt=dt, mode_labels=system.mode_labels,
                    metadata=meta, backend=backend, progress=progress, groups=groups)


