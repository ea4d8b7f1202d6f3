"""Sub-commands that run trajectory ensembles (registered into :mod:`langevin_sim.cli`)."""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from ._signals import checkpoint
from .cli import (
    EXIT_INCONSISTENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    _register,
    add_model_arguments,
    add_observable_arguments,
    dump_json,
    load_cli_observables,
    no_nan,
    prepare_output_dir,
    prepare_output_file,
)
from .io import write_text


def _number(convert, minimum, strict: bool, what: str, maximum=None):
    """An argparse ``type``: ``convert(text)``, finite and above ``minimum`` (and at most
    ``maximum``); otherwise argparse reports one line naming the option ("argument --seed:
    expected ...")."""
    def parse(text: str):
        from .models.expressions import shorten

        try:
            v = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {shorten(text)}") from None
        if not math.isfinite(v) or (v <= minimum if strict else v < minimum) \
                or (maximum is not None and v > maximum):
            raise argparse.ArgumentTypeError(f"expected {what}, got {shorten(text)}")
        return v

    return parse


_positive_int = _number(int, 0, True, "a positive integer")
# beyond 1e11 trajectories no run fits the trajectory-step limit (ensemble.MAX_TRAJECTORY_STEPS)
_n_traj = _number(int, 0, True, "a positive integer <= 1e11", maximum=10**11)
_seed = _number(int, 0, False, "an integer >= 0")
_nonnegative_float = _number(float, 0.0, False, "a finite number >= 0")
_positive_float = _number(float, 0.0, True, "a positive finite number")


def add_ensemble_arguments(p, methods=None, method_default: str | None = "exact",
                           method_help: str = "integrator: exact Ornstein-Uhlenbeck step, ll "
                                              "(the same on a linear system) or Euler-Maruyama"
                           ) -> None:
    from .integrators import methods_for

    methods = methods_for("linear") if methods is None else methods
    add_model_arguments(p)
    p.add_argument("--method", choices=list(methods), default=method_default, help=method_help)
    p.add_argument("--dt", type=_positive_float, default=None,
                   help="time step in 1/ω_b (default: 1 for exact and ll, 0.005 for em; ll on "
                        "a nonlinear model 0.1)")
    p.add_argument("--n-traj", type=_n_traj, default=16384, help="trajectories")
    p.add_argument("--seed", type=_seed, default=2024, help="root seed >= 0 (reproducible)")
    p.add_argument("--chunk-size", type=_positive_int, default=None,
                   help="trajectories per chunk (default min(1024, n_traj/32))")
    add_backend_arguments(p)


def add_backend_arguments(p) -> None:
    """Where the work runs: ``--threads``, ``--backend``, ``--scheduler``, ``--workers``."""
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="workers for --backend local (default: all cores)")
    p.add_argument("--backend", choices=["local", "dask"], default="local",
                   help="where the work runs: here, or a Dask cluster")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address (default: start a LocalCluster here)")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="worker processes of the LocalCluster started without --scheduler")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def make_backend(args):
    """The backend the options ask for (``UsageError`` if its package is missing)."""
    if args.backend == "local":
        from .backends import LocalBackend
        if args.scheduler or args.workers:
            raise UsageError("--scheduler and --workers need --backend dask")
        return LocalBackend(args.threads)
    from .backends import BackendUnavailableError, DaskBackend
    try:
        return DaskBackend(address=args.scheduler, n_workers=args.workers)
    except BackendUnavailableError as exc:
        raise UsageError(str(exc)) from None


def _progress(args) -> bool:
    return not args.no_progress and sys.stderr.isatty()


def load_ensemble_observables(args):
    """The model, the pair (``None`` for a model without one, e.g. one mode), the parties and
    the observables of an ensemble command (validate, simulate, relax), all checked before any
    computation (exit 2). Without ``--observables``: every observable when ``--parties`` is
    given or there is no pair, none for a run on a pair alone (its output and verdict are
    those of the pair's six measures)."""
    from .observables import resolve_ensemble_observables

    model, pair, groups, _ = load_cli_observables(args)
    return model, pair, groups, resolve_ensemble_observables(pair, groups, args.observables)


