"""Trajectory ensembles: plan, chunks, seeds, streaming statistics and the result object.

An ensemble of ``n_traj`` trajectories is cut into fixed chunks (their sizes depend only on
``n_traj`` and ``chunk_size``); chunk ``i`` draws its random numbers from child ``i`` of
``SeedSequence(seed)``. Each chunk returns only its moments at the record times (never raw
trajectories), merged as they arrive into at most 64 fixed groups of consecutive chunks (each
group in chunk-index order), so the same seed gives bit-identical results for any number of
threads or workers. Memory per running chunk is
``(2 d + r) × chunk_size`` doubles (state, next state, normals), independent of the number of
steps; the result holds ``n_groups × n_records × (d + d²)`` doubles of moments, whatever
``n_traj``.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from ._json import dumps
from ._kernels.measures import batch_measures_angles, batch_measures_near
from ._kernels.propagate import simulate_chunk
from ._kernels.random import seed_state
from .conventions import PHYSICALITY_TOL, is_physical, physicality_margin, quadrature_indices
from .gaussian import linear_recursion, psd_factor
from .integrators import Integrator, get_integrator
from .measures import measure_names
from .statistics import Moments, group_parts, jackknife_stderr, leave_one_out, pool
from .systems.linear import LinearSystem

DEFAULT_N_TRAJ = 16384
MAX_CHUNK_SIZE = 1024
TARGET_CHUNKS = 32
MAX_CHUNKS = 16384
"""Beyond MAX_CHUNKS × MAX_CHUNK_SIZE trajectories chunks grow instead of multiplying, so that
per-chunk overhead stays a small part of a huge run."""
JACKKNIFE_GROUPS = 64
"""Standard errors come from a delete-a-group jackknife over at most this many chunk groups."""

MIN_VERDICT_CHUNKS = 8
"""A consistency verdict needs at least this many independent chunks (jackknife dof >= 7)."""

MAX_TRAJECTORY_STEPS = 1e11
"""Runs estimated beyond this many trajectory-steps are refused before they start."""

ASSUMED_THROUGHPUT = 5e7
"""Trajectory-steps per second assumed for the cost estimates in messages."""

LONG_RUN_SECONDS = 60
"""Runs estimated longer than this say so (a warning) before they start."""

SECONDS_PER_RECORD = 0.01
"""Seconds per record beyond the kernel, assumed for the run-time notice: the exact step's
transition to it (a matrix exponential, ~2 ms) and the measures of its covariance and of its
64 leave-one-group-out replicas, as relax and ``--json`` compute at every record. Measured
(/tmp timing script, shared 2-core machine at load 6, so indicative only): measures 5.6 ms
per record and relax 10.6 ms per record (1000 records, 16384 trajectories, 64 groups)."""


# ---------------------------------------------------------------------------------------------
# initial states
@dataclass(frozen=True)
class InitialState:
    """Gaussian initial state: mean (d,) and covariance (d, d), with a descriptive label."""

    mean: np.ndarray
    covariance: np.ndarray
    label: str = "custom"


def make_initial_state(system: LinearSystem, spec="thermal", integrator: Integrator | None = None,
                       dt: float | None = None) -> InitialState:
    """Build the initial state from a name, an :class:`InitialState` or ``(mean, cov)``.

    Names: ``"thermal"`` (each mode thermal at its bath), ``"vacuum"`` (σ = I/2),
    ``"steady"`` (the stationary covariance *of the integrator at dt*: continuous σ∞ for the
    exact step, the discrete-Lyapunov one for EM, so that no burn-in is needed).
    """
    d = system.dim
    if isinstance(spec, InitialState):
        mean, cov, label = spec.mean, spec.covariance, spec.label
    elif isinstance(spec, str):
        if spec == "thermal":
            mean, cov = np.zeros(d), system.thermal_covariance()
        elif spec == "vacuum":
            mean, cov = np.zeros(d), 0.5 * np.eye(d)
        elif spec == "steady":
            if integrator is None or dt is None:
                raise ValueError("initial='steady' needs the integrator and dt")
            mean, cov = np.zeros(d), integrator.stationary_covariance(system, dt)
        else:
            raise ValueError(f"unknown initial state {spec!r}; allowed: thermal, vacuum, steady, "
                             "or (mean, covariance)")
        label = spec
    else:
        try:
            mean, cov = spec
        except (TypeError, ValueError):
            raise ValueError("initial must be a name, an InitialState or (mean, covariance)"
                             ) from None
        label = "custom"
    mean = np.zeros(d) if mean is None else np.asarray(mean, float)
    cov = np.asarray(cov, float)
    if mean.shape != (d,) or not np.all(np.isfinite(mean)):
        raise ValueError(f"initial mean must be a finite vector of length {d}")
    if cov.shape != (d, d) or not np.all(np.isfinite(cov)):
        raise ValueError(f"initial covariance must be a finite ({d}, {d}) matrix")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
        raise ValueError("initial covariance must be symmetric")
    if np.linalg.eigvalsh(cov)[0] < -1e-10 * max(1.0, np.abs(cov).max()):
        raise ValueError("initial covariance must be positive semidefinite")
    margin = physicality_margin(0.5 * (cov + cov.T))
    if margin < -PHYSICALITY_TOL * max(1.0, float(np.abs(cov).max())):
        raise ValueError(f"initial covariance is not a quantum state: σ + iΩ/2 has eigenvalue "
                         f"{margin:.3g} < 0 (below the vacuum, whose variance is 1/2)")
    return InitialState(mean, 0.5 * (cov + cov.T), label)


# ---------------------------------------------------------------------------------------------
# schedule: record times → segments of equal steps
@dataclass(frozen=True)
class Schedule:
    """The steps between record times.

    Attributes
    ----------
    times : ndarray, shape (n_rec,)
        Record times (time unit of the system, 1/ω_b for the paper's model).
    steps : ndarray of int64, shape (n_rec,)
        Steps taken before each record (0 for a record at the previous time or at t = 0).
    step_sizes : ndarray, shape (n_rec,)
        The step used in each segment.
    drift_maps : ndarray, shape (n_rec, d, d)
        ``F`` of each segment.
    noise_factors : ndarray, shape (n_rec, d, r_max)
        ``G`` of each segment, zero-padded to a common number of columns.
    ranks : ndarray of int64, shape (n_rec,)
        Number of used columns of each ``G``.
    """

    times: np.ndarray
    steps: np.ndarray
    step_sizes: np.ndarray
    drift_maps: np.ndarray
    noise_factors: np.ndarray
    ranks: np.ndarray

    @property
    def total_steps(self) -> int:
        return int(self.steps.sum())

    def transitions(self):
        """``(F, Q = G Gᵀ)`` per segment, for the exact moment recursion."""
        g = self.noise_factors
        return [(f, gi @ gi.T) for f, gi in zip(self.drift_maps, g)]


def build_schedule(system: LinearSystem, integrator: Integrator, times, dt: float) -> Schedule:
    """Segments of equal steps reaching each record time.

    For a scheme with ``uniform_steps`` (EM) every record time must be an integer multiple of
    ``dt`` (within 1e-9 relative); otherwise each interval is split into
    ``ceil(interval / dt)`` equal steps no longer than ``dt``.
    """
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError("times must be a non-empty 1-D sequence")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("times must be finite and >= 0")
    if np.any(np.diff(t) <= 0):
        raise ValueError("times must be strictly increasing")
    integrator.check_step(system, dt)
    prev = 0.0
    steps, sizes, cache, fs, gs = [], [], {}, [], []
    for ti in t:
        interval = ti - prev
        n = int(math.ceil(interval / dt * (1 - 1e-12))) if interval > 0 else 0
        if integrator.uniform_steps and n and abs(interval - n * dt) > 1e-9 * max(ti, dt):
            raise ValueError(
                f"record time {ti:g} is not a multiple of dt = {dt:g}; method "
                f"{integrator.name!r} takes equal steps (choose times on the dt grid)")
        h = dt if integrator.uniform_steps else (interval / n if n else dt)
        key = round(h, 15)
        if key not in cache:
            cache[key] = integrator.transition(system, h)
        f, g = cache[key]
        steps.append(n)
        sizes.append(h)
        fs.append(f)
        gs.append(g)
        prev = ti
    r_max = max(1, max(g.shape[1] for g in gs))
    g_pad = np.zeros((len(gs), system.dim, r_max))
    for i, g in enumerate(gs):
        g_pad[i, :, :g.shape[1]] = g
    return Schedule(t, np.array(steps, np.int64), np.array(sizes), np.ascontiguousarray(fs),
                    g_pad, np.array([g.shape[1] for g in gs], np.int64))


def record_times(t_final: float, every: float, integrator: Integrator, dt: float) -> np.ndarray:
    """Equally spaced record times ``0, every, 2 every, ... <= t_final``.

    For a scheme with equal steps (EM) ``every`` is first rounded to a whole number of steps.
    """
    if not (np.isfinite(every) and every > 0 and np.isfinite(t_final) and t_final >= every):
        raise ValueError(f"need 0 < record spacing ({every!r}) <= t_final ({t_final!r})")
    if integrator.uniform_steps:
        every = max(1, round(every / dt)) * dt
    return every * np.arange(0, int(np.floor(t_final / every + 1e-9)) + 1)


# ---------------------------------------------------------------------------------------------
# chunks and the per-chunk task
def chunk_sizes(n_traj: int, chunk_size: int | None = None) -> np.ndarray:
    """Sizes of the fixed chunks of an ensemble (a function of ``n_traj`` and ``chunk_size``).

    The default chunk size is ``min(1024, ceil(n_traj / 32))`` (at least 2), so that small
    ensembles still have enough chunks for a jackknife.
    """
    if isinstance(n_traj, bool) or not isinstance(n_traj, (int, np.integer)) or n_traj < 4:
        raise ValueError(f"n_traj must be an integer >= 4, got {n_traj!r}")
    if n_traj > MAX_TRAJECTORY_STEPS:  # every trajectory takes at least one step
        raise ValueError(f"n_traj = {n_traj:.3g} is above the limit of {MAX_TRAJECTORY_STEPS:.0e} "
                         "trajectory-steps for any run")
    if chunk_size is None:
        chunk_size = max(2, min(MAX_CHUNK_SIZE, -(-int(n_traj) // TARGET_CHUNKS)),
                         -(-int(n_traj) // MAX_CHUNKS))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) \
            or chunk_size < 2:
        raise ValueError(f"chunk_size must be an integer >= 2, got {chunk_size!r}")
    if 2 * chunk_size > n_traj:
        raise ValueError(f"chunk_size = {chunk_size} leaves fewer than 2 chunks for n_traj = "
                         f"{n_traj}; standard errors need >= 2 independent chunks")
    n_full, rest = divmod(int(n_traj), int(chunk_size))
    sizes = [int(chunk_size)] * n_full
    if rest:
        sizes.append(rest)
    return np.array(sizes, np.int64)


def check_verdict_size(n_traj: int, chunk_size: int | None = None) -> None:
    """``ValueError`` if the ensemble has too few independent chunks for a verdict."""
    n = chunk_sizes(n_traj, chunk_size).size
    if n < MIN_VERDICT_CHUNKS:
        raise ValueError(f"n_traj = {n_traj} gives {n} independent chunks; a consistency "
                         f"verdict needs at least {MIN_VERDICT_CHUNKS} (jackknife dof >= "
                         f"{MIN_VERDICT_CHUNKS - 1}): use n_traj >= {2 * MIN_VERDICT_CHUNKS}")


def check_step_count(times, dt: float, n_traj: int) -> None:
    """Refuse, before building anything, a step so small that the run could never finish
    (``--dt 1e-300``)."""
    t = np.asarray(times, dtype=float)
    if t.size and np.all(np.isfinite(t)) and np.isfinite(dt) and dt > 0:
        with np.errstate(over="ignore"):
            check_cost(n_traj, float(np.max(t)) / dt)


def run_time_estimate(n_traj: int, times, dt: float, groups: int | None = JACKKNIFE_GROUPS
                      ) -> tuple[float, float]:
    """Seconds a run will take, as ``(ensemble, records)``, before anything is built.

    The kernel does ``n_traj × (t_max/dt + 2 n_rec)`` trajectory-steps at
    :data:`ASSUMED_THROUGHPUT` (each record adds at most one partial step, and accumulating
    the moments costs about a step); each record costs :data:`SECONDS_PER_RECORD` more
    (its transition and its measures with their jackknife replicas, scaled by the groups).
    """
    try:
        t = np.asarray(times, dtype=float).ravel()
    except (TypeError, ValueError):
        return 0.0, 0.0  # build_schedule names what is wrong with the times
    if not t.size or not np.all(np.isfinite(t)) or not (np.isfinite(dt) and dt > 0):
        return 0.0, 0.0
    steps = float(np.max(np.abs(t))) / dt + 2 * t.size
    replicas = (JACKKNIFE_GROUPS if groups is None else min(groups, JACKKNIFE_GROUPS)) + 1
    return (float(n_traj) * steps / ASSUMED_THROUGHPUT,
            t.size * SECONDS_PER_RECORD * replicas / (JACKKNIFE_GROUPS + 1))


def _minutes(seconds: float) -> str:
    return f"~{seconds / 60:.2g} min" if seconds >= 60 else f"~{seconds:.2g} s"


def check_cost(n_traj: int, total_steps: int) -> float:
    """Estimated trajectory-steps of a run; ``ValueError`` (saying what it would cost) beyond
    :data:`MAX_TRAJECTORY_STEPS`."""
    cost = float(n_traj) * float(total_steps)
    if cost > MAX_TRAJECTORY_STEPS:
        hours = cost / ASSUMED_THROUGHPUT / 3600
        raise ValueError(f"this run would take {cost:.3g} trajectory-steps (~{hours:.3g} h at "
                         f"{ASSUMED_THROUGHPUT:.0e} steps/s), above the limit "
                         f"{MAX_TRAJECTORY_STEPS:.0e}: use a larger dt (the exact step is exact "
                         "at any dt), fewer or shorter records, or fewer trajectories")
    return cost


class ChildSeeds:
    """The children ``root.spawn(n)`` would give, made one at a time when asked for (child i
    is ``SeedSequence(root.entropy, spawn_key=root.spawn_key + (i,))``), so that a run of
    10⁵ chunks does not hold 10⁵ seed objects."""

    def __init__(self, root: np.random.SeedSequence, n: int):
        self.root, self.n = root, int(n)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> np.random.SeedSequence:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.random.SeedSequence(self.root.entropy, spawn_key=(*self.root.spawn_key, i),
                                      pool_size=self.root.pool_size)

    def __iter__(self):
        return (self[i] for i in range(self.n))


class ChunkArgs:
    """The arguments ``(n_traj, seed)`` of every chunk, made when asked for (a backend indexes
    it like a list of argument tuples)."""

    def __init__(self, sizes, seeds: ChildSeeds):
        self.sizes, self.seeds = sizes, seeds

    def __len__(self) -> int:
        return len(self.sizes)

    def __getitem__(self, i: int) -> tuple:
        return int(self.sizes[i]), self.seeds[i]


class GroupAccumulator:
    """Merges chunk moments, as they arrive in any order, into fixed groups of consecutive
    chunks, each group strictly in chunk-index order (a chunk waits until its predecessor in
    the group has been merged), so the bits do not depend on the completion order.

    Groups are contiguous ranges of chunk indices (``n_groups`` of them, or one per chunk if
    there are fewer chunks); memory holds the groups plus the few chunks that arrived early.
    """

    def __init__(self, n_chunks: int, n_groups: int | None = JACKKNIFE_GROUPS):
        g = n_chunks if n_groups is None else min(int(n_groups), n_chunks)
        self.edges = np.linspace(0, n_chunks, g + 1).round().astype(np.int64)
        self.next = self.edges[:-1].copy()
        self.acc: list = [None] * g
        self.waiting: dict = {}
        self.n_done = 0

    def start_order(self) -> np.ndarray:
        """Chunk indices round-robin over the groups: the first chunk of each group, then the
        second of each, ... (within a group still in index order, so early chunks do not
        wait long for their predecessors)."""
        starts, lengths = self.edges[:-1], np.diff(self.edges)
        j = np.arange(int(lengths.max()) if lengths.size else 0)
        idx = starts[None, :] + j[:, None]  # (position in group, group)
        return idx[j[:, None] < lengths[None, :]]

    def add(self, index: int, moments: Moments) -> None:
        self.waiting[int(index)] = moments
        self.n_done += 1
        g = int(np.searchsorted(self.edges, index, side="right") - 1)
        while self.next[g] in self.waiting:
            self._merge(g, self.waiting.pop(int(self.next[g])))
            self.next[g] += 1

    def _merge(self, g, m):
        self.acc[g] = m if self.acc[g] is None else self.acc[g].merge(m)

    def groups(self) -> Moments:
        """The non-empty groups, stacked (an interrupted run's stragglers merged in index
        order into their groups)."""
        for i in sorted(self.waiting):
            self._merge(int(np.searchsorted(self.edges, i, side="right") - 1), self.waiting[i])
        self.waiting.clear()
        full = [m for m in self.acc if m is not None]
        return Moments(np.stack([m.count for m in full]), np.stack([m.mean for m in full]),
                       np.stack([m.m2 for m in full]))


@dataclass(frozen=True)
class EnsemblePlan:
    """Everything a worker needs to run any chunk (shared by all chunks of a run)."""

    schedule: Schedule
    mean0: np.ndarray
    init_factor: np.ndarray

    @property
    def dim(self) -> int:
        return self.mean0.shape[0]

    def run(self, n_traj: int, seed: np.random.SeedSequence) -> Moments:
        """Run one chunk of ``n_traj`` trajectories with its own seed; return its moments."""
        sched = self.schedule
        d = self.dim
        state = seed_state(seed)
        r = max(sched.noise_factors.shape[2], self.init_factor.shape[1], 1)
        x = np.empty((d, n_traj))
        y = np.empty((d, n_traj))
        z = np.empty((r, n_traj))
        n_rec = sched.times.size
        out_mean = np.empty((n_rec, d))
        out_m2 = np.empty((n_rec, d, d))
        simulate_chunk(sched.drift_maps, sched.noise_factors, sched.ranks, sched.steps, self.mean0,
                       self.init_factor, state, x, y, z, out_mean, out_m2)
        return Moments(np.full(n_rec, n_traj, dtype=np.int64), out_mean, out_m2)


def run_chunk(plan, n_traj: int, seed: np.random.SeedSequence) -> Moments:
    """Run one chunk of ``n_traj`` trajectories with its own seed; return its moments.

    Pure function of its arguments: the same seed gives the same bits on any machine with the
    same numpy/numba build. Every plan (:class:`EnsemblePlan`, a truncated Wigner plan) knows
    how to run its chunks.
    """
    return plan.run(n_traj, seed)


# ---------------------------------------------------------------------------------------------
# results
@dataclass(frozen=True)
class MeasureEstimates:
    """Measures estimated from an ensemble, with jackknife standard errors.

    Attributes
    ----------
    names : tuple of str
        Measure names (columns), a subset of :func:`~langevin_sim.measures.measure_names`.
    values : ndarray, shape (n_rec, n_measures)
    stderr : ndarray, shape (n_rec, n_measures)
    physical : ndarray of bool, shape (n_rec,)
        Whether the sampled two-mode covariance satisfied ``σ + iΩ/2 ≥ 0``.
    bias_corrected : ndarray, shape (n_rec, n_measures)
        Jackknife bias-corrected estimates.
    clipped : bool
        False if E_N and G are unclipped (negative below their threshold: smooth, testable).
    """

    names: tuple[str, ...]
    values: np.ndarray
    stderr: np.ndarray
    physical: np.ndarray
    bias_corrected: np.ndarray | None = None
    clipped: bool = True

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        i = self.names.index(name)
        return self.values[:, i], self.stderr[:, i]


@dataclass(frozen=True, repr=False)
class EnsembleResult:
    """Statistics of a trajectory ensemble at its record times.

    Attributes
    ----------
    times : ndarray, shape (n_rec,)
        Record times (1/ω_b for the paper's model). A time-averaged result has one record
        whose time is the start of its averaging window.
    groups : Moments
        Moments of fixed groups of consecutive chunks (at most 64, independent of ``n_traj``):
        ``count`` (n_groups, n_rec), ``mean`` (n_groups, n_rec, d), ``m2``
        (n_groups, n_rec, d, d).
    n_chunks : int
        Chunks that finished (all planned ones unless ``partial``).
    method, dt : str, float
        Integrator name and its (maximum) step.
    seed : int
        Entropy of the root ``SeedSequence``; chunk ``i`` used its child ``i``.
    n_chunks_planned : int
        Chunks the run was asked for.
    mode_labels : tuple of str
    metadata : dict
        JSON-serialisable description (model parameters, initial state, ...).
    records_pooled : int
        Records pooled per chunk (1 unless time-averaged).
    """

    times: np.ndarray
    groups: Moments
    n_chunks: int
    method: str
    dt: float
    seed: int
    n_chunks_planned: int
    mode_labels: tuple[str, ...]
    metadata: dict = field(default_factory=dict)
    records_pooled: int = 1

    # -- bookkeeping ----------------------------------------------------------------------
    @property
    def n_traj(self) -> int:
        """Trajectories actually simulated (all chunks that finished)."""
        return int(self.groups.count[:, 0].sum() // self.records_pooled)

    @property
    def partial(self) -> bool:
        """True if some planned chunks did not finish (interrupted run)."""
        return self.n_chunks < self.n_chunks_planned

    @property
    def dim(self) -> int:
        return self.groups.mean.shape[-1]

    # -- estimates ------------------------------------------------------------------------
    @cached_property
    def moments(self) -> Moments:
        """Pooled moments over all groups, per record (in group order; computed once)."""
        return pool(self.groups.count, self.groups.mean, self.groups.m2, axis=0)

    @property
    def mean(self) -> np.ndarray:
        """Ensemble mean, shape (n_rec, d)."""
        return self.moments.mean

    @property
    def covariance(self) -> np.ndarray:
        """Ensemble covariance (unbiased), shape (n_rec, d, d)."""
        return self.moments.covariance

    @property
    def jackknife_dof(self) -> int:
        """Degrees of freedom of the jackknife standard errors (groups − 1)."""
        return min(self.groups.count.shape[0], JACKKNIFE_GROUPS) - 1

    @property
    def has_stderr(self) -> bool:
        """Whether standard errors exist: a jackknife needs >= 2 chunk groups (a run
        interrupted within its first group has one; its SEs are NaN, "n/a" in outputs)."""
        return self.groups.count.shape[0] >= 2

    @cached_property
    def _leave_one_out(self) -> Moments:
        """Pooled moments with each of at most ``JACKKNIFE_GROUPS`` chunk groups left out
        (NaN, without dividing by a count of 0, when there is a single group)."""
        if not self.has_stderr:
            m = self.moments
            k = self.groups.count.shape[0]
            return Moments(np.zeros((k, *np.shape(m.count))), np.full((k, *m.mean.shape), np.nan),
                           np.full((k, *m.m2.shape), np.nan))
        return leave_one_out(self.moments, group_parts(self.groups, JACKKNIFE_GROUPS))

    @property
    def mean_stderr(self) -> np.ndarray:
        """Jackknife standard error of :attr:`mean`, shape (n_rec, d)."""
        return jackknife_stderr(self._leave_one_out.mean)

    @property
    def covariance_stderr(self) -> np.ndarray:
        """Jackknife standard error of :attr:`covariance`, shape (n_rec, d, d)."""
        return jackknife_stderr(self._leave_one_out.covariance)

    def statistic(self, func) -> tuple[np.ndarray, np.ndarray]:
        """Any function of the covariance at each record, with its jackknife standard error.

        Parameters
        ----------
        func : callable
            Maps a (d, d) covariance to a 1-D array of k numbers.

        Returns
        -------
        values, stderr : ndarray, shape (n_rec, k)
        """
        full = self.covariance
        values = np.array([np.atleast_1d(func(c)) for c in full], dtype=float)
        if not self.has_stderr:
            return values, np.full(values.shape, np.nan)
        loo = self._leave_one_out.covariance
        jack = np.array([[np.atleast_1d(func(c)) for c in group] for group in loo], dtype=float)
        return values, jackknife_stderr(jack)

    def record_statistic(self, func) -> tuple[np.ndarray, np.ndarray]:
        """A function of the means (n_rec, d) and covariances (n_rec, d, d) of *all* records
        (a time average over a window, an oscillation amplitude, ...), with its jackknife
        standard error: ``func`` returns a 1-D array; returns ``(value, stderr)``."""
        loo = self._leave_one_out
        value = np.atleast_1d(np.asarray(func(self.mean, self.covariance), float))
        if not self.has_stderr:
            return value, np.full(value.shape, np.nan)
        jack = np.array([np.atleast_1d(func(m, c)) for m, c in zip(loo.mean, loo.covariance)],
                        dtype=float)
        return value, jackknife_stderr(jack)

    def two_mode_selector(self, modes) -> np.ndarray:
        """Indices of the quadratures of the two ``modes`` (A first) in the state vector."""
        a, b = (self._mode(m) for m in modes)
        if a == b:
            raise ValueError(f"modes must be two different modes, got {modes!r}")
        return quadrature_indices((a, b))

    def measures(self, modes=None, names=None, clip: bool = True, records=None,
                 progress: bool = False) -> MeasureEstimates:
        """The two-mode measures of ``modes`` (default: the model's pair, else (b, m)) at each
        record, with jackknife errors and bias-corrected values; ``names`` picks some of
        :func:`measure_names`; ``clip=False`` gives E_N and G unclipped (for tests and onsets:
        ``max(0, ·)`` would bias an estimate near its threshold); ``records`` (indices) limits
        the work to the records that are shown.

        Every matrix (each record, and each leave-one-group-out replica) goes through one
        batched, compiled pass, parallel over the cores.
        """
        modes = tuple(self.metadata.get("pair", ("b", "m")) if modes is None else modes)
        sel = self.two_mode_selector(modes)
        pair = tuple(self.mode_labels[self._mode(m)] for m in modes)
        allowed = measure_names(pair)
        names = allowed if names is None else tuple(names)
        bad = [k for k in names if k not in allowed]
        if bad:
            raise ValueError(f"unknown measure(s) {bad} for the pair {pair}; allowed: "
                             f"{', '.join(allowed)}")
        rec = np.arange(self.times.size) if records is None else np.asarray(records, int)
        ix = np.ix_(sel, sel)
        full = self.covariance[rec][(slice(None),) + ix]
        # a single group has no leave-one-out replicas: values only, SEs NaN ("n/a")
        loo = self._leave_one_out.covariance[:, rec][(slice(None), slice(None)) + ix] \
            if self.has_stderr else np.empty((0, rec.size, 4, 4))
        which = np.array([k in names for k in allowed])
        cols = [allowed.index(k) for k in names]
        values = np.empty((rec.size, 6))
        jack = np.empty((loo.shape[0], rec.size, 6))
        from ._progress import tqdm

        step = 64  # records per compiled pass: a progress bar for long runs
        for a in tqdm(range(0, rec.size, step), disable=not progress, unit="block",
                      desc="measures"):
            b = min(a + step, rec.size)
            values[a:b], angles = batch_measures_angles(np.ascontiguousarray(full[a:b]),
                                                        which, clip)
            if not loo.shape[0]:
                continue
            part = loo[:, a:b].reshape(-1, 4, 4)
            # each replica's minimisation starts at the sample's minimiser (it moves by
            # O(1/K)): no coarse angle grid for the K replicas
            start = np.ascontiguousarray(np.broadcast_to(
                angles, (loo.shape[0],) + angles.shape).reshape(-1, 3, 2))
            jack[:, a:b] = batch_measures_near(np.ascontiguousarray(part), which, clip,
                                               start).reshape(loo.shape[0], b - a, 6)
        values, jack = values[:, cols], jack[:, :, cols]
        k = jack.shape[0]
        if k < 2:
            corrected = np.full(values.shape, np.nan)
        else:
            with np.errstate(invalid="ignore"):
                corrected = k * values - (k - 1) * jack.mean(axis=0)
        physical = np.array([is_physical(c) for c in full])
        return MeasureEstimates(names, values, jackknife_stderr(jack), physical, corrected, clip)

    def _mode(self, mode) -> int:
        if isinstance(mode, (int, np.integer)):
            return int(mode)
        try:
            return self.mode_labels.index(mode)
        except ValueError:
            raise ValueError(f"unknown mode {mode!r}; allowed: {self.mode_labels}") from None

    # -- transformations ------------------------------------------------------------------
    def time_average(self, start: float = 0.0) -> EnsembleResult:
        """Pool, per chunk, every record at times >= ``start`` (a steady-state estimator).

        Samples of one trajectory at different times are correlated; the chunks stay
        independent, so the jackknife over chunks still gives an honest standard error.
        """
        sel = self.times >= start
        if not np.any(sel):
            raise ValueError(f"no record at or after start = {start:g} (last record at "
                             f"{self.times[-1]:g})")
        c = self.groups
        pooled = pool(c.count[:, sel], c.mean[:, sel], c.m2[:, sel], axis=1)
        groups = Moments(pooled.count[:, None].astype(np.int64), pooled.mean[:, None],
                         pooled.m2[:, None])
        return replace(self, times=np.array([self.times[sel][0]]), groups=groups,
                       records_pooled=int(sel.sum()) * self.records_pooled)

    @property
    def provenance(self) -> list:
        """The runs this result pools: one ``{"seed", "n_chunks", "n_chunks_planned",
        "n_traj"}`` per run (seed as a string), kept through :meth:`merge`, :meth:`save` and
        :meth:`load`. Chunks ``0 .. n_chunks_planned - 1`` of a seed are its child seeds, so
        two runs of one seed share random numbers whatever their chunk sizes."""
        runs = self.metadata.get("merged_runs")
        if runs is None:
            runs = [{"seed": str(s)} for s in self.metadata.get("merged_seeds", [self.seed])]
            if len(runs) == 1:
                runs[0].update(n_chunks=self.n_chunks, n_chunks_planned=self.n_chunks_planned,
                               n_traj=self.n_traj)
        return [dict(r) for r in runs]

    def merge(self, other: EnsembleResult) -> EnsembleResult:
        """Combine with an independent ensemble of the same schedule (different seed).

        ``ValueError`` if the two share any seed (each remembers every seed it pools, through
        merges, saves and loads: ``a.merge(b).merge(b)`` would count ``b`` twice and shrink
        the standard errors), or if either's group moments are not finite.
        """
        if not isinstance(other, EnsembleResult):
            raise TypeError(f"merge(other=...) takes an EnsembleResult, got "
                            f"{type(other).__name__}")
        if not np.array_equal(self.times, other.times) or self.method != other.method \
                or self.dt != other.dt or self.records_pooled != other.records_pooled:
            raise ValueError("can only merge ensembles with the same times, method, dt and "
                             "time averaging")
        mine, theirs = self.provenance, other.provenance
        shared = sorted({r["seed"] for r in mine} & {r["seed"] for r in theirs})
        if shared:
            raise ValueError(f"the two ensembles share the chunks of seed(s) "
                             f"{', '.join(shared[:4])}: merging would count those trajectories "
                             "twice")
        for name, r in (("this", self), ("the other", other)):
            g = r.groups
            if not (np.all(np.isfinite(g.count)) and np.all(np.isfinite(g.mean))
                    and np.all(np.isfinite(g.m2))):
                raise ValueError(f"{name} ensemble's group moments are not finite (NaN or "
                                 "inf: an overflowed or corrupted result); it cannot be merged")
        if self.mode_labels != other.mode_labels:
            raise ValueError("can only merge ensembles of the same modes, got "
                             f"{self.mode_labels} and {other.mode_labels}")
        for key in ("model", "parameters", "initial", "pair"):
            a, b = self.metadata.get(key), other.metadata.get(key)
            if a is not None and b is not None and a != b:
                raise ValueError(f"can only merge ensembles of the same {key}: "
                                 f"{_describe_difference(a, b)}")
        seeds = [*self.metadata.get("merged_seeds", [self.seed]),
                 *other.metadata.get("merged_seeds", [other.seed])]
        c = Moments(np.concatenate([self.groups.count, other.groups.count]),
                    np.concatenate([self.groups.mean, other.groups.mean]),
                    np.concatenate([self.groups.m2, other.groups.m2]))
        return replace(self, groups=c, n_chunks=self.n_chunks + other.n_chunks,
                       n_chunks_planned=self.n_chunks_planned + other.n_chunks_planned,
                       metadata={**self.metadata, "merged_seeds": seeds,
                                 "merged_runs": [*mine, *theirs]})

    def __repr__(self) -> str:
        return (f"EnsembleResult({self.n_traj} trajectories, {self.times.size} records "
                f"t = {self.times[0]:g}..{self.times[-1]:g}, method {self.method!r}, "
                f"dt = {self.dt:g}, seed {self.seed}, modes {', '.join(self.mode_labels)}"
                + (", PARTIAL" if self.partial else "") + ")")

    # -- files ----------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write an ``.npz``: times, mean, covariance, their standard errors, the group
        moments (so the result can be reloaded, merged and re-analysed; their size does not
        grow with ``n_traj``) and the run's parameters and seed (JSON in ``metadata``)."""
        meta = {"method": self.method, "dt": self.dt, "seed": str(self.seed),
                "n_chunks_planned": self.n_chunks_planned, "n_chunks": self.n_chunks,
                "mode_labels": self.mode_labels,
                "records_pooled": self.records_pooled, "n_traj": self.n_traj,
                "partial": self.partial, **self.metadata}
        from .io import save_npz  # whole or not at all: a temporary file and a rename

        save_npz(
            path, times=self.times, mean=self.mean, covariance=self.covariance,
            mean_stderr=self.mean_stderr, covariance_stderr=self.covariance_stderr,
            group_count=self.groups.count, group_mean=self.groups.mean,
            group_m2=self.groups.m2,
            metadata=np.array(dumps(meta, indent=None)))

    @classmethod
    def load(cls, path) -> EnsembleResult:
        """Read a file written by :meth:`save` (files of version 0.1, which kept every chunk's
        moments, load too: each chunk becomes a group).

        ``FileNotFoundError`` if there is no such file; ``ValueError`` (one line naming the
        file and what is wrong) for anything that is not a complete ensemble file: not an
        ``.npz`` (a text file, a single ``.npy``), a corrupted archive, or missing arrays or
        metadata (a save that did not finish).
        """
        import zipfile

        def bad(what):
            return ValueError(f"{path}: {what}; expected an ensemble file written by "
                              "EnsembleResult.save (langevin-sim simulate --output)")

        try:
            f = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise
        except ValueError:  # neither a zip nor an .npy: numpy takes it for a pickle
            raise bad("not an .npz archive (a text file or other data)") from None
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise bad(f"a corrupted .npz archive ({type(exc).__name__})") from None
        if not isinstance(f, np.lib.npyio.NpzFile):
            raise bad("a single .npy array, not an .npz archive")
        with f:
            prefix = "group" if "group_count" in f else "chunk"
            missing = [k for k in ("metadata", "times", f"{prefix}_count", f"{prefix}_mean",
                                   f"{prefix}_m2") if k not in f]
            if missing:
                raise bad(f"no {', '.join(repr(k) for k in missing)} array(s)")
            try:
                meta = json.loads(str(f["metadata"]))
                groups = Moments(f[f"{prefix}_count"], f[f"{prefix}_mean"], f[f"{prefix}_m2"])
                times = f["times"]
            except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
                raise bad(f"corrupted archive ({type(exc).__name__})") from None
        keys = ("method", "dt", "seed", "n_chunks_planned", "mode_labels", "records_pooled")
        if not isinstance(meta, dict) or any(k not in meta for k in keys):
            absent = [k for k in keys if not isinstance(meta, dict) or k not in meta]
            raise bad(f"its metadata lacks {', '.join(absent)}")
        meta.setdefault("n_chunks", int(groups.count.shape[0]))
        core = {k: meta.pop(k) for k in ("method", "dt", "seed", "n_chunks_planned", "n_chunks",
                                         "mode_labels", "records_pooled")}
        for k in ("n_traj", "partial"):
            meta.pop(k, None)
        return cls(times=times, groups=groups, n_chunks=int(core["n_chunks"]),
                   method=core["method"],
                   dt=float(core["dt"]), seed=int(core["seed"]),
                   n_chunks_planned=int(core["n_chunks_planned"]),
                   mode_labels=tuple(core["mode_labels"]), metadata=meta,
                   records_pooled=int(core["records_pooled"]))


def _describe_difference(a, b) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        return ", ".join(f"{k} = {a.get(k)!r} vs {b.get(k)!r}" for k in keys[:4])
    return f"{a!r} vs {b!r}"


# ---------------------------------------------------------------------------------------------
# the driver
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
    plan = EnsemblePlan(schedule, init.mean, psd_factor(init.covariance))
    meta = {"initial": init.label, **(metadata or {})}
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
        from .models import as_model

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
    from ._signals import interrupts
    from .backends import LocalBackend

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
