"""The paper's detection scheme: probe cavities, homodyne-detected temporal modes, and how many
records certify the correlations (docs/physics.md, "The detection scheme").

The shipped model ``cascade-detected`` adds to the linearised cascade two probe cavities
``p_b``, ``p_m`` (beam splitters with b and m) and the detected temporal modes as filter
cavities ``f_b``, ``f_m`` cascaded from the probes' outputs with efficiency η_d. :func:`detect`

* solves the network exactly (one Lyapunov solve): the measures of (b, m) without the probes,
  with the probes attached (their back-action), and of the detected pair (f_b, f_m);
* simulates the experiment: ``records`` trajectories of the whole network run by the ensemble
  engine from a thermal start into its stationary state; each record measures one quadrature of
  each detected mode at a local-oscillator phase setting, cycled over
  :data:`PHASE_SETTINGS`; the 4×4 covariance is reconstructed from the measured second moments;
* gives the measures with jackknife standard errors over blocks of records (each block holds
  every phase setting), a bias-corrected estimate, the spread over independent repetitions,
  one-sided certificates at a confidence C, and the records each certificate needs.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .._kernels.measures import duan_with_gains, minimize_over_angles
from ..conventions import symplectic_form
from ..engine import simulate
from ..gaussian import steady_state
from ..measures import Measures, measure_names, measures, measures_stack
from ..models import CascadeParameters, load_model
from ..statistics import Moments, jackknife_stderr, leave_one_out, pool
from .sweep import sweep, sweep_summary

PHASE_SETTINGS = ((0.0, 0.0), (0.0, math.pi / 2), (math.pi / 2, 0.0), (math.pi / 2, math.pi / 2),
                  (math.pi / 4, math.pi / 4))
"""Local-oscillator phases (θ of f_b, θ of f_m) cycled over the records: the four settings
(0|π/2, 0|π/2) give the variances and the cross terms, (π/4, π/4) the local x–p terms."""

MAX_BLOCKS = 64
"""Jackknife blocks of records (each block holds every phase setting equally)."""

MIN_PER_CHUNK = 20
"""Records per phase setting per block, at least (fewer blocks for a small experiment): the
witnesses are products of variances estimated in a block, which must be nearly normal."""

MIN_RECORDS = 8 * len(PHASE_SETTINGS) * MIN_PER_CHUNK
"""Fewest records a prediction of ``records_needed`` returns (eight blocks: three folds)."""

DETECTED_PAIR = ("f_b", "f_m")
INTRACAVITY_PAIR = CascadeParameters.default_pair
"""The intracavity pair the detected one reads out: the paper's cascade's own pair."""
POWER = 0.9
"""Probability that a run with ``records_needed`` records issues the certificate (if the
measured effect size is the true one)."""


def detection_model(**settings):
    """The shipped ``cascade-detected`` model with some parameters set."""
    return load_model("cascade-detected").replace(**settings)


# -- records -------------------------------------------------------------------------------
def _lo_vectors(system, pair, setting) -> np.ndarray:
    """(d, 2) projections onto x^θ of each mode of ``pair`` (x cos θ + p sin θ)."""
    u = np.zeros((system.dim, 2))
    for k, (mode, theta) in enumerate(zip(pair, setting)):
        i = 2 * system.mode_index(mode)
        u[i, k], u[i + 1, k] = math.cos(theta), math.sin(theta)
    return u


def record_layout(records: int) -> tuple[int, int]:
    """``(blocks, records per chunk)``: a block is one chunk per phase setting; at least
    ``records`` records in all (rounded up to whole blocks)."""
    if isinstance(records, bool) or not isinstance(records, (int, np.integer)) \
            or records < 10 * len(PHASE_SETTINGS):
        raise ValueError(f"records must be an integer >= {10 * len(PHASE_SETTINGS)}, got "
                         f"{records!r}")
    n_set = len(PHASE_SETTINGS)
    blocks = max(4, min(MAX_BLOCKS, records // (MIN_PER_CHUNK * n_set)))
    return blocks, -(-records // (blocks * n_set))


def homodyne_moments(system, records: int, seed, pair=DETECTED_PAIR, burn_in=None,
                     backend=None) -> Moments:
    """Second moments of ``records`` homodyne records, as Moments of shape (blocks, settings).

    Each trajectory of the network starts thermal and runs (exact steps) through ``burn_in``
    (default 20 slowest relaxation times) into the stationary state; the trajectories of chunk
    ``i`` measure the setting ``i mod 5``: only the pair of quadratures it measures is kept.
    """
    blocks, per_chunk = record_layout(records)
    n_set = len(PHASE_SETTINGS)
    t_burn = 20.0 / system.slowest_rate if burn_in is None else float(burn_in)
    res = simulate(system, [t_burn], method="exact", dt=t_burn / 20, n_traj=blocks * n_set
                   * per_chunk, chunk_size=per_chunk, seed=seed, initial="thermal",
                   backend=backend, groups=None)  # one group per chunk: each its own setting
    if res.partial:  # an experiment with settings missing cannot be reconstructed
        raise KeyboardInterrupt
    c = res.groups
    count = np.zeros((blocks, n_set))
    mean = np.zeros((blocks, n_set, 2))
    m2 = np.zeros((blocks, n_set, 2, 2))
    for i in range(c.count.shape[0]):
        b, s = divmod(i, n_set)
        u = _lo_vectors(system, pair, PHASE_SETTINGS[s])
        count[b, s] = c.count[i, -1]
        mean[b, s] = c.mean[i, -1] @ u
        m2[b, s] = u.T @ c.m2[i, -1] @ u
    return Moments(count, mean, m2)


def reconstruct(cov_by_setting: np.ndarray, count_by_setting: np.ndarray) -> np.ndarray:
    """The 4×4 covariance of (x1, p1, x2, p2) from the 2×2 covariances measured at each of
    :data:`PHASE_SETTINGS` (shape (..., 5, 2, 2); counts (..., 5) weight repeated variances)."""
    c, n = cov_by_setting, count_by_setting

    def avg(i, j, k):  # a variance measured in two settings, weighted by their counts
        return (n[..., i] * c[..., i, k, k] + n[..., j] * c[..., j, k, k]) / (n[..., i]
                                                                             + n[..., j])

    vx1, vp1 = avg(0, 1, 0), avg(2, 3, 0)
    vx2, vp2 = avg(0, 2, 1), avg(1, 3, 1)
    cx1p1 = c[..., 4, 0, 0] - 0.5 * (vx1 + vp1)
    cx2p2 = c[..., 4, 1, 1] - 0.5 * (vx2 + vp2)
    out = np.empty(c.shape[:-3] + (4, 4))
    rows = [[vx1, cx1p1, c[..., 0, 0, 1], c[..., 1, 0, 1]],
            [cx1p1, vp1, c[..., 2, 0, 1], c[..., 3, 0, 1]],
            [c[..., 0, 0, 1], c[..., 2, 0, 1], vx2, cx2p2],
            [c[..., 1, 0, 1], c[..., 3, 0, 1], cx2p2, vp2]]
    for i in range(4):
        for j in range(4):
            out[..., i, j] = rows[i][j]
    return out


# -- estimates -----------------------------------------------------------------------------
CRITERIA = ("E_N", "duan", "steer_b_by_a", "steer_a_by_b")
"""What can be certified: E_N > 0 (the partial transpose violates σ̃ + iΩ/2 ≥ 0), Duan < 1, and
each direction of Reid steering < 1."""

WITNESS_THRESHOLDS = (0.0, 1.0, 1.0, 1.0)
"""Each criterion's witness is correlated below this value."""