def _add_validate(p):
    from .integrators import METHODS

    add_ensemble_arguments(
        p, methods=tuple(METHODS), method_default=None,
        method_help="integrator: exact OU step (default), ll (the same there) or em for a "
                    "linear model; for a nonlinear one the truncated Wigner engine: ll "
                    "(default, dt 0.1: local linearisation, judged against the continuous "
                    "steady state) or the baselines em, exp-euler, exp-heun (judged against "
                    "their own; exact validates the linearisation)")
    p.add_argument("--t-final", type=_positive_float, default=400.0,
                   help="length of the run in 1/ω_b (default 400)")
    p.add_argument("--record-every", type=_positive_float, default=20.0,
                   help="spacing of the records averaged, in 1/ω_b (default 20)")
    p.add_argument("--initial", choices=["steady", "thermal", "vacuum"], default="steady",
                   help="initial state (steady: the scheme's own stationary state)")
    p.add_argument("--burn-in", type=_nonnegative_float, default=None,
                   help="discard records before this time (1/ω_b); default 0 from steady, "
                        "else 7 slowest relaxation times")
    p.add_argument("--alpha", type=float, default=0.01,
                   help="family-wise significance of the consistency test (default 0.01)")
    add_observable_arguments(p)


def _cmd_validate(args) -> int:
    from .validation import validate

    model, pair, parties, names = load_ensemble_observables(args)
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha must be in (0, 1), got {args.alpha}")
    with make_backend(args) as backend:
        report = validate(model, pair=pair, branch=args.branch, method=args.method,
                          dt=args.dt, n_traj=args.n_traj, seed=args.seed,
                          t_final=args.t_final, record_every=args.record_every,
                          initial=args.initial, burn_in=args.burn_in, alpha=args.alpha,
                          chunk_size=args.chunk_size, backend=backend, progress=_progress(args),
                          parties=parties, observables=names)
    print(dump_json(report.to_dict()) if args.json else no_nan(report.render()))
    if report.partial:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.check.consistent else EXIT_INCONSISTENT


def _add_simulate(p):
    from .integrators import METHODS

    add_ensemble_arguments(
        p, methods=tuple(METHODS), method_default=None,
        method_help="integrator: exact (default), ll or em on a linear model; on a driven "
                    "nonlinear one the truncated Wigner engine, ll (default, dt 0.1) or a "
                    "baseline em, exp-euler, exp-heun (exact: its linearisation)")
    p.add_argument("--t-final", type=_positive_float, default=100.0,
                   help="end time in 1/ω_b (default 100)")
    p.add_argument("--record-every", type=_positive_float, default=1.0,
                   help="record spacing in 1/ω_b (default 1)")
    p.add_argument("--initial", choices=["thermal", "vacuum", "steady"], default="thermal")
    p.add_argument("--output", default=None, help="write an .npz with the results")
    add_observable_arguments(p)


