"""Command-line interface: a thin layer over the Python API.

Exit statuses: 0 success, 1 a validation run found the sample inconsistent, 2 bad input
(unknown option or parameter, bad value, unusable file or output path), 3 unstable or
unphysical, 130 interrupted (Ctrl-C or SIGTERM; what was finished is saved and marked partial).

The commands, in the order ``--help`` lists them, are :data:`COMMANDS`: each a module of
:mod:`langevin_sim.cli` with ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) ->
exit status``. Importing a command registers nothing; its heavy imports happen when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import StepTooLargeError, UnphysicalStateError, UnstableSystemError
from . import (
    detect,
    evolve,
    figures,
    relax,
    simulate,
    spectrum,
    steady,
    sweep,
    switch_on,
    validate,
)
from .options import (
    EXIT_INTERRUPTED,
    EXIT_UNSTABLE,
    EXIT_USAGE,
    UsageError,
    add_common,
)

COMMANDS = (steady, validate, simulate, relax, figures, sweep, detect, evolve, spectrum, switch_on)
"""Every sub-command of ``langevin-sim``, in the order of ``--help``."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse prints usage + message)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="langevin-sim", description=(
        "Stochastic Langevin simulator of Tan & Li's cascaded phonon-magnon system, and of "
        "any network described as a TOML model. Rates are in units of ω_b (another model: "
        "its own unit), times in their inverse, temperatures in K. Exit statuses: 0 ok, 1 "
        "inconsistent, 2 bad input, 3 unstable or unphysical, 130 interrupted."))
    parser.add_argument("--version", action="version", version=version_string())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        add_common(p)
        command.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``langevin-sim``; returns the exit status."""
    import warnings

    from .. import io
    from .._signals import install_cli_handlers, restore

    # first of all: an interrupt from here on is one line and status 130, never a traceback
    previous = install_cli_handlers()
    io.forget_written()
    show_before = warnings.showwarning
    try:
        warnings.showwarning = _one_line_warning
        parser = build_parser()
        args = parser.parse_args(argv)
        command = {c.NAME: c for c in COMMANDS}[args.command]
        status = command.run(args)
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
    from .. import io

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
    from ..io import package_version

    return f"langevin-sim {package_version()}"


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