_PT = np.diag([1.0, 1.0, 1.0, -1.0])
_OMEGA = symplectic_form(2)
_SAME = np.arange(4)
_SWAP = np.array([2, 3, 0, 1])  # the pair's two modes exchanged


def _criterion_values(stack: np.ndarray) -> np.ndarray:
    """[unclipped E_N, Duan, S_<B>|<A>, S_<A>|<B>, G_<A>→<B>, G_<B>→<A>] of each 4×4 covariance
    of ``stack`` (..., 4, 4), in one compiled pass (NaN where a matrix is too unphysical to
    evaluate)."""
    v = measures_stack(stack, clip=False)
    v[:, 4:] = np.maximum(v[:, 4:], 0.0)  # G shown clipped; NaN stays NaN
    return v


def _rot(theta):
    return np.array([math.cos(theta), math.sin(theta)]), np.array([-math.sin(theta),
                                                                   math.cos(theta)])


def witness_parameters(train: np.ndarray) -> dict:
    """The measurement choices that best reveal each correlation in the covariance ``train``:
    the partial-transpose eigenvector, Duan's angles and gains, Reid's angles and gains."""
    s = np.ascontiguousarray(0.5 * (train + train.T))
    _, vec = np.linalg.eigh(_PT @ s @ _PT + 0.5j * _OMEGA)
    _, ta, tb = minimize_over_angles(0, s, 2 * math.pi)
    _, fx, fy = duan_with_gains(s, ta, tb)
    out = {"ppt": vec[:, 0], "duan": (ta, tb, fx, fy)}
    for key, m in (("steer_b_by_a", s), ("steer_a_by_b", s[np.ix_(_SWAP, _SWAP)])):
        _, a, b = minimize_over_angles(1, np.ascontiguousarray(m), math.pi)
        out[key] = (a, b) + _reid_gains(m, a, b)
    return out


