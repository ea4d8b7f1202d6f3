"""``langevin-sim validate``: sampled stationary statistics against the exact ones."""

from __future__ import annotations

from .options import (
    EXIT_INCONSISTENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_ensemble_arguments,
    add_observable_arguments,
    load_ensemble_observables,
    make_backend,
    nonnegative_float,
    positive_float,
    show_progress,
)
from .output import (
    dump_json,
    no_nan,
)

NAME = "validate"
HELP = "ensemble at the given parameters validated against the exact stationary covariance"


def add_arguments(p):
    from ..integrators import METHODS

    add_ensemble_arguments(
        p, methods=tuple(METHODS), method_default=None,
        method_help="integrator: exact OU step (default), ll (the same there) or em for a "
                    "linear model; for a nonlinear one the truncated Wigner engine: ll "
                    "(default, dt 0.1: local linearisation, judged against the continuous "
                    "steady state) or the baselines em, exp-euler, exp-heun (judged against "
                    "their own; exact validates the linearisation)")
    p.add_argument("--t-final", type=positive_float, default=400.0,
                   help="length of the run in 1/ω_b (default 400)")
    p.add_argument("--record-every", type=positive_float, default=20.0,
                   help="spacing of the records averaged, in 1/ω_b (default 20)")
    p.add_argument("--initial", choices=["steady", "thermal", "vacuum"], default="steady",
                   help="initial state (steady: the scheme's own stationary state)")
    p.add_argument("--burn-in", type=nonnegative_float, default=None,
                   help="discard records before this time (1/ω_b); default 0 from steady, "
                        "else 7 slowest relaxation times")
    p.add_argument("--alpha", type=float, default=0.01,
                   help="family-wise significance of the consistency test (default 0.01)")
    add_observable_arguments(p)

def run(args) -> int:
    from ..analyses.validate import validate

    model, pair, parties, names = load_ensemble_observables(args)
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha must be in (0, 1), got {args.alpha}")
    with make_backend(args) as backend:
        report = validate(model, pair=pair, branch=args.branch, method=args.method,
                          dt=args.dt, n_traj=args.n_traj, seed=args.seed,
                          t_final=args.t_final, record_every=args.record_every,
                          initial=args.initial, burn_in=args.burn_in, alpha=args.alpha,
                          chunk_size=args.chunk_size, backend=backend, progress=show_progress(args),
                          parties=parties, observables=names)
    print(dump_json(report.to_dict()) if args.json else no_nan(report.render()))
    if report.partial:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.check.consistent else EXIT_INCONSISTENT
