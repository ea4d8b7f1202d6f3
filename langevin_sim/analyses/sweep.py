"""Parameter sweeps of the analytic steady state: every measure and a stability mask.

A sweep varies one or two parameters over grids (an axis may tie several fields together,
e.g. ``kappa`` sets ``kappa1 = kappa2``). Points are cut into fixed blocks that a backend runs
anywhere (threads here, or a Dask cluster) and are gathered in block order, so the result does
not depend on where they ran. Unstable points are masked: their measures are NaN and
``stable`` is False there; they are never numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backends import LocalBackend
from ..conventions import THRESHOLD_TOL
from ..errors import UnphysicalStateError, UnstableSystemError
from ..gaussian import steady_state
from ..io import package_version, read_npz, write_npz
from ..measures import measure_names, measures, signals_correlation, smaller_is_stronger
from ..models import CascadeParameters, as_model, check_pair, load_model
from ..models.cascade import AXIS_ALIASES
from ..observables import (
    higher_is_stronger,
    observables_table,
    parse_observables,
    parse_parties,
    party_text,
    signal_threshold,
)
from ..systems.meanfield import stable_states

BLOCK_SIZE = 256
"""Points per task (fixed, so the partition does not depend on the number of workers)."""


def axis_fields(name: str, model=None) -> tuple[str, ...]:
    """Parameters set by a sweep axis of ``model`` (default: the paper's cascade);
    ``ValueError`` naming the allowed ones if unknown."""
    names = as_model(model).parameter_names()
    aliases = {k: v for k, v in AXIS_ALIASES.items() if set(v) <= set(names)}
    if name in aliases:
        return aliases[name]
    if name in names:
        return (name,)
    extra = f" and the aliases {', '.join(aliases)}" if aliases else ""
    raise ValueError(f"unknown sweep axis {name!r}; allowed: {', '.join(names)}{extra}")


@dataclass(frozen=True)
class SweepResult:
    """Steady-state measures over a 1-D or 2-D parameter grid.

    Attributes
    ----------
    axes : tuple of str
        Swept axis names (first axis varies along array axis 0).
    grids : tuple of ndarray
        The grid of each axis (units: those of the field; rates in ω_b, T in K).
    values : dict of str -> ndarray, shape (len(grid_0)[, len(grid_1)])
        Each measure of :func:`~langevin_sim.measures.measure_names` of ``pair``, then each
        observable asked for (numeric keys of
        :func:`~langevin_sim.observables.observables_table`: ``n_<mode>``,
        ``squeezing_db_<mode>``, ``E_N_<A>_<B>``, ..., the three-mode class as a number);
        NaN where unstable.
    stable : ndarray of bool, same shape
        Eigenvalue test: every eigenvalue of A has negative real part.
    slowest_rate : ndarray, same shape
        ``-max Re λ`` (negative where unstable).
    fixed : dict
        The model's parameters at the sweep's base point (``as_dict()``).
    version : str
        Package version that computed it.
    pair : tuple of str or None
        The two modes measured (None: no pair, e.g. a one-mode model).
    model : model object or None
        What was swept (not saved; ``None`` after :meth:`load`).
    parties : tuple of str
        The bipartitions and three-mode analyses of the observables, as text (``"a1,b|m"``).
    """

    axes: tuple
    grids: tuple
    values: dict
    stable: np.ndarray
    slowest_rate: np.ndarray
    fixed: dict
    version: str
    pair: tuple | None = None
    model: object = None
    parties: tuple = ()

    @property
    def shape(self) -> tuple:
        return self.stable.shape

    def masked(self, name: str) -> np.ma.MaskedArray:
        """A measure as a masked array (masked where unstable)."""
        return np.ma.masked_array(self.values[name], mask=~self.stable)

    def parameters_at(self, index):
        """The model at a grid index (tuple): the swept model with the axes set (for a loaded
        result, the model its fixed parameters name, :func:`_model_of`)."""
        model = self.model if self.model is not None else _model_of(self.fixed)
        changes = {}
        for ax, grid, i in zip(self.axes, self.grids, np.atleast_1d(index)):
            for f in axis_fields(ax, model):
                changes[f] = float(grid[int(i)])
        return model.replace(**changes)

    def save(self, path) -> None:
        """``.npz`` with the grids, every measure, the mask, and JSON metadata
        (axes, fixed parameters, package version)."""
        meta = {"axes": list(self.axes), "fixed": self.fixed, "version": self.version,
                "pair": list(self.pair) if self.pair else None, "parties": list(self.parties)}
        arrays = {f"grid_{i}": g for i, g in enumerate(self.grids)}
        arrays.update({f"value_{k}": v for k, v in self.values.items()})
        write_npz(path, {"stable": self.stable, "slowest_rate": self.slowest_rate, **arrays},
                  meta)

    @classmethod
    def load(cls, path) -> SweepResult:
        """Read a file written by :meth:`save` (those of versions 0.1 and 0.2 too).
        ``ValueError`` (one line) for anything else."""
        expected = "expected a sweep file written by SweepResult.save (langevin-sim sweep)"
        f, meta = read_npz(path, ("metadata", "stable", "slowest_rate"), expected)
        if not isinstance(meta, dict) or any(k not in meta for k in ("axes", "fixed", "version")):
            raise ValueError(f"{path}: its metadata lacks axes, fixed or version; {expected}")
        missing = [f"grid_{i}" for i in range(len(meta["axes"])) if f"grid_{i}" not in f]
        if missing:
            raise ValueError(f"{path}: no {', '.join(missing)} array(s); {expected}")
        grids = tuple(f[f"grid_{i}"] for i in range(len(meta["axes"])))
        values = {k[len("value_"):]: v for k, v in f.items() if k.startswith("value_")}
        # a file without a pair is the paper's cascade's (the sweeps before pairs were named)
        pair = meta.get("pair", CascadeParameters.default_pair)
        return cls(tuple(meta["axes"]), grids, values, f["stable"], f["slowest_rate"],
                   meta["fixed"], meta["version"], tuple(pair) if pair else None,
                   parties=tuple(meta.get("parties", ())))


def _model_of(fixed: dict):
    """The model of a saved sweep from its fixed parameters: the one ``fixed["model"]`` names
    (a shipped model or a file) at those values; without a name (files of 0.1, and sweeps of
    :class:`CascadeParameters`) the paper's cascade."""
    values = {k: v for k, v in fixed.items() if k != "model"}
    name = fixed.get("model")
    if name is None or name == CascadeParameters.name and set(values) <= set(
            CascadeParameters().parameter_names()):
        return CascadeParameters(**values)
    return load_model(name).replace(**values)


def observable_keys(labels, parties=(), names=()) -> tuple:
    """The numeric keys :func:`~langevin_sim.observables.observables_table` gives for these
    modes, parties and observables, in order (found on the vacuum, where all are defined)."""
    if not names:
        return ()
    values, _ = observables_table(0.5 * np.eye(2 * len(labels)), labels, parties, names)
    return tuple(k for k, v in values.items()
                 if isinstance(v, (int, float, np.number)) and not isinstance(v, bool))


def _coherent_means(model, system):
    """Mean quadratures of the linearised branch 0 of a driven or nonlinear model (the coherent
    part of the occupations), or None for an undriven linear one."""
    full = model.build()
    if full.is_linear and not full.is_driven:
        return None

    states, _ = stable_states(full)
    return states[0].state if states else None


def _evaluate_block(model, axes: tuple, pair, points: np.ndarray, parties=(),
                    names=()) -> np.ndarray:
    """Measures, stability and slowest rate at each row of ``points`` (n, n_axes).

    Returns (n, 2 + 6 + k): [stable, slowest_rate, *measures of the pair (none without a pair),
    *observables (:func:`observable_keys`)] (NaN where unstable; a nonlinear model without a
    stable mean field counts as unstable, rate NaN).
    """
    labels = tuple(model.mode_labels)
    keys = observable_keys(labels, parties, names)
    n_pair = 6 if pair else 0
    want_mean = any(k in names for k in ("n", "n_coherent"))
    out = np.full((points.shape[0], 2 + n_pair + len(keys)), np.nan)
    fields = [axis_fields(a, model) for a in axes]
    for i, row in enumerate(points):
        changes = {f: float(v) for fs, v in zip(fields, row) for f in fs}
        try:
            point = model.replace(**changes)
            system = point.linear_system()
        except UnstableSystemError:
            out[i, 0] = False
            continue
        ev_max = float(np.max(system.eigenvalues.real))
        out[i, 0] = system.is_stable
        out[i, 1] = -ev_max
        if system.is_stable:
            try:
                sigma = steady_state(system)
            except UnphysicalStateError:  # too close to the instability: masked, no numbers
                out[i, 0] = False
                continue
            if pair:
                out[i, 2:2 + n_pair] = measures(sigma, system, modes=pair).values()
            if keys:
                mean = _coherent_means(point, system) if want_mean else None
                values, _ = observables_table(sigma, labels, parties, names, mean)
                out[i, 2 + n_pair:] = [values[k] for k in keys]
    return out


def sweep(model=None, axes: dict | None = None, *, pair=None, backend=None,
          progress: bool = False, parties=(), observables=()) -> SweepResult:
    """Steady-state measures over a grid of one or two parameters.

    Parameters
    ----------
    model : model, optional
        Anything :func:`~langevin_sim.models.as_model` takes, at its fixed parameters
        (default: the paper's linearised cascade, :class:`CascadeParameters`).
    axes : dict of str -> array_like
        One or two ``{axis name: grid}`` entries; names are the model's parameters, or for
        the paper's cascade the aliases ``kappa`` (κ1 = κ2) and ``g`` (g_ab = g_am). The
        extremes of every grid are validated first, so a bad value raises ``ValueError``
        before any work starts.
    pair : pair of str, optional
        The two modes measured (default: the model's own pair).
    backend : Backend, optional
        Default :class:`~langevin_sim.backends.LocalBackend` (all cores).
    progress : bool
        Progress bar over blocks.
    parties : sequence
        Bipartitions ``"a1,b|m"`` and three-mode analyses ``"a|b|m"`` (text or groups of
        mode names) whose observables are computed too (and, with ``observables`` given, a
        model without a pair is swept for its observables alone).
    observables : sequence of str
        Names of :data:`~langevin_sim.observables.OBSERVABLES` computed at every point
        (default none: the pair's six measures only). The single-mode ones are computed for
        every mode; ``n`` includes the mean field's coherent part.
    """

    model = as_model(model)
    if not isinstance(axes, dict):  # a list of names would fail later, far from the cause
        raise TypeError("sweep(axes=...) takes a dict {parameter name: grid} of one or two "
                        f"entries, got {type(axes).__name__}")
    if not axes or len(axes) > 2:
        raise ValueError("axes must have one or two entries {name: grid}")
    names = tuple(axes)
    grids = []
    for name in names:
        axis_fields(name, model)
        g = np.asarray(axes[name], dtype=float)
        if g.ndim != 1 or g.size < 1 or not np.all(np.isfinite(g)):
            raise ValueError(f"grid of {name!r} must be a non-empty 1-D array of finite numbers")
        grids.append(g)
    if isinstance(observables, str):
        observables = observables.split(",")
    obs_names = parse_observables(",".join(observables)) if len(observables) else ()
    labels = tuple(model.mode_labels)
    groups = tuple(parse_parties(p, labels) if isinstance(p, str) else
                   parse_parties(party_text(p), labels) for p in parties)
    if obs_names:
        from .steady import resolve_pair, resolve_parties

        pair = resolve_pair(model, pair, groups)
        groups = resolve_parties(labels, groups, pair, obs_names)
    else:
        pair = check_pair(model.mode_labels, model.pair(pair))
    mesh = np.meshgrid(*grids, indexing="ij")
    points = np.stack([m.ravel() for m in mesh], axis=1)
    for k, name in enumerate(names):  # validate the extremes before any work
        for v in (grids[k].min(), grids[k].max()):
            _validate_point(model, {f: float(v) for f in axis_fields(name, model)})
    blocks = [points[i:i + BLOCK_SIZE] for i in range(0, len(points), BLOCK_SIZE)]
    backend = LocalBackend() if backend is None else backend
    task = _SweepTask(model, names, pair, groups, obs_names)
    parts = backend.map(task, blocks, progress=progress, desc="sweep")
    flat = np.concatenate(parts, axis=0)
    shape = tuple(g.size for g in grids)
    stable = flat[:, 0].astype(bool).reshape(shape)
    keys = (measure_names(pair) if pair else ()) + observable_keys(labels, groups, obs_names)
    values = {k: flat[:, 2 + i].reshape(shape) for i, k in enumerate(keys)}
    return SweepResult(names, tuple(grids), values, stable, flat[:, 1].reshape(shape),
                       model.as_dict(), package_version(), pair, model,
                       tuple(party_text(g) for g in groups))


def _validate_point(model, changes: dict) -> None:
    """Raise ``ValueError`` if the model cannot be built at these values (instability is not
    an error: it is masked)."""
    model.replace(**changes).build()


class _SweepTask:
    """Picklable callable for one block of sweep points."""

    def __init__(self, model, axes, pair, parties=(), names=()):
        self.model, self.axes, self.pair = model, axes, pair
        self.parties, self.names = parties, names

    def __call__(self, points):
        return _evaluate_block(self.model, self.axes, self.pair, points, self.parties,
                               self.names)


def sweep_summary(result: SweepResult) -> dict:
    """Per measure: the strongest value over the stable points, where it is, and at how many
    points the measure signals correlation (JSON-ready). The observables (keys other than the
    pair's measures) are under ``observables``: the same, with the strongest value the
    largest except for occupations, smallest variance, entropy and three-mode class, and
    ``n_correlated`` counting E_N, G, residual contangle > 0 and squeezing > 0 dB (null for
    the others)."""

    pair_names = set(measure_names(result.pair)) if result.pair else set()
    out = {"axes": list(result.axes), "grids": list(result.grids),
           "pair": list(result.pair) if result.pair else None,
           "parties": list(result.parties),
           "n_points": int(result.stable.size), "n_stable": int(result.stable.sum()),
           "fixed": result.fixed, "measures": {}, "observables": {}}
    for k, v in result.values.items():
        is_measure = k in pair_names
        smaller = smaller_is_stronger(k) if is_measure else not higher_is_stronger(k)
        thr = None if is_measure else signal_threshold(k)
        table = out["measures"] if is_measure else out["observables"]
        v = np.where(result.stable, v, np.nan)
        finite = np.isfinite(v)
        if not finite.any():
            table[k] = {"best": None, "at": None,
                        "n_correlated": 0 if is_measure or thr is not None else None}
            continue
        flat = np.where(finite, v, np.inf if smaller else -np.inf)
        i = np.unravel_index(np.argmin(flat) if smaller else np.argmax(flat), v.shape)
        if is_measure:
            n_corr = int(sum(signals_correlation(k, x) for x in v[finite]))
        else:
            n_corr = None if thr is None else int(np.sum(v[finite] > thr + THRESHOLD_TOL))
        table[k] = {
            "best": float(v[i]),
            "at": {a: float(g[j]) for a, g, j in zip(result.axes, result.grids, i)},
            "n_correlated": n_corr,
        }
    return out
