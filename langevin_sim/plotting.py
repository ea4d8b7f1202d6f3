"""Figures. Each function takes a result object and draws; none computes physics of its own.

Importing this module never changes matplotlib's backend (inline plots in a notebook keep
working); the command line draws headless by choosing Agg itself.
"""

from __future__ import annotations

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .measures import (  # noqa: E402
    measure_labels,
    signals_correlation,
    smaller_is_stronger,
    threshold,
)
from .models.cascade import AXIS_LABELS, CascadeParameters  # noqa: E402

TIME_LABEL = r"time $t$ (units of $1/\omega_b$)"


def time_label(unit: str = "ω_b") -> str:
    """Axis label of times in units of 1/``unit`` (the model's rate unit)."""
    return TIME_LABEL if unit == "ω_b" else f"time $t$ (units of 1/{unit})"


def _log_times(times):
    return times > 0


def plot_relaxation_variances(report, path=None):
    """Var(x_A), Var(x_B) and Cov(x_A, x_B) of the report's pair (A, B) vs time: ensemble
    ± 1 SE over the exact curve."""
    q = report.quadratures
    a, b = report.pair
    xb, xm = q.index(f"x_{a}"), q.index(f"x_{b}")
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    sel = _log_times(report.times)
    fsel = _log_times(report.fine_times)
    t, tf = report.times[sel], report.fine_times[fsel]
    for (i, j), label, color in (((xb, xb), rf"Var$(x_{{{a}}})$", "C0"),
                                 ((xm, xm), rf"Var$(x_{{{b}}})$", "C1"),
                                 ((xb, xm), rf"Cov$(x_{{{a}}}, x_{{{b}}})$", "C2")):
        ax.plot(tf, report.fine_covariance[fsel, i, j], color=color, lw=1.2,
                label=f"{label} exact")
        v, e = report.covariance[sel, i, j], report.stderr[sel, i, j]
        ax.fill_between(t, v - e, v + e, color=color, alpha=0.3, lw=0)
        ax.plot(t, v, "o", ms=3, color=color, label=f"{label} ensemble ± 1 SE")
    ax.set_xscale("log")
    return _finish_variances(fig, ax, report, f"Relaxation from a {report.initial} state "
                             f"({report.n_traj} trajectories, {report.method})", 2, path)


