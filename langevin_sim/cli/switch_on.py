"""``langevin-sim switch-on``: the full nonlinear dynamics of switching the drive on"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

import numpy as np

from ..io import write_text
from ..models.cascade import DRIVE_SETTINGS
from .options import (
    EXIT_INCONSISTENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_backend_arguments,
    load_cli_model,
    make_backend,
    parse_pair,
    parse_settings,
    positive_float,
    positive_int,
    seed_type,
    show_progress,
)
from .output import (
    dump_json,
    format_se,
    prepare_output_dir,
    print_result,
)

if TYPE_CHECKING:  # the report types, for the annotations only
    from ..analyses.switch_on import SwitchOnReport

NAME = "switch-on"
HELP = "switching the drive on: truncated Wigner ensemble of the full model vs its references"


def add_arguments(p):
    from ..integrators import methods_for
    from ..models import library_models

    p.add_argument("--model", default="cascade-full", metavar="NAME|FILE.toml",
                   help="a driven nonlinear model: a shipped one (" + ", ".join(library_models())
                        + ") or a TOML file (default cascade-full: the paper's point, g0 = 1.5e-5)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", default=[],
                   help="set a parameter (cascade-full: the paper's names, delta1 and g_ab being "
                        "the targets at the steady mean field, g0; or delta1_bare with "
                        "drive_power_w (W) or drive_amplitude (|E|, the model's unit) to set "
                        "the drive directly); rates in the model's unit (ω_b for the paper)")
    p.add_argument("--pair", default=None, metavar="A,B",
                   help="the two modes measured (default: the model's pair)")
    p.add_argument("--ramp", choices=["sudden", "linear", "smooth"], default="sudden",
                   help="drive switch-on: sudden; linear E·min(1, t/T); smooth E·sin²(πt/2T)")
    p.add_argument("--ramp-time", type=positive_float, default=None,
                   help="ramp time T in 1/unit (linear and smooth ramps)")
    p.add_argument("--t-final", type=positive_float, default=1000.0,
                   help="run length in 1/unit (default 1000)")
    p.add_argument("--record-every", type=positive_float, default=1.0,
                   help="record spacing in 1/unit, a multiple of dt (default 1)")
    p.add_argument("--method", choices=list(methods_for("nonlinear")), default="ll",
                   help="scheme for the nonlinear drift: ll (default; local linearisation "
                        "about the deterministic path, judged against the continuous "
                        "reference) or a baseline em, exp-euler, exp-heun (judged against "
                        "its own discrete reference)")
    p.add_argument("--dt", type=positive_float, default=None,
                   help="time step in 1/unit (default 0.1 for ll, 0.02 exp-heun, 0.01 "
                        "exp-euler, 0.005 em)")
    p.add_argument("--n-traj", type=positive_int, default=4096,
                   help="truncated Wigner trajectories (default 4096)")
    p.add_argument("--seed", type=seed_type, default=2024, help="root seed >= 0 (reproducible)")
    p.add_argument("--alpha", type=float, default=0.01,
                   help="family-wise significance of the max-|z| test (default 0.01)")
    p.add_argument("--tol", type=positive_float, default=0.01,
                   help="settling tolerance (relative distance to the steady state)")
    p.add_argument("--chunk-size", type=positive_int, default=None,
                   help="trajectories per chunk (default min(1024, n_traj/32))")
    p.add_argument("--output", default=None,
                   help="directory for switch_on_means.png, switch_on_variances.png, "
                        "switch_on_measures.png and switch_on_report.json")
    add_backend_arguments(p)


def split_drive_settings(items: list[str]) -> tuple[list[str], dict]:
    """``--set`` items without ``drive_power_w``/``drive_amplitude``, and those two as numbers."""
    rest, drive = [], {}
    for item in items:
        name, sep, text = item.partition("=")
        if sep and name.strip() in DRIVE_SETTINGS:
            try:
                drive[name.strip()] = float(text)
            except ValueError:
                raise UsageError(f"--set {name.strip()}: {text.strip()!r} is not a number") \
                    from None
        else:
            rest.append(item)
    return rest, drive


def run(args) -> int:
    from ..analyses.switch_on import check_switchable, switch_on, with_ramp
    from ..models import check_pair
    from ..models.cascade import drive_parameters

    items, drive = split_drive_settings(args.set)
    model = load_cli_model(args, changes=lambda m: drive_parameters(
        m, {**parse_settings(items, m), **drive}))
    system = model.build()
    check_switchable(system, model.name)
    check_pair(system.mode_labels, model.pair(parse_pair(args.pair)))
    if args.ramp != "sudden" and args.ramp_time is None:
        raise UsageError(f"--ramp {args.ramp} needs --ramp-time T (> 0, in 1/unit)")
    if args.ramp == "sudden" and args.ramp_time is not None:
        raise UsageError("--ramp-time applies to --ramp linear or smooth")
    with_ramp(system, args.ramp, args.ramp_time)
    prepare_output_dir(args.output)
    with make_backend(args) as backend:
        report = switch_on(model, pair=parse_pair(args.pair), ramp=args.ramp,
                           ramp_time=args.ramp_time, t_final=args.t_final,
                           record_every=args.record_every, method=args.method, dt=args.dt,
                           n_traj=args.n_traj, seed=args.seed, alpha=args.alpha, tol=args.tol,
                           chunk_size=args.chunk_size, backend=backend,
                           progress=show_progress(args))
    payload = report.to_dict()
    if args.output:
        from .. import plotting

        out = args.output
        files = {
            "means": plotting.plot_switch_on_means(report, os.path.join(out,
                                                                        "switch_on_means.png")),
            "variances": plotting.plot_switch_on_variances(
                report, os.path.join(out, "switch_on_variances.png")),
            "measures": plotting.plot_switch_on_measures(
                report, os.path.join(out, "switch_on_measures.png")),
            "report": os.path.join(out, "switch_on_report.json"),
        }
        payload["files"] = files
        write_text(files["report"], dump_json(payload))
    print_result(args.json, payload, render(report))
    if report.partial:
        return EXIT_INTERRUPTED
    return EXIT_INCONSISTENT if report.consistent is False else EXIT_OK


def render(report: SwitchOnReport, rows: int = 11) -> str:
    """The text of ``langevin-sim switch-on``: a table at ``rows`` records and the summary
    lines."""
    from ..analyses.switch_on import FINE_STEP

    q = report.quadratures
    a, b = report.pair
    ixb = q.index(f"x_{a}")
    idx = np.unique(np.linspace(0, report.times.size - 1, rows).round().astype(int))
    en, ref, dis = report.ensemble, report.reference, report.judged
    own = "scheme" if report.discrete is not None else "contin."
    lines = [
        f"switch-on of {report.model} ({report.ramp}"
        + (f", ramp time {report.ramp_time:g}" if report.ramp != "sudden" else "")
        + f"): {report.n_traj} truncated Wigner trajectories, {report.method}, dt = "
        f"{report.dt:g}/{report.unit}, seed {report.seed}"
        + (" (PARTIAL: interrupted)" if report.partial else ""),
        f"{'t (1/' + report.unit + ')':>8} {'Δ_' + report.detuning_mode:>9} "
        f"{'Var x_' + a:>10} {'± SE':>7} "
        f"{own:>9} {'contin.':>9} {'E_N':>8} {'± SE':>7} {own:>8}",
    ]
    en_n, en_n_se, dis_n = en.measure("E_N"), en.measure_stderr("E_N"), dis.measure("E_N")
    for i in idx:
        var, var_se = en.covariance[i, ixb, ixb], en.covariance_stderr[i, ixb, ixb]
        lines.append(
            f"{report.times[i]:8.4g} {report.effective_detuning[i]:9.4f} {var:10.4g} "
            f"{format_se(var_se, 7)} "
            f"{dis.covariance[i, ixb, ixb]:9.4g} {ref.covariance[i, ixb, ixb]:9.4g} "
            f"{en_n[i]:8.4f} {format_se(en_n_se[i], 7)} {dis_n[i]:8.4f}")
    lines += ["", f"effective detuning Δ_{report.detuning_mode}(t) between "
              f"{report.min_effective_detuning:.4g} and {report.max_effective_detuning:.4g} "
              f"{report.unit}; instantaneous linearisation unstable for "
              f"{report.unstable_time:.3g}/{report.unit} in total (resolution {FINE_STEP:g})"]
    for k, o in report.onsets.items():
        exact = "not within the run" if math.isnan(o.exact) else f"{o.exact:.4g}"
        sample = (f"not confidently within the run at {o.confidence:.0%}"
                  if math.isnan(o.sample_high) else
                  f"in ({o.sample_low:.4g}, {o.sample_high:.4g}] at {o.confidence:.0%}")
        lines.append(f"onset of {k}: exact {exact}; ensemble {sample}")
    st = report.settling_time

    def when(t):
        return "not within the run" if math.isnan(t) else f"{t:.4g}"

    lines.append(f"settling (within {report.settling_tolerance:g} of the steady state, "
                 f"continuous reference): mean {when(st.mean)}, covariance "
                 f"{when(st.covariance)}")
    lc = report.limit_cycle
    if lc is not None:
        if lc.kind == "fixed point":
            lines.append(f"end state: stable steady mean field (mean-field swing of x_{lc.mode}"
                         f" in the last quarter {lc.amplitude_mean_field:.4g}, "
                         f"{lc.amplitude_ratio:.3g}× the previous quarter's)")
        else:
            lines.append(f"end state: {lc.kind.upper()} (no stable steady mean field): "
                         f"mean-field amplitude of x_{lc.mode} {lc.amplitude_mean_field:.5g}"
                         f" ({lc.amplitude_ratio:.3g}× the previous quarter's); rms radius "
                         f"of (x_{lc.mode}, p_{lc.mode}): ensemble {lc.radius_ensemble:.6g} ± "
                         f"{format_se(lc.radius_ensemble_stderr, 0)}, mean field "
                         f"{lc.radius_mean_field:.6g}")
    bad = ~report.ensemble.physical
    if bad.any():
        lines.append(f"WARNING: the sampled ({', '.join(report.pair)}) covariance is not "
                     f"physical at {int(bad.sum())} record(s) (first t = "
                     f"{report.times[bad][0]:g}): its measures there are unreliable")
    off = report.continuous_offset
    if report.discrete is not None:
        lines.append(f"continuous reference vs the scheme's: means differ by up to "
                     f"{format_se(off.mean_max_abs_z, 0, '.3g')} SE, covariances by up to "
                     f"{format_se(off.covariance_max_abs_z, 0, '.3g')} SE (discretisation "
                     "error)")
    if report.displacement is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            zd = np.abs(report.displacement / report.displacement_stderr)
        if np.any(np.isfinite(zd)):
            zd = np.where(np.isfinite(zd), zd, 0.0)
            r, c = np.unravel_index(int(np.argmax(zd)), zd.shape)
            lines.append(f"mean of δ (the ensemble's displacement from the mean field): "
                         f"largest {report.displacement[r, c]:.3g} ± "
                         f"{report.displacement_stderr[r, c]:.2g} at {q[c]}, t = "
                         f"{report.times[r]:g} ({zd[r, c]:.2f} SE)")
        else:
            r, c = np.unravel_index(int(np.argmax(np.abs(report.displacement))),
                                    report.displacement.shape)
            lines.append(f"mean of δ (the ensemble's displacement from the mean field): "
                         f"largest {report.displacement[r, c]:.3g} at {q[c]}, t = "
                         f"{report.times[r]:g} (standard error n/a)")
    if report.quench is not None:
        lines.append(f"quench of the linearised system (Δ_{report.detuning_mode} frozen at its "
                     f"final value, today's relax): max |z| = {report.quench.max_abs_z:.3g} "
                     "against this "
                     f"ensemble ({'consistent' if report.quench.consistent else 'INCONSISTENT'})")
    if report.verdict_applies:
        which = "the scheme's" if report.discrete is not None else "the continuous"
        lines.append(report.check.summary() + f" (ensemble vs {which} reference: means "
                     "and covariances at every record)")
    else:
        lines.append(f"no verdict beyond the threshold (max |z| = {report.check.max_abs_z:.3g} "
                     "against the linearised reference, which cannot follow the diffusing "
                     "phase of a report-oscillation)")
    return "\n".join(lines)
