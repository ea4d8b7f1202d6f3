"""The ensemble engine: one driver for every model.

An ensemble of ``n_traj`` trajectories is cut into fixed chunks (their sizes depend only on
``n_traj`` and ``chunk_size``); chunk ``i`` draws its random numbers from child ``i`` of
``SeedSequence(seed)``. Each chunk returns only its moments at the record times (never raw
trajectories), merged as they arrive into at most 64 fixed groups of consecutive chunks (each
group in chunk-index order), so the same seed gives bit-identical results for any number of
threads or workers. Memory per running chunk is
``(2 d + r) × chunk_size`` doubles (state, next state, normals), independent of the number of
steps; the result holds ``n_groups × n_records × (d + d²)`` doubles of moments, whatever
``n_traj``.

Layout: :mod:`.chunks` (chunk sizes, seeds, costs), :mod:`.initial` (initial states),
:mod:`.schedule` (record times → segments), :mod:`.plans` (what a worker runs: the linear
recursion, the ``ll`` step, the baselines), :mod:`.accumulate` (groups), :mod:`.result`
(:class:`EnsembleResult`), :mod:`.drivers` (the drivers: :func:`simulate` for a linear system,
:func:`simulate_twa` for a Langevin system's truncated Wigner dynamics, :func:`run_plan` for
any plan on any backend), :mod:`.references` (a baseline's own discrete steady state). The
backends (:mod:`langevin_sim.backends`) are a generic map that knows none of this.
"""

from .accumulate import GroupAccumulator
from .chunks import (
    ASSUMED_THROUGHPUT,
    DEFAULT_N_TRAJ,
    JACKKNIFE_GROUPS,
    LONG_RUN_SECONDS,
    MAX_CHUNK_SIZE,
    MAX_CHUNKS,
    MAX_TRAJECTORY_STEPS,
    MIN_VERDICT_CHUNKS,
    SECONDS_PER_RECORD,
    TARGET_CHUNKS,
    ChildSeeds,
    ChunkArgs,
    check_cost,
    check_step_count,
    check_verdict_size,
    chunk_sizes,
    run_time_estimate,
)
from .drivers import exact_moments, run_plan, simulate, simulate_twa
from .initial import InitialState, make_initial_state, thermal_state
from .plans import (
    DEFAULT_DT,
    METHODS,
    RAMP_IDS,
    SCHEME_IDS,
    LLPlan,
    TWAPlan,
    linear_plan,
    ll_plan,
    run_chunk,
    scheme_maps,
)
from .references import discrete_steady_state, scheme_reduction
from .result import EnsembleResult, MeasureEstimates
from .schedule import Schedule, build_schedule, record_times

__all__ = [
    "ASSUMED_THROUGHPUT", "DEFAULT_DT", "DEFAULT_N_TRAJ", "JACKKNIFE_GROUPS", "LONG_RUN_SECONDS",
    "MAX_CHUNKS", "MAX_CHUNK_SIZE", "MAX_TRAJECTORY_STEPS", "METHODS", "MIN_VERDICT_CHUNKS",
    "RAMP_IDS", "SCHEME_IDS", "SECONDS_PER_RECORD", "TARGET_CHUNKS", "ChildSeeds", "ChunkArgs",
    "EnsembleResult", "GroupAccumulator", "InitialState", "LLPlan", "MeasureEstimates",
    "Schedule", "TWAPlan", "build_schedule", "check_cost", "check_step_count",
    "check_verdict_size", "chunk_sizes", "discrete_steady_state", "exact_moments",
    "linear_plan", "ll_plan", "make_initial_state", "record_times", "run_chunk", "run_plan",
    "run_time_estimate", "scheme_maps", "scheme_reduction", "simulate", "simulate_twa",
    "thermal_state",
]
