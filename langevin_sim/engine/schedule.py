"""Schedules: record times cut into segments of equal steps, with each segment's transition."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..integrators import Integrator
from ..systems.linear import LinearSystem


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
    ``ceil(interval / dt)`` equal steps no longer than ``dt``. The transitions are computed
    with BLAS single-threaded (:func:`~langevin_sim.gaussian.small_linear_algebra`): a 16×16
    matrix exponential takes 0.02 ms so, and 3 ms with two BLAS threads on this machine.
    """
    from ..gaussian import small_linear_algebra

    with small_linear_algebra():
        return _build_schedule(system, integrator, times, dt)


def _build_schedule(system: LinearSystem, integrator: Integrator, times, dt: float
                    ) -> Schedule:
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


