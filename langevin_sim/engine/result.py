"""The result of an ensemble: group moments at the record times, their statistics, measures,
files and merges."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from .._kernels.measures import batch_measures_angles, batch_measures_near
from ..conventions import is_physical, quadrature_indices
from ..io import read_npz, write_npz
from ..measures import measure_names
from ..statistics import Moments, group_parts, jackknife_stderr, leave_one_out, pool
from .chunks import JACKKNIFE_GROUPS


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
        """The two-mode measures of ``modes`` (default: the pair the run recorded, its model's)
        at each record, with jackknife errors and bias-corrected values; ``names`` picks some of
        :func:`measure_names`; ``clip=False`` gives E_N and G unclipped (for tests and onsets:
        ``max(0, ·)`` would bias an estimate near its threshold); ``records`` (indices) limits
        the work to the records that are shown.

        Every matrix (each record, and each leave-one-group-out replica) goes through one
        batched, compiled pass, parallel over the cores.
        """
        if modes is None:
            modes = self.metadata.get("pair")
            if modes is None:
                raise ValueError("name the two modes to measure (modes=(A, B)): the run records "
                                 "no pair (its model names none)")
        modes = tuple(modes)
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
        from ..backends.progress import tqdm

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
        write_npz(path, {"times": self.times, "mean": self.mean, "covariance": self.covariance,
                         "mean_stderr": self.mean_stderr,
                         "covariance_stderr": self.covariance_stderr,
                         "group_count": self.groups.count, "group_mean": self.groups.mean,
                         "group_m2": self.groups.m2}, meta)

    @classmethod
    def load(cls, path) -> EnsembleResult:
        """Read a file written by :meth:`save` (files of version 0.1, which kept every chunk's
        moments, load too: each chunk becomes a group).

        ``FileNotFoundError`` if there is no such file; ``ValueError`` (one line naming the
        file and what is wrong) for anything that is not a complete ensemble file: not an
        ``.npz`` (a text file, a single ``.npy``), a corrupted archive, or missing arrays or
        metadata (a save that did not finish).
        """
        expected = ("expected an ensemble file written by EnsembleResult.save (langevin-sim "
                    "simulate --output)")

        def bad(what):
            return ValueError(f"{path}: {what}; {expected}")

        arrays, meta = read_npz(path, ("metadata", "times"), expected)
        # 0.1 kept every chunk's moments (chunk_*): each chunk becomes a group
        prefix = "group" if "group_count" in arrays else "chunk"
        missing = [k for k in (f"{prefix}_count", f"{prefix}_mean", f"{prefix}_m2")
                   if k not in arrays]
        if missing:
            raise bad(f"no {', '.join(repr(k) for k in missing)} array(s)")
        groups = Moments(arrays[f"{prefix}_count"], arrays[f"{prefix}_mean"],
                         arrays[f"{prefix}_m2"])
        times = arrays["times"]
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


