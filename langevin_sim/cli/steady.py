"""``langevin-sim steady``: the analytic steady state."""

from __future__ import annotations

import argparse

import numpy as np

from .options import (
    EXIT_OK,
    EXIT_UNSTABLE,
    add_model_arguments,
    add_observable_arguments,
    load_request,
)
from .output import (
    dump_json,
    format_matrix,
    render_observables,
)

NAME = "steady"
HELP = ("analytic steady state: stability, covariance, the observables "
        "of every mode and of groups of modes, and the measures of a pair")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    add_observable_arguments(p)


def run(args) -> int:
    from ..analyses.steady import steady_report

    request = load_request(args)
    model, pair, parties, names = (request.model, request.pair, request.parties,
        request.observables)
    report = steady_report(model, pair, args.branch, parties, names)
    if args.json:
        print(dump_json(report.to_dict()))
    else:
        print(render_steady(report.to_dict()))
    return EXIT_OK if report.stable and report.physical is not False else EXIT_UNSTABLE


def render_steady(report: dict) -> str:
    from ..measures import signals_correlation, smaller_is_stronger, threshold

    unit = report.get("unit", "ω_b")
    lines = [f"Model {report['model']}: steady state (rates in units of {unit}, T in K)"]
    mf = report.get("mean_field")
    if mf:
        lines.append("steady mean field(s) (quanta |<o>|², effective detuning):")
        for i, br in enumerate(mf["branches"]):
            mark = "  <- linearised" if i == mf["linearised_branch"] else ""
            cells = ", ".join(f"{m}: {n:.6g}" for m, n in br["quanta"].items())
            lines.append(f"  branch {i} ({'stable' if br['stable'] else 'UNSTABLE'}): {cells}"
                         + mark)
            det = ", ".join(f"Δ_{m} = {v:.6g}" for m, v in br["effective_detunings"].items())
            lines.append(f"    {det}")
    if not report["stable"]:
        lines.append(f"UNSTABLE: {report['reason']}")
        return "\n".join(lines)
    if not report.get("physical", True):
        lines.append(f"UNPHYSICAL: {report['reason']}")
        return "\n".join(lines)
    lines.append(f"stable: yes; slowest relaxation rate {report['slowest_rate']:.6g} {unit}, "
                 f"fastest {report['fastest_rate']:.6g} {unit}")
    lines.append("steady covariance σ (vacuum variance 1/2):")
    lines.append(format_matrix(np.array(report["covariance"]), report["quadratures"]))
    lines.extend(render_observables(report))
    if not report.get("pair"):
        lines.append("no pair measures: the model names no pair (give --pair A,B or --parties)")
        return "\n".join(lines)
    lines.append(f"measures of ({', '.join(report['pair'])}); physical: {report['physical']}")
    for k in report["measure_names"]:
        v = report[k]
        sign = "<" if smaller_is_stronger(k) else ">"
        yes = signals_correlation(k, v)
        lines.append(f"  {k:<12} = {v:.6g}   ({'yes' if yes else 'no'}: {sign} "
                     f"{threshold(k):g} signals correlation)")
    return "\n".join(lines)
