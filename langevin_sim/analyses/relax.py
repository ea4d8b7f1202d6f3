"""Relaxation to the steady state after the drive is switched on.

From an initial Gaussian state (default: every mode thermal at its bath), an ensemble is
recorded on a log-spaced time grid and compared with the exact transient σ(t); the drift
matrix gives the relaxation rates and the slow mode; exact curves on a fine grid give settling
and onset times, and the ensemble gives onset times with confidence intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..conventions import physicality_margin
from ..engine import (
    DEFAULT_N_TRAJ,
    EnsembleResult,
    check_verdict_size,
    exact_moments,
    make_initial_state,
    simulate,
)
from ..gaussian import steady_state, transient
from ..integrators import get_integrator
from ..io import read_npz
from ..measures import (
    measure_names,
    measures_stack,
    two_mode_measures,
)
from ..models import as_model
from ..observables import (
    FidelityTarget,
    ensemble_fidelity,
    exact_fidelity,
    load_fidelity_target,
    observable_z,
)
from ..statistics import MIN_VERDICT_GROUPS, Consistency, consistency, z_scores
from ..systems.linear import LinearSystem
from .onsets import Onset, exact_onset, onset_indicators, sample_onset
from .steady import resolve_observable_request
from .validate import compare_observables


@dataclass(frozen=True)
class RateAnalysis:
    """Relaxation rates and oscillation frequencies from the eigenvalues of A.

    Attributes
    ----------
    eigenvalues : ndarray of complex, shape (d,)
        Sorted slowest first (units of ω_b).
    rates, frequencies : ndarray, shape (d,)
        ``-Re λ`` and ``|Im λ|`` (ω_b).
    slowest_rate : float
    participation : ndarray, shape (d, n_modes)
        Share of each mode in each eigenvector (rows sum to 1).
    mode_labels : tuple of str
    """

    eigenvalues: np.ndarray
    rates: np.ndarray
    frequencies: np.ndarray
    slowest_rate: float
    participation: np.ndarray
    mode_labels: tuple

    @property
    def slowest_mode(self) -> str:
        """Label of the mode carrying most of the slowest eigenvector."""
        return self.mode_labels[int(np.argmax(self.participation[0]))]

    def to_dict(self) -> dict:
        return {"eigenvalues": [[z.real, z.imag] for z in self.eigenvalues],
                "rates": self.rates, "frequencies": self.frequencies,
                "slowest_rate": self.slowest_rate, "slowest_mode": self.slowest_mode,
                "slowest_mode_participation": dict(zip(self.mode_labels,
                                                       self.participation[0].tolist()))}


def rate_analysis(system: LinearSystem) -> RateAnalysis:
    """Eigen-analysis of the drift matrix (see :class:`RateAnalysis`)."""
    w, v = np.linalg.eig(system.drift)
    order = np.lexsort((w.imag, -w.real))
    w, v = w[order], v[:, order]
    weight = np.abs(v) ** 2
    per_mode = weight.reshape(system.n_modes, 2, -1).sum(axis=1).T
    per_mode /= per_mode.sum(axis=1, keepdims=True)
    return RateAnalysis(w, -w.real, np.abs(w.imag), float(-w[0].real), per_mode,
                        system.mode_labels)


def distance_to_steady(covs: np.ndarray, sigma_inf: np.ndarray) -> np.ndarray:
    """Relative Frobenius distance ``||σ(t) - σ∞|| / ||σ∞||`` for a stack of covariances."""
    return np.linalg.norm(covs - sigma_inf, axis=(-2, -1)) / np.linalg.norm(sigma_inf)


def settling_time(times: np.ndarray, distance: np.ndarray, tol: float) -> float:
    """First time after which ``distance`` stays <= ``tol`` (linear interpolation on the
    crossing; 0 if always within, NaN if never)."""
    above = np.nonzero(distance > tol)[0]
    if above.size == 0:
        return 0.0
    i = above[-1]
    if i == times.size - 1:
        return float("nan")
    d0, d1 = distance[i], distance[i + 1]
    return float(times[i] + (times[i + 1] - times[i]) * (d0 - tol) / (d0 - d1))


@dataclass(frozen=True)
class FidelityCheck:
    """The fidelity of the sampled state of ``modes`` with a target state (JSON key ``key``,
    ``fidelity_<modes>``), per record: ``sample`` ± ``stderr`` against the ``exact`` one, and
    ``z``. Not in the verdict: F is stationary, not smooth to first order, where the state
    reaches the target."""

    key: str
    modes: tuple
    sample: np.ndarray
    stderr: np.ndarray
    exact: np.ndarray
    z: np.ndarray

    def to_dict(self) -> dict:
        k = self.key
        return {"fidelity_modes": list(self.modes), k: self.sample, k + "_stderr": self.stderr,
                k + "_analytic": self.exact, k + "_z": self.z}


@dataclass(frozen=True)
class RelaxationReport:
    """Everything ``langevin-sim relax`` computes (arrays over the record times ``times``).

    Attributes
    ----------
    times : (n_t,) record times, 1/ω_b
    covariance, stderr, exact_covariance, z : (n_t, d, d)
    measure_names : tuple of the six measure names of ``pair``
    measures, measures_stderr, exact_measures : (n_t, 6)
    fine_times : (n_f,) fine grid for the exact curves; fine_covariance (n_f, d, d),
        fine_measures (n_f, 6), fine_distance (n_f,)
    distance, distance_stderr : (n_t,) sampled ``||σ - σ∞||/||σ∞||`` (jackknife SE)
    sigma_inf : (d, d)
    rates : RateAnalysis
    settling : dict name -> settling time (1/ω_b) of the exact curve within ``tol``
        (relative norm for ``covariance``, absolute for each measure)
    onsets : dict name -> Onset
    check : Consistency of all sampled covariance elements with the exact ones
    """

    times: np.ndarray
    covariance: np.ndarray
    stderr: np.ndarray
    exact_covariance: np.ndarray
    z: np.ndarray
    measure_names: tuple
    measures: np.ndarray
    measures_stderr: np.ndarray
    exact_measures: np.ndarray
    fine_times: np.ndarray
    fine_covariance: np.ndarray
    fine_measures: np.ndarray
    fine_distance: np.ndarray
    distance: np.ndarray
    distance_stderr: np.ndarray
    sigma_inf: np.ndarray
    rates: RateAnalysis
    settling: dict
    tol: float
    onsets: dict
    check: Consistency
    quadratures: tuple
    method: str
    dt: float
    n_traj: int
    seed: int
    initial: str
    parameters: dict
    ensemble: EnsembleResult
    pair: tuple | None = None
    unit: str = "ω_b"
    measures_physical: np.ndarray | None = None
    observables: dict | None = None
    """The observables asked for, per record: as
    :attr:`~langevin_sim.analyses.validate.ValidationReport.observables` with arrays of shape (n_t,)
    (``analytic``: of the exact σ(t) and means); None when none was asked for."""
    fidelity: FidelityCheck | None = None
    """Fidelity with a target state; None without a target."""

    @property
    def physical(self) -> np.ndarray:
        """Per record: whether the sampled covariance of the pair satisfies σ + iΩ/2 ≥ 0."""
        return self.measures_physical

    @property
    def partial(self) -> bool:
        """True if the ensemble was interrupted (statistics from the finished chunks)."""
        return self.ensemble.partial

    def summary_dict(self) -> dict:
        """Onset and settling times, rates and the consistency summary (the ``--json``);
        the observables and the fidelity per record (keys ``n_b``, ``n_b_stderr``,
        ``n_b_analytic``, ``n_b_z``, ...; ``times``), when asked for."""
        unphysical = self.times[~self.physical]
        out = self._summary(unphysical)
        if self.observables is not None or self.fidelity is not None:
            out["times"] = self.times
        if self.observables is not None:
            out.update(self.observables.to_dict())
        if self.fidelity is not None:
            out.update(self.fidelity.to_dict())
        return out

    def _summary(self, unphysical) -> dict:
        return {"partial": self.partial, "unphysical_record_times": unphysical,
            "method": self.method, "dt": self.dt, "n_traj": self.n_traj, "seed": str(self.seed),
            "initial": self.initial, "t_final": float(self.times[-1]),
            "n_times": int(self.times.size), "rates": self.rates.to_dict(),
            "settling_times": self.settling, "settling_tolerance": self.tol,
            "onsets": {k: {"exact": o.exact, "sample": o.sample, "sample_low": o.sample_low,
                           "sample_high": o.sample_high, "confidence": o.confidence,
                           "brackets_exact": o.brackets_exact()}
                       for k, o in self.onsets.items()},
            "consistent": self.check.consistent, "max_abs_z": self.check.max_abs_z,
            "z_threshold": self.check.threshold, "n_compared": self.check.n_compared,
            "summary": self.check.summary(), "parameters": self.parameters,
            "pair": list(self.pair) if self.pair else None,
        }


def default_times(system: LinearSystem, t_final: float | None, n_times: int) -> np.ndarray:
    """``0`` plus ``n_times - 1`` log-spaced times from ``0.05/fastest rate`` to ``t_final``
    (default: 5 slowest relaxation times)."""
    if n_times < 3:
        raise ValueError(f"n_times must be >= 3, got {n_times}")
    t_final = 5.0 / system.slowest_rate if t_final is None else float(t_final)
    if not t_final >= 1.0 / system.fastest_rate:
        raise ValueError(f"t_final = {t_final:g} is shorter than the fastest relaxation time "
                         f"1/{system.fastest_rate:.4g} = {1 / system.fastest_rate:.3g}: nothing "
                         "relaxes on that scale")
    t_min = min(0.05 / system.fastest_rate, t_final / 10)
    return np.concatenate([[0.0], np.geomspace(t_min, t_final, n_times - 1)])


def load_initial(path) -> tuple[np.ndarray, np.ndarray]:
    """Initial (mean, covariance) from an ``.npz``: arrays ``covariance`` (and ``mean``); for a
    saved ensemble (a stack over times) the last record is used.

    A *sampled* covariance (a saved ensemble, with ``covariance_stderr``) may fall below the
    vacuum by its statistical error, since nearly pure modes sit on the bound: if
    ``σ + iΩ/2`` has an eigenvalue ``-ε`` with ε within 3 standard errors of the largest
    element's, the covariance is raised by ``ε I`` to the nearest physical state of that form.
    Anything else unreadable, malformed or below the vacuum raises ``ValueError`` (one line).
    """
    expected = ("expected an .npz written by langevin-sim simulate or with 'covariance' (and "
                "'mean')")
    try:
        found, _ = read_npz(path, ("covariance",), expected)
    except FileNotFoundError:
        raise ValueError(f"{path}: not a readable .npz archive (no such file)") from None
    arrays = {k: found[k] for k in ("covariance", "mean", "covariance_stderr") if k in found}
    for k, a in arrays.items():  # strings or complex numbers would convert badly or silently
        if a.dtype.kind not in "fiu":
            raise ValueError(f"{path}: '{k}' must be an array of real numbers, got dtype "
                             f"{a.dtype}")
    cov = np.asarray(arrays["covariance"], float)
    mean = np.asarray(arrays["mean"], float) if "mean" in arrays else None
    se = np.asarray(arrays["covariance_stderr"], float) if "covariance_stderr" in arrays \
        else None
    if cov.ndim == 3:
        cov = cov[-1]
        mean = None if mean is None else mean[-1]
        se = None if se is None or se.ndim != 3 else se[-1]
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not np.all(np.isfinite(cov)):
        raise ValueError(f"{path}: 'covariance' must be a finite square matrix, got shape "
                         f"{cov.shape}")
    if se is not None and se.shape == cov.shape and cov.shape[0] % 2 == 0:
        sym = 0.5 * (cov + cov.T)
        margin = physicality_margin(sym)
        if margin < 0 and -margin <= 3 * float(np.max(se)):
            cov = sym - margin * np.eye(cov.shape[0])
    return mean, cov


def relax(model=None, *, pair=None, branch: int = 0, initial="thermal",
          t_final: float | None = None, n_times: int = 40, method: str = "exact",
          dt: float | None = None, n_traj: int = DEFAULT_N_TRAJ, seed: int | None = 2024,
          tol: float = 0.01, alpha: float = 0.01, confidence: float = 0.99,
          chunk_size: int | None = None, backend=None, progress: bool = False,
          parties=(), observables=None, fidelity_target=None) -> RelaxationReport:
    """Run the relaxation study (see module docstring and :class:`RelaxationReport`).

    ``initial`` is ``"thermal"``, ``"vacuum"``, a path to an ``.npz`` (see
    :func:`load_initial`) or ``(mean, covariance)``. For ``em`` (default dt 0.005) the record
    times are snapped to the dt grid and the exact reference is EM's own recursion.
    ``model``, ``pair``, ``branch``, ``parties`` and ``observables`` as for
    :func:`~langevin_sim.analyses.validate.validate` (a model without a pair: no measures, onsets or
    measure settling times; the observables per record, against the exact σ(t) and means).
    ``fidelity_target``: a :class:`~langevin_sim.observables.FidelityTarget` or a file for
    :func:`~langevin_sim.observables.load_fidelity_target`; the fidelity of the state of its
    modes with it at each record, ensemble ± SE and exact.
    """

    model = as_model(model)
    system = model.linear_system(branch)
    system.check_stable()
    labels = tuple(system.mode_labels)
    pair, obs_names, groups = resolve_observable_request(model, labels, pair, parties,
                                                         observables)
    if fidelity_target is not None and not isinstance(fidelity_target, FidelityTarget):
        fidelity_target = load_fidelity_target(fidelity_target, labels)
    names = measure_names(pair) if pair else ()
    check_verdict_size(n_traj, chunk_size)
    integrator = get_integrator(method)
    dt = integrator.resolve_dt(dt)
    times = default_times(system, t_final, n_times)
    if integrator.uniform_steps:
        times = np.unique(np.round(times / dt)) * dt
    label = initial if isinstance(initial, str) else "custom"
    if isinstance(initial, str) and initial == "steady":
        raise ValueError("initial='steady' starts in the stationary state, where nothing "
                         "relaxes; use 'thermal', 'vacuum', an .npz file or (mean, covariance)")
    if isinstance(initial, str) and initial not in ("thermal", "vacuum"):
        initial = load_initial(initial)
    init = make_initial_state(system, initial, integrator, dt)
    res = simulate(system, times, method=integrator, dt=dt, n_traj=n_traj, seed=seed,
                   initial=init, chunk_size=chunk_size, backend=backend, progress=progress,
                   metadata={"parameters": model.as_dict(), "model": model.name,
                             "pair": list(pair) if pair else None})
    means, covs = exact_moments(system, times, method=integrator, dt=dt, initial=init)
    cov, se = res.covariance, res.covariance_stderr
    z = z_scores(cov, covs, se)  # NaN where a moment overflowed: the verdict fails
    iu = np.triu_indices(system.dim)
    zm = z_scores(res.mean, means, res.mean_stderr)
    obs = None
    if obs_names:
        obs = compare_observables(res, covs, means, labels, groups, obs_names)
    zs = [z[:, iu[0], iu[1]].ravel(), zm.ravel()]
    if obs is not None:
        zs += [obs.z[k] for k in obs.in_verdict]
    check = consistency(np.concatenate(zs), alpha, res.jackknife_dof,
                        min_groups=MIN_VERDICT_GROUPS)
    fid = None
    if fidelity_target is not None:
        values, stderr = ensemble_fidelity(res, fidelity_target)
        exact_f = exact_fidelity(covs, means, labels, fidelity_target)
        fid = FidelityCheck(fidelity_target.key, tuple(fidelity_target.modes), values, stderr,
                            exact_f, observable_z(fidelity_target.key, values, stderr, exact_f))

    sigma_inf = steady_state(system)
    fine = np.concatenate([[0.0], np.geomspace(times[1], times[-1] * 1.5, 500)])
    _, fine_covs = transient(system, fine, init.covariance, init.mean, sigma_inf)
    fine_d = distance_to_steady(fine_covs, sigma_inf)
    dist, dist_se = res.statistic(lambda c: distance_to_steady(c, sigma_inf))
    settling = {"covariance": settling_time(fine, fine_d, tol)}
    onsets = {}
    if not pair:  # one mode, or no pair named: no measures, no onsets
        from ..conventions import is_physical

        empty = np.zeros((times.size, 0))
        return RelaxationReport(
            times=times, covariance=cov, stderr=se, exact_covariance=covs, z=z,
            measure_names=(), measures=empty, measures_stderr=empty, exact_measures=empty,
            fine_times=fine, fine_covariance=fine_covs, fine_measures=np.zeros((fine.size, 0)),
            fine_distance=fine_d, distance=dist[:, 0], distance_stderr=dist_se[:, 0],
            sigma_inf=sigma_inf, rates=rate_analysis(system), settling=settling, tol=tol,
            onsets=onsets, check=check, quadratures=system.quadrature_labels(),
            method=integrator.name, dt=float(dt), n_traj=res.n_traj, seed=res.seed,
            initial=label, parameters=model.as_dict(), ensemble=res, pair=None,
            unit=model.unit,
            measures_physical=np.array([is_physical(c) for c in cov]), observables=obs,
            fidelity=fid)

    sel = res.two_mode_selector(pair)
    ix = np.ix_(sel, sel)
    est = res.measures(pair)
    exact_m = measures_stack(covs[(slice(None),) + ix])
    fine_m = measures_stack(fine_covs[(slice(None),) + ix])
    m_inf = two_mode_measures(sigma_inf[ix]).values()
    for i, k in enumerate(names):
        settling[k] = settling_time(fine, np.abs(fine_m[:, i] - m_inf[i]), tol)

    # E_N and G unclipped: smooth through the threshold
    raw = res.measures(pair, clip=False, names=tuple(onset_indicators(pair)))
    for k in onset_indicators(pair):
        col = raw.names.index(k)
        point, low, high = sample_onset(times, raw.values[:, col], raw.stderr[:, col], k,
                                        confidence)
        ex = exact_onset(system, init.covariance, init.mean, k, times[-1], sel=sel,
                         sigma_inf=sigma_inf)
        onsets[k] = Onset(k, ex, point, low, high, confidence)
    return RelaxationReport(
        times=times, covariance=cov, stderr=se, exact_covariance=covs, z=z,
        measure_names=names, measures=est.values, measures_stderr=est.stderr,
        exact_measures=exact_m, fine_times=fine, fine_covariance=fine_covs,
        fine_measures=fine_m, fine_distance=fine_d, distance=dist[:, 0],
        distance_stderr=dist_se[:, 0], sigma_inf=sigma_inf, rates=rate_analysis(system),
        settling=settling, tol=tol, onsets=onsets, check=check,
        quadratures=system.quadrature_labels(), method=integrator.name, dt=float(dt),
        n_traj=res.n_traj, seed=res.seed, initial=label, parameters=model.as_dict(),
        ensemble=res, pair=pair, unit=model.unit,
        measures_physical=est.physical, observables=obs, fidelity=fid)
