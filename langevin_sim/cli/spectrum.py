"""``langevin-sim spectrum``: analytic (and simulated) noise spectra"""

from __future__ import annotations

import os

import numpy as np

from .options import (
    EXIT_INCONSISTENT,
    EXIT_OK,
    UsageError,
    add_model_arguments,
    float_in,
    int_at_least,
    load_cli_model,
    positive_float,
)
from .output import (
    dump_json,
    prepare_output_dir,
)

NAME = "spectrum"
HELP = ("analytic noise spectra of quadratures and outputs (homodyne, heterodyne, cross), "
        "optionally against simulated records")


def add_arguments(p):
    add_model_arguments(p)
    p.add_argument("--quadrature", default=None, metavar="NAME",
                   help="the signal: x_<mode>, p_<mode>, <mode>:θ (x cosθ + p sinθ), or an "
                        "output port's homodyne quadrature <port>_out:θ (θ in rad, e.g. "
                        "a2_out:pi/4; x_<port>_out, p_<port>_out); default x of the model's "
                        "first mode of its pair (x_b for the paper)")
    p.add_argument("--cross", default=None, metavar="NAME",
                   help="a second signal: the cross spectrum S_XY (real and imaginary parts)")
    p.add_argument("--heterodyne", default=None, metavar="PORT",
                   help="the spectrum of the port's output field a_out = (x + i p)/√2 instead "
                        "of --quadrature: both sidebands, two-sided (vacuum level 1/2)")
    p.add_argument("--efficiency", type=float_in(0, 1, "--efficiency"), default=1.0,
                   help="detection efficiency η of output signals, in (0, 1] (default 1)")
    p.add_argument("--range", default=None, metavar="LO:HI",
                   help="angular frequencies (model's unit, ω_b for the paper) relative to the "
                        "drive; default: every line with its shoulders, from 0 for an even "
                        "spectrum, symmetric for heterodyne or cross spectra (a negative LO: "
                        "--range=-2:2)")
    p.add_argument("--simulate", action="store_true",
                   help="also estimate the spectrum from simulated records (Welch, Hann "
                        "window) and test it against the exact expectation (exit 1 if "
                        "inconsistent)")
    p.add_argument("--n-traj", type=int_at_least(1), default=64,
                   help="trajectories for --simulate (default 64)")
    p.add_argument("--seed", type=int_at_least(0), default=1,
                   help="root seed >= 0 for --simulate (reproducible)")
    p.add_argument("--segment-length", type=int_at_least(16), default=None,
                   help="Welch segment length in records (default: a power of 2 covering "
                        "8/γ_min, γ_min the narrowest line's half-width)")
    p.add_argument("--segments", type=int_at_least(1), default=8,
                   help="Welch segments per trajectory, overlapping by half (default 8)")
    p.add_argument("--sample-interval", type=positive_float, default=None,
                   help="sampling interval of the records (time unit; default π/ω_max: "
                        "Nyquist at the top of the range)")
    p.add_argument("--alpha", type=float_in(0, 0.5, "--alpha"), default=0.01,
                   help="family-wise significance of the consistency test (default 0.01)")
    p.add_argument("--output", default=None, metavar="DIR",
                   help="directory for spectrum.png and spectrum.json")


