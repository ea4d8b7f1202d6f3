"""What the commands share on their way in: the exit statuses, the number types of the
options (one line naming the option for a bad value), the model, observable, ensemble and
backend argument groups, and the one loader of a model and what is measured on it."""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass

EXIT_OK, EXIT_INCONSISTENT, EXIT_USAGE, EXIT_UNSTABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


def number_type(convert, minimum, strict: bool, what: str, maximum=None):
    """An argparse ``type``: ``convert(text)``, finite and above ``minimum`` (and at most
    ``maximum``); otherwise argparse reports one line naming the option ("argument --seed:
    expected ...")."""
    def parse(text: str):
        from ..models.expressions import shorten

        try:
            v = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {shorten(text)}") from None
        if not math.isfinite(v) or (v <= minimum if strict else v < minimum) \
                or (maximum is not None and v > maximum):
            raise argparse.ArgumentTypeError(f"expected {what}, got {shorten(text)}")
        return v

    return parse


positive_int = number_type(int, 0, True, "a positive integer")
# beyond 1e11 trajectories no run fits the trajectory-step limit (ensemble.MAX_TRAJECTORY_STEPS)
n_traj = number_type(int, 0, True, "a positive integer <= 1e11", maximum=10**11)
seed_type = number_type(int, 0, False, "an integer >= 0")
nonnegative_float = number_type(float, 0.0, False, "a finite number >= 0")
positive_float = number_type(float, 0.0, True, "a positive finite number")


def int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}") \
                from None
        if v < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
        return v
    return parse


def float_in(low: float, high: float, name: str):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            v = float("nan")
        if not low < v <= high:
            raise argparse.ArgumentTypeError(f"{name} must be in ({low:g}, {high:g}], got "
                                             f"{text!r}")
        return v
    return parse


def parse_settings(items: list[str] | None, model) -> dict:
    """Turn ``["kappa1=5", "T=0.1"]`` into ``{name: number}`` for ``model`` (``ValueError``
    naming the parameter if unknown or not a number)."""
    from ..models.expressions import shorten  # a bad value is echoed cut short

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


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """``--model``, ``--set``, ``--pair``, ``--branch`` (commands that take any model)."""
    from ..models import library_models

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


def add_observable_arguments(p: argparse.ArgumentParser) -> None:
    """``--parties`` and ``--observables`` (steady, sweep, validate, simulate, relax)."""
    from ..observables import OBSERVABLES

    p.add_argument("--parties", action="append", default=[], metavar="A1,B|M",
                   help="a bipartition whose entanglement (E_N), mutual information (I) and "
                        "Gaussian steerability (G, both ways) are reported: groups of modes "
                        "separated by '|', e.g. 'a1,b|m'; three single modes 'a|b|m' give the "
                        "three-mode analysis (automatic for a three-mode model); repeatable. "
                        "--pair A,B is short for --parties 'A|B'")
    p.add_argument("--observables", default=None, metavar="NAME,...",
                   help="which observables to report (default all; validate, simulate and "
                        "relax on a pair alone: none): " + ", ".join(OBSERVABLES))


def add_ensemble_arguments(p, methods=None, method_default: str | None = "exact",
                           method_help: str = "integrator: exact Ornstein-Uhlenbeck step, ll "
                                              "(the same on a linear system) or Euler-Maruyama"
                           ) -> None:
    from ..integrators import methods_for

    methods = methods_for("linear") if methods is None else methods
    add_model_arguments(p)
    p.add_argument("--method", choices=list(methods), default=method_default, help=method_help)
    p.add_argument("--dt", type=positive_float, default=None,
                   help="time step in 1/unit (default: 1 for exact and ll, 0.005 for em; ll on "
                        "a nonlinear model 0.1)")
    p.add_argument("--n-traj", type=n_traj, default=16384, help="trajectories")
    p.add_argument("--seed", type=seed_type, default=2024, help="root seed >= 0 (reproducible)")
    p.add_argument("--chunk-size", type=positive_int, default=None,
                   help="trajectories per chunk (default min(1024, n_traj/32))")
    add_backend_arguments(p)


def add_backend_arguments(p) -> None:
    """Where the work runs: ``--threads``, ``--backend``, ``--scheduler``, ``--workers``."""
    p.add_argument("--threads", type=positive_int, default=None,
                   help="workers for --backend local (default: all cores)")
    p.add_argument("--backend", choices=["local", "dask"], default="local",
                   help="where the work runs: here, or a Dask cluster")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address (default: start a LocalCluster here)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="worker processes of the LocalCluster started without --scheduler")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def make_backend(args):
    """The backend the options ask for (``UsageError`` if its package is missing)."""
    if args.backend == "local":
        from ..backends import LocalBackend
        if args.scheduler or args.workers:
            raise UsageError("--scheduler and --workers need --backend dask")
        return LocalBackend(args.threads)
    from ..backends import BackendUnavailableError, DaskBackend
    try:
        return DaskBackend(address=args.scheduler, n_workers=args.workers)
    except BackendUnavailableError as exc:
        raise UsageError(str(exc)) from None


def show_progress(args) -> bool:
    return not args.no_progress and sys.stderr.isatty()


def load_cli_model(args, model=None, changes=None):
    """The one model loader of the commands: ``--model`` (or ``model``, a model object) with
    ``--set`` (or ``changes``: a function from the model to its ``{name: value}``), built once,
    so that every value is evaluated here and a bad one fails (exit 2) before any
    computation."""
    from ..models import load_model

    model = load_model(args.model) if model is None else model
    model = model.replace(**(parse_settings(args.set, model) if changes is None
                             else changes(model)))
    model.build()
    return model


@dataclass(frozen=True)
class ModelRequest:
    """What a command that measures a model was asked for: the model, the pair (None for a
    model without one, e.g. one mode), the parties (groups of mode names) and the observables
    (names)."""

    model: object
    pair: tuple | None
    parties: tuple
    observables: tuple


def load_request(args, ensemble: bool = False) -> ModelRequest:
    """The model (:func:`load_cli_model`) and what to measure on it, from ``--pair``,
    ``--parties``, ``--observables``, ``--branch``; every value checked here (exit 2).

    ``ensemble`` (validate, simulate, relax, evolve): without ``--observables``, every
    observable when ``--parties`` is given or there is no pair, none for a run on a pair alone
    (its output and verdict are those of the pair's six measures); otherwise (steady, sweep)
    every observable.
    """
    from ..analyses.steady import resolve_pair
    from ..observables import parse_observables, parse_parties, resolve_ensemble_observables

    model = load_cli_model(args)
    names = parse_observables(args.observables)
    groups = tuple(parse_parties(p, model.mode_labels) for p in args.parties)
    pair = resolve_pair(model, parse_pair(args.pair), groups)
    if args.branch < 0:
        raise ValueError(f"--branch must be >= 0, got {args.branch}")
    if ensemble:
        names = resolve_ensemble_observables(pair, groups, args.observables)
    return ModelRequest(model, pair, groups, tuple(names))
