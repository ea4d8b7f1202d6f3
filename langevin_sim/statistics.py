"""Mergeable moment accumulators, jackknife standard errors and consistency checks.

A :class:`Moments` holds, for each record, the count, the mean and the centred second-moment
sum ``M2 = Σ (x - x̄)(x - x̄)ᵀ``. Two of them merge exactly (Chan et al.'s parallel update),
so chunks run anywhere can be combined in any order and give the one-pass answer to round-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_VERDICT_GROUPS = 8
"""A consistency verdict on an ensemble needs at least this many independent chunk groups
(jackknife dof >= 7); the same number as :data:`langevin_sim.engine.MIN_VERDICT_CHUNKS`."""


@dataclass(frozen=True)
class Moments:
    """Count, mean and centred second-moment sum of a sample, per record.

    Attributes
    ----------
    count : ndarray, shape (...)
        Number of samples.
    mean : ndarray, shape (..., d)
    m2 : ndarray, shape (..., d, d)
        ``Σ (x - x̄)(x - x̄)ᵀ``; the unbiased covariance is ``m2 / (count - 1)``.
    """

    count: np.ndarray
    mean: np.ndarray
    m2: np.ndarray

    @property
    def covariance(self) -> np.ndarray:
        """Unbiased sample covariance ``m2 / (count - 1)``, shape (..., d, d)."""
        return self.m2 / (np.asarray(self.count, float)[..., None, None] - 1)

    def merge(self, other: Moments) -> Moments:
        """Exact pooled moments of the union of two samples (Chan's update)."""
        na = np.asarray(self.count, float)
        nb = np.asarray(other.count, float)
        n = na + nb
        delta = other.mean - self.mean
        mean = self.mean + delta * (nb / n)[..., None]
        m2 = self.m2 + other.m2 + delta[..., :, None] * delta[..., None, :] * (na * nb / n)[
            ..., None, None]
        return Moments(self.count + other.count, mean, m2)


def pool(count, mean, m2, axis: int = 0) -> Moments:
    """Pool moments along ``axis`` (of ``count``; the matching axis of ``mean`` and ``m2``).

    ``M2 = Σ_k M2_k + Σ_k n_k (x̄_k - x̄)(x̄_k - x̄)ᵀ``: the exact pooled value, identical to
    merging the parts one by one with :meth:`Moments.merge`.
    """
    count = np.asarray(count, float)
    ax = axis % count.ndim
    n = count.sum(axis=ax)
    w = np.expand_dims(count, -1)
    mu = (w * mean).sum(axis=ax) / n[..., None]
    dev = mean - np.expand_dims(mu, ax)
    m2_tot = m2.sum(axis=ax) + (w[..., None] * dev[..., :, None] * dev[..., None, :]).sum(axis=ax)
    return Moments(n, mu, m2_tot)


def leave_one_out(total: Moments, parts: Moments) -> Moments:
    """Moments of the total with each part removed in turn (the parts along axis 0).

    Inverts Chan's update: ``M2_{-k} = M2 - M2_k - n_k n_{-k}/n (x̄_k - x̄_{-k})(…)ᵀ``.
    """
    n = np.asarray(total.count, float)
    nk = np.asarray(parts.count, float)
    n_rest = n - nk
    mean_rest = (n[..., None] * total.mean - nk[..., None] * parts.mean) / n_rest[..., None]
    delta = parts.mean - mean_rest
    m2_rest = (total.m2 - parts.m2
               - (nk * n_rest / n)[..., None, None] * delta[..., :, None] * delta[..., None, :])
    return Moments(n_rest, mean_rest, m2_rest)


def group_parts(parts: Moments, n_groups: int) -> Moments:
    """Pool consecutive parts (axis 0) into at most ``n_groups`` fixed groups.

    The grouping depends only on the number of parts, never on how they were computed, so a
    delete-a-group jackknife is reproducible.
    """
    k = parts.count.shape[0]
    if k <= n_groups:
        return parts
    edges = np.linspace(0, k, n_groups + 1).round().astype(int)
    pooled = [pool(parts.count[a:b], parts.mean[a:b], parts.m2[a:b]) for a, b in
              zip(edges[:-1], edges[1:])]
    return Moments(np.stack([p.count for p in pooled]), np.stack([p.mean for p in pooled]),
                   np.stack([p.m2 for p in pooled]))


def jackknife_stderr(leave_out_values: np.ndarray) -> np.ndarray:
    """Delete-a-group jackknife standard error from the K leave-one-out estimates (axis 0).

    ``SE² = (K - 1)/K Σ_k (θ_{-k} - mean θ_{-k})²``. Honest for correlated samples inside a
    group (time series), since only the groups need to be independent.

    With fewer than 2 groups (a run interrupted after its first chunk group) no error can be
    estimated: the result is NaN, shape ``leave_out_values.shape[1:]``, without a warning;
    outputs show it as unavailable (``null`` in JSON, "n/a" in text).
    """
    v = np.asarray(leave_out_values, float)
    k = v.shape[0]
    if k < 2:
        return np.full(v.shape[1:], np.nan)
    dev = v - v.mean(axis=0)
    return np.sqrt((k - 1) / k * np.sum(dev * dev, axis=0))


@dataclass(frozen=True)
class Consistency:
    """Outcome of comparing estimates with exact values through their z-scores.

    ``consistent`` is ``max |z| <= threshold``, where the threshold is the two-sided
    Bonferroni quantile of Student's t with ``dof`` degrees of freedom (the jackknife's
    ``K - 1``) for ``n_compared`` comparisons at family-wise significance ``alpha``.

    It is ``False`` if any z-score is not finite (``n_nonfinite`` of them: an estimate or its
    standard error is NaN or infinite, so nothing can be said to agree), and ``None`` (no
    verdict) if the z-scores rest on fewer independent chunk groups than the caller's
    ``min_groups`` (an interrupted run); ``reason`` then says why.
    """

    max_abs_z: float
    threshold: float
    n_compared: int
    alpha: float
    dof: int
    consistent: bool | None
    n_nonfinite: int = 0
    reason: str = ""

    @property
    def verdict(self) -> str:
        """``"CONSISTENT"``, ``"INCONSISTENT"`` or ``"NO VERDICT"``."""
        return {True: "CONSISTENT", False: "INCONSISTENT", None: "NO VERDICT"}[self.consistent]

    def summary(self) -> str:
        scores = (f"max |z| = {self.max_abs_z:.3f} over {self.n_compared} comparisons; "
                  f"threshold {self.threshold:.3f} (family-wise significance {self.alpha:g}, "
                  f"Bonferroni, Student t with {self.dof} dof)")
        if self.reason:
            return f"{self.verdict}: {self.reason}; {scores}"
        return f"{self.verdict}: {scores}"


def z_threshold(n_compared: int, alpha: float, dof: int) -> float:
    """Two-sided Bonferroni threshold on |z| for ``n_compared`` comparisons."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    q = 1 - alpha / (2 * max(n_compared, 1))
    from scipy.special import ndtri, stdtrit  # quantiles without importing scipy.stats

    return float(stdtrit(dof, q) if np.isfinite(dof) else ndtri(q))


def z_scores(estimate, reference, stderr) -> np.ndarray:
    """``(estimate - reference) / stderr``, elementwise, for a consistency test.

    NaN (which fails :func:`consistency`) wherever the estimate, the reference or the standard
    error is not finite: an overflowed sample has an infinite SE, and the z of 0 it would give
    must not pass. An element known exactly (difference and SE both 0) has z = 0.
    """
    est, ref, se = np.broadcast_arrays(*(np.asarray(a, float) for a in
                                         (estimate, reference, stderr)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = (est - ref) / se
    z = np.where(np.isfinite(est) & np.isfinite(ref) & np.isfinite(se), z, np.nan)
    return np.where((est == ref) & (se == 0), 0.0, z)


def consistency(z: np.ndarray, alpha: float = 0.01, dof: float = np.inf,
                min_groups: int | None = None) -> Consistency:
    """Max-|z| test of a set of z-scores at significance ``alpha``.

    A NaN or infinite z-score fails the test (its count and the reason are in the result).
    With ``min_groups`` (an ensemble's verdict: :data:`MIN_VERDICT_GROUPS`), fewer
    independent groups than that (``dof + 1``) give no verdict (``consistent is None``).
    """
    z = np.asarray(z, float).ravel()
    finite = z[np.isfinite(z)]
    n = int(finite.size)
    n_bad = int(z.size - n)
    few = min_groups is not None and np.isfinite(dof) and dof + 1 < min_groups
    thr = z_threshold(n, alpha, dof) if not np.isfinite(dof) or dof >= 1 else float("nan")
    mz = float(np.max(np.abs(finite))) if n else 0.0
    dof_out = int(dof) if np.isfinite(dof) else -1
    if few:
        return Consistency(mz, thr, n, alpha, dof_out, None, n_bad,
                           f"{int(dof) + 1} independent chunk groups; a verdict needs at least "
                           f"{min_groups} (jackknife dof >= {min_groups - 1})")
    if n_bad:
        return Consistency(mz, thr, n, alpha, dof_out, False, n_bad,
                           f"{n_bad} of {z.size} z-scores are not finite (NaN or ±inf: an "
                           "estimate or its standard error is not a finite number)")
    return Consistency(mz, thr, n, alpha, dof_out, bool(mz <= thr))
