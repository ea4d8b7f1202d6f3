"""The paper's Figures 2–4 (and E_N / G companions), with optional Monte Carlo spot checks.

Each figure is a set of parameter planes (docs/physics.md, "The figures of the paper"); one
sweep per plane gives every measure, and the panels show E_bm, S_m|b (and S_b|m) coloured only where
the criterion holds (< 1), blank elsewhere, the unstable region hatched grey, and the threshold
contour. The axis ranges are ours: the paper's text does not state them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from .. import plotting
from ..engine import simulate
from ..gaussian import steady_state
from ..io import dumps, write_text
from ..measures import measure_names
from ..models.cascade import CascadeParameters
from .sweep import SweepResult, sweep


@dataclass(frozen=True)
class Plane:
    """One parameter plane of a figure."""

    key: str                      # e.g. "2ac"
    params: CascadeParameters     # fixed parameters
    x: tuple                      # (axis name, lo, hi)
    y: tuple
    panels: tuple                 # ((panel letter, measure), ...)

    def grids(self, n: int) -> dict:
        return {self.x[0]: np.linspace(self.x[1], self.x[2], n),
                self.y[0]: np.linspace(self.y[1], self.y[2], n)}


_FIG3_AC = CascadeParameters(g_ab=1.0, g_am=2.0)  # g_ab = 0.5 g_am = ω_b (physics.md, correction 5)

FIGURES = {
    "2": (Plane("2ac", CascadeParameters(), ("kappa", 0.5, 20.0), ("delta_m", -2.0, 0.0),
                (("a", "E_bm"), ("c", "S_m_given_b"))),
          Plane("2bd", CascadeParameters(), ("delta1", -0.5, 3.0), ("delta2", -3.0, 1.0),
                (("b", "E_bm"), ("d", "S_m_given_b")))),
    "3": (Plane("3ac", _FIG3_AC, ("kappa1", 1.0, 20.0), ("kappa2", 1.0, 20.0),
                (("a", "E_bm"), ("b", "S_m_given_b"), ("c", "S_b_given_m"))),
          Plane("3df", CascadeParameters(), ("g_am", 0.1, 3.0), ("g_ab", 0.05, 1.5),
                (("d", "E_bm"), ("e", "S_m_given_b"), ("f", "S_b_given_m")))),
    "4": (Plane("4ab", CascadeParameters(), ("T", 0.0, 0.5), ("eta", 0.0, 1.0),
                (("a", "E_bm"), ("b", "S_m_given_b"))),),
}
"""Figure number -> planes, with the fixed parameters and axis ranges used."""

DEFAULT_RESOLUTION = 101


def figure_sweeps(fig: str, resolution: int = DEFAULT_RESOLUTION, backend=None,
                  progress=False) -> dict[str, SweepResult]:
    """One sweep per plane of figure ``fig``."""
    if fig not in FIGURES:
        raise ValueError(f"unknown figure {fig!r}; allowed: {', '.join(FIGURES)}")
    if resolution < 3:
        raise ValueError(f"resolution must be >= 3, got {resolution}")
    return {pl.key: sweep(pl.params, pl.grids(resolution), backend=backend, progress=progress)
            for pl in FIGURES[fig]}


def mc_points(result: SweepResult, k: int, measure: str = "E_bm") -> list[tuple[int, int]]:
    """``k`` grid indices for spot checks: the optimum of ``measure`` and ``k - 1`` stable
    points nearest its threshold (value 1) but past it or short of it by more than round-off
    (a product state sitting exactly on the threshold says nothing), spread over the plane."""
    v = np.where(result.stable, result.values[measure], np.nan)
    v = np.where(np.abs(v - 1.0) > 1e-6, v, np.nan)
    if k < 1 or np.all(np.isnan(v)):
        return []
    best = np.unravel_index(np.nanargmin(v), v.shape)
    picks = [tuple(int(i) for i in best)]
    closeness = np.abs(v - 1.0)
    order = np.argsort(np.where(np.isnan(closeness), np.inf, closeness), axis=None)
    min_sep = max(2, v.shape[0] // 6)
    for flat in order:
        if len(picks) >= k or not np.isfinite(closeness.flat[flat]):
            break
        idx = np.unravel_index(flat, v.shape)
        if all(max(abs(idx[0] - p[0]), abs(idx[1] - p[1])) >= min_sep for p in picks):
            picks.append(tuple(int(i) for i in idx))
    return picks


def mc_check(result: SweepResult, index, *, n_traj=8192, seed=0, t_final=400.0,
             record_every=20.0, backend=None) -> dict:
    """Exact-method ensemble at one grid point, started in σ∞ and time-averaged (the
    dynamics must keep it there); every measure sampled ± SE against the map's value."""
    system = result.parameters_at(index).linear_system()
    times = np.arange(0.0, t_final + 1e-9, record_every)
    res = simulate(system, times, method="exact", dt=record_every, n_traj=n_traj, seed=seed,
                   initial=(None, steady_state(system)), backend=backend).time_average()
    est = res.measures(result.pair)
    out = {"index": list(index), "parameters": {ax: float(g[i]) for ax, g, i in
                                                zip(result.axes, result.grids, index)},
           "n_traj": res.n_traj, "seed": str(res.seed), "t_final": t_final,
           "partial": bool(res.partial)}
    for j, name in enumerate(measure_names(result.pair)):
        exact = float(result.values[name][tuple(index)])
        val, se = float(est.values[0, j]), float(est.stderr[0, j])
        ok = bool(np.isfinite(se) and se > 0)
        out[name] = {"sample": val, "stderr": se if ok else None, "analytic": exact,
                     "z": (val - exact) / se if ok else None}
    return out


