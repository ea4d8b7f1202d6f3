"""``langevin-sim relax``: relaxation from an initial state against the exact transient."""

from __future__ import annotations

import os

from ..io import write_text
from .options import (
    EXIT_INCONSISTENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_ensemble_arguments,
    add_observable_arguments,
    load_ensemble_observables,
    make_backend,
    positive_float,
    positive_int,
    show_progress,
)
from .output import (
    dump_json,
    no_nan,
    prepare_output_dir,
)

NAME = "relax"
HELP = "relaxation to steady state: transient ensemble vs exact σ(t), rates, onsets, plots"


def add_arguments(p):
    add_ensemble_arguments(p)
    p.add_argument("--initial", default="thermal",
                   help="thermal (default), vacuum, or FILE.npz with 'covariance' (and 'mean'); "
                        "a saved ensemble's last record is used")
    p.add_argument("--t-final", type=positive_float, default=None,
                   help="last record time in 1/ω_b (default: 5 slowest relaxation times)")
    p.add_argument("--n-times", type=positive_int, default=40,
                   help="record times, log-spaced (default 40)")
    p.add_argument("--tol", type=positive_float, default=0.01,
                   help="settling tolerance (relative for σ, absolute for measures)")
    p.add_argument("--alpha", type=float, default=0.01, help="significance of the z test")
    p.add_argument("--output", default=None,
                   help="directory for the PNG plots, report JSON and ensemble .npz")
    add_observable_arguments(p)
    p.add_argument("--fidelity-target", default=None, metavar="FILE.json|FILE.npz",
                   help="a Gaussian target state: 'modes' (names), 'covariance' (2k x 2k, "
                        "vacuum variance 1/2) and optionally 'mean' (2k quadrature means); "
                        "the fidelity of those modes' state with it at each record, "
                        "ensemble ± SE and exact")

def run(args) -> int:

    from ..analyses.relax import relax

    model, pair, parties, names = load_ensemble_observables(args)
    target = None
    if args.fidelity_target is not None:
        from ..observables import load_fidelity_target

        if not os.path.isfile(args.fidelity_target):
            raise UsageError(f"--fidelity-target must be an existing .json or .npz file, got "
                             f"{args.fidelity_target!r}")
        target = load_fidelity_target(args.fidelity_target, model.mode_labels)
    if args.initial not in ("thermal", "vacuum") and not os.path.isfile(args.initial):
        raise UsageError(f"--initial must be thermal, vacuum or an existing .npz file, got "
                         f"{args.initial!r}")
    if args.initial not in ("thermal", "vacuum"):
        from ..analyses.relax import load_initial
        load_initial(args.initial)  # unreadable or unphysical: one line, before any work
    if args.n_times < 3:
        raise UsageError("--n-times must be >= 3")
    prepare_output_dir(args.output)
    with make_backend(args) as backend:
        report = relax(model, pair=pair, branch=args.branch, initial=args.initial,
                       t_final=args.t_final, n_times=args.n_times, method=args.method, dt=args.dt,
                       n_traj=args.n_traj, seed=args.seed, tol=args.tol, alpha=args.alpha,
                       chunk_size=args.chunk_size, backend=backend, progress=show_progress(args),
                       parties=parties, observables=names, fidelity_target=target)
    summary = report.summary_dict()
    if args.output:
        from .. import plotting

        files = {}
        if pair:  # the variances and measures of the pair
            files["variances"] = plotting.plot_relaxation_variances(
                report, os.path.join(args.output, "relax_variances.png"))
            files["measures"] = plotting.plot_relaxation_measures(
                report, os.path.join(args.output, "relax_measures.png"))
        files["distance"] = plotting.plot_relaxation_distance(
            report, os.path.join(args.output, "relax_distance.png"))
        files["ensemble"] = os.path.join(args.output, "relax_ensemble.npz")
        report.ensemble.save(files["ensemble"])
        files["report"] = os.path.join(args.output, "relax_report.json")
        summary["files"] = files
        write_text(files["report"], dump_json(summary))
    if args.json:
        print(dump_json(summary))
    else:
        print(no_nan(report.render()))
        if args.output:
            print("wrote " + ", ".join(files.values()))
    if report.partial:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.check.consistent else EXIT_INCONSISTENT