def _reid_gains(s, ta, tb):
    xa, pa = _rot(ta)
    xb, pb = _rot(tb)
    gx = (xb @ s[2:, :2] @ xa) / (xa @ s[:2, :2] @ xa)
    gp = (pb @ s[2:, :2] @ pa) / (pa @ s[:2, :2] @ pa)
    return gx, gp


def witness_values(params: dict, sigma_x: np.ndarray, sigma_p: np.ndarray | None = None
                   ) -> np.ndarray:
    """The four witnesses of :data:`CRITERIA` with the choices ``params`` fixed: the partial
    transpose's quadratic form (linear in σ, on the mean of the two matrices) and the Duan and
    Reid products, whose x-like factor is evaluated on ``sigma_x`` and p-like factor on
    ``sigma_p``. On independent data not used to choose ``params`` each estimate is then
    unbiased, so noise cannot fake a certificate."""
    sigma_p = sigma_x if sigma_p is None else sigma_p
    z = params["ppt"]
    mean = 0.5 * (sigma_x + sigma_p)
    ppt = float(np.real(np.conj(z) @ (_PT @ mean @ _PT + 0.5j * _OMEGA) @ z))
    ta, tb, fx, fy = params["duan"]
    xa, pa = _rot(ta)
    xb, pb = _rot(tb)
    ux = np.concatenate([fx * xa, xb])
    up = np.concatenate([-fy * pa, pb])
    duan = 4 * (ux @ sigma_x @ ux) * (up @ sigma_p @ up) / (1 + fx * fy) ** 2
    out = [ppt, duan]
    for key, perm in (("steer_b_by_a", _SAME), ("steer_a_by_b", _SWAP)):
        ta, tb, gx, gp = params[key]
        xa, pa = _rot(ta)
        xb, pb = _rot(tb)
        ux = np.concatenate([-gx * xa, xb])
        up = np.concatenate([-gp * pa, pb])
        sx, sp = sigma_x[np.ix_(perm, perm)], sigma_p[np.ix_(perm, perm)]
        out.append(4 * (ux @ sx @ ux) * (up @ sp @ up))
    return np.array(out)


@dataclass(frozen=True)
class RecordEstimate:
    """Measures of the pair reconstructed from homodyne records.

    Attributes
    ----------
    n : int
        Records used.
    covariance, covariance_stderr : ndarray (4, 4)
        Reconstructed covariance of (x_A, p_A, x_B, p_B) and its jackknife SE.
    values, stderr, bias_corrected : ndarray (6,)
        ``[E_N (unclipped), Duan, S_<B>|<A>, S_<A>|<B>, G_<A>→<B>, G_<B>→<A>]``: plain
        estimate, jackknife SE over blocks, jackknife bias-corrected estimate.
    witness, witness_stderr : ndarray (4,)
        Witnesses of :data:`CRITERIA` (mean over folds, its SE): the measurement choices are
        fitted on the first quarter of the blocks, and each witness evaluated on independent
        pairs of the remaining blocks (a product's two factors on the pair's two blocks).
    dof : int
        Blocks − 1 (degrees of freedom of the jackknife SEs).
    witness_dof : int
        Folds − 1 (degrees of freedom of the witness SEs).
    physical : bool
        Whether the reconstructed covariance satisfies σ + iΩ/2 ≥ 0.
    """

    n: int
    covariance: np.ndarray
    covariance_stderr: np.ndarray
    values: np.ndarray
    stderr: np.ndarray
    bias_corrected: np.ndarray
    witness: np.ndarray
    witness_stderr: np.ndarray
    dof: int
    physical: bool
    witness_dof: int = 1