def _finish_variances(fig, ax, report, title, ncol, path):
    ax.set_xlabel(time_label(report.unit))
    ax.set_ylabel("(co)variance (vacuum = 1/2)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=ncol)
    fig.tight_layout()
    return _finish(fig, path)


def plot_relaxation_measures(report, path=None):
    """The six measures vs time: ensemble ± 1 SE, exact curves, thresholds drawn."""
    fig, axes = plt.subplots(2, 3, figsize=(11, 6), dpi=110, sharex=True)
    sel = _log_times(report.times)
    fsel = _log_times(report.fine_times)
    labels = measure_labels(report.pair)
    for k, (ax, name) in enumerate(zip(axes.ravel(), report.measure_names)):
        ax.plot(report.fine_times[fsel], report.fine_measures[fsel, k], "k-", lw=1,
                label="exact")
        v, e = report.measures[sel, k], report.measures_stderr[sel, k]
        ax.errorbar(report.times[sel], v, yerr=e, fmt="o", ms=3, color="C3", capsize=2,
                    label="ensemble ± 1 SE")
        _measure_panel(ax, k, name, labels, report.unit)
    fig.suptitle(f"Correlations of ({', '.join(report.pair)}) relaxing to the steady state")
    fig.tight_layout()
    return _finish(fig, path)


def _measure_panel(ax, k, name, labels, unit):
    """Threshold line, log time axis (log y for Duan and Reid, which span decades: the
    threshold 1 stays visible), labels; the legend on the first panel of a 2 × 3 grid."""
    ax.axhline(threshold(name), color="grey", ls="--", lw=1,
               label=f"threshold {threshold(name):g}")
    ax.set_xscale("log")
    if smaller_is_stronger(name):
        ax.set_yscale("log")
    ax.set_ylabel(labels[name])
    if k >= 3:
        ax.set_xlabel(time_label(unit))
    if k == 0:
        ax.legend(fontsize=7)


def plot_relaxation_distance(report, path=None):
    """Log distance to the steady state vs time, with the slowest rate's slope overlaid."""
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ax.semilogy(report.fine_times, report.fine_distance, "k-", lw=1, label="exact")
    ok = report.distance > 0
    ax.errorbar(report.times[ok], report.distance[ok], yerr=report.distance_stderr[ok],
                fmt="o", ms=3, color="C0", capsize=2, label="ensemble ± 1 SE")
    rate = report.rates.slowest_rate
    t = report.fine_times
    anchor = np.searchsorted(t, 0.5 * t[-1])
    ref = report.fine_distance[anchor] * np.exp(-2 * rate * (t - t[anchor]))
    ax.semilogy(t, ref, "--", color="C1",
                label=rf"slope $-2\gamma_{{slow}}$, $\gamma_{{slow}}$ = {rate:.4g} {report.unit}")
    ax.axhline(report.tol, color="grey", ls=":", lw=1, label=f"tolerance {report.tol:g}")
    ax.set_xlabel(time_label(report.unit))
    ax.set_ylabel(r"$\|\sigma(t) - \sigma_\infty\|_F / \|\sigma_\infty\|_F$")
    ax.set_title("Distance to the steady state")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _finish(fig, path)


def _finish(fig, path):
    if path is not None:
        from .io import save_figure  # whole or not at all: a temporary file and a rename

        save_figure(fig, path)
        plt.close(fig)
        return path
    return fig


# ---------------------------------------------------------------------------------------------
# density maps (Figures 2-4)


def draw_map(ax, result, measure, x_axis, y_axis, title=None, checks=()):
    """Density map of one measure of a 2-D :class:`~langevin_sim.analyses.sweep.SweepResult`.

    Coloured only where the measure signals correlation (below 1 for E_bm and S, above 0 for
    E_N and G); blank elsewhere; unstable points hatched grey, never coloured; the threshold
    drawn as a contour. ``checks`` are Monte Carlo spot checks to mark.
    """
    v = np.asarray(result.values[measure], float)
    stable = np.asarray(result.stable)
    ix, iy = result.axes.index(x_axis), result.axes.index(y_axis)
    if (ix, iy) == (1, 0):
        v, stable = v.T, stable.T
    gx, gy = result.grids[ix], result.grids[iy]
    thr = threshold(measure)
    smaller = smaller_is_stronger(measure)
    show = stable & signals_correlation(measure, np.where(stable, v, thr))
    data = np.ma.masked_array(v, ~show).T  # rows = y
    cmap = "viridis" if smaller else "magma"
    im = ax.pcolormesh(gx, gy, data, shading="nearest", cmap=cmap)
    unstable = (~stable).T.astype(float)
    if unstable.any():
        ax.contourf(gx, gy, unstable, levels=[0.5, 1.5], colors=["0.8"], hatches=["//"])
        ax.contour(gx, gy, unstable, levels=[0.5], colors="0.4", linewidths=0.8)
    filled = np.where(stable, v, np.nan).T
    if np.isfinite(filled).any() and np.nanmin(filled) < thr < np.nanmax(filled):
        ax.contour(gx, gy, filled, levels=[thr], colors="k", linewidths=1.0)
    label = measure_labels(result.pair)[measure] if result.pair else measure
    if show.any():
        cb = ax.figure.colorbar(im, ax=ax)
        cb.set_label(label)
    else:  # no colour bar for an empty map: nothing to read off it
        ax.text(0.5, 0.5, f"{label}: nowhere past\nthe threshold {thr:g}",
                transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.3")
    xmid, ymid = 0.5 * (gx[0] + gx[-1]), 0.5 * (gy[0] + gy[-1])
    for c in checks:
        px, py = c["parameters"][x_axis], c["parameters"][y_axis]
        m = c[measure]
        ax.plot(px, py, "o", mfc="none", mec="red", ms=7)
        # label towards the inside of the map, on a white box, so that it is never clipped
        dx, dy = (-6, "right") if px > xmid else (6, "left"), (-6 if py > ymid else 6)
        se = "n/a" if m["stderr"] is None else f"{m['stderr']:.3f}"
        ax.annotate(f"{m['sample']:.3f}±{se}\n(exact {m['analytic']:.3f})",
                    (px, py), textcoords="offset points", xytext=(dx[0], dy), fontsize=6,
                    color="red", ha=dx[1], va="top" if dy < 0 else "bottom",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.8})
    ax.set_xlabel(AXIS_LABELS.get(x_axis, x_axis))
    ax.set_ylabel(AXIS_LABELS.get(y_axis, y_axis))
    if title:
        ax.set_title(title, fontsize=9)
    return im


def plot_figure(fig, planes, sweeps, checks, path=None):
    """The paper's panels of figure ``fig`` (E_bm, S_m|b[, S_b|m]) from its sweeps."""
    ncol = max(len(pl.panels) for pl in planes)
    f, axes = plt.subplots(len(planes), ncol, figsize=(4.6 * ncol, 3.8 * len(planes)),
                           dpi=100, squeeze=False)
    for r, pl in enumerate(planes):
        for c, (letter, measure) in enumerate(pl.panels):
            label = measure_labels(sweeps[pl.key].pair)[measure]
            draw_map(axes[r, c], sweeps[pl.key], measure, pl.x[0], pl.y[0],
                     f"({letter}) {label}", checks.get(pl.key, ()))
        for c in range(len(pl.panels), ncol):
            axes[r, c].axis("off")
    f.suptitle(f"Fig. {fig}: coloured where the criterion holds (< 1); grey hatch: unstable; "
               "black: threshold", fontsize=10)
    f.tight_layout()
    return _finish(f, path)


def plot_companion(fig, planes, sweeps, path=None):
    """E_N, G_b→m and G_m→b maps of the planes of figure ``fig`` (coloured where > 0)."""
    measures = ("E_N", "G_b_to_m", "G_m_to_b")
    f, axes = plt.subplots(len(planes), 3, figsize=(13.8, 3.8 * len(planes)), dpi=100,
                           squeeze=False)
    for r, pl in enumerate(planes):
        for c, m in enumerate(measures):
            draw_map(axes[r, c], sweeps[pl.key], m, pl.x[0], pl.y[0],
                     f"{measure_labels(sweeps[pl.key].pair)[m]} ({pl.key} plane)")
    f.suptitle(f"Fig. {fig} companion: log-negativity and Gaussian steerability "
               "(coloured where > 0)", fontsize=10)
    f.tight_layout()
    return _finish(f, path)


def plot_sweep(result, path=None, unit: str = "ω_b"):
    """The six measures of a :class:`~langevin_sim.analyses.sweep.SweepResult`: maps for a 2-D sweep
    (as :func:`draw_map`), curves with the threshold for a 1-D one (unstable points omitted)."""
    names = list(result.values)
    labels = measure_labels(result.pair)
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), dpi=100)
    for ax, name in zip(axes.ravel(), names):
        if len(result.axes) == 2:
            draw_map(ax, result, name, result.axes[0], result.axes[1], title=labels[name])
            ax.set_xlabel(_axis_label(result.axes[0], unit))
            ax.set_ylabel(_axis_label(result.axes[1], unit))
        else:
            g = result.grids[0]
            v = np.where(result.stable, result.values[name], np.nan)
            ax.plot(g, v, "C0-")
            ax.axhline(threshold(name), color="grey", ls="--", lw=1,
                       label=f"threshold {threshold(name):g}")
            if not result.stable.all():
                ax.plot(g[~result.stable], np.full((~result.stable).sum(), threshold(name)),
                        "x", color="0.5", label="unstable")
            ax.set_xlabel(_axis_label(result.axes[0], unit))
            ax.set_ylabel(labels[name])
            ax.legend(fontsize=7)
    fig.suptitle(f"Steady-state correlations of ({', '.join(result.pair)})")
    fig.tight_layout()
    return _finish(fig, path)