def _cmd_simulate(args) -> int:
    from .analysis import resolve_parties
    from .ensemble import record_times, simulate
    from .integrators import get_integrator
    from .measures import measure_names

    model, pair, parties, obs_names = load_ensemble_observables(args)
    output = prepare_output_file(args.output, ".npz")
    system = model.linear_system(args.branch)
    parties = resolve_parties(system.mode_labels, parties, pair, obs_names)
    meta = {"parameters": model.as_dict(), "model": model.name,
            "pair": list(pair) if pair else None}
    lang = model.build() if hasattr(model, "build") else None
    if lang is not None and not lang.is_linear and args.method != "exact":
        times, result = _simulate_truncated_wigner(lang, system, args, meta)
    else:
        integrator = get_integrator(args.method or "exact")
        dt = integrator.resolve_dt(args.dt)
        times = record_times(args.t_final, args.record_every, integrator, dt)
        with make_backend(args) as backend:
            result = simulate(system, times, method=integrator, dt=dt, n_traj=args.n_traj,
                              seed=args.seed, initial=args.initial,
                              chunk_size=args.chunk_size, backend=backend,
                              progress=_progress(args), metadata=meta)
    if output:
        result.save(output)
    names = measure_names(pair) if pair else ()
    # measures cost far more than moments: only at the records shown (all of them for --json)
    shown = np.unique(np.linspace(0, len(times) - 1, min(len(times), 11)).astype(int))
    obs = {}
    try:
        checkpoint("measures")
        est = None if not pair else result.measures(
            pair, names=(names[0], names[2], names[4]), records=None if args.json else shown,
            progress=_progress(args))
        if obs_names:  # like the measures: the records shown (every record for --json)
            from .observables import at_records, ensemble_observables

            obs = ensemble_observables(at_records(result, None if args.json else shown),
                                       parties, obs_names)
        computed = True
    except KeyboardInterrupt:
        # the moments are complete (and saved): report them without the measures
        est, obs, computed = None, {}, False
    unit = model.unit
    if args.json:
        payload = {"times": result.times, "mean": result.mean,
                   "covariance": result.covariance, "stderr": result.covariance_stderr,
                   "seed": str(result.seed), "method": result.method, "dt": result.dt,
                   "unit": unit, "n_traj": result.n_traj, "partial": result.partial,
                   "measures_computed": computed, "output": output,
                   "pair": list(pair) if pair else None}
        for i, k in enumerate((names[0], names[2], names[4]) if pair else ()):
            payload[k] = None if est is None else est.values[:, i]
            payload[k + "_stderr"] = None if est is None else est.stderr[:, i]
        # per record: σ + iΩ/2 ≥ 0 for the sampled pair (a model without one: all modes)
        if pair:
            payload["physical"] = None if est is None else est.physical
        else:
            from .conventions import is_physical

            payload["physical"] = [is_physical(c) for c in result.covariance]
        if obs_names:
            from .observables import party_text

            payload["observables"] = list(obs_names)
            payload["parties"] = [party_text(g) for g in parties]
            for k, (values, stderr) in obs.items():
                payload[k], payload[k + "_stderr"] = values, stderr
        print(dump_json(payload))
    else:
        print(f"{result.n_traj} trajectories, method {result.method}, dt = {result.dt:g}/{unit}, "
              f"seed {result.seed}; {len(times)} records to t = {times[-1]:g}/{unit}"
              + (" (PARTIAL: interrupted)" if result.partial else ""))
        if not result.has_stderr:
            print("standard errors n/a: the chunks that finished form a single jackknife group")
        a, b = pair or (system.mode_labels[0], None)
        xb = system.quadrature_labels().index(f"x_{a}")
        head = f"{'t (1/' + unit + ')':>10}{'Var(x_' + a + ')':>12}{'± SE':>10}"
        # a model without a pair: the occupation and squeezing of each mode instead
        cols = [] if pair else [k for m in system.mode_labels
                                for k in (f"n_{m}", f"squeezing_db_{m}") if k in obs]
        print(head + ("" if est is None else
                      f"{'E_N':>10}{'± SE':>10}{'S_' + b + '|' + a:>10}{'± SE':>10}")
              + "".join(f"{k:>{max(10, len(k) + 1)}}{'± SE':>10}" for k in cols))
        se = result.covariance_stderr
        for row, t in enumerate(shown):
            line = f"{times[t]:>10.4g}{result.covariance[t, xb, xb]:>12.5g}{_g(se[t, xb, xb])}"
            if est is not None:
                line += (f"{_g(est.values[row, 0], 10, '.4g')}{_g(est.stderr[row, 0])}"
                         f"{_g(est.values[row, 1], 10, '.4g')}{_g(est.stderr[row, 1])}")
            for k in cols:
                line += (f"{_g(obs[k][0][row], max(10, len(k) + 1), '.4g')}"
                         f"{_g(obs[k][1][row])}")
            print(line)
        if obs:
            print(f"observables at t = {times[-1]:g}/{unit} (sample ± SE; every record with "
                  "--json):")
            for k, (values, stderr) in obs.items():
                print(f"  {k:<28}{_g(values[-1], 12, '.6g')} ± {_g(stderr[-1], 0)}")
        if not computed:
            print("measures not computed (interrupted while computing them)")
        elif est is None:
            pass
        elif not np.all(est.physical):
            bad = ", ".join(f"{t:g}" for t in times[shown][~est.physical][:5])
            print(f"WARNING: the sampled ({a}, {b}) covariance is not physical at t = {bad}"
                  f"{' ...' if (~est.physical).sum() > 5 else ''}: its measures are unreliable")
        if output:
            print(f"wrote {output}")
    return EXIT_INTERRUPTED if result.partial or not computed else EXIT_OK


