"""``langevin-sim simulate``: an ensemble's moments over time."""

from __future__ import annotations

import numpy as np

from .._signals import checkpoint
from .options import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_ensemble_arguments,
    add_observable_arguments,
    load_request,
    make_backend,
    positive_float,
    show_progress,
)
from .output import (
    dump_json,
    format_se,
    prepare_output_file,
)

NAME = "simulate"
HELP = "run an ensemble and record moments over time"


def add_arguments(p):
    from ..integrators import METHODS

    add_ensemble_arguments(
        p, methods=tuple(METHODS), method_default=None,
        method_help="integrator: exact (default), ll or em on a linear model; on a driven "
                    "nonlinear one the truncated Wigner engine, ll (default, dt 0.1) or a "
                    "baseline em, exp-euler, exp-heun (exact: its linearisation)")
    p.add_argument("--t-final", type=positive_float, default=100.0,
                   help="end time in 1/unit (default 100)")
    p.add_argument("--record-every", type=positive_float, default=1.0,
                   help="record spacing in 1/unit (default 1)")
    p.add_argument("--initial", choices=["thermal", "vacuum", "steady"], default="thermal")
    p.add_argument("--output", default=None, help="write an .npz with the results")
    add_observable_arguments(p)


def run(args) -> int:
    from ..analyses.steady import resolve_parties
    from ..engine import record_times, simulate
    from ..integrators import get_integrator
    from ..measures import onset_names

    request = load_request(args, ensemble=True)
    model, pair, parties, obs_names = (request.model, request.pair, request.parties,
        request.observables)
    output = prepare_output_file(args.output, ".npz")
    system = model.linear_system(args.branch)
    parties = resolve_parties(system.mode_labels, parties, pair, obs_names)
    meta = {"parameters": model.as_dict(), "model": model.name,
            "pair": list(pair) if pair else None}
    lang = model.build()
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
                              progress=show_progress(args), metadata=meta)
    if output:
        result.save(output)
    # measures cost far more than moments: only at the records shown (all of them for --json)
    shown = np.unique(np.linspace(0, len(times) - 1, min(len(times), 11)).astype(int))
    obs = {}
    try:
        checkpoint("measures")
        est = None if not pair else result.measures(
            pair, names=onset_names(pair), records=None if args.json else shown,
            progress=show_progress(args))
        if obs_names:  # like the measures: the records shown (every record for --json)
            from ..observables import at_records, ensemble_observables

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
        for i, k in enumerate(onset_names(pair) if pair else ()):
            payload[k] = None if est is None else est.values[:, i]
            payload[k + "_stderr"] = None if est is None else est.stderr[:, i]
        # per record: σ + iΩ/2 ≥ 0 for the sampled pair (a model without one: all modes)
        if pair:
            payload["physical"] = None if est is None else est.physical
        else:
            from ..conventions import is_physical

            payload["physical"] = [is_physical(c) for c in result.covariance]
        if obs_names:
            from ..observables import party_text

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
        if est is not None:
            (en, en_se), (st, st_se) = est.column("E_N"), est.column(f"S_{b}_given_{a}")
        for row, t in enumerate(shown):
            line = (f"{times[t]:>10.4g}{result.covariance[t, xb, xb]:>12.5g}"
                    f"{format_se(se[t, xb, xb])}")
            if est is not None:
                line += (f"{format_se(en[row], 10, '.4g')}{format_se(en_se[row])}"
                         f"{format_se(st[row], 10, '.4g')}{format_se(st_se[row])}")
            for k in cols:
                line += (f"{format_se(obs[k][0][row], max(10, len(k) + 1), '.4g')}"
                         f"{format_se(obs[k][1][row])}")
            print(line)
        if obs:
            print(f"observables at t = {times[-1]:g}/{unit} (sample ± SE; every record with "
                  "--json):")
            for k, (values, stderr) in obs.items():
                print(f"  {k:<28}{format_se(values[-1], 12, '.6g')} ± {format_se(stderr[-1], 0)}")
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
    from ..engine import DEFAULT_DT, simulate_twa, thermal_state
    from ..gaussian import steady_state
    from ..integrators.ll import fixed_point

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
                              backend=backend, progress=show_progress(args), metadata=meta,
                              path=path)
    return times, result