def _axis_label(name: str, unit: str) -> str:
    if unit == CascadeParameters.unit and name in AXIS_LABELS:
        return AXIS_LABELS[name]
    if name == "T" or name.startswith("T_"):
        return f"{name} (K)"
    return f"{name} (units of {unit})"


def plot_detection_scan(scan, path=None):
    """Detected E_N, Duan and both Reid steerings of (f_b, f_m) and the intracavity E_N of
    (b, m) over probe strength × filter width (log axes), and the detected measures vs η_d."""
    names = list(scan.detected.values)
    fig, axes = plt.subplots(2, 3, figsize=(14, 8), dpi=100)
    panels = [(scan.detected, names[0], "detected"), (scan.intracavity, "E_N", "intracavity"),
              (scan.detected, names[1], "detected"), (scan.detected, names[2], "detected"),
              (scan.detected, names[3], "detected")]
    opt = scan.optimum
    for ax, (res, name, where) in zip(axes.ravel(), panels):
        draw_map(ax, res, name, "g_probe", "filter")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"probe coupling $g_{bp} = g_{mp}$ ($\omega_b$)")
        ax.set_ylabel(r"filter linewidth $\Gamma_f$ ($\omega_b$)")
        ax.set_title(f"{measure_labels(res.pair)[name]} {where} ({', '.join(res.pair)})")
        ax.plot(opt["g_probe"], opt["filter"], "*", color="red", ms=10)
    ax = axes.ravel()[5]
    eta = scan.detected_eta
    g = eta.grids[0]
    for name, color in zip(list(eta.values)[:4], ("C0", "C1", "C2", "C3")):
        ax.plot(g, eta.values[name], color=color, label=measure_labels(eta.pair)[name])
    ax.axhline(opt["E_N_intracavity"], color="C0", ls=":",
               label=r"$E_N$ intracavity $(b, m)$")
    ax.axhline(1.0, color="grey", ls="--", lw=1, label="threshold of Duan and S")
    ax.axhline(0.0, color="grey", ls="-", lw=0.8)
    ax.set_xlabel(r"detection efficiency $\eta_d$")
    ax.set_title(f"at the optimum (red star): g = {opt['g_probe']:.3g}, "
                 rf"$\Gamma_f$ = {opt['filter']:.3g}")
    ax.legend(fontsize=7)
    fig.suptitle("Read-out design: what homodyne detection of the probes' outputs sees")
    fig.tight_layout()
    return _finish(fig, path)


