"""``langevin-sim relax``: relaxation from an initial state against the exact transient."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from ..io import write_text
from .options import (
    EXIT_INCONSISTENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_ensemble_arguments,
    add_observable_arguments,
    load_request,
    make_backend,
    positive_float,
    positive_int,
    show_progress,
)
from .output import (
    dump_json,
    prepare_output_dir,
    print_result,
    render_observable_summary,
)

if TYPE_CHECKING:  # the report types, for the annotations only
    from ..analyses.relax import RelaxationReport

NAME = "relax"
HELP = "relaxation to steady state: transient ensemble vs exact σ(t), rates, onsets, plots"


def add_arguments(p):
    add_ensemble_arguments(p)
    p.add_argument("--initial", default="thermal",
                   help="thermal (default), vacuum, or FILE.npz with 'covariance' (and 'mean'); "
                        "a saved ensemble's last record is used")
    p.add_argument("--t-final", type=positive_float, default=None,
                   help="last record time in 1/unit (default: 5 slowest relaxation times)")
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

    request = load_request(args, ensemble=True)
    model, pair, parties, names = (request.model, request.pair, request.parties,
        request.observables)
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
    print_result(args.json, summary, render(report))
    if report.partial:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.check.consistent else EXIT_INCONSISTENT


def render(report: RelaxationReport) -> str:
    r = report.rates
    lines = [f"Relaxation from a {report.initial} state: method {report.method}, dt = "
             f"{report.dt:g}/{report.unit}, {report.n_traj} trajectories, seed {report.seed}, "
             f"{report.times.size} times up to {report.times[-1]:.4g}/{report.unit}",
             "", "eigenvalues of A (rate = -Re λ, frequency = |Im λ|, units of "
             f"{report.unit}):"]
    for z, part in zip(r.eigenvalues, r.participation):
        share = ", ".join(f"{m} {p:.2f}" for m, p in zip(r.mode_labels, part) if p > 0.05)
        lines.append(f"  rate {-z.real:10.5g}  frequency {abs(z.imag):8.4g}   ({share})")
    lines.append(f"slowest rate {r.slowest_rate:.5g} {report.unit} (1/rate = "
                 f"{1 / r.slowest_rate:.4g}/{report.unit}), living on mode {r.slowest_mode}")
    lines += ["", f"settling times (exact curves; within {report.tol:g} of steady state, "
                  f"relative norm for the covariance, absolute for measures), 1/{report.unit}:"]
    for k, v in report.settling.items():
        lines.append(f"  {k:<14}{v:10.4g}")
    lines += ["", f"onset times, 1/{report.unit}: exact | ensemble [confidence interval]"
              + ("" if report.pair else " (none: no pair)")]
    for k, o in report.onsets.items():
        lines.append(f"  {k:<14}{o.exact:10.4g} | {o.sample:10.4g} "
                     f"({o.sample_low:.4g}, {o.sample_high:.4g}] at {o.confidence:.0%}"
                     f"{'' if o.brackets_exact() else '  (does not bracket exact)'}")
    a, b = report.pair or (report.rates.mode_labels[0], None)
    heads = [f"Var(x_{a})"] + (["E_N", f"S_{b}|{a}"] if report.pair else [])
    if report.fidelity is not None:
        heads.append(f"F({','.join(report.fidelity.modes)}, target)")
    lines += ["", f"{'t (1/' + report.unit + ')':>9}" + "".join(f"{k:>30}" for k in heads)]
    xb = report.quadratures.index(f"x_{a}")
    ie, isb = 0, 2  # E_N and S_<B>_given_<A> in measure_names order
    for t in np.unique(np.linspace(0, report.times.size - 1, 12).astype(int)):
        cells = [(report.covariance[t, xb, xb], report.stderr[t, xb, xb],
                  report.exact_covariance[t, xb, xb])]
        if report.pair:
            cells += [(report.measures[t, ie], report.measures_stderr[t, ie],
                       report.exact_measures[t, ie]),
                      (report.measures[t, isb], report.measures_stderr[t, isb],
                       report.exact_measures[t, isb])]
        if report.fidelity is not None:
            f = report.fidelity
            cells.append((f.sample[t], f.stderr[t], f.exact[t]))
        lines.append(f"{report.times[t]:>9.4g}" + "".join(
            f"{f'{v:.4g}±{e:.2g} ({x:.4g})':>30}" for v, e, x in cells))
    lines += ["(sample ± SE (exact))"]
    if report.fidelity is not None:
        fz = np.abs(report.fidelity.z)
        lines.append(f"fidelity with the target: max |z| = {np.nanmax(fz):.3g} over "
                     f"{int(np.sum(np.isfinite(fz)))} records (not in the verdict)")
    if report.observables is not None:
        lines += ["", *render_observable_summary(report.observables, report.times)]
    lines += ["", report.check.summary()]
    if not np.all(report.physical):
        what, which = ((f"({', '.join(report.pair)})", "measures") if report.pair else
                       ("full", "purities and entropies"))
        lines.append(f"WARNING: the sampled {what} covariance is not "
                     f"physical at {int((~report.physical).sum())} record(s) (first t = "
                     f"{report.times[~report.physical][0]:.4g}; a sampled near-pure state falls "
                     f"below the bound by its statistical error): its {which} are unreliable")
    if report.partial:
        lines.append("PARTIAL: interrupted run; statistics are from the chunks completed")
    return "\n".join(lines)