def estimate(moments: Moments) -> RecordEstimate:
    """Reconstruct the covariance and the measures, with a delete-a-block jackknife, and the
    witnesses (fitted and evaluated on disjoint records) that the certificates use."""
    total = pool(moments.count, moments.mean, moments.m2, axis=0)  # per setting
    loo = leave_one_out(total, moments)                          # (blocks, settings)
    cov = reconstruct(total.covariance, total.count)
    cov_loo = reconstruct(loo.covariance, loo.count)
    cov_block = reconstruct(moments.covariance, moments.count)
    k = moments.count.shape[0]
    values = _criterion_values(cov)[0]
    reps = _criterion_values(cov_loo)
    se = jackknife_stderr(reps)
    with warnings.catch_warnings():  # replicates too noisy to evaluate are NaN: so is the SE
        warnings.simplefilter("ignore", RuntimeWarning)
        bias_corrected = k * values - (k - 1) * np.nanmean(reps, axis=0)
    # witnesses: measurement choices fitted once on the first quarter of the blocks, then
    # evaluated on independent pairs of the other blocks (a product's factors on the two
    # blocks of a pair), so that the fold values are independent and unbiased
    n_train = max(1, k // 4)
    train = pool(moments.count[:n_train], moments.mean[:n_train], moments.m2[:n_train])
    params = witness_parameters(reconstruct(train.covariance, train.count))
    pairs = (k - n_train) // 2
    folds = np.array([witness_values(params, cov_block[n_train + 2 * j],
                                     cov_block[n_train + 2 * j + 1]) for j in range(pairs)])
    return RecordEstimate(int(moments.count.sum()), cov, jackknife_stderr(cov_loo), values, se,
                          bias_corrected, folds.mean(axis=0),
                          folds.std(axis=0, ddof=1) / math.sqrt(pairs), k - 1,
                          bool(measures(cov).physical), pairs - 1)


def certify(est: RecordEstimate, confidence: float) -> dict:
    """One-sided certificates at ``confidence``: a witness (fitted and evaluated on disjoint
    records) below its threshold by more than Student's t quantile (folds − 1 dof) times its
    SE."""
    t = float(stats.t.ppf(confidence, est.witness_dof))
    out = {}
    for i, name in enumerate(CRITERIA):
        margin = WITNESS_THRESHOLDS[i] - est.witness[i]
        se = est.witness_stderr[i]
        stat = margin / se if se > 0 else float("nan")
        out[name] = {"certified": bool(np.isfinite(stat) and stat > t), "statistic": stat,
                     "witness": est.witness[i], "witness_stderr": se,
                     "threshold": WITNESS_THRESHOLDS[i], "quantile": t,
                     "confidence": confidence}
    return out


def records_needed(est: RecordEstimate, confidence: float, power: float = POWER) -> dict:
    """Records for each certificate, from the measured witness SE ∝ 1/√N: the smallest N at
    which the expected statistic reaches ``t_C + z_power`` (``None`` where the witness is on
    the uncorrelated side). Never fewer than :data:`MIN_RECORDS`, below which the blocks hold
    too few records for the asymptotic scaling to mean anything."""
    z = float(stats.t.ppf(confidence, est.witness_dof)) + float(stats.norm.ppf(power))
    out = {}
    for i, name in enumerate(CRITERIA):
        margin = WITNESS_THRESHOLDS[i] - est.witness[i]
        se = est.witness_stderr[i]
        if not (margin > 0 and se > 0):
            out[name] = None
            continue
        out[name] = max(MIN_RECORDS, int(math.ceil(est.n * (z * se / margin) ** 2)))
    return out


# -- the whole analysis ----------------------------------------------------------------------
@dataclass(frozen=True)
class DetectionReport:
    """Everything ``langevin-sim detect`` computes (see :func:`detect`): the exact measures of
    (b, m) without and with the probes and of the detected pair (:class:`Measures`), the
    records' estimate, the certificates and the records each needs (by criterion)."""

    parameters: dict
    without_probes: Measures
    with_probes: Measures
    detected: Measures
    detected_covariance: np.ndarray
    records: RecordEstimate
    repetitions: np.ndarray
    certified: dict
    records_needed: dict
    checks: dict
    confidence: float
    seed: int
    partial: bool = False
    """Interrupted: the exact analysis is complete; ``records`` (and the certificates) are None
    if the main experiment did not finish (a reconstruction needs every phase setting), and
    the repetitions and record checks hold those that finished."""

    @property
    def names(self) -> tuple:
        return measure_names(DETECTED_PAIR)

    def to_dict(self) -> dict:
        names = self.names
        base = {"parameters": self.parameters, "without_probes": self.without_probes.as_dict(),
                "with_probes": self.with_probes.as_dict(), "detected": self.detected.as_dict(),
                "detected_covariance": self.detected_covariance, "confidence": self.confidence,
                "power": POWER, "seed": str(self.seed), "partial": self.partial}
        if self.records is None:
            return {**base, "records": None, "certified": None, "records_needed": None}
        rec = {"n": self.records.n, "dof": self.records.dof,
               "physical": self.records.physical, "covariance": self.records.covariance,
               "covariance_stderr": self.records.covariance_stderr}
        for i, k in enumerate(names):
            rec[k] = self.records.values[i]
            rec[k + "_stderr"] = self.records.stderr[i]
            rec[k + "_bias_corrected"] = self.records.bias_corrected[i]
            if self.repetitions.size:  # a spread needs two repetitions (one: an interrupt)
                rec[k + "_repetition_spread"] = (float(np.std(self.repetitions[:, i], ddof=1))
                                                 if self.repetitions.shape[0] > 1 else None)
        rec["E_N_note"] = "E_N is the unclipped log-negativity (negative when separable)"
        rec["n_repetitions"] = int(self.repetitions.shape[0])
        crit = {self._criterion_name(c): v for c, v in self.certified.items()}
        need = {self._criterion_name(c): {"records": v, "check": self.checks.get(c)}
                for c, v in self.records_needed.items()}
        return {**base, "records": rec, "certified": crit, "records_needed": need}

    def _criterion_name(self, c):
        names = self.names
        return {"E_N": "E_N > 0", "duan": f"{names[1]} < 1", "steer_b_by_a": f"{names[2]} < 1",
                "steer_a_by_b": f"{names[3]} < 1"}[c]


def check_records(system, criterion: str, n: int, confidence: float, seed: int,
                  max_records: int, backend=None, max_runs: int = 4) -> dict:
    """Run the experiment at the predicted number of records; if the certificate is not issued
    there (the 1/√N scaling is only asymptotic), predict again from that run and retry with at
    least twice as many, up to ``max_runs`` runs and ``max_records``. Returns the last run's
    ``n``, ``certified``, ``statistic`` and the ``history`` of (n, certified, statistic)."""
    history = []
    seeds = np.random.SeedSequence(seed).spawn(max_runs)
    for k in range(max_runs):
        n = max(int(n), 10 * len(PHASE_SETTINGS))
        e = estimate(homodyne_moments(system, n, _int_seed(seeds[k]), backend=backend))
        v = certify(e, confidence)[criterion]
        history.append((e.n, v["certified"], v["statistic"]))
        if v["certified"]:
            break
        again = records_needed(e, confidence)[criterion]
        n = min(max(2 * e.n, again or 0), 4 * e.n)
        if n > max_records:
            break
    last = history[-1]
    return {"n": last[0], "certified": last[1], "statistic": last[2], "history": history}


def _int_seed(seq: np.random.SeedSequence) -> int:
    """An integer root seed drawn from a child sequence (what :func:`simulate` records)."""
    return int(seq.generate_state(1, np.uint64)[0])


def exact_measures(model) -> tuple[Measures, Measures, Measures, np.ndarray]:
    """(without probes (b, m), with probes (b, m), detected (f_b, f_m), detected covariance):
    the six measures of each pair (:class:`~langevin_sim.measures.Measures`, by name)."""
    system = model.linear_system()
    sigma = steady_state(system)
    off = model.replace(g_bp=0.0, g_mp=0.0).linear_system()
    sigma_off = steady_state(off)
    without = measures(sigma_off, off, INTRACAVITY_PAIR)
    with_p = measures(sigma, system, INTRACAVITY_PAIR)
    detected = measures(sigma, system, DETECTED_PAIR)
    idx = np.concatenate([[2 * system.mode_index(m), 2 * system.mode_index(m) + 1]
                          for m in DETECTED_PAIR])
    return without, with_p, detected, sigma[np.ix_(idx, idx)]


def detect(model=None, *, records: int = 20000, confidence: float = 0.99, seed: int = 2024,
           repetitions: int = 8, check: bool = True, max_check_records: int = 2_000_000,
           backend=None) -> DetectionReport:
    """Exact read-out analysis and a simulated homodyne experiment (module docstring).

    Parameters
    ----------
    model : ModelDescription, optional
        ``cascade-detected`` (default) at some parameters (``detection_model(**settings)``).
    records : int
        Homodyne records of the experiment (>= 50).
    confidence : float
        One-sided confidence of the certificates, in (0.5, 1).
    seed : int
        Root seed: the experiment, its repetitions and the check runs use its children.
    repetitions : int
        Independent repetitions at ``records`` whose spread cross-checks the jackknife SE
        (0 for none).
    check : bool
        Run one experiment at each ``records_needed`` (up to ``max_check_records``).
    """
    model = detection_model() if model is None else model
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must be in (0.5, 1), got {confidence!r}")
    if isinstance(repetitions, bool) or not isinstance(repetitions, int) or repetitions < 0:
        raise ValueError(f"repetitions must be an integer >= 0, got {repetitions!r}")
    record_layout(records)
    system = model.linear_system()
    system.check_stable()
    without, with_p, detected, sigma_det = exact_measures(model)
    seeds = [_int_seed(s) for s in np.random.SeedSequence(seed).spawn(2 + repetitions)]
    est, reps, cert, need, checks, partial = None, [], None, None, {}, False
    try:  # interrupted (Ctrl-C): what finished is reported, marked partial
        est = estimate(homodyne_moments(system, records, seeds[0], backend=backend))
        cert = certify(est, confidence)
        need = records_needed(est, confidence)
        for s in seeds[2:]:
            reps.append(estimate(homodyne_moments(system, records, s, backend=backend)).values)
        if check:
            for i, c in enumerate(CRITERIA):
                if need[c] is not None and need[c] <= max_check_records:
                    checks[c] = check_records(system, c, need[c], confidence, seeds[1] + i,
                                              max_check_records, backend)
    except KeyboardInterrupt:
        partial = True
    return DetectionReport(model.as_dict(), without, with_p, detected, sigma_det, est,
                           np.array(reps).reshape(-1, 6), cert, need, checks, confidence, seed,
                           partial)


# -- design study ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DetectionScan:
    """Exact measures over probe strength × filter width, and over η_d.

    ``detected`` and ``intracavity`` are sweeps of ``(g_probe, filter)`` for the pairs
    (f_b, f_m) and (b, m); ``detected_eta`` a sweep of ``eta_d`` at ``optimum``'s probe and
    filter (the intracavity state does not depend on η_d).
    """

    detected: object
    intracavity: object
    detected_eta: object
    optimum: dict

    def to_dict(self) -> dict:

        return {"optimum": self.optimum, "detected": sweep_summary(self.detected),
                "intracavity": sweep_summary(self.intracavity),
                "detected_eta": sweep_summary(self.detected_eta)}


def detection_scan(model=None, g_grid=None, filter_grid=None, eta_grid=None, backend=None,
                   progress=False) -> DetectionScan:
    """Maps of the exact detected and intracavity measures (default grids: g_probe and filter
    log-spaced over [0.01, 1] and [0.001, 1] (ω_b), η_d over [0.05, 1]); the optimum is the
    largest detected E_N."""

    model = detection_model() if model is None else model
    g_grid = np.geomspace(0.01, 1.0, 21) if g_grid is None else np.asarray(g_grid, float)
    filter_grid = np.geomspace(1e-3, 1.0, 19) if filter_grid is None else np.asarray(
        filter_grid, float)
    eta_grid = np.linspace(0.05, 1.0, 20) if eta_grid is None else np.asarray(eta_grid, float)
    axes = {"g_probe": g_grid, "filter": filter_grid}
    det = sweep(model, axes, pair=DETECTED_PAIR, backend=backend, progress=progress)
    intra = sweep(model, axes, pair=INTRACAVITY_PAIR, backend=backend, progress=progress)
    en = np.where(det.stable, det.values["E_N"], -np.inf)
    i, j = np.unravel_index(np.argmax(en), en.shape)
    best = model.replace(g_probe=float(g_grid[i]), filter=float(filter_grid[j]))
    eta = sweep(best, {"eta_d": eta_grid}, pair=DETECTED_PAIR, backend=backend)
    optimum = {"g_probe": float(g_grid[i]), "filter": float(filter_grid[j]),
               "E_N_detected": float(det.values["E_N"][i, j]),
               "E_N_intracavity": float(intra.values["E_N"][i, j])}
    return DetectionScan(det, intra, eta, optimum)
