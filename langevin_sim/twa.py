"""Truncated Wigner ensembles of a :class:`~langevin_sim.systems.nonlinear.LangevinSystem`:
``dX = f(X, t) dt + B√N dW`` with the full (Weyl-ordered) polynomial drift, integrated by a
scheme of :mod:`langevin_sim.integrators.nonlinear` in the numba kernel
:func:`langevin_sim._kernels.twa.twa_chunk`.

The chunks, seeds, streaming centred moments, groups, backends (Dask included) and
reproducibility are those of :func:`langevin_sim.ensemble.simulate`: a :class:`TWAPlan` is a
plan that runs its own chunks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._kernels.ll import ll_chunk
from ._kernels.random import seed_state
from ._kernels.twa import twa_chunk
from .ensemble import JACKKNIFE_GROUPS, EnsembleResult, check_cost, chunk_sizes, run_plan
from .gaussian import ou_transition, psd_factor
from .integrators import METHODS as METHODS_REGISTRY
from .integrators import methods_for
from .integrators.ll import (
    Path,
    check_matrix_memory,
    path_from,
    step_matrices,
)
from .statistics import Moments
from .systems.linear import LinearSystem

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
    quadratic_coef: np.ndarray
    cubic_index: np.ndarray
    cubic_coef: np.ndarray
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
    deterministic path from ``mean0``, :func:`~langevin_sim.integrators.ll.path_from`)."""
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
    nl_rows = sorted({int(i) for i in system.quadratic_index[:, 0]}
                     | {int(i) for i in system.cubic_index[:, 0]})
    row_of = np.full(system.dim, -1, np.int64)
    row_of[nl_rows] = np.arange(len(nl_rows))
    beta0 = path(0.0)[0]
    return LLPlan(mats, per_step, np.zeros(t.size, np.int64), steps,
                  np.ascontiguousarray(system.quadratic_index, dtype=np.int64),
                  np.ascontiguousarray(system.quadratic_coef, dtype=float),
                  np.ascontiguousarray(system.cubic_index, dtype=np.int64),
                  np.ascontiguousarray(system.cubic_coef, dtype=float),
                  np.array(nl_rows, np.int64), row_of,
                  np.asarray(mean0, float) - beta0, psd_factor(np.asarray(cov0, float)),
                  path(t))


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
    Other parameters as for :func:`langevin_sim.ensemble.simulate`.

    Returns
    -------
    EnsembleResult
        Moments of X (for ``ll``, the path plus the moments of δ).
    """
    from .switch_on import thermal_state

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


# -- the scheme's own discrete steady state ------------------------------------------------------
def _mean_map(system, method: str, dt: float):
    """The noise-free map of the scheme applied to the mean field (``a†a → |α|²``), with the
    same constant linear part as the ensemble's kernel: ``advance(x, t)`` returns the next
    mean and the predictor (exponential Euler's step, where exponential Heun's corrector
    evaluates the drift; the next mean itself for the other schemes)."""
    free_l = system.linear_part("weyl")
    f_map, _ = scheme_maps(system, method, dt)

    def nonlinear(x, t):
        return system.drift(x, t, ordering="mean-field") - free_l @ x

    def advance(x, t=np.inf):
        n1 = nonlinear(x, t)
        if method == "em":
            x_next = f_map @ x + dt * n1
            return x_next, x_next
        xt = f_map @ (x + dt * n1)
        if method == "exp-euler":
            return xt, xt
        return f_map @ x + 0.5 * dt * (f_map @ n1 + nonlinear(xt, t + dt)), xt

    return advance


def scheme_reduction(system, method: str, dt: float):
    """``reduce(x, xt)``: the scheme's linear recursion ``(F, G)`` for the fluctuations around
    the mean ``x`` with predictor ``xt`` (:func:`~langevin_sim.integrators.nonlinear.
    linear_reduction`, its maps computed once)."""
    from .integrators.nonlinear import linear_reduction

    free = LinearSystem(system.linear_part("weyl"), system.noise_input, system.occupations,
                        system.mode_labels)
    maps = scheme_maps(system, method, dt)
    lin_mf = system.linear_part("mean-field")

    def reduce(x, xt):
        c1 = system.jacobian(x) - lin_mf
        c2 = system.jacobian(xt) - lin_mf if method == "exp-heun" else None
        return linear_reduction(method, free, c1, dt, c2, maps=maps)

    return reduce


def discrete_steady_state(system, method: str, dt: float, start):
    """The scheme's own steady state near ``start`` (a continuous mean field): the fixed point
    of its noise-free map, and the stationary covariance of its linear recursion there
    (``Σ = F Σ Fᵀ + G Gᵀ``, F and G from the Jacobians at the point and at Heun's predictor).

    Returns ``(mean, covariance)``; ``StepTooLargeError`` if the recursion diverges there.
    """
    import scipy.linalg as sla
    from scipy import optimize

    from .errors import StepTooLargeError
    from .integrators.nonlinear import spectral_radius

    advance = _mean_map(system, method, dt)
    sol = optimize.root(lambda x: advance(x)[0] - x, np.asarray(start, float), method="hybr",
                        options={"xtol": 1e-14})
    x = sol.x
    f, g = scheme_reduction(system, method, dt)(x, advance(x)[1])
    rho = spectral_radius(f)
    if rho >= 1:
        raise StepTooLargeError(f"{method} at dt = {dt:g} diverges at this mean field: the "
                                f"spectral radius of its recursion is {rho:.6g} >= 1")
    sigma = sla.solve_discrete_lyapunov(f, g @ g.T)
    return x, 0.5 * (sigma + sigma.T)
