"""Parameter sweeps of the analytic steady state: every measure and a stability mask.

A sweep varies one or two parameters over grids (an axis may tie several fields together,
e.g. ``kappa`` sets ``kappa1 = kappa2``). Points are cut into fixed blocks that a backend runs
anywhere (threads here, or a Dask cluster) and are gathered in block order, so the result does
not depend on where they ran. Unstable points are masked: their measures are NaN and
``stable`` is False there; they are never numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .gaussian import steady_state
from .measures import MEASURE_NAMES, measures
from .models.cascade import CascadeParameters, build_system, field_names

AXIS_ALIASES = {"kappa": ("kappa1", "kappa2"), "g": ("g_ab", "g_am")}
"""Axis names that set several fields to the same value."""

BLOCK_SIZE = 256
"""Points per task (fixed, so the partition does not depend on the number of workers)."""


def axis_fields(name: str) -> tuple[str, ...]:
    """Fields set by a sweep axis (``ValueError`` naming the allowed ones if unknown)."""
    if name in AXIS_ALIASES:
        return AXIS_ALIASES[name]
    if name in field_names():
        return (name,)
    raise ValueError(f"unknown sweep axis {name!r}; allowed: {', '.join(field_names())} "
                     f"and the aliases {', '.join(AXIS_ALIASES)}")


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
        Each measure of :data:`~langevin_sim.measures.MEASURE_NAMES`; NaN where unstable.
    stable : ndarray of bool, same shape
        Eigenvalue test: every eigenvalue of A has negative real part.
    slowest_rate : ndarray, same shape
        ``-max Re λ`` (negative where unstable).
    fixed : dict
        The other parameters (a :class:`CascadeParameters` as a dict).
    version : str
        Package version that computed it.
    """

    axes: tuple
    grids: tuple
    values: dict
    stable: np.ndarray
    slowest_rate: np.ndarray
    fixed: dict
    version: str

    @property
    def shape(self) -> tuple:
        return self.stable.shape

    def masked(self, name: str) -> np.ma.MaskedArray:
        """A measure as a masked array (masked where unstable)."""
        return np.ma.masked_array(self.values[name], mask=~self.stable)

    def parameters_at(self, index) -> CascadeParameters:
        """The full parameter set at a grid index (tuple)."""
        changes = {}
        for ax, grid, i in zip(self.axes, self.grids, np.atleast_1d(index)):
            for f in axis_fields(ax):
                changes[f] = float(grid[int(i)])
        return CascadeParameters(**{**self.fixed, **changes})

    def save(self, path) -> None:
        """``.npz`` with the grids, every measure, the mask, and JSON metadata
        (axes, fixed parameters, package version)."""
        meta = {"axes": list(self.axes), "fixed": self.fixed, "version": self.version}
        arrays = {f"grid_{i}": g for i, g in enumerate(self.grids)}
        arrays.update({f"value_{k}": v for k, v in self.values.items()})
        np.savez_compressed(path, stable=self.stable, slowest_rate=self.slowest_rate,
                            metadata=np.array(json.dumps(meta)), **arrays)

    @classmethod
    def load(cls, path) -> SweepResult:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["metadata"]))
            grids = tuple(f[f"grid_{i}"] for i in range(len(meta["axes"])))
            values = {k[len("value_"):]: f[k] for k in f.files if k.startswith("value_")}
            return cls(tuple(meta["axes"]), grids, values, f["stable"], f["slowest_rate"],
                       meta["fixed"], meta["version"])


def _evaluate_block(fixed: dict, axes: tuple, points: np.ndarray) -> np.ndarray:
    """Measures, stability and slowest rate at each row of ``points`` (n, n_axes).

    Returns (n, 2 + 6): [stable, slowest_rate, *measures] (NaN measures where unstable).
    """
    out = np.full((points.shape[0], 2 + len(MEASURE_NAMES)), np.nan)
    fields = [axis_fields(a) for a in axes]
    for i, row in enumerate(points):
        changes = {f: float(v) for fs, v in zip(fields, row) for f in fs}
        system = build_system(CascadeParameters(**{**fixed, **changes}))
        ev_max = float(np.max(system.eigenvalues.real))
        out[i, 0] = ev_max < 0
        out[i, 1] = -ev_max
        if ev_max < 0:
            out[i, 2:] = measures(steady_state(system), system, modes=("b", "m")).values()
    return out


def sweep(params: CascadeParameters | None = None, axes: dict | None = None, *,
          backend=None, progress: bool = False) -> SweepResult:
    """Steady-state measures over a grid of one or two parameters.

    Parameters
    ----------
    params : CascadeParameters
        The fixed parameters (default: the paper's).
    axes : dict of str -> array_like
        One or two ``{axis name: grid}`` entries; names are dataclass fields or the aliases
        ``kappa`` (κ1 = κ2) and ``g`` (g_ab = g_am). Every grid point is validated as a full
        parameter set first, so a bad value raises ``ValueError`` before any work starts.
    backend : Backend, optional
        Default :class:`~langevin_sim.backends.LocalBackend` (all cores).
    progress : bool
        Progress bar over blocks.
    """
    from . import __version__
    from .backends import LocalBackend

    params = CascadeParameters() if params is None else params
    if not axes or len(axes) > 2:
        raise ValueError("axes must have one or two entries {name: grid}")
    names = tuple(axes)
    grids = []
    for name in names:
        axis_fields(name)
        g = np.asarray(axes[name], dtype=float)
        if g.ndim != 1 or g.size < 1 or not np.all(np.isfinite(g)):
            raise ValueError(f"grid of {name!r} must be a non-empty 1-D array of finite numbers")
        grids.append(g)
    mesh = np.meshgrid(*grids, indexing="ij")
    points = np.stack([m.ravel() for m in mesh], axis=1)
    fixed = params.as_dict()
    for k, name in enumerate(names):  # validate the extremes before any work
        for v in (grids[k].min(), grids[k].max()):
            CascadeParameters(**{**fixed, **{f: float(v) for f in axis_fields(name)}})
    blocks = [points[i:i + BLOCK_SIZE] for i in range(0, len(points), BLOCK_SIZE)]
    backend = LocalBackend() if backend is None else backend
    parts = backend.map(_SweepTask(fixed, names), blocks, progress=progress, desc="sweep")
    flat = np.concatenate(parts, axis=0)
    shape = tuple(g.size for g in grids)
    stable = flat[:, 0].astype(bool).reshape(shape)
    values = {k: flat[:, 2 + i].reshape(shape) for i, k in enumerate(MEASURE_NAMES)}
    return SweepResult(names, tuple(grids), values, stable, flat[:, 1].reshape(shape), fixed,
                       __version__)


class _SweepTask:
    """Picklable callable for one block of sweep points."""

    def __init__(self, fixed, axes):
        self.fixed, self.axes = fixed, axes

    def __call__(self, points):
        return _evaluate_block(self.fixed, self.axes, points)
