"""``langevin-sim evolve``: any model (time-dependent or not, linear or not) evolved from its
initial state, the ensemble beside the continuous reference."""

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
    show_progress,
)
from .output import dump_json, prepare_output_dir, print_result, render_observable_summary

if TYPE_CHECKING:  # the report types, for the annotations only
    from ..analyses.evolve import EvolveReport

NAME = "evolve"
HELP = ("any model (pulses, envelopes, temporal modes of outputs) evolved from its initial "
        "state: ensemble vs the continuous reference at every record")


def add_arguments(p):
    from ..engine import METHODS

    add_ensemble_arguments(p, methods=METHODS, method_default="ll",
                           method_help="ll (default; the only one for a time-dependent model) "
                                       "or a baseline of the truncated Wigner engine")
    p.add_argument("--t-final", type=positive_float, required=True,
                   help="last record time, in 1/unit (a multiple of --dt)")
    p.add_argument("--record-every", type=positive_float, default=None,
                   help="spacing of the records, in 1/unit (default t-final/40, rounded to "
                        "--dt); each temporal mode's window start and end are recorded too")
    p.add_argument("--initial", default="thermal",
                   help="thermal (default), vacuum, steady (the steady state with every "
                        "envelope at its t = 0 value: before a later pulse), or FILE.npz with "
                        "'covariance' (and 'mean'); temporal modes start empty")
    p.add_argument("--alpha", type=float, default=0.01, help="significance of the z test")
    add_observable_arguments(p)
    p.add_argument("--output", default=None,
                   help="directory for evolve_report.json, evolve_ensemble.npz and the plots")


def run(args) -> int:
    from ..analyses.evolve import evolve

    request = load_request(args, ensemble=True)
    model, pair, groups, obs_names = (request.model, request.pair, request.parties,
        request.observables)
    if args.initial not in ("thermal", "vacuum", "steady"):
        if not os.path.isfile(args.initial):
            raise UsageError("--initial must be thermal, vacuum, steady or an existing .npz "
                             f"file, got "
                             f"{args.initial!r}")
        from ..analyses.relax import load_initial
        load_initial(args.initial)  # unreadable or unphysical: one line, before any work
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha must be in (0, 1), got {args.alpha}")
    prepare_output_dir(args.output)
    with make_backend(args) as backend:
        report = evolve(model, pair=pair, t_final=args.t_final, record_every=args.record_every,
                        initial=args.initial, method=args.method, dt=args.dt,
                        n_traj=args.n_traj, seed=args.seed, alpha=args.alpha,
                        chunk_size=args.chunk_size, backend=backend, progress=show_progress(args),
                        parties=groups, observables=obs_names)
    payload = report.to_dict()
    if args.output:
        from .. import plotting

        files = {"envelopes": plotting.plot_evolve_envelopes(
            report, os.path.join(args.output, "evolve_envelopes.png"))}
        if report.pair:  # a model without a pair (one mode) has no measures to draw
            files["measures"] = plotting.plot_evolve_measures(
                report, os.path.join(args.output, "evolve_measures.png"))
        files.update(ensemble=os.path.join(args.output, "evolve_ensemble.npz"),
                     report=os.path.join(args.output, "evolve_report.json"))
        report.ensemble.save(files["ensemble"])
        payload["files"] = files
        write_text(files["report"], dump_json(payload))
    print_result(args.json, payload, render(report))
    if report.partial:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.check.consistent else EXIT_INCONSISTENT


def render(report: EvolveReport, rows: int = 12) -> str:
    lines = [f"Evolution of model {report.model!r} from a {report.initial} state: method "
             f"{report.method}, dt = {report.dt:g}/{report.unit}, {report.n_traj} trajectories, "
             f"seed {report.seed}, {report.times.size} records up to "
             f"{report.times[-1]:.4g}/{report.unit}"]
    for name, tm in report.temporal_modes.items():
        lines.append(f"temporal mode {name}: output of port {tm['port']}, envelope "
                     f"{tm['envelope']!r} on [{tm['window'][0]:g}, {tm['window'][1]:g}], "
                     f"frequency {tm['frequency']:g} {report.unit}, efficiency "
                     f"{tm['efficiency']:g} (a partial accumulator before "
                     f"{tm['window'][1]:g})")
    cols = [0, 1, 2] if report.pair else []  # E_N, Duan, S_<B>|<A> in measure_names order
    if not report.pair:  # no pair (one mode): each mode's Var(x), ensemble ± SE (reference)
        q = list(report.quadratures)
        xs = [i for i, lab in enumerate(q) if lab.startswith("x_")][:3]
        lines += ["", f"{'t':>9}" + "".join(f"{'Var(' + q[i] + ')':>30}" for i in xs)]
        for r in np.unique(np.linspace(0, report.times.size - 1, rows).astype(int)):
            cells = [f"{report.covariance[r, i, i]:.4g}±{report.covariance_stderr[r, i, i]:.2g}"
                     f" ({report.reference_covariance[r, i, i]:.4g})" for i in xs]
            lines.append(f"{report.times[r]:>9.4g}" + "".join(f"{x:>30}" for x in cells))
    else:
        lines += ["", f"{'t':>9}" + "".join(f"{report.measure_names[c]:>30}" for c in cols)]
    for r in (np.unique(np.linspace(0, report.times.size - 1, rows).astype(int))
              if report.pair else ()):
        if not report.complete[r]:
            lines.append(f"{report.times[r]:>9.4g}" + f"{'(partial accumulator)':>30}")
            continue
        cells = [f"{report.measures[r, c]:.4g}±{report.measures_stderr[r, c]:.2g} "
                 f"({report.reference_measures[r, c]:.4g})" for c in cols]
        lines.append(f"{report.times[r]:>9.4g}" + "".join(f"{x:>30}" for x in cells))
    lines += ["(ensemble ± SE (continuous reference: mean field and covariance equation))"]
    if report.observables is not None:
        lines += ["", *render_observable_summary(report.observables, report.times)]
    lines += ["", report.check.summary()]
    if report.partial:
        lines.append("PARTIAL: interrupted run; statistics are from the chunks completed")
    return "\n".join(lines)
