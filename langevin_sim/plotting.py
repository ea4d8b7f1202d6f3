"""Figures. Each function takes a result object and draws; none computes physics of its own.

Matplotlib runs headless (Agg) unless a backend was chosen before import.
"""

from __future__ import annotations

import matplotlib

if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .measures import MEASURE_LABELS, MEASURE_THRESHOLDS  # noqa: E402

TIME_LABEL = r"time $t$ (units of $1/\omega_b$)"


def _log_times(times):
    return times > 0


def plot_relaxation_variances(report, path=None):
    """Var(x_b), Var(x_m) and Cov(x_b, x_m) vs time: ensemble ± 1 SE over the exact curve."""
    q = report.quadratures
    xb, xm = q.index("x_b"), q.index("x_m")
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    sel = _log_times(report.times)
    fsel = _log_times(report.fine_times)
    t, tf = report.times[sel], report.fine_times[fsel]
    for (i, j), label, color in (((xb, xb), r"Var$(x_b)$", "C0"),
                                 ((xm, xm), r"Var$(x_m)$", "C1"),
                                 ((xb, xm), r"Cov$(x_b, x_m)$", "C2")):
        ax.plot(tf, report.fine_covariance[fsel, i, j], color=color, lw=1.2,
                label=f"{label} exact")
        v, e = report.covariance[sel, i, j], report.stderr[sel, i, j]
        ax.fill_between(t, v - e, v + e, color=color, alpha=0.3, lw=0)
        ax.plot(t, v, "o", ms=3, color=color, label=f"{label} ensemble ± 1 SE")
    ax.set_xscale("log")
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel("(co)variance (vacuum = 1/2)")
    ax.set_title(f"Relaxation from a {report.initial} state ({report.n_traj} trajectories, "
                 f"{report.method})")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return _finish(fig, path)


def plot_relaxation_measures(report, path=None):
    """The six measures vs time: ensemble ± 1 SE, exact curves, thresholds drawn."""
    fig, axes = plt.subplots(2, 3, figsize=(11, 6), dpi=110, sharex=True)
    sel = _log_times(report.times)
    fsel = _log_times(report.fine_times)
    for k, (ax, name) in enumerate(zip(axes.ravel(), report.measure_names)):
        ax.plot(report.fine_times[fsel], report.fine_measures[fsel, k], "k-", lw=1,
                label="exact")
        v, e = report.measures[sel, k], report.measures_stderr[sel, k]
        ax.errorbar(report.times[sel], v, yerr=e, fmt="o", ms=3, color="C3", capsize=2,
                    label="ensemble ± 1 SE")
        ax.axhline(MEASURE_THRESHOLDS[name], color="grey", ls="--", lw=1,
                   label=f"threshold {MEASURE_THRESHOLDS[name]:g}")
        ax.set_xscale("log")
        ax.set_ylabel(MEASURE_LABELS[name])
        if k >= 3:
            ax.set_xlabel(TIME_LABEL)
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle("Phonon–magnon correlations after the drive is switched on")
    fig.tight_layout()
    return _finish(fig, path)


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
                label=rf"slope $-2\gamma_{{slow}}$, $\gamma_{{slow}}$ = {rate:.4g} $\omega_b$")
    ax.axhline(report.tol, color="grey", ls=":", lw=1, label=f"tolerance {report.tol:g}")
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel(r"$\|\sigma(t) - \sigma_\infty\|_F / \|\sigma_\infty\|_F$")
    ax.set_title("Distance to the steady state")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _finish(fig, path)


def _finish(fig, path):
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
        return path
    return fig