def make_figures(figs=("2", "3", "4"), resolution: int = DEFAULT_RESOLUTION, output=".",
                 mc_check_points: int = 0, mc_n_traj: int = 8192, backend=None,
                 progress=False, log=print) -> dict:
    """Compute and draw the figures; returns ``{figure: {"files": [...], "seconds": t}}``.

    Writes ``fig<N>.png`` (the paper's panels), ``fig<N>_companion.png`` (E_N and G maps),
    ``sweep_<plane>.npz`` and, with ``mc_check_points > 0``, ``fig<N>_mc_check.json``.

    Interrupted (Ctrl-C) during the Monte Carlo spot checks, the checks that finished (the
    one cut short marked ``partial``) are written with the figure's plots, no further figure
    is started, and the summary has ``"interrupted": True``.
    """

    os.makedirs(output, exist_ok=True)
    summary = {}
    for fig in figs:
        t0 = time.perf_counter()
        sweeps = figure_sweeps(fig, resolution, backend=backend, progress=progress)
        files = []
        for key, res in sweeps.items():
            path = os.path.join(output, f"sweep_{key}.npz")
            res.save(path)
            files.append(path)
        checks = {}
        interrupted = False
        if mc_check_points > 0:
            try:
                for n, (key, res) in enumerate(sweeps.items()):
                    checks[key] = []
                    for i, idx in enumerate(mc_points(res, mc_check_points)):
                        checks[key].append(mc_check(res, idx, n_traj=mc_n_traj,
                                                    seed=1000 * int(fig) + 10 * n + i,
                                                    backend=backend))
                        if checks[key][-1]["partial"]:
                            raise KeyboardInterrupt
            except KeyboardInterrupt:  # keep the checks that finished, draw, stop here
                interrupted = True
            path = os.path.join(output, f"fig{fig}_mc_check.json")
            write_text(path, dumps(checks))  # strict JSON: a NaN is null
            files.append(path)
        files.append(plotting.plot_figure(fig, FIGURES[fig], sweeps, checks,
                                          os.path.join(output, f"fig{fig}.png")))
        files.append(plotting.plot_companion(fig, FIGURES[fig], sweeps,
                                             os.path.join(output, f"fig{fig}_companion.png")))
        seconds = time.perf_counter() - t0
        summary[fig] = {"files": files, "seconds": seconds}
        log(f"Fig. {fig}: {resolution}x{resolution} per plane, {seconds:.1f} s -> "
            + ", ".join(os.path.basename(f) for f in files)
            + (" (PARTIAL: Monte Carlo checks interrupted)" if interrupted else ""))
        if interrupted:
            summary[fig]["partial"] = True
            summary["interrupted"] = True
            break
    return summary
