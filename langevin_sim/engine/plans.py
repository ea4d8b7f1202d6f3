"""Plans: everything a worker needs to run any chunk of a run (shared by all its chunks).

One plan, :class:`LLPlan`, and one kernel (:func:`~langevin_sim._kernels.ll.ll_chunk`) run
every linear model and the default step of every driven, nonlinear or time-dependent one: a
linear model's run (:func:`linear_plan`: the exact step, ``ll`` or EM) is the local
linearisation with no nonlinear terms, each segment's ``(F, G)`` as its matrices. The
baselines for a nonlinear drift (em, exp-euler, exp-heun) keep a kernel of their own
(:class:`TWAPlan`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._kernels.ll import ll_chunk
from .._kernels.random import seed_state
from .._kernels.twa import twa_chunk
from ..gaussian import ou_transition, psd_factor
from ..integrators import METHODS as METHODS_REGISTRY
from ..integrators import methods_for
from ..integrators.ll import Path, StepMatrices, check_matrix_memory, path_from, step_matrices
from ..statistics import Moments
from ..systems.linear import LinearSystem
from .schedule import Schedule

METHODS = methods_for("nonlinear")
"""Every scheme of the truncated Wigner engine, from the one registry
(:data:`langevin_sim.integrators.METHODS`): ``ll`` (local linearisation in a displaced frame,
:mod:`langevin_sim.integrators.ll`) is the default, the others are named baselines."""
SCHEME_IDS = {k: METHODS_REGISTRY[k].scheme_id for k in METHODS
              if METHODS_REGISTRY[k].scheme_id is not None}
"""The baselines run by :func:`~langevin_sim._kernels.twa.twa_chunk`, by kernel number."""
RAMP_IDS = {"sudden": 0, "linear": 1, "smooth": 2}
DEFAULT_DT = {k: METHODS_REGISTRY[k]().default_step(nonlinear=True) for k in METHODS}
"""Default steps (1/ω_b), declared by each scheme's class: ``ll`` consistent with the
continuous reference (``scripts/ll_accuracy.py``); EM inside its stability bound; small biases
for the exponential baselines against their own references (``scripts/scheme_bias.py``)."""


def run_chunk(plan, n_traj: int, seed: np.random.SeedSequence) -> Moments:
    """Run one chunk of ``n_traj`` trajectories with its own seed; return its moments.

    Pure function of its arguments: the same seed gives the same bits on any machine with the
    same numpy/numba build. Every plan (:class:`LLPlan`, :class:`TWAPlan`) knows
    how to run its chunks.
    """
    return plan.run(n_traj, seed)



@dataclass(frozen=True, eq=False)
class TWAPlan:
    """Everything a worker needs to run a chunk of the truncated Wigner ensemble."""

    scheme: int
    drift_map: np.ndarray
    noise_factor: np.ndarray
    dt: float
    drives: np.ndarray
    ramp_kinds: np.ndarray
    ramp_times: np.ndarray
    constant: np.ndarray
    quadratic_index: np.ndarray
    quadratic_coef: np.ndarray
    cubic_index: np.ndarray
    cubic_coef: np.ndarray
    steps: np.ndarray
    mean0: np.ndarray
    init_factor: np.ndarray

    def run(self, n_traj: int, seed: np.random.SeedSequence) -> Moments:
        d = self.mean0.shape[0]
        state = seed_state(seed)
        r = max(self.noise_factor.shape[1], self.init_factor.shape[1], 1)
        work = [np.empty((d, n_traj)) for _ in range(6)]
        z = np.empty((r, n_traj))
        n_rec = self.steps.size
        out_mean = np.empty((n_rec, d))
        out_m2 = np.empty((n_rec, d, d))
        twa_chunk(self.scheme, self.drift_map, self.noise_factor, self.dt, self.drives,
                  self.ramp_kinds, self.ramp_times, self.constant, self.quadratic_index,
                  self.quadratic_coef, self.cubic_index, self.cubic_coef, self.steps,
                  self.mean0, self.init_factor, state, *work, z, out_mean, out_m2)
        return Moments(np.full(n_rec, n_traj, dtype=np.int64), out_mean, out_m2)


@dataclass(frozen=True, eq=False)
class LLPlan:
    """Everything a worker needs to run a chunk of an ``ll`` ensemble: the shared per-step
    matrices, the schedule, the polynomial terms, the initial state of δ and the path at the
    records (added to the means of δ, so that the result holds the moments of X)."""

    matrices: object
    per_step: bool
    segment_matrix: np.ndarray
    steps: np.ndarray
    quadratic_index: np.ndarray
    quadratic_coef: np.ndarray  # (1, n_q), or (n_steps, n_q): per step (envelopes)
    cubic_index: np.ndarray
    cubic_coef: np.ndarray  # (1, n_c) or (n_steps, n_c)
    rows: np.ndarray
    row_of: np.ndarray
    mean0: np.ndarray
    init_factor: np.ndarray
    beta_records: np.ndarray

    def run(self, n_traj: int, seed: np.random.SeedSequence) -> Moments:
        d = self.mean0.shape[0]
        m = self.matrices
        state = seed_state(seed)
        r = max(m.noise.shape[2], self.init_factor.shape[1], 1)
        x, y = np.empty((d, n_traj)), np.empty((d, n_traj))
        rem = np.empty((self.rows.size, n_traj))
        z = np.empty((r, n_traj))
        n_rec = self.steps.size
        out_mean = np.empty((n_rec, d))
        out_m2 = np.empty((n_rec, d, d))
        forced = m.forcing is not None
        forcing = m.forcing if forced else np.zeros((1, d))
        ll_chunk(m.propagator, m.phi1, m.noise, m.ranks, m.beta, forcing, forced, self.per_step,
                 self.segment_matrix, self.steps, self.quadratic_index, self.quadratic_coef,
                 self.cubic_index, self.cubic_coef, self.rows, self.row_of, self.mean0,
                 self.init_factor, state, x, y, rem, z, out_mean, out_m2)
        return Moments(np.full(n_rec, n_traj, dtype=np.int64), out_mean + self.beta_records,
                       out_m2)


def ll_plan(system, times, dt: float, mean0, cov0, path: Path | None = None) -> LLPlan:
    """The plan of an ``ll`` ensemble recorded at ``times`` (multiples of ``dt``) from the
    Gaussian state ``(mean0, cov0)`` of X: the frame follows ``path`` (default: the
    deterministic path from ``mean0``, :func:`~langevin_sim.integrators.ll.path_from`).
    The matrices are computed with BLAS single-threaded (many small ones: threads only cost)."""
    from ..gaussian import small_linear_algebra

    with small_linear_algebra():
        return _ll_plan(system, times, dt, mean0, cov0, path)


def _ll_plan(system, times, dt: float, mean0, cov0, path: Path | None = None) -> LLPlan:
    t = np.asarray(times, float)
    steps_total = np.round(t / dt).astype(np.int64)
    steps = np.diff(np.concatenate([[0], steps_total]))
    if path is None:
        path = path_from(system, mean0, float(t[-1]))
    if path.is_constant:
        mats = step_matrices(system, path.point[None], dt, path.ordering)
        per_step = False
    else:
        n = int(steps_total[-1])
        check_matrix_memory(n, system.dim)
        mats = step_matrices(system, path((np.arange(n) + 0.5) * dt), dt, path.ordering)
        per_step = True
    return plan_with_terms(system, mats, per_step, steps,
                           np.asarray(mean0, float) - path(0.0)[0],
                           psd_factor(np.asarray(cov0, float)), path(t))


def plan_with_terms(system, mats, per_step: bool, steps, delta_mean0, init_factor,
                    beta_records, coef_times=None) -> LLPlan:
    """The :class:`LLPlan` of matrices ``mats`` and the polynomial terms of ``system`` (the
    remainder's rows in the order the kernel keeps them), with δ's initial mean and the
    initial covariance's factor, and the path at the records. The coefficients are one row
    (constant terms), or one row per step taken at ``coef_times`` (the steps' midpoints) when
    a nonlinear term carries an envelope."""
    nl_rows = sorted({int(i) for i in system.quadratic_index[:, 0]}
                     | {int(i) for i in system.cubic_index[:, 0]})
    row_of = np.full(system.dim, -1, np.int64)
    row_of[nl_rows] = np.arange(len(nl_rows))
    if system.nonlinear_envelopes:
        if coef_times is None or not per_step:
            raise ValueError("a nonlinear term with an envelope needs per-step coefficients "
                             "(coef_times, the steps' midpoints)")
        qcoef = system.quadratic_coef_at(np.asarray(coef_times, float))
        ccoef = system.cubic_coef_at(np.asarray(coef_times, float))
    else:
        qcoef, ccoef = system.quadratic_coef[None], system.cubic_coef[None]
    return LLPlan(mats, per_step, np.zeros(len(steps), np.int64), steps,
                  np.ascontiguousarray(system.quadratic_index, dtype=np.int64),
                  np.ascontiguousarray(qcoef, dtype=float),
                  np.ascontiguousarray(system.cubic_index, dtype=np.int64),
                  np.ascontiguousarray(ccoef, dtype=float),
                  np.array(nl_rows, np.int64), row_of, np.asarray(delta_mean0, float),
                  init_factor, beta_records)


def scheme_maps(system, method: str, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """``(F, G)`` of the scheme's linear part: ``(I + LΔt, √Δt B√N)`` for EM, ``(e^{LΔt},
    Q_L(Δt)^{1/2})`` for the exponential schemes (``L`` the truncated Wigner linear part)."""
    free = LinearSystem(system.linear_part("weyl"), system.noise_input, system.occupations,
                        system.mode_labels)
    if method == "em":
        g = math.sqrt(dt) * free.noise_amplitude
        return np.eye(free.dim) + dt * free.drift, g[:, np.any(g != 0, axis=0)]
    phi, q = ou_transition(free, dt)
    return phi, psd_factor(q)


def linear_plan(schedule: Schedule, mean0, init_factor) -> LLPlan:
    """A linear system's run as an :class:`LLPlan` with no nonlinear terms and no path: segment
    ``s`` steps with its ``(F_s, G_s)`` (exact, ``ll`` or EM), so the kernel's step is
    ``X' = F_s X + G_s Z`` (the same arithmetic, bit for bit, as the recursion's)."""
    f = schedule.drift_maps
    n_seg, d = f.shape[0], f.shape[1]
    mats = StepMatrices(f, f, schedule.noise_factors, schedule.ranks, np.zeros((n_seg, d)))
    return LLPlan(mats, False, np.arange(n_seg, dtype=np.int64), schedule.steps,
                  np.zeros((0, 3), np.int64), np.zeros((1, 0)), np.zeros((0, 4), np.int64),
                  np.zeros((1, 0)), np.zeros(0, np.int64), np.full(d, -1, np.int64),
                  np.asarray(mean0, float), init_factor, np.zeros((schedule.times.size, d)))