# ---------------------------------------------------------------------------------------------
# switch-on (langevin-sim switch-on)
def _mode_tex(label: str) -> str:
    return label if len(label) == 1 else f"{label[0]}_{{{label[1:]}}}"


def plot_switch_on_means(report, path=None):
    """Mean-field amplitudes (continuous reference, ensemble means ± SE) and the effective
    detuning Δ(t) with the intervals where the instantaneous linearisation is unstable."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), dpi=110, sharex=True)
    q = report.quadratures
    tf, t = report.fine_times, report.times
    for mode, color in ((report.detuning_mode, "C0"), (report.pair[0], "C1")):
        ix = q.index(f"x_{mode}")
        m = report.fine_mean
        amp = np.hypot(m[:, ix], m[:, ix + 1]) / np.sqrt(2)
        ax1.plot(tf, amp, color=color, lw=1, label=rf"$|\langle {_mode_tex(mode)} \rangle|$ "
                 "continuous reference")
        em, se = report.ensemble.mean, report.ensemble.mean_stderr
        amp_e = np.hypot(em[:, ix], em[:, ix + 1]) / np.sqrt(2)
        se_e = np.hypot(se[:, ix], se[:, ix + 1]) / np.sqrt(2)
        ax1.errorbar(t, amp_e, yerr=se_e, fmt=".", ms=2, color=color, alpha=0.6,
                     label="ensemble ± 1 SE")
    ax1.set_ylabel(r"mean amplitude $|\langle o \rangle| = \sqrt{x^2 + p^2}/\sqrt{2}$")
    ax1.set_yscale("log")
    ax1.legend(fontsize=7)
    ax1.set_title(f"Switching the drive on ({report.ramp}"
                  + (f", T = {report.ramp_time:g}" if report.ramp != "sudden" else "")
                  + f"): {report.model}")
    det = report.fine_effective_detuning
    ax2.plot(tf, det, "k-", lw=1, label=rf"$\Delta_{{{_mode_tex(report.detuning_mode)}}}(t)$")
    ax2.axhline(0.0, color="grey", ls="--", lw=1, label="threshold Δ = 0")
    unstable = report.fine_max_real > 0
    if unstable.any():
        ax2.fill_between(tf, det.min(), det.max(), where=unstable, color="red", alpha=0.2,
                         lw=0, label=f"unstable A(t): {report.unstable_time:.3g} in total")
    ax2.set_ylabel(r"effective detuning ($\omega_b$)")
    ax2.set_xlabel(time_label(report.unit))
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return _finish(fig, path)


def plot_switch_on_variances(report, path=None):
    """Var(x_A), Var(x_B), Cov(x_A, x_B): ensemble ± 1 SE over the continuous reference (and,
    for a baseline scheme, over its own reference, the continuous one dashed)."""
    q = report.quadratures
    a, b = report.pair
    xa, xb = q.index(f"x_{a}"), q.index(f"x_{b}")
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=110)
    t = report.times
    for (i, j), label, color in (((xa, xa), rf"Var$(x_{{{_mode_tex(a)}}})$", "C0"),
                                 ((xb, xb), rf"Var$(x_{{{_mode_tex(b)}}})$", "C1"),
                                 ((xa, xb), rf"Cov$(x_{{{_mode_tex(a)}}}, x_{{{_mode_tex(b)}}})$",
                                  "C2")):
        if report.discrete is not None:  # a baseline: judged against its own reference
            ax.plot(t, report.discrete.covariance[:, i, j], color=color, lw=1.2,
                    label=f"{label} scheme's reference")
        ax.plot(t, report.reference.covariance[:, i, j], color=color, lw=1,
                ls="--" if report.discrete is not None else "-",
                label="continuous" if report.discrete is not None
                else f"{label} continuous reference")
        v = report.ensemble.covariance[:, i, j]
        e = report.ensemble.covariance_stderr[:, i, j]
        ax.fill_between(t, v - e, v + e, color=color, alpha=0.3, lw=0,
                        label="ensemble ± 1 SE")
    return _finish_variances(fig, ax, report, f"Fluctuations during the switch-on "
                             f"({report.n_traj} trajectories, {report.method}, dt = "
                             f"{report.dt:g})", 3, path)


def plot_switch_on_measures(report, path=None):
    """The six measures: ensemble ± 1 SE, the continuous reference (and a baseline's own),
    thresholds drawn."""
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), dpi=110, sharex=True)
    labels = measure_labels(report.pair)
    pos = report.times > 0  # log time axis: the build-up takes a few 1/ω_b, the settling 10³
    t = report.times[pos]
    for k, (ax, name) in enumerate(zip(axes.ravel(), report.measure_names)):
        ax.plot(t, report.reference.measure(name)[pos], "k-", lw=0.8,
                label="continuous reference")
        if report.discrete is not None:
            ax.plot(t, report.discrete.measure(name)[pos], "-", color="C2", lw=0.8,
                    label="scheme's reference")
        v = report.ensemble.measure(name)[pos]
        e = report.ensemble.measure_stderr(name)[pos]
        ax.fill_between(t, v - e, v + e, color="C3", alpha=0.35, lw=0, label="ensemble ± 1 SE")
        _measure_panel(ax, k, name, labels, report.unit)
    fig.suptitle(f"Correlations of ({', '.join(report.pair)}) building up after the switch-on")
    fig.tight_layout()
    return _finish(fig, path)


# ---------------------------------------------------------------------------------------------
# spectra
def _spectrum_label(spec) -> str:
    names = ", ".join(spec.names)
    return {"heterodyne": rf"$S_{{a a^\dagger}}(\omega)$ of {names}",
            "cross": f"S(ω) of ({names})"}.get(spec.kind, f"S(ω) of {names}")


def plot_spectrum(spec, simulated=None, path=None):
    """An analytic :class:`~langevin_sim.analyses.spectra.Spectrum`, its peaks, and optionally a
    :class:`~langevin_sim.analyses.spectra.SimulatedSpectrum` (Welch estimate ± 1 SE over the
    estimator's exact expectation). Log axes where the spectrum is positive: log-log for an
    even spectrum on ω ≥ 0, log power for a two-sided one; a cross spectrum shows its real and
    imaginary parts on linear axes."""
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    w, s = spec.frequencies, spec.values
    unit = spec.unit
    if spec.is_cross:
        ax.plot(w, s.real, "k-", lw=1, label="Re S (analytic)")
        ax.plot(w, s.imag, "-", color="C1", lw=1, label="Im S (analytic)")
        ax.axhline(0, color="0.7", lw=0.6)
    else:
        pos = w > 0 if w[0] >= 0 else np.ones(w.size, bool)
        ax.plot(w[pos], s[pos], "k-", lw=1, label="analytic")
        ax.set_yscale("log")
        if w[0] >= 0:
            ax.set_xscale("log")
        for p in spec.peaks:
            if p.frequency > 0 or w[0] < 0:
                ax.plot([p.frequency], [p.height + spec.background], "v", color="C3", ms=5)
    if simulated is not None:
        f, e, se = simulated.frequencies, simulated.estimate, simulated.estimate_stderr
        keep = f > 0 if (w[0] >= 0 and not spec.is_cross) else np.ones(f.size, bool)
        ax.errorbar(f[keep], e[keep], yerr=se[keep], fmt=".", ms=3, color="C0", lw=0.6,
                    label=f"Welch estimate ± 1 SE ({simulated.n_traj} trajectories)")
        ax.plot(f[keep], np.real(simulated.expected)[keep], "-", color="C2", lw=0.8,
                label="expected Welch estimate (exact)")
        if simulated.estimate_imag is not None:
            ax.errorbar(f, simulated.estimate_imag, yerr=simulated.estimate_imag_stderr,
                        fmt=".", ms=3, color="C4", lw=0.6, label="Im, Welch ± 1 SE")
            ax.plot(f, np.imag(simulated.expected), "-", color="C5", lw=0.8,
                    label="Im, expected Welch estimate")
        c = simulated.consistency
        verdict = "consistent" if c.consistent else "INCONSISTENT"
        ax.text(0.02, 0.02, f"{verdict}: max |z| = {c.max_abs_z:.2f} (threshold "
                f"{c.threshold:.2f}, {c.n_compared} comparisons)", transform=ax.transAxes,
                fontsize=8)
    if spec.is_cross or w[0] < 0:
        ax.set_xlim(w[0], w[-1])  # the simulated bins reach Nyquist: show the chosen range
    else:
        ax.set_xlim(w[w > 0][0], w[-1])
    ax.set_xlabel(f"angular frequency ω relative to the drive (units of {unit})")
    ax.set_ylabel(f"symmetrised spectrum S(ω) (signal² / {unit})")
    norm = "∫ S dω/2π = variance" if spec.variance is not None else "vacuum level 1/2"
    ax.set_title(f"{_spectrum_label(spec)}, model {spec.model} ({norm})", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _finish(fig, path)


# ---------------------------------------------------------------------------------------------
# evolve: pulses, envelopes and temporal modes
def plot_evolve_envelopes(report, path=None):
    """Every envelope of the model (terms, drives, temporal modes) over the run, each temporal
    mode's window shaded."""
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for label, values in report.envelopes.items():
        ax.plot(report.fine_times, values, lw=1.2, label=label)
    for name, tm in report.temporal_modes.items():
        ax.axvspan(*tm["window"], color="grey", alpha=0.12)
        ax.text(tm["window"][1], ax.get_ylim()[1], f" {name} ", ha="right", va="top",
                fontsize=7)
    ax.set_xlabel(time_label(report.unit))
    ax.set_ylabel("envelope (factor on its coefficient)")
    ax.set_title(f"Envelopes of model {report.model} (temporal-mode windows shaded)",
                 fontsize=10)
    if report.envelopes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _finish(fig, path)


def plot_evolve_measures(report, path=None):
    """The six measures of the pair vs time: the continuous reference (line) and the
    ensemble ± 1 SE, from each temporal mode's window end on (before it the mode is a partial
    accumulator and no measure is drawn); thresholds dashed."""
    fig, axes = plt.subplots(2, 3, figsize=(11, 6), dpi=110, sharex=True)
    labels = measure_labels(report.pair)
    for k, (ax, name) in enumerate(zip(axes.ravel(), report.measure_names)):
        ax.plot(report.fine_times, report.fine_measures[:, k], "k-", lw=1, label="reference")
        ok = report.complete
        ax.errorbar(report.times[ok], report.measures[ok, k], yerr=report.measures_stderr[ok, k],
                    fmt="o", ms=3, color="C3", capsize=2, label="ensemble ± 1 SE")
        ax.axhline(threshold(name), color="grey", ls="--", lw=1,
                   label=f"threshold {threshold(name):g}")
        if smaller_is_stronger(name):
            ax.set_yscale("log")
        ax.set_ylabel(labels[name])
        if k >= 3:
            ax.set_xlabel(time_label(report.unit))
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle(f"Correlations of ({', '.join(report.pair)}), model {report.model}")
    fig.tight_layout()
    return _finish(fig, path)
