"""``langevin-sim figures``: the paper's figures."""

from __future__ import annotations

from .options import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_backend_arguments,
    make_backend,
    positive_int,
    show_progress,
)
from .output import (
    dump_json,
    prepare_output_dir,
)

NAME = "figures"
HELP = "reproduce the paper's Figures 2-4 (density maps, stability masks, MC spot checks)"


def add_arguments(p):
    p.add_argument("--fig", choices=["2", "3", "4", "all"], default="all")
    p.add_argument("--resolution", type=positive_int, default=None,
                   help="grid points per axis (default 101)")
    p.add_argument("--output", default="figures", help="directory for PNG, NPZ and JSON files")
    p.add_argument("--mc-check", type=int, default=0, metavar="K",
                   help="exact-method ensembles at K points per plane (optimum and near the "
                        "threshold), marked on the maps and written to JSON")
    p.add_argument("--mc-n-traj", type=positive_int, default=8192,
                   help="trajectories per spot check (default 8192)")
    add_backend_arguments(p)


def run(args) -> int:
    import time

    from ..analyses.figures import DEFAULT_RESOLUTION, make_figures

    if args.mc_check < 0:
        raise UsageError(f"--mc-check must be >= 0, got {args.mc_check}")
    prepare_output_dir(args.output)
    figs = ("2", "3", "4") if args.fig == "all" else (args.fig,)
    t0 = time.perf_counter()
    with make_backend(args) as backend:
        summary = make_figures(figs, args.resolution or DEFAULT_RESOLUTION, args.output,
                               args.mc_check, args.mc_n_traj, backend=backend,
                               progress=show_progress(args),
                               log=(lambda *_: None) if args.json else print)
    total = time.perf_counter() - t0
    interrupted = bool(summary.pop("interrupted", False))
    if args.json:
        print(dump_json({"figures": summary, "seconds": total, "partial": interrupted}))
    else:
        print(f"total {total:.1f} s" + (" (PARTIAL: interrupted)" if interrupted else ""))
    return EXIT_INTERRUPTED if interrupted else EXIT_OK