def _simulate_truncated_wigner(lang, linearised, args, meta):
    """``simulate`` on a driven nonlinear model: the truncated Wigner engine (``ll`` by
    default) from the continuous steady state (``--initial steady``: the steady mean field,
    the σ∞ of its linearisation, the frame at the drift's fixed point), or from means 0 with
    the modes thermal or in vacuum (the drive switched on at t = 0)."""
    from .gaussian import steady_state
    from .integrators.ll import fixed_point
    from .switch_on import thermal_state
    from .twa import DEFAULT_DT, simulate_twa

    method = args.method or "ll"
    dt = DEFAULT_DT[method] if args.dt is None else args.dt
    every = max(1, round(args.record_every / dt)) * dt
    times = every * np.arange(0, int(np.floor(args.t_final / every + 1e-9)) + 1)
    path = None
    if args.initial == "steady":
        states = [st for st in lang.mean_field_states() if st.stable]
        x_mf = states[args.branch].state
        initial = (x_mf, steady_state(linearised))
        path = fixed_point(lang, x_mf) if method == "ll" else None
    elif args.initial == "vacuum":
        initial = (np.zeros(lang.dim), 0.5 * np.eye(lang.dim))
    else:
        initial = (np.zeros(lang.dim), thermal_state(lang))
    with make_backend(args) as backend:
        result = simulate_twa(lang, times, method=method, dt=dt, n_traj=args.n_traj,
                              seed=args.seed, initial=initial, chunk_size=args.chunk_size,
                              backend=backend, progress=_progress(args), metadata=meta,
                              path=path)
    return times, result


def _g(value, width: int = 10, spec: str = ".2g") -> str:
    """A number right-aligned in ``width``, or "n/a" when it does not exist (a standard error
    of fewer than 2 jackknife groups is NaN; text never shows "nan")."""
    return f"{value:>{width}{spec}}" if np.isfinite(value) else f"{'n/a':>{width}}"


_register("validate", _cmd_validate,
          "ensemble at the given parameters validated against the exact stationary covariance",
          _add_validate)
_register("simulate", _cmd_simulate, "run an ensemble and record moments over time",
          _add_simulate)


def _add_relax(p):
    add_ensemble_arguments(p)
    p.add_argument("--initial", default="thermal",
                   help="thermal (default), vacuum, or FILE.npz with 'covariance' (and 'mean'); "
                        "a saved ensemble's last record is used")
    p.add_argument("--t-final", type=_positive_float, default=None,
                   help="last record time in 1/ω_b (default: 5 slowest relaxation times)")
    p.add_argument("--n-times", type=_positive_int, default=40,
                   help="record times, log-spaced (default 40)")
    p.add_argument("--tol", type=_positive_float, default=0.01,
                   help="settling tolerance (relative for σ, absolute for measures)")
    p.add_argument("--alpha", type=float, default=0.01, help="significance of the z test")
    p.add_argument("--output", default=None,
                   help="directory for the PNG plots, report JSON and ensemble .npz")
    add_observable_arguments(p)
    p.add_argument("--fidelity-target", default=None, metavar="FILE.json|FILE.npz",
                   help="a Gaussian target state: 'modes' (names), 'covariance' (2k x 2k, "
                        "vacuum variance 1/2) and optionally 'mean' (2k quadrature means); "
                        "the fidelity of those modes' state with it at each record, "
                        "ensemble ± SE and exact")