def run(args) -> int:
    from ..analyses.spectra import (
        parse_range,
        simulate_spectrum,
        spectral_system,
        spectrum,
    )
    model = load_cli_model(args)
    if args.pair is not None:
        raise UsageError("--pair is not used by spectrum: name the signals with --quadrature "
                         "(and --cross)")
    if args.branch < 0:
        raise UsageError(f"--branch must be >= 0, got {args.branch}")
    rng = None if args.range is None else parse_range(args.range)
    if args.heterodyne is not None and args.quadrature is not None:
        raise UsageError("give either --quadrature or --heterodyne, not both")
    if args.quadrature is None:  # x of the first mode of the model's pair, else its first
        first = (model.default_pair or model.mode_labels)[0]
    quadrature = args.quadrature or f"x_{first}"
    prepare_output_dir(args.output)
    ss = spectral_system(model, args.branch)
    spec = spectrum(model, quadrature, args.cross, heterodyne=args.heterodyne,
                    efficiency=args.efficiency, range=rng, branch=args.branch, system=ss)
    sim = None
    if args.simulate:
        sim = simulate_spectrum(model, quadrature, args.cross, heterodyne=args.heterodyne,
                                efficiency=args.efficiency, n_traj=args.n_traj, seed=args.seed,
                                sample_interval=args.sample_interval,
                                segment_length=args.segment_length, n_segments=args.segments,
                                alpha=args.alpha, branch=args.branch, range=rng,
                                threads=min(2, os.cpu_count() or 1))
    payload = spec.to_dict()
    if sim is not None:
        payload.update(sim.to_dict())
    if args.output is not None:
        from ..plotting import plot_spectrum

        files = [plot_spectrum(spec, sim, os.path.join(args.output, "spectrum.png")),
                 os.path.join(args.output, "spectrum.json")]
        payload["files"] = files
        from ..io import write_text  # whole or not at all

        write_text(files[1], dump_json(payload))
    if args.json:
        print(dump_json(payload))
    else:
        print(render_spectrum(spec, sim))
        if args.output is not None:
            print("wrote " + ", ".join(payload["files"]))
    if sim is not None and not sim.consistency.consistent:
        return EXIT_INCONSISTENT
    return EXIT_OK


def _c(z) -> str:
    if z is None:
        return "n/a"
    z = complex(z)
    return f"{z.real:.6g}" if abs(z.imag) <= 1e-12 * max(1.0, abs(z)) else \
        f"{z.real:.6g}{z.imag:+.6g}i"


def render_spectrum(spec, sim=None) -> str:
    """Text report of a :class:`~langevin_sim.analyses.spectra.Spectrum` (and a simulated one)."""
    u = spec.unit
    what = " × ".join(spec.names)
    lines = [f"Model {spec.model}: {spec.kind} spectrum S({what}) (ω in units of {u}, "
             f"relative to the drive; efficiency {spec.efficiency:g})",
             f"  {spec.normalisation}",
             f"  {spec.frequencies.size} frequencies in [{spec.frequencies[0]:.6g}, "
             f"{spec.frequencies[-1]:.6g}] (adaptive grid: every line resolved)"]
    if spec.variance is not None:
        lines.append(f"  ∫ S dω/2π = {_c(spec.variance)} ({'Cov' if spec.is_cross else 'Var'} "
                     "from the steady covariance)")
    else:
        lines.append(f"  white background {_c(spec.background)}; lines' total area "
                     f"{_c(spec.excess_area)}"
                     + (" (photon flux above vacuum)" if spec.kind == "heterodyne" else ""))
    lines.append("  peaks (strongest first): frequency, FWHM, area (lines in its basin), "
                 "height")
    for p in spec.peaks:
        fw = "n/a" if p.fwhm is None else f"{p.fwhm:.6g}"
        lines.append(f"    ω = {p.frequency:<12.7g} FWHM = {fw:<12} area = {_c(p.area):<14} "
                     f"height = {p.height:.6g}")
    if spec.lines is not None:
        lines.append("  lines (eigenvalues of A): centre, FWHM = 2|Re λ|, area")
        order = np.argsort(spec.lines.centre)
        for k in order:
            if spec.lines.centre[k] < spec.frequencies[0] or \
                    spec.lines.centre[k] > spec.frequencies[-1]:
                continue
            lines.append(f"    ω = {spec.lines.centre[k]:<12.7g} FWHM = "
                         f"{spec.lines.fwhm[k]:<12.6g} area = {_c(spec.lines.area[k])}")
    if sim is not None:
        c = sim.consistency
        lines.append(f"simulated: {sim.n_traj} trajectories, {sim.n_units} independent units, "
                     f"Δt = {sim.sample_interval:.4g}, Hann segments of {sim.segment_length} "
                     f"records × {sim.n_segments} (half overlap), seed {sim.seed}")
        lines.append("  " + c.summary())
        k = int(np.argmax(sim.expected.real if np.iscomplexobj(sim.expected) else
                          sim.expected))
        lines.append(f"  at the largest expected bin ω = {sim.frequencies[k]:.5g}: estimate "
                     f"{sim.estimate[k]:.5g} ± {sim.estimate_stderr[k]:.2g}, expected "
                     f"{np.real(sim.expected[k]):.5g}, continuous {np.real(sim.analytic[k]):.5g}")
    return "\n".join(lines)
