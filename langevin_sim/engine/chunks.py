"""Chunks, seeds and what a run may cost: the plan of an ensemble, before it runs.

An ensemble of ``n_traj`` trajectories is cut into fixed chunks (their sizes depend only on
``n_traj`` and ``chunk_size``); chunk ``i`` draws its random numbers from child ``i`` of
``SeedSequence(seed)`` (:class:`ChildSeeds`), so the same seed gives the same bits for any
number of threads or workers.
"""

from __future__ import annotations

import numpy as np

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
transition to it (a matrix exponential) and the measures of its covariance and of its
leave-one-group-out replicas, as relax and ``--json`` compute at every record: a safe margin
over what was measured on the shared 2-core machine at load 1.1 (the command is in the README,
section Trajectory ensembles): measures 1.2 ms and relax 2.6 ms per record (1000 records,
16384 trajectories, 32 groups)."""



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