def _cmd_relax(args) -> int:
    import json
    import os

    from .relaxation import relax

    model, pair, parties, names = load_ensemble_observables(args)
    target = None
    if args.fidelity_target is not None:
        from .observables import load_fidelity_target

        if not os.path.isfile(args.fidelity_target):
            raise UsageError(f"--fidelity-target must be an existing .json or .npz file, got "
                             f"{args.fidelity_target!r}")
        target = load_fidelity_target(args.fidelity_target, model.mode_labels)
    if args.initial not in ("thermal", "vacuum") and not os.path.isfile(args.initial):
        raise UsageError(f"--initial must be thermal, vacuum or an existing .npz file, got "
                         f"{args.initial!r}")
    if args.initial not in ("thermal", "vacuum"):
        from .relaxation import load_initial
        load_initial(args.initial)  # unreadable or unphysical: one line, before any work
    if args.n_times < 3:
        raise UsageError("--n-times must be >= 3")
    prepare_output_dir(args.output)
    with make_backend(args) as backend:
        report = relax(model, pair=pair, branch=args.branch, initial=args.initial,
                       t_final=args.t_final, n_times=args.n_times, method=args.method, dt=args.dt,
                       n_traj=args.n_traj, seed=args.seed, tol=args.tol, alpha=args.alpha,
                       chunk_size=args.chunk_size, backend=backend, progress=_progress(args),
                       parties=parties, observables=names, fidelity_target=target)
    summary = report.summary_dict()
    if args.output:
        from . import plotting

        files = {}
        if pair:  # the variances and measures of the pair
            files["variances"] = plotting.plot_relaxation_variances(
                report, os.path.join(args.output, "relax_variances.png"))
            files["measures"] = plotting.plot_relaxation_measures(
                report, os.path.join(args.output, "relax_measures.png"))
        files["distance"] = plotting.plot_relaxation_distance(
            report, os.path.join(args.output, "relax_distance.png"))
        files["ensemble"] = os.path.join(args.output, "relax_ensemble.npz")
        report.ensemble.save(files["ensemble"])
        files["report"] = os.path.join(args.output, "relax_report.json")
        summary["files"] = files
        write_text(files["report"], dump_json(summary))
    if args.json:
        print(dump_json(summary))
    else:
        print(no_nan(report.render()))
        if args.output:
            print("wrote " + ", ".join(json.loads(dump_json(summary))["files"].values()))
    if report.partial:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.check.consistent else EXIT_INCONSISTENT


_register("relax", _cmd_relax,
          "relaxation to steady state: transient ensemble vs exact σ(t), rates, onsets, plots",
          _add_relax)


def _add_figures(p):
    p.add_argument("--fig", choices=["2", "3", "4", "all"], default="all")
    p.add_argument("--resolution", type=_positive_int, default=None,
                   help="grid points per axis (default 101)")
    p.add_argument("--output", default="figures", help="directory for PNG, NPZ and JSON files")
    p.add_argument("--mc-check", type=int, default=0, metavar="K",
                   help="exact-method ensembles at K points per plane (optimum and near the "
                        "threshold), marked on the maps and written to JSON")
    p.add_argument("--mc-n-traj", type=_positive_int, default=8192,
                   help="trajectories per spot check (default 8192)")
    add_backend_arguments(p)


def _cmd_figures(args) -> int:
    import time

    from .figures import DEFAULT_RESOLUTION, make_figures

    if args.mc_check < 0:
        raise UsageError(f"--mc-check must be >= 0, got {args.mc_check}")
    prepare_output_dir(args.output)
    figs = ("2", "3", "4") if args.fig == "all" else (args.fig,)
    t0 = time.perf_counter()
    with make_backend(args) as backend:
        summary = make_figures(figs, args.resolution or DEFAULT_RESOLUTION, args.output,
                               args.mc_check, args.mc_n_traj, backend=backend,
                               progress=_progress(args),
                               log=(lambda *_: None) if args.json else print)
    total = time.perf_counter() - t0
    interrupted = bool(summary.pop("interrupted", False))
    if args.json:
        print(dump_json({"figures": summary, "seconds": total, "partial": interrupted}))
    else:
        print(f"total {total:.1f} s" + (" (PARTIAL: interrupted)" if interrupted else ""))
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


