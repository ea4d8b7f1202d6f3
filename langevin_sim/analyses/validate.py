"""Validation of a trajectory ensemble against the analytic stationary covariance.

The reference is the stationary covariance *of the scheme that was run*: the continuous
Lyapunov solution σ∞ for the exact step, EM's discrete-Lyapunov covariance at the same Δt for
Euler–Maruyama (whose O(Δt) gap to σ∞ is reported separately, so the bias is shown honestly).

A driven nonlinear model (``cascade-full``, ``optomech``, ...) is validated on the truncated
Wigner engine. With ``ll`` (the default: local linearisation about the drift's fixed point)
the reference is the *continuous* physics: the steady mean field and the σ∞ of its
linearisation, which ``ll`` samples at any Δt; the ensemble's mean displacement δ from the
drift's fixed point is reported (beyond-linear physics where it departs from zero). The
baselines ``em``, ``exp-euler`` and ``exp-heun`` are judged against their *own* steady state
(the fixed point of their noise-free map, with the stationary covariance of their linear
recursion there), and their bias against the continuous reference is printed beside.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from ..conventions import physicality_margin, reduced_covariance
from ..engine import (
    DEFAULT_DT,
    DEFAULT_N_TRAJ,
    check_verdict_size,
    discrete_steady_state,
    record_times,
    simulate,
    simulate_twa,
)
from ..engine import METHODS as TWA_METHODS
from ..gaussian import steady_state
from ..integrators import get_integrator
from ..integrators.ll import fixed_point
from ..measures import measure_names, measures, measures_stack, smaller_is_stronger, threshold
from ..models import as_model
from ..observables import (
    ensemble_observables,
    exact_observables,
    in_verdict,
    observable_z,
    observables_table,
    party_text,
)
from ..statistics import MIN_VERDICT_GROUPS, Consistency, consistency, z_scores
from .steady import resolve_observable_request


@dataclass(frozen=True)
class Verdict:
    """Whether a sampled measure signals a correlation: a one-sided test, its bias-corrected
    estimate past the threshold by ``statistic`` standard errors against Student's t
    ``quantile`` at ``confidence``."""

    correlated: bool
    statistic: float
    quantile: float
    confidence: float

    def to_dict(self) -> dict:
        return {"correlated": self.correlated, "statistic": self.statistic,
                "quantile": self.quantile, "confidence": self.confidence}


@dataclass(frozen=True)
class MeasureCheck:
    """One measure of the pair, sampled (time-averaged) against its exact value: the estimate
    (``value``, clipped at 0 for E_N and G as reported), its jackknife standard error (of the
    unclipped estimate), the exact ``analytic`` value, the z-score of the ``unclipped``
    estimate (smooth and unbiased at the threshold), the jackknife ``bias_corrected``
    estimate and the :class:`Verdict`."""

    value: float
    stderr: float
    analytic: float
    z: float
    unclipped: float
    bias_corrected: float
    verdict: Verdict


@dataclass(frozen=True)
class MeanCheck:
    """A truncated Wigner run's sampled steady mean (d,) against its references: ``sample``
    ± ``stderr``, the ``reference`` it is judged against (the continuous steady mean field
    for ``ll``, the scheme's own fixed point for a baseline), the ``continuous`` steady mean
    field, the z-scores against each (``z``, ``continuous_z``) and the reference's offset from
    the continuous one in standard errors; for ``ll`` also ``path`` (the drift's fixed point
    the frame follows) and ``displacement`` = sample − path, the mean of δ."""

    sample: np.ndarray
    stderr: np.ndarray
    reference: np.ndarray
    continuous: np.ndarray
    z: np.ndarray
    continuous_offset_se: np.ndarray
    continuous_z: np.ndarray
    path: np.ndarray | None = None
    displacement: np.ndarray | None = None

    def to_dict(self) -> dict:
        out = {"sample": self.sample, "stderr": self.stderr, "reference": self.reference,
               "continuous": self.continuous, "z": self.z,
               "continuous_offset_se": self.continuous_offset_se,
               "continuous_z": self.continuous_z}
        if self.path is not None:
            out.update(path=self.path, displacement=self.displacement)
        return out


@dataclass(frozen=True)
class ObservableComparison:
    """Sampled observables ± SE against the exact ones (:func:`compare_observables`).

    ``names`` are the observable keys (``n_b``, ``E_N_a1b_m``, ...), ``parties`` the groups
    as text; ``sample``, ``stderr``, ``analytic`` and ``z`` map each key to its values over the
    records (numbers for a time average, :meth:`first_record`); E_N and G of a bipartition
    are compared unclipped (their unclipped sample in ``unclipped``, their SE and z of it);
    ``in_verdict`` are the keys whose z join the consistency verdict; ``classification`` the
    exact three-mode classification (text per analysis, at the last record); ``times`` the
    records compared, where not all of a run's (evolve's complete temporal modes).
    """

    names: tuple
    parties: tuple
    sample: dict
    stderr: dict
    analytic: dict
    z: dict
    unclipped: dict
    in_verdict: tuple
    classification: dict
    times: np.ndarray | None = None

    def first_record(self) -> ObservableComparison:
        """A one-record comparison (a time average) as numbers instead of arrays of one."""
        return replace(self, **{part: {k: float(v[0]) for k, v in getattr(self, part).items()}
                                for part in ("sample", "stderr", "analytic", "z",
                                             "unclipped")})

    def to_dict(self) -> dict:
        """The ``--json`` keys: ``observables``, ``parties``, ``observables_in_verdict``, per
        key its value with ``_stderr``, ``_analytic``, ``_z`` (and ``_unclipped`` for E_N and
        G of a bipartition), and the classification."""
        out = {"observables": list(self.names), "parties": list(self.parties),
               "observables_in_verdict": list(self.in_verdict)}
        for k in self.names:
            out[k], out[k + "_stderr"] = self.sample[k], self.stderr[k]
            out[k + "_analytic"], out[k + "_z"] = self.analytic[k], self.z[k]
            if k in self.unclipped:
                out[k + "_unclipped"] = self.unclipped[k]
        out.update(self.classification)
        return out


@dataclass(frozen=True)
class ValidationReport:
    """Sampled stationary statistics against the exact ones.

    Attributes
    ----------
    quadratures : tuple of str
    covariance, stderr, analytic, z : ndarray, shape (d, d)
        Sampled (time-averaged) covariance, its jackknife standard error, the exact reference
        and the z-scores ``(sample - reference)/stderr``.
    continuous : ndarray, shape (d, d)
        The continuous σ∞ (equal to ``analytic`` for the exact method).
    measures : dict name -> MeasureCheck
        The six measures of ``pair`` likewise (keys :func:`~langevin_sim.measures.measure_names`,
        in that order), each with its verdict: ``correlated`` only if a one-sided test
        (bias-corrected estimate past the threshold by Student's t quantile at ``confidence``
        times its SE) says so.
    check : Consistency
        Max-|z| test over the upper triangle of the covariance and the finite measure z's.
    method, dt, n_traj, seed, t_final, record_every, burn_in, n_records : run description
    sample_physical : bool
    """

    quadratures: tuple
    covariance: np.ndarray
    stderr: np.ndarray
    analytic: np.ndarray
    z: np.ndarray
    continuous: np.ndarray
    measures: dict
    check: Consistency
    method: str
    dt: float
    n_traj: int
    seed: int
    t_final: float
    record_every: float
    burn_in: float
    n_records: int
    sample_physical: bool
    partial: bool
    parameters: dict
    pair: tuple | None = None
    means: MeanCheck | None = None
    """Truncated Wigner runs: the sampled steady mean against its references."""
    unit: str = "ω_b"
    continuous_check: Consistency | None = None
    """A baseline scheme's sample against the continuous reference (σ∞, the measures of σ∞
    and the steady mean field): its bias, in SE; None for ``exact`` and ``ll``."""
    observables: ObservableComparison | None = None
    """The observables asked for, at the time average (``analytic``: of the same reference as
    the covariance); None when none was asked for."""

    @property
    def measure_names(self) -> tuple:
        return measure_names(self.pair) if self.pair else ()

    def to_dict(self) -> dict:
        out = {
            "method": self.method, "dt": self.dt, "n_traj": self.n_traj, "seed": str(self.seed),
            "t_final": self.t_final, "record_every": self.record_every, "burn_in": self.burn_in,
            "n_records": self.n_records, "quadratures": list(self.quadratures),
            "covariance": self.covariance, "stderr": self.stderr, "analytic": self.analytic,
            "z": self.z, "continuous": self.continuous,
            "continuous_gap": self.analytic - self.continuous,
            "consistent": self.check.consistent, "max_abs_z": self.check.max_abs_z,
            "z_threshold": self.check.threshold, "n_compared": self.check.n_compared,
            "alpha": self.check.alpha, "summary": self.check.summary(),
            "sample_physical": self.sample_physical, "partial": self.partial,
            "parameters": self.parameters, "pair": list(self.pair) if self.pair else None,
            "unit": self.unit,
        }
        if self.continuous_check is not None:
            cc = self.continuous_check
            out["continuous_check"] = {"consistent": cc.consistent, "max_abs_z": cc.max_abs_z,
                                       "z_threshold": cc.threshold,
                                       "n_compared": cc.n_compared}
        for k in self.measure_names:
            m = self.measures[k]
            out[k] = m.value
            out[k + "_stderr"] = m.stderr
            out[k + "_analytic"] = m.analytic
            out[k + "_z"] = m.z
            out[k + "_unclipped"] = m.unclipped
            out[k + "_bias_corrected"] = m.bias_corrected
        out["verdicts"] = {k: self.measures[k].verdict.to_dict() for k in self.measure_names}
        if self.means is not None:
            out["means"] = self.means.to_dict()
        if self.observables is not None:
            out.update(self.observables.to_dict())
        return out

    def _linearisation_note(self) -> str:
        """Why a truncated Wigner run of a nonlinear model may disagree with the continuous
        (linearised) reference: few quanta, fluctuations not small against the mean."""
        q = self.quadratures
        mean = np.asarray(self.means.continuous, float)
        quanta = 0.5 * (mean[0::2] ** 2 + mean[1::2] ** 2)
        var = np.diag(self.covariance)
        spread = np.sqrt(var[0::2] + var[1::2])
        amp = np.sqrt(mean[0::2] ** 2 + mean[1::2] ** 2)
        modes = [lab[2:] for lab in q[0::2]]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(amp > 0, spread / amp, np.inf)
        parts = ", ".join(f"{m}: {n:.3g} quanta, fluctuations/mean {r:.2g}"
                          for m, n, r in zip(modes, quanta, ratio))
        return ("NOTE: the linearisation (the continuous reference) may not hold at these "
                f"numbers of quanta; mean field {parts}")


def validate(model=None, *, pair=None, branch: int = 0, confidence: float = 0.99,
             method: str | None = None,
             dt: float | None = None, n_traj: int = DEFAULT_N_TRAJ, seed: int | None = 2024,
             t_final: float | None = None, record_every: float | None = None,
             initial: str = "steady", burn_in: float | None = None, alpha: float = 0.01,
             chunk_size: int | None = None, backend=None, progress: bool = False,
             parties=(), observables=None) -> ValidationReport:
    """Run an ensemble and compare its time-averaged covariance and measures with the exact
    stationary ones (see module docstring).

    Defaults: ``exact`` with dt = 1, ``em`` with dt = 0.005; a record every 20 (1/ω_b) for
    400/ω_b after the burn-in; start in the scheme's stationary state (``initial="steady"``,
    burn-in 0); for another initial state the burn-in defaults to 7 slowest relaxation times.

    ``model`` is anything :func:`~langevin_sim.models.as_model` takes (default: the paper's
    linearised cascade). A nonlinear model runs on the truncated Wigner engine near its stable
    mean field number ``branch``: ``ll`` (the default, dt = 0.1) from the continuous steady
    state, judged against it; a baseline (``em``, ``exp-euler``, ``exp-heun``) from its own
    steady state, judged against that. With ``method="exact"`` the linearisation is validated
    instead. ``pair`` names the two modes measured (default: the model's own pair; a model
    without one, e.g. one mode, gets no pair measures).

    ``parties`` (bipartitions ``"a1,b|m"``, three modes ``"a|b|m"``) and ``observables``
    (names of :data:`~langevin_sim.observables.OBSERVABLES`, default: all when parties are
    named or there is no pair, none otherwise) add the observables of every mode and of those
    groups, sampled ± SE against the reference (report field ``observables``); the ones of
    :data:`~langevin_sim.observables.VERDICT_OBSERVABLES` join the consistency verdict.
    """

    model = as_model(model)
    lang = model.build()
    nonlinear = lang is not None and not lang.is_linear
    if method is None:
        method = "ll" if nonlinear else "exact"
    system = model.linear_system(branch)
    system.check_stable()
    labels = tuple(system.mode_labels)
    pair, obs_names, groups = resolve_observable_request(model, labels, pair, parties,
                                                         observables)
    names = measure_names(pair) if pair else ()
    meta = {"parameters": model.as_dict(), "model": model.name,
            "pair": list(pair) if pair else None}
    check_verdict_size(n_traj, chunk_size)
    twa = nonlinear and method in TWA_METHODS
    if twa:
        if initial != "steady":
            raise ValueError("a truncated Wigner validation starts in the scheme's own steady "
                             "state (initial='steady'; for ll the continuous one); for a "
                             "transient from another state use switch-on or relax")
        dt = DEFAULT_DT[method] if dt is None else float(dt)
        integrator = None
    else:
        if method in ("exp-euler", "exp-heun"):
            raise ValueError(f"method {method!r} is for nonlinear models; a linear model "
                             "validates with exact, ll (the exact step there) or em")
        integrator = get_integrator(method)
        dt = integrator.resolve_dt(dt)
    if burn_in is None:
        burn_in = 0.0 if initial == "steady" else 7.0 / system.slowest_rate
    if burn_in < 0:
        raise ValueError(f"burn_in must be >= 0, got {burn_in:g}")
    if t_final is None:  # 400/ω_b of records after the burn-in
        t_final = 400.0 + burn_in
    every = 20.0 if record_every is None else float(record_every)
    if twa:
        every = max(1, round(every / dt)) * dt
        times = every * np.arange(0, int(np.floor(float(t_final) / every + 1e-9)) + 1)
    else:
        times = record_times(float(t_final), every, integrator, dt)
    record_every = times[1] - times[0]
    if burn_in >= times[-1]:
        raise ValueError(f"burn_in = {burn_in:g} must be below t_final = {times[-1]:g}")
    means = None
    path = None
    continuous = steady_state(system)  # the continuous σ∞: ll's reference, a baseline's beside
    if twa:
        states = [st for st in lang.mean_field_states() if st.stable]
        x_mf = states[branch].state
        if method == "ll":  # the continuous steady state, sampled at any dt
            mean_d, reference = x_mf, continuous
            path = fixed_point(lang, x_mf)
        else:
            mean_d, reference = discrete_steady_state(lang, method, dt, x_mf)
        result = simulate_twa(lang, times, method=method, dt=dt, n_traj=n_traj, seed=seed,
                              initial=(mean_d, reference), chunk_size=chunk_size,
                              backend=backend, progress=progress, metadata=meta, path=path)
    else:
        result = simulate(system, times, method=integrator, dt=dt, n_traj=n_traj, seed=seed,
                          initial=initial, chunk_size=chunk_size, backend=backend,
                          progress=progress, metadata=meta)
        reference = integrator.stationary_covariance(system, dt)
    steady = result.time_average(burn_in)
    cov, se = steady.covariance[0], steady.covariance_stderr[0]
    if twa:
        m, mse = steady.mean[0], steady.mean_stderr[0]
        means = MeanCheck(m, mse, mean_d, x_mf, (m - mean_d) / mse,
                          np.abs(x_mf - mean_d) / mse, (m - x_mf) / mse,
                          *((path.point, m - path.point) if path is not None else ()))
    z = z_scores(cov, reference, se)  # NaN where a moment overflowed: the verdict fails
    if pair:
        est = steady.measures(pair)
        # tests use the unclipped E_N and G: max(0, ·) would bias them at their threshold
        raw = steady.measures(pair, clip=False)
        ref_raw = measures_stack(reduced_covariance(
            reference, [system.mode_index(m) for m in pair]), clip=False)[0]
        exact_m = measures(reference, system, modes=pair)
        sample_physical = bool(est.physical[0])
    else:
        sample_physical = bool(physicality_margin(0.5 * (cov + cov.T)) >= 0)
    obs = None
    if obs_names:
        obs = compare_observables(steady, reference, mean_d if twa else None, labels,
                                   groups, obs_names)
    t_one = float(stats.t.ppf(confidence, steady.jackknife_dof))
    checks = {}
    for i, k in enumerate(names):
        unclipped, corrected = float(raw.values[0, i]), float(raw.bias_corrected[0, i])
        # the SE of the unclipped estimate (a clipped value has no spread at its bound)
        err = float(raw.stderr[0, i])
        sign = -1.0 if smaller_is_stronger(k) else 1.0
        stat = sign * (corrected - threshold(k)) / err if err > 0 else float("nan")
        checks[k] = MeasureCheck(
            float(est.values[0, i]), err, exact_m[k],
            (unclipped - ref_raw[i]) / err if err > 0 else float("nan"), unclipped, corrected,
            Verdict(bool(stat > t_one), stat, t_one, confidence))
    iu = np.triu_indices(system.dim)
    zs = [z[iu], [c.z for c in checks.values()]] + ([means.z] if means is not None else [])
    if obs is not None:
        zs.append([obs.z[k][0] for k in obs.in_verdict])
    check = consistency(np.concatenate(zs), alpha, dof=steady.jackknife_dof,
                        min_groups=MIN_VERDICT_GROUPS)  # an interrupted run: no verdict
    continuous_check = None
    if method not in ("exact", "ll"):  # a baseline: its sample against the physics, beside
        ref_cont = measures_stack(reduced_covariance(
            continuous, [system.mode_index(m) for m in pair]), clip=False)[0] if pair else []
        zc = [((cov - continuous) / se)[iu],
              [(checks[k].unclipped - ref_cont[i]) / checks[k].stderr
               if checks[k].stderr > 0 else np.nan for i, k in enumerate(names)]]
        if means is not None:
            zc.append(means.continuous_z)
        continuous_check = consistency(np.concatenate(zc), alpha, dof=steady.jackknife_dof)
    return ValidationReport(
        quadratures=system.quadrature_labels(), covariance=cov, stderr=se, analytic=reference,
        z=z, continuous=continuous, measures=checks, check=check,
        method=method if twa else integrator.name, means=means,
        dt=float(dt), n_traj=result.n_traj, seed=result.seed, t_final=float(times[-1]),
        record_every=float(record_every), burn_in=float(burn_in),
        n_records=int(np.sum(times >= burn_in)), sample_physical=sample_physical,
        partial=result.partial, parameters=model.as_dict(), pair=pair,
        unit=model.unit, continuous_check=continuous_check,
        observables=None if obs is None else obs.first_record())


def compare_observables(result, covariances, means, labels, groups, names
                        ) -> ObservableComparison:
    """Sampled observables ± SE against the exact ones at every record of an ensemble (what
    validate and relax report; evolve can use it the same way).

    Parameters
    ----------
    result : EnsembleResult
    covariances : ndarray, shape (n_rec, d, d) or (d, d)
        The exact state at each record (one state for a time average).
    means : ndarray, shape (n_rec, d) or (d,), or None
        Its quadrature means (None: 0, the fluctuations of a linearised model).
    labels : sequence of str
        Mode names in state-vector order.
    groups : sequence of groups
        Bipartitions and three-mode analyses
        (:func:`~langevin_sim.analyses.steady.resolve_parties`).
    names : sequence of str
        Observables (:data:`~langevin_sim.observables.OBSERVABLES`).

    Returns
    -------
    ObservableComparison
        Arrays over the records; ``in_verdict``: keys of
        :data:`~langevin_sim.observables.VERDICT_OBSERVABLES`.
    """
    covs = np.asarray(covariances, float)
    covs = covs[None] if covs.ndim == 2 else covs
    mns = None if means is None else np.asarray(means, float).reshape(covs.shape[0], -1)
    sample = ensemble_observables(result, groups, names)
    exact = exact_observables(covs, labels, groups, names, mns)
    # E_N and G of a bipartition are compared unclipped (smooth through their threshold)
    bips = tuple(g for g in groups if len(g) == 2)
    raw_names = tuple(k for k in ("E_N", "G") if k in names)
    raw = ensemble_observables(result, bips, raw_names, clip=False) if raw_names else {}
    raw_exact = exact_observables(covs, labels, bips, raw_names, mns, clip=False) \
        if raw_names else {}
    raw = {k: v for k, v in raw.items() if k in sample}
    keys = list(sample)
    z = {k: observable_z(k, *(raw[k] if k in raw else sample[k]),
                         raw_exact[k] if k in raw else exact[k]) for k in keys}
    classification = {}
    for g in groups:
        if len(g) == 3 and "residual_contangle" in names:
            values, _ = observables_table(covs[-1], labels, (g,), ("residual_contangle",))
            classification.update({k: v for k, v in values.items()
                                   if k.startswith(("tripartite_class_", "classification_",
                                                    "separable_cuts_"))})
    return ObservableComparison(
        tuple(keys), tuple(party_text(g) for g in groups), {k: sample[k][0] for k in keys},
        # the SE of the unclipped estimate (a clipped value has no spread at its bound)
        {k: (raw[k] if k in raw else sample[k])[1] for k in keys}, exact, z,
        {k: raw[k][0] for k in raw}, tuple(k for k in keys if in_verdict(k, labels)),
        classification)
