"""``langevin-sim validate``: sampled stationary statistics against the exact ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .options import (
    EXIT_INCONSISTENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_ensemble_arguments,
    add_observable_arguments,
    load_request,
    make_backend,
    nonnegative_float,
    positive_float,
    show_progress,
)
from .output import (
    dump_json,
    no_nan,
    render_observable_rows,
)

if TYPE_CHECKING:  # the report types, for the annotations only
    from ..analyses.validate import ValidationReport

NAME = "validate"
HELP = "ensemble at the given parameters validated against the exact stationary covariance"


def add_arguments(p):
    from ..integrators import METHODS

    add_ensemble_arguments(
        p, methods=tuple(METHODS), method_default=None,
        method_help="integrator: exact OU step (default), ll (the same there) or em for a "
                    "linear model; for a nonlinear one the truncated Wigner engine: ll "
                    "(default, dt 0.1: local linearisation, judged against the continuous "
                    "steady state) or the baselines em, exp-euler, exp-heun (judged against "
                    "their own; exact validates the linearisation)")
    p.add_argument("--t-final", type=positive_float, default=400.0,
                   help="length of the run in 1/unit (default 400)")
    p.add_argument("--record-every", type=positive_float, default=20.0,
                   help="spacing of the records averaged, in 1/unit (default 20)")
    p.add_argument("--initial", choices=["steady", "thermal", "vacuum"], default="steady",
                   help="initial state (steady: the scheme's own stationary state)")
    p.add_argument("--burn-in", type=nonnegative_float, default=None,
                   help="discard records before this time (1/unit); default 0 from steady, "
                        "else 7 slowest relaxation times")
    p.add_argument("--alpha", type=float, default=0.01,
                   help="family-wise significance of the consistency test (default 0.01)")
    add_observable_arguments(p)


def run(args) -> int:
    from ..analyses.validate import validate

    request = load_request(args, ensemble=True)
    model, pair, parties, names = (request.model, request.pair, request.parties,
        request.observables)
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha must be in (0, 1), got {args.alpha}")
    with make_backend(args) as backend:
        report = validate(model, pair=pair, branch=args.branch, method=args.method,
                          dt=args.dt, n_traj=args.n_traj, seed=args.seed,
                          t_final=args.t_final, record_every=args.record_every,
                          initial=args.initial, burn_in=args.burn_in, alpha=args.alpha,
                          chunk_size=args.chunk_size, backend=backend, progress=show_progress(args),
                          parties=parties, observables=names)
    print(dump_json(report.to_dict()) if args.json else no_nan(render(report)))
    if report.partial:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.check.consistent else EXIT_INCONSISTENT


def render(report: ValidationReport) -> str:
    u = report.unit
    if report.means is not None and report.method == "ll":
        ref = ("the continuous steady state (mean field and σ∞ of its linearisation); "
               "truncated Wigner ensemble, local linearisation about the drift's fixed "
               "point")
    elif report.means is not None:
        ref = (f"the {report.method} scheme's own steady state (fixed point of its map, "
               "stationary covariance of its recursion); truncated Wigner ensemble")
    elif report.method == "em":
        ref = "EM discrete-Lyapunov covariance at this dt"
    else:
        ref = "continuous Lyapunov steady state"
    lines = [
        f"Validation: method {report.method}, dt = {report.dt:g}/{u}, {report.n_traj} "
        f"trajectories, seed {report.seed}",
        f"time average over {report.n_records} records from t = {report.burn_in:g} to "
        f"{report.t_final:g} (1/{u}), every {report.record_every:g}",
        f"reference: {ref}",
        "",
        f"{'element':<14}{'sample':>12}{'± SE':>11}{'analytic':>12}{'z':>8}",
    ]
    q = report.quadratures
    d = len(q)
    for i in range(d):
        for j in range(i, d):
            lines.append(f"{'σ(' + q[i] + ',' + q[j] + ')':<14}{report.covariance[i, j]:>12.5g}"
                         f"{report.stderr[i, j]:>11.2g}{report.analytic[i, j]:>12.5g}"
                         f"{report.z[i, j]:>8.2f}")
    if report.pair:
        head = f"measure ({','.join(report.pair)})"
        lines += ["", f"{head:<14}{'sample':>12}{'± SE':>11}{'analytic':>12}{'z':>8}"
                      f"{'unclipped':>12}{'bias-corr.':>12}  correlated? (one-sided)"]
    else:
        lines += ["", "no pair measures: the model names no pair (give --pair A,B or "
                      "--parties)"]
    for k in report.measure_names:
        m, v = report.measures[k], report.measures[k].verdict
        say = f"yes at {v.confidence:g}" if v.correlated else f"not at {v.confidence:g}"
        lines.append(f"{k:<14}{m.value:>12.5g}{m.stderr:>11.2g}{m.analytic:>12.5g}{m.z:>8.2f}"
                     f"{m.unclipped:>12.5g}{m.bias_corrected:>12.5g}  {say}")
    if report.observables is not None:
        lines += ["", *render_observable_rows(report.observables)]
    if report.means is not None and report.method == "ll":
        mz = np.abs(np.asarray(report.means.z, float))
        disp = np.asarray(report.means.displacement, float)
        mse = np.asarray(report.means.stderr, float)
        i = int(np.argmax(np.abs(disp) / mse))
        lines += ["", f"means: max |z| = {np.nanmax(mz):.3g} against the continuous mean "
                  f"field; mean of δ (the ensemble's displacement from the drift's fixed "
                  f"point) largest at {q[i]}: {disp[i]:.3g} ± {mse[i]:.2g}"]
    elif report.means is not None:
        mz = np.abs(np.asarray(report.means.z, float))
        lines += ["", f"means: max |z| = {np.nanmax(mz):.3g} against the scheme's fixed "
                  "point; the continuous mean field is "
                  f"{np.nanmax(report.means.continuous_offset_se):.3g} SE away from it"]
    if report.method not in ("exact", "ll"):
        gap = report.analytic - report.continuous
        i = int(np.argmax(np.abs(gap)))
        r, c = divmod(i, d)
        if report.continuous_check is not None:
            cc = report.continuous_check
            lines += ["", f"{report.method} sample against the continuous physics (σ∞, its "
                      f"measures{', the mean field' if report.means is not None else ''}): "
                      f"max |z| = {cc.max_abs_z:.3g} (threshold {cc.threshold:.3g}: "
                      f"{'consistent' if cc.consistent else 'INCONSISTENT'})"]
        lines += ["", f"{report.method} bias of the reference against the continuous σ∞: "
                  f"largest gap at σ({q[r]},{q[c]}): {report.analytic[r, c]:.5g} vs "
                  f"{report.continuous[r, c]:.5g} ({gap[r, c] / report.continuous[r, c]:+.1%}); "
                  f"||Σ_scheme − σ∞|| / ||σ∞|| = "
                  f"{np.linalg.norm(gap) / np.linalg.norm(report.continuous):.3g}"]
    if report.means is not None and report.check.consistent is False:
        lines += ["", report._linearisation_note()]
    if not report.sample_physical:
        what, which = ((f"({', '.join(report.pair)})", "measures") if report.pair else
                       ("full", "purities and entropies"))
        lines.append(f"WARNING: the sampled {what} covariance is not physical (σ + iΩ/2 "
                     f"has a negative eigenvalue); its {which} are unreliable")
    if report.partial:
        lines.append("NOTE: interrupted run; statistics are from the chunks completed")
    lines += ["", report.check.summary()]
    return "\n".join(lines)
