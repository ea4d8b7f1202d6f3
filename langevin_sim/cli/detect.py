"""``langevin-sim detect``: the paper's read-out scheme"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from ..io import write_text
from .options import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_backend_arguments,
    load_cli_model,
    make_backend,
    positive_int,
    seed_type,
    show_progress,
)
from .output import (
    dump_json,
    no_nan,
    prepare_output_dir,
)

if TYPE_CHECKING:  # the report types, for the annotations only
    from ..analyses.detect import DetectionReport

NAME = "detect"
HELP = "the paper's read-out: probes, homodyne records, certificates and records needed"


def add_arguments(p):
    p.add_argument("--set", action="append", metavar="NAME=VALUE", default=[],
                   help="set a parameter of the cascade-detected model (the paper's, plus "
                        "g_probe (= g_bp = g_mp), kappa_p, filter (Γ_f), eta_d, or each "
                        "probe's own g_bp, g_mp, kappa_pb, kappa_pm, filter_b, filter_m); "
                        "rates in units of ω_b")
    p.add_argument("--records", type=positive_int, default=20000,
                   help="homodyne records of the simulated experiment (default 20000)")
    p.add_argument("--confidence", type=float, default=0.99,
                   help="one-sided confidence of the certificates, in (0.5, 1) (default 0.99)")
    p.add_argument("--seed", type=seed_type, default=2024, help="root seed >= 0 (reproducible)")
    p.add_argument("--repetitions", type=int, default=8,
                   help="independent repetitions whose spread cross-checks the SE (default 8)")
    p.add_argument("--no-check", action="store_true",
                   help="do not verify records_needed by runs at that number of records")
    p.add_argument("--scan", action="store_true",
                   help="also map the exact detected measures over probe strength × filter "
                        "width and over η_d, and name the optimum")
    p.add_argument("--output", default=None,
                   help="directory for detect_report.json (and with --scan detect_scan.png)")
    add_backend_arguments(p)


def run(args) -> int:
    from ..analyses.detect import detect, detection_model, detection_scan, record_layout

    model = load_cli_model(args, model=detection_model())
    if not 0.5 < args.confidence < 1:
        raise UsageError(f"--confidence must be in (0.5, 1), got {args.confidence}")
    if args.repetitions < 0:
        raise UsageError(f"--repetitions must be >= 0, got {args.repetitions}")
    try:
        record_layout(args.records)
    except ValueError as exc:
        raise UsageError(f"--records: {exc}") from None
    prepare_output_dir(args.output)
    with make_backend(args) as backend:
        report = detect(model, records=args.records, confidence=args.confidence,
                        seed=args.seed, repetitions=args.repetitions,
                        check=not args.no_check, backend=backend)
        scan = detection_scan(model, backend=backend, progress=show_progress(args)) \
            if args.scan and not report.partial else None
    payload = report.to_dict()
    files = []
    if scan is not None:
        payload["scan"] = scan.to_dict()
    if args.output is not None:
        path = os.path.join(args.output, "detect_report.json")
        write_text(path, dump_json(payload))
        files.append(path)
        if scan is not None:
            from ..plotting import plot_detection_scan

            files.append(plot_detection_scan(scan, os.path.join(args.output,
                                                                "detect_scan.png")))
        payload["files"] = files
    status = EXIT_INTERRUPTED if report.partial else EXIT_OK
    if args.json:
        print(dump_json(payload))
        return status
    print(no_nan(render(report)))
    if scan is not None:
        o = scan.optimum
        print(f"\nscan (exact): the detected E_N is largest, {o['E_N_detected']:.4g}, at "
              f"g_probe = {o['g_probe']:.3g}, filter = {o['filter']:.3g} (ω_b), where the "
              f"intracavity E_N is {o['E_N_intracavity']:.4g}")
        eta = scan.detected_eta
        print("detected E_N vs η_d at that point: " + ", ".join(
            f"{g:.2f}: {v:.3g}" for g, v in zip(eta.grids[0][::4], eta.values["E_N"][::4])))
    if files:
        print("wrote " + ", ".join(files))
    return status


def render(report: DetectionReport) -> str:
    """The text of ``langevin-sim detect``."""
    from ..analyses.detect import CRITERIA, INTRACAVITY_PAIR
    from ..measures import log_negativity, measure_names

    names = report.names
    bm = measure_names(INTRACAVITY_PAIR)
    lines = ["Detection of the phonon-magnon state (exact Lyapunov solves, units of ω_b)",
             f"{'':<32}{'without probes':>16}{'with probes':>14}{'':4}{'detected':>12}",
             f"{'':<32}{'(b, m)':>16}{'(b, m)':>14}{'':4}{'(f_b, f_m)':>12}"]
    for k_bm, k_f in zip(bm, names):
        lines.append(f"{k_bm + ' | ' + k_f:<32}{report.without_probes[k_bm]:>16.5g}"
                     f"{report.with_probes[k_bm]:>14.5g}{'':4}{report.detected[k_f]:>12.5g}")
    r = report.records
    if r is None:
        lines += ["", "simulated experiment: INTERRUPTED before it completed (a "
                  "reconstruction needs every phase setting); the exact analysis above is "
                  "complete"]
        return "\n".join(lines)
    lines += ["", f"simulated experiment: {r.n} homodyne records (seed {report.seed}), phase "
              "settings cycled; covariance of (f_b, f_m) reconstructed",
              f"{'measure':<16}{'estimate':>11}{'± SE':>9}{'bias-corr.':>12}"
              f"{'spread':>9}{'exact':>10}"]
    exact = [log_negativity(report.detected_covariance, clip=False)] + \
        [report.detected[k] for k in names[1:]]
    for i, k in enumerate(names):
        spread = (f"{np.std(report.repetitions[:, i], ddof=1):>9.2g}"
                  if report.repetitions.shape[0] > 1 else f"{'—':>9}")
        lines.append(f"{k + (' *' if i == 0 else ''):<16}{r.values[i]:>11.5g}"
                     f"{r.stderr[i]:>9.2g}{r.bias_corrected[i]:>12.5g}{spread}"
                     f"{exact[i]:>10.5g}")
    lines.append("* unclipped log-negativity; spread = standard deviation over "
                 f"{report.repetitions.shape[0]} independent repetitions")
    lines += ["", f"certificates at confidence {report.confidence:g} (one-sided: a witness "
              "fitted on a quarter of the records, evaluated on the rest, below its "
              "threshold by Student-t quantile × SE; E_N > 0 by the partial transpose):"]
    for c in CRITERIA:
        v, need, chk = report.certified[c], report.records_needed[c], report.checks.get(c)
        verdict = "CERTIFIED" if v["certified"] else "not certified"
        need_s = "not certifiable (estimate on the uncorrelated side)" if need is None \
            else f"needs ~{need} records"
        if chk:
            runs = ", ".join(f"{n}: {'yes' if ok else 'no'}" for n, ok, _ in chk["history"])
            need_s += f"; checked by runs at {runs}"
        lines.append(f"  {report._criterion_name(c):<22} {verdict:<14} witness "
                     f"{v['witness']:8.4f} ± {v['witness_stderr']:.2g} (threshold "
                     f"{v['threshold']:g}), statistic {v['statistic']:6.2f} > "
                     f"{v['quantile']:.2f}?; {need_s}")
    if report.partial:
        lines.append("PARTIAL: interrupted; the repetitions and record checks shown are "
                     "those that finished")
    return "\n".join(lines)
