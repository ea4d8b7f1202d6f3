"""``langevin-sim switch-on``: the full nonlinear dynamics of switching the drive on"""

from __future__ import annotations

import os

from ..io import write_text
from ..models.cascade import DRIVE_SETTINGS
from .options import (
    EXIT_INCONSISTENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_backend_arguments,
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
    no_nan,
    prepare_output_dir,
)

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
                        "drive_power_w (W) or drive_amplitude (|E|, ω_b) to set the drive "
                        "directly); rates in units of ω_b")
    p.add_argument("--pair", default=None, metavar="A,B",
                   help="the two modes measured (default: the model's pair)")
    p.add_argument("--ramp", choices=["sudden", "linear", "smooth"], default="sudden",
                   help="drive switch-on: sudden; linear E·min(1, t/T); smooth E·sin²(πt/2T)")
    p.add_argument("--ramp-time", type=positive_float, default=None,
                   help="ramp time T in 1/ω_b (linear and smooth ramps)")
    p.add_argument("--t-final", type=positive_float, default=1000.0,
                   help="run length in 1/ω_b (default 1000)")
    p.add_argument("--record-every", type=positive_float, default=1.0,
                   help="record spacing in 1/ω_b, a multiple of dt (default 1)")
    p.add_argument("--method", choices=list(methods_for("nonlinear")), default="ll",
                   help="scheme for the nonlinear drift: ll (default; local linearisation "
                        "about the deterministic path, judged against the continuous "
                        "reference) or a baseline em, exp-euler, exp-heun (judged against "
                        "its own discrete reference)")
    p.add_argument("--dt", type=positive_float, default=None,
                   help="time step in 1/ω_b (default 0.1 for ll, 0.02 exp-heun, 0.01 "
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
    from ..models import check_pair, load_model
    from ..models.cascade import drive_parameters

    model = load_model(args.model)
    items, drive = split_drive_settings(args.set)
    changes = parse_settings(items, model)
    model = model.replace(**drive_parameters(model, {**changes, **drive}))
    system = model.build()
    check_switchable(system, model.name)
    check_pair(system.mode_labels, model.pair(parse_pair(args.pair)))
    if args.ramp != "sudden" and args.ramp_time is None:
        raise UsageError(f"--ramp {args.ramp} needs --ramp-time T (> 0, in 1/ω_b)")
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
    if args.json:
        print(dump_json(payload))
    else:
        print(no_nan(report.render()))
        if args.output:
            print("wrote " + ", ".join(payload["files"].values()))
    if report.partial:
        return EXIT_INTERRUPTED
    return EXIT_INCONSISTENT if report.consistent is False else EXIT_OK
