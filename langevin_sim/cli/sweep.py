"""``langevin-sim sweep``: the measures over a grid of parameters."""

from __future__ import annotations

import os

import numpy as np

from .options import (
    EXIT_OK,
    UsageError,
    add_backend_arguments,
    add_model_arguments,
    add_observable_arguments,
    load_request,
    make_backend,
    show_progress,
)
from .output import (
    dump_json,
    prepare_output_dir,
)

NAME = "sweep"
HELP = "steady-state measures over a grid of one or two parameters of any model"


def _parse_axis(text: str):
    """``NAME=START:STOP:N`` → (name, grid) (``UsageError`` if malformed)."""
    name, sep, spec = text.partition("=")
    parts = spec.split(":")
    if not sep or len(parts) != 3:
        raise UsageError(f"--axis expects NAME=START:STOP:N, got {text!r}")
    try:
        start, stop, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise UsageError(f"--axis {name}: START and STOP must be numbers and N an integer, "
                         f"got {spec!r}") from None
    if not (np.isfinite(start) and np.isfinite(stop)) or n < 1 or n > 2001:
        raise UsageError(f"--axis {name}: need finite START, STOP and 1 <= N <= 2001, got "
                         f"{spec!r}")
    return name.strip(), np.linspace(start, stop, n)


def add_arguments(p):

    add_model_arguments(p)
    add_observable_arguments(p)
    p.add_argument("--axis", action="append", default=[], metavar="NAME=START:STOP:N",
                   help="a swept parameter and its grid (one or two --axis)")
    p.add_argument("--output", default=None,
                   help="directory for sweep.npz and sweep.png (maps of the six measures)")
    add_backend_arguments(p)


def run(args) -> int:

    from ..analyses.sweep import sweep, sweep_summary

    request = load_request(args)
    model, pair, parties, names = (request.model, request.pair, request.parties,
        request.observables)
    if not 1 <= len(args.axis) <= 2:
        raise UsageError("give one or two --axis NAME=START:STOP:N")
    axes = dict(_parse_axis(a) for a in args.axis)
    if len(axes) != len(args.axis):
        raise UsageError("the two --axis must name different parameters")
    prepare_output_dir(args.output)
    with make_backend(args) as backend:
        result = sweep(model, axes, pair=pair, backend=backend, progress=show_progress(args),
                       parties=parties, observables=names)
    summary = sweep_summary(result)
    if args.output is not None:
        npz = os.path.join(args.output, "sweep.npz")
        result.save(npz)
        summary["files"] = [npz]
        if pair is not None:  # the maps are of the pair's six measures
            from ..plotting import plot_sweep

            png = os.path.join(args.output, "sweep.png")
            plot_sweep(result, png, unit=model.unit)
            summary["files"].append(png)
    if args.json:
        print(dump_json(summary))
    else:
        grid = " × ".join(f"{a} ∈ [{g[0]:g}, {g[-1]:g}] ({g.size})"
                          for a, g in zip(result.axes, result.grids))
        print(f"Sweep of model {model.name}: {grid}; "
              + (f"pair ({', '.join(pair)})" if pair else "no pair")
              + (f"; parties {', '.join(result.parties)}" if result.parties else ""))
        print(f"stable points: {summary['n_stable']} of {summary['n_points']}")
        name_width = max([16, *(len(k) + 2 for k in result.values)])
        print(f"{'measure':<{name_width}}{'best':>12}  {'at':<32}{'correlated at':>16}")
        for k, row in {**summary["measures"], **summary["observables"]}.items():
            at = ", ".join(f"{a} = {v:.4g}" for a, v in (row["at"] or {}).items())
            best = "—" if row["best"] is None else f"{row['best']:.5g}"
            corr = "" if row["n_correlated"] is None else f"{row['n_correlated']:>10} points"
            print(f"{k:<{name_width}}{best:>12}  {at:<32}{corr}")
        if args.output is not None:
            print("wrote " + ", ".join(summary["files"]))
    return EXIT_OK
