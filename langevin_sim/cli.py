"""Command-line interface: a thin layer over the Python API.

Exit statuses: 0 success, 1 a validation run found the sample inconsistent, 2 bad input
(unknown option or parameter, bad value, unusable file or output path), 3 unstable or
unphysical, 130 interrupted (Ctrl-C or SIGTERM; what was finished is saved and marked partial).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from ._json import dumps
from .errors import StepTooLargeError, UnphysicalStateError, UnstableSystemError

EXIT_OK, EXIT_INCONSISTENT, EXIT_USAGE, EXIT_UNSTABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse prints usage + message)
        raise UsageError(message)


def parse_settings(items: list[str] | None, model) -> dict:
    """Turn ``["kappa1=5", "T=0.1"]`` into ``{name: number}`` for ``model`` (``ValueError``
    naming the parameter if unknown or not a number)."""
    from .models.expressions import shorten  # a bad value is echoed cut short

    names = model.parameter_names()
    changes: dict[str, float] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"--set expects NAME=VALUE, got {shorten(item)}")
        if name not in names:
            raise ValueError(f"unknown parameter {shorten(name)} in --set; allowed for model "
                             f"{model.name!r}: {', '.join(names)}")
        try:
            changes[name] = float(text.strip())
        except ValueError:
            raise ValueError(f"--set {name}: {shorten(text.strip())} is not a number") from None
    return changes


def parse_pair(text: str | None) -> tuple | None:
    """``"b,m"`` → ``("b", "m")`` (``None`` stays ``None``: the model's own pair)."""
    if text is None:
        return None
    pair = tuple(t.strip() for t in text.split(","))
    if len(pair) != 2 or not all(pair):
        raise ValueError(f"--pair expects two mode names A,B, got {text!r}")
    return pair


def load_cli_model(args):
    """The model, its pair and branch from ``--model``, ``--set``, ``--pair``, ``--branch``.

    Every value is evaluated here, so a bad one fails (exit 2) before any computation.
    """
    from .models import check_pair, load_model

    model = load_model(args.model)
    model = model.replace(**parse_settings(args.set, model))
    model.build()
    pair = check_pair(model.mode_labels, model.pair(parse_pair(args.pair)))
    if args.branch < 0:
        raise ValueError(f"--branch must be >= 0, got {args.branch}")
    return model, pair


def add_observable_arguments(p: argparse.ArgumentParser) -> None:
    """``--parties`` and ``--observables`` (steady, sweep, validate, simulate, relax)."""
    from .observables import OBSERVABLES

    p.add_argument("--parties", action="append", default=[], metavar="A1,B|M",
                   help="a bipartition whose entanglement (E_N), mutual information (I) and "
                        "Gaussian steerability (G, both ways) are reported: groups of modes "
                        "separated by '|', e.g. 'a1,b|m'; three single modes 'a|b|m' give the "
                        "three-mode analysis (automatic for a three-mode model); repeatable. "
                        "--pair A,B is short for --parties 'A|B'")
    p.add_argument("--observables", default=None, metavar="NAME,...",
                   help="which observables to report (default all; validate, simulate and "
                        "relax on a pair alone: none): " + ", ".join(OBSERVABLES))


def load_cli_observables(args):
    """The model, the pair (``None`` for a model without one, e.g. one mode), the parties and
    the observables from ``--model``, ``--set``, ``--pair``, ``--parties``, ``--observables``,
    ``--branch``. Every value is checked here, before any computation (exit 2)."""
    from .analysis import resolve_pair
    from .models import load_model
    from .observables import parse_observables, parse_parties

    model = load_model(args.model)
    model = model.replace(**parse_settings(args.set, model))
    model.build()
    names = parse_observables(args.observables)
    groups = tuple(parse_parties(p, model.mode_labels) for p in args.parties)
    pair = resolve_pair(model, parse_pair(args.pair), groups)
    if args.branch < 0:
        raise ValueError(f"--branch must be >= 0, got {args.branch}")
    return model, pair, groups, names


def prepare_output_dir(path: str | None) -> str | None:
    """Check (and create) an ``--output`` directory before any computation: one clear
    ``UsageError`` for an empty name, an existing file, or a directory that cannot be made."""
    if path is None:
        return None
    if not path.strip():
        raise UsageError("--output must name a directory, got ''")
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--output {path!r} exists and is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output {path!r}: cannot create the directory "
                         f"({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"--output {path!r} is not a writable directory")
    from .io import OutputBusyError, lock_directory

    try:
        lock_directory(path)  # held to the end of the command: two runs never mix their files
    except OutputBusyError as exc:
        raise UsageError(str(exc)) from None
    return path


def prepare_output_file(path: str | None, suffix: str) -> str | None:
    """Check an ``--output`` file before any computation; returns the name that will really be
    written (``suffix`` appended if missing, as numpy does)."""
    if path is None:
        return None
    if not path.strip() or os.path.basename(path) in ("", ".", ".."):
        raise UsageError(f"--output must name a file, got {path!r}")
    if os.path.isdir(path):
        raise UsageError(f"--output {path!r} is a directory; name a {suffix} file")
    if not path.endswith(suffix):
        path += suffix
    if os.path.isdir(path):
        raise UsageError(f"--output {path!r} is a directory; name a {suffix} file")
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise UsageError(f"--output {path!r}: directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--output {path!r}: directory {parent!r} is not writable")
    return path


def dump_json(payload: dict) -> str:
    """JSON text with numpy arrays as nested lists and NaN/inf as null."""
    return dumps(payload)


_NAN = None


def no_nan(text: str) -> str:
    """Text for people: a NaN (a standard error, z-score or threshold that does not exist, e.g.
    with fewer than 2 jackknife groups) is shown as "n/a", never as "nan" (same width, so
    columns stay aligned)."""
    global _NAN
    if _NAN is None:
        import re

        _NAN = re.compile(r"(?<![\w.])nan(?!\w)")
    return _NAN.sub("n/a", text)


def format_matrix(m: np.ndarray, labels) -> str:
    """A labelled text table of a matrix."""
    width = max(11, *(len(lab) + 1 for lab in labels))
    head = " " * width + "".join(f"{lab:>{width}}" for lab in labels)
    rows = [f"{lab:>{width}}" + "".join(f"{v:>{width}.5g}" for v in row)
            for lab, row in zip(labels, m)]
    return "\n".join([head, *rows])


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """``--model``, ``--set``, ``--pair``, ``--branch`` (commands that take any model)."""
    from .models import library_models

    p.add_argument("--model", default="cascade", metavar="NAME|FILE.toml",
                   help="a shipped model (" + ", ".join(library_models()) + ") or a TOML model "
                        "file (default: cascade, the paper's linearised model)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", default=[],
                   help="set a parameter of the model's [parameters] table (rates in the "
                        "model's unit, ω_b for the paper; temperatures in K); repeatable")
    p.add_argument("--pair", default=None, metavar="A,B",
                   help="the two modes whose correlations are measured (default: the "
                        "model's default_pair, b,m for the paper; in steady, sweep, validate, "
                        "simulate and relax a model without one, e.g. one mode, has no pair "
                        "measures)")
    p.add_argument("--branch", type=int, default=0,
                   help="for a nonlinear model: which stable mean-field branch to linearise "
                        "around (0: fewest photons)")


def _add_steady(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    add_observable_arguments(p)


def _cmd_steady(args) -> int:
    from .analysis import steady_report

    model, pair, parties, names = load_cli_observables(args)
    report = steady_report(model, pair, args.branch, parties, names)
    if args.json:
        print(dump_json(report))
    else:
        print(render_steady(report))
    return EXIT_OK if report["stable"] and report.get("physical", True) else EXIT_UNSTABLE


def render_steady(report: dict) -> str:
    from .measures import signals_correlation, smaller_is_stronger, threshold

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


_COLUMNS = {"n": "n̄", "n_thermal": "n̄ thermal", "n_coherent": "n̄ coherent",
            "min_variance": "min var", "squeezing_angle": "angle/rad",
            "squeezing_db": "sqz/dB", "purity": "purity", "entropy": "S/nats"}


def render_observables(report: dict) -> list[str]:
    """Text of :func:`~langevin_sim.observables.observables_table`'s part of a report: the
    single-mode table, the bipartitions, the three-mode analyses."""
    from .conventions import THRESHOLD_TOL

    layout = report.get("observables_layout") or {}
    lines = []
    cols = layout.get("single_mode", [])
    if cols:
        lines.append("single modes (n̄ = thermal + coherent quanta; variance of the vacuum 1/2; "
                     "squeezing in dB below the vacuum, along x cos θ + p sin θ; S in nats):")
        width = max(6, *(len(m) + 2 for m in report["modes"]))
        lines.append(f"  {'mode':<{width}}" + "".join(f"{_COLUMNS[c]:>13}" for c in cols))
        for m in report["modes"]:
            lines.append(f"  {m:<{width}}" + "".join(f"{report[f'{c}_{m}']:>13.6g}"
                                                     for c in cols))
    for bip in layout.get("bipartitions", []):
        cells = ", ".join(f"{k} = {report[k]:.6g}" for k in bip["names"])
        lines.append(f"bipartition {bip['parties']} (nats): {cells}")
    for tri in layout.get("tripartite", []):
        tag = "_".join(tri["modes"])
        i, j, k = tri["modes"]
        cuts = ", ".join(f"{a}|{b}{c} {report[f'E_N_{a}_{b}{c}']:.6g}"
                         for a, b, c in ((i, j, k), (j, i, k), (k, i, j)))
        pairs = ", ".join(f"{a}|{b} {report[f'E_N_{a}_{b}']:.6g}"
                          for a, b in ((i, j), (i, k), (j, k)))
        r = report[f"residual_contangle_{tag}"]
        verdict = "> 0: genuinely tripartite by this measure" if r > THRESHOLD_TOL else "not > 0"
        lines.append(f"three modes ({', '.join(tri['modes'])}): E_N of the 1|2 cuts {cuts}; "
                     f"of the pairs {pairs}")
        lines.append(f"  minimum residual contangle (C = E_N²) {r:.6g} ({verdict}); "
                     f"class {report[f'tripartite_class_{tag}']}: "
                     f"{report[f'classification_{tag}']}"
                     + (f" (separable: {', '.join(report[f'separable_cuts_{tag}'])})"
                        if report[f"separable_cuts_{tag}"] else ""))
    return lines


COMMANDS = {}


def _register(name, func, help_text, add_arguments=None):
    COMMANDS[name] = (func, help_text, add_arguments)


_register("steady", _cmd_steady, "analytic steady state: stability, covariance, the observables "
          "of every mode and of groups of modes, and the measures of a pair", _add_steady)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="langevin-sim", description=(
        "Stochastic Langevin simulator of Tan & Li's cascaded phonon-magnon system, and of "
        "any network described as a TOML model. Rates are in units of ω_b (another model: "
        "its own unit), times in their inverse, temperatures in K. Exit statuses: 0 ok, 1 "
        "inconsistent, 2 bad input, 3 unstable or unphysical, 130 interrupted."))
    parser.add_argument("--version", action="version", version=version_string())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (_, help_text, add_arguments) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_common(p)
        if add_arguments is not None:
            add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``langevin-sim``; returns the exit status."""
    import warnings

    from . import io
    from ._signals import install_cli_handlers, restore

    # first of all: an interrupt from here on is one line and status 130, never a traceback
    previous = install_cli_handlers()
    io.forget_written()
    show_before = warnings.showwarning
    try:
        _load_commands()
        warnings.showwarning = _one_line_warning
        parser = build_parser()
        args = parser.parse_args(argv)
        func = COMMANDS[args.command][0]
        status = func(args)
        sys.stdout.flush()  # a closed pipe shows up here, not after the exit status is chosen
        if status == EXIT_INTERRUPTED:  # a partial result, printed: say what was saved
            print(f"langevin-sim: {interrupted_message()}", file=sys.stderr)
        return status
    except UsageError as exc:
        print(f"langevin-sim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (UnstableSystemError, UnphysicalStateError) as exc:
        print(f"langevin-sim: {exc}", file=sys.stderr)
        return EXIT_UNSTABLE
    except (StepTooLargeError, ValueError, OverflowError, io.OutputError,
            io.OutputBusyError) as exc:
        print(f"langevin-sim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print(f"langevin-sim: {interrupted_message(str(exc))}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`... --json | head`): say so once, write nothing more
        _silence_stdout()
        print("langevin-sim: error: output pipe closed by the reader", file=sys.stderr)
        return EXIT_USAGE
    finally:
        io.release_locks()
        restore(previous)
        warnings.showwarning = show_before


def interrupted_message(reason: str = "") -> str:
    """The one line of an interrupted command: what was saved (every file listed is complete:
    written whole and renamed into place), or that nothing was."""
    from . import io

    files = io.written()
    head = f"interrupted {reason}" if reason else "interrupted"
    if files:
        return f"{head}; saved (complete): {', '.join(files)}"
    return f"{head}; nothing was saved"


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"langevin-sim: note: {message}", file=sys.stderr)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (captured output)
        pass


def version_string() -> str:
    from . import __version__

    return f"langevin-sim {__version__}"


def _load_commands() -> None:
    """Import the modules that register further sub-commands."""
    from . import cli_detect, cli_engine, cli_evolve, cli_spectrum, cli_switch  # noqa: F401


def run() -> None:  # console-script wrapper
    # the command line draws to files: headless, whatever display there is
    os.environ.setdefault("MPLBACKEND", "Agg")
    _exit_now(main())


def _exit_now(status: int) -> None:
    """End the process without tearing the interpreter down. Every output file is written and
    closed, and every cluster shut down, before ``main`` returns; what is left to flush is
    stdout and stderr. The teardown skipped (numba's compiled code, LLVM, every imported
    module) takes about 0.1 s, which a short run would otherwise pay on top of its work."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        _silence_stdout()
    try:
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(status)