_register("figures", _cmd_figures,
          "reproduce the paper's Figures 2-4 (density maps, stability masks, MC spot checks)",
          _add_figures)


def _parse_axis(text: str):
    """``NAME=START:STOP:N`` → (name, grid) (``UsageError`` if malformed)."""
    name, sep, spec = text.partition("=")
    parts = spec.split(":")
    if not sep or len(parts) != 3:
        raise UsageError(f"--axis expects NAME=START:STOP:N, got {text!r}")
    try:
        start, stop, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise UsageError(f"--axis {name}: START and STOP must be numbers and N an integer, "
                         f"got {spec!r}") from None
    if not (np.isfinite(start) and np.isfinite(stop)) or n < 1 or n > 2001:
        raise UsageError(f"--axis {name}: need finite START, STOP and 1 <= N <= 2001, got "
                         f"{spec!r}")
    return name.strip(), np.linspace(start, stop, n)


def _add_sweep(p):
    from .cli import add_observable_arguments

    add_model_arguments(p)
    add_observable_arguments(p)
    p.add_argument("--axis", action="append", default=[], metavar="NAME=START:STOP:N",
                   help="a swept parameter and its grid (one or two --axis)")
    p.add_argument("--output", default=None,
                   help="directory for sweep.npz and sweep.png (maps of the six measures)")
    add_backend_arguments(p)


def _cmd_sweep(args) -> int:
    import os

    from .cli import load_cli_observables
    from .sweep import sweep, sweep_summary

    model, pair, parties, names = load_cli_observables(args)
    if not 1 <= len(args.axis) <= 2:
        raise UsageError("give one or two --axis NAME=START:STOP:N")
    axes = dict(_parse_axis(a) for a in args.axis)
    if len(axes) != len(args.axis):
        raise UsageError("the two --axis must name different parameters")
    prepare_output_dir(args.output)
    with make_backend(args) as backend:
        result = sweep(model, axes, pair=pair, backend=backend, progress=_progress(args),
                       parties=parties, observables=names)
    summary = sweep_summary(result)
    if args.output is not None:
        npz = os.path.join(args.output, "sweep.npz")
        result.save(npz)
        summary["files"] = [npz]
        if pair is not None:  # the maps are of the pair's six measures
            from .plotting import plot_sweep

            png = os.path.join(args.output, "sweep.png")
            plot_sweep(result, png, unit=model.unit)
            summary["files"].append(png)
    if args.json:
        print(dump_json(summary))
    else:
        grid = " × ".join(f"{a} ∈ [{g[0]:g}, {g[-1]:g}] ({g.size})"
                          for a, g in zip(result.axes, result.grids))
        print(f"Sweep of model {model.name}: {grid}; "
              + (f"pair ({', '.join(pair)})" if pair else "no pair")
              + (f"; parties {', '.join(result.parties)}" if result.parties else ""))
        print(f"stable points: {summary['n_stable']} of {summary['n_points']}")
        name_width = max([16, *(len(k) + 2 for k in result.values)])
        print(f"{'measure':<{name_width}}{'best':>12}  {'at':<32}{'correlated at':>16}")
        for k, row in {**summary["measures"], **summary["observables"]}.items():
            at = ", ".join(f"{a} = {v:.4g}" for a, v in (row["at"] or {}).items())
            best = "—" if row["best"] is None else f"{row['best']:.5g}"
            corr = "" if row["n_correlated"] is None else f"{row['n_correlated']:>10} points"
            print(f"{k:<{name_width}}{best:>12}  {at:<32}{corr}")
        if args.output is not None:
            print("wrote " + ", ".join(summary["files"]))
    return EXIT_OK


_register("sweep", _cmd_sweep,
          "steady-state measures over a grid of one or two parameters of any model",
          _add_sweep)
