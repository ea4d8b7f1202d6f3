"""Command-line interface: a thin layer over the Python API.

Exit statuses: 0 success, 1 a validation run found the sample inconsistent, 2 bad input
(unknown option or parameter, bad value), 3 unstable parameters.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ._json import dumps
from .errors import StepTooLargeError, UnstableSystemError
from .models.cascade import CascadeParameters, field_names

EXIT_OK, EXIT_INCONSISTENT, EXIT_USAGE, EXIT_UNSTABLE = 0, 1, 2, 3


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse prints usage + message)
        raise UsageError(message)


def parse_settings(items: list[str] | None) -> CascadeParameters:
    """Turn ``["kappa1=5", "T=0.1"]`` into :class:`CascadeParameters` (``ValueError`` if bad)."""
    changes: dict[str, float | None] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"--set expects NAME=VALUE, got {item!r}")
        if name not in field_names():
            raise ValueError(f"unknown parameter {name!r} in --set; allowed: "
                             f"{', '.join(field_names())}")
        text = text.strip()
        if text.lower() == "none" and name in ("T1", "T_eta", "T_b", "T_m"):
            changes[name] = None
            continue
        try:
            changes[name] = float(text)
        except ValueError:
            raise ValueError(f"--set {name}: {text!r} is not a number") from None
    return CascadeParameters(**changes)


def dump_json(payload: dict) -> str:
    """JSON text with numpy arrays as nested lists and NaN/inf as null."""
    return dumps(payload)


def format_matrix(m: np.ndarray, labels) -> str:
    """A labelled text table of a matrix."""
    width = max(11, *(len(lab) + 1 for lab in labels))
    head = " " * width + "".join(f"{lab:>{width}}" for lab in labels)
    rows = [f"{lab:>{width}}" + "".join(f"{v:>{width}.5g}" for v in row)
            for lab, row in zip(labels, m)]
    return "\n".join([head, *rows])


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", metavar="NAME=VALUE", default=[],
                   help="override a model parameter (rates in units of ω_b, temperatures in K); "
                        "repeatable. Names: " + ", ".join(field_names()))
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _cmd_steady(args) -> int:
    from .analysis import steady_report

    params = parse_settings(args.set)
    report = steady_report(params)
    if args.json:
        print(dump_json(report))
    else:
        print(render_steady(report))
    return EXIT_OK if report["stable"] else EXIT_UNSTABLE


def render_steady(report: dict) -> str:
    lines = ["Cascade steady state (rates in units of ω_b, T in K)"]
    if not report["stable"]:
        lines.append(f"UNSTABLE: {report['reason']}")
        return "\n".join(lines)
    lines.append(f"stable: yes; slowest relaxation rate {report['slowest_rate']:.6g} ω_b, "
                 f"fastest {report['fastest_rate']:.6g} ω_b")
    lines.append("steady covariance σ (vacuum variance 1/2):")
    lines.append(format_matrix(np.array(report["covariance"]), report["quadratures"]))
    lines.append(f"measures of (b, m); physical: {report['physical']}")
    from .measures import MEASURE_NAMES, MEASURE_THRESHOLDS, SMALLER_IS_STRONGER
    for k in MEASURE_NAMES:
        v = report[k]
        sign = "<" if SMALLER_IS_STRONGER[k] else ">"
        yes = (v < MEASURE_THRESHOLDS[k]) if SMALLER_IS_STRONGER[k] else (v > MEASURE_THRESHOLDS[k])
        lines.append(f"  {k:<12} = {v:.6g}   ({'yes' if yes else 'no'}: {sign} "
                     f"{MEASURE_THRESHOLDS[k]:g} signals correlation)")
    return "\n".join(lines)


COMMANDS = {}


def _register(name, func, help_text, add_arguments=None):
    COMMANDS[name] = (func, help_text, add_arguments)


_register("steady", _cmd_steady, "analytic steady state: stability, covariance and measures")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="langevin-sim", description=(
        "Stochastic Langevin simulator of Tan & Li's cascaded phonon-magnon system. "
        "Rates are in units of ω_b, times in units of 1/ω_b, temperatures in K."))
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (_, help_text, add_arguments) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_common(p)
        if add_arguments is not None:
            add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``langevin-sim``; returns the exit status."""
    _load_commands()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        func = COMMANDS[args.command][0]
        return func(args)
    except UsageError as exc:
        print(f"langevin-sim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UnstableSystemError as exc:
        print(f"langevin-sim: {exc}", file=sys.stderr)
        return EXIT_UNSTABLE
    except (StepTooLargeError, ValueError) as exc:
        print(f"langevin-sim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("langevin-sim: interrupted", file=sys.stderr)
        return 130


def _load_commands() -> None:
    """Import the modules that register further sub-commands."""
    from . import cli_engine  # noqa: F401


def run() -> None:  # console-script wrapper
    sys.exit(main())
