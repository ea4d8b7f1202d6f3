"""When a correlation starts: the onset of entanglement (E_N > 0) and of steering of B by A
(``S_<B>_given_<A>`` < 1, ``G_<A>_to_<B>`` > 0) for any mode pair, exactly (from a covariance
along time) and from an ensemble (a point and a one-sided confidence bracket).

Used by :mod:`.relax` and :mod:`.switch_on`.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..gaussian import steady_state, transient
from ..measures import gaussian_steerability, log_negativity, onset_names, reid_steering

_BY_KIND = {
    "E_N": (lambda s: log_negativity(s, clip=False), 0.0, True),
    "S_": (reid_steering, 1.0, False),
    "G_": (lambda s: gaussian_steerability(s, clip=False), 0.0, True),
}


def indicator(name: str):
    """The onset indicator of a measure name of any pair (by its kind: ``E_N``, ``S_…`` or
    ``G_…``), as ``(function of the (A, B) covariance, threshold, correlated when above?)``.
    The unclipped E_N and G are used so that the crossing is smooth and has a standard error."""
    kind = "E_N" if name == "E_N" else name[:2]
    if kind not in _BY_KIND:
        raise ValueError(f"no onset for measure {name!r}; onsets exist for E_N, S_<B>_given_<A> "
                         "and G_<A>_to_<B>")
    return _BY_KIND[kind]


def onset_indicators(pair) -> dict:
    """Onsets reported for the pair (A, B): entanglement (E_N > 0) and steering of B by A
    (``S_<B>_given_<A>`` < 1, ``G_<A>_to_<B>`` > 0), as ``name -> indicator(name)``."""
    return {k: indicator(k) for k in onset_names(pair)}


def first_crossing(times, values, threshold, above):
    """The first time ``values`` (over ``times``) is past ``threshold`` (above it if ``above``),
    linearly interpolated, and the index of the first point past it: ``(nan, -1)`` if never,
    ``(times[0], 0)`` if already at the start."""
    sign = (values - threshold) * (1 if above else -1)
    idx = np.nonzero(sign > 0)[0]
    if idx.size == 0:
        return float("nan"), -1
    i = idx[0]
    if i == 0:
        return float(times[0]), 0
    s0, s1 = sign[i - 1], sign[i]
    return float(times[i - 1] + (times[i] - times[i - 1]) * (-s0) / (s1 - s0)), i


def exact_onset(system, sigma0, mean0, name, t_max, *, sel, n_grid=600, sigma_inf=None
                ) -> float:
    """Exact onset time of ``name`` (see :func:`indicator`), refined by bisection.

    ``sel`` holds the quadrature indices (A first) of the two modes measured; ``sigma_inf``
    the steady state if known (solved once otherwise).
    """
    func, thr, above = indicator(name)
    ix = np.ix_(sel, sel)
    if sigma_inf is None and system.is_stable:
        sigma_inf = steady_state(system)

    def value(t):
        _, c = transient(system, [t], sigma0, mean0, sigma_inf)
        return func(c[0][ix])

    grid = np.concatenate([[0.0], np.geomspace(1e-3, t_max, n_grid)])
    _, covs = transient(system, grid, sigma0, mean0, sigma_inf)
    vals = np.array([func(c[ix]) for c in covs])
    t, i = first_crossing(grid, vals, thr, above)
    if i <= 0:
        return t
    lo, hi = grid[i - 1], grid[i]
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if ((value(mid) - thr) > 0) == above:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Onset:
    """Onset time of a correlation: exact, and from the ensemble with a confidence interval.

    ``(sample_low, sample_high]`` runs from the last record at which the sample is still
    confidently on the uncorrelated side to the first at which it is confidently past the
    threshold (each a one-sided test at ``confidence`` on that record); see
    :func:`sample_onset`.
    """

    name: str
    exact: float
    sample: float
    sample_low: float
    sample_high: float
    confidence: float

    def brackets_exact(self) -> bool:
        return bool(self.sample_low < self.exact <= self.sample_high)


def sample_onset(times, values, stderr, name, confidence=0.99) -> tuple[float, float, float]:
    """Onset from sampled values ± SE: ``(point, low, high)`` (see :class:`Onset`).

    ``high`` is the first record at which the sample is confidently past the threshold (the
    onset is no later); ``low`` the last record before it at which the sample is confidently
    on the uncorrelated side (the onset is later), or the first record time if there is none
    (a state that starts on the threshold, like a product state with a vacuum mode, cannot be
    resolved earlier). ``point`` is the last threshold crossing of the sample before ``high``,
    linearly interpolated. NaNs where the sample never becomes confidently correlated.
    """
    _, thr, above = indicator(name)
    zq = NormalDist().inv_cdf(confidence)  # one-sided: "confidently past" or "short"
    sgn = 1.0 if above else -1.0
    signed = sgn * (values - thr)
    past = signed - zq * stderr > 0
    hi_idx = np.nonzero(past)[0]
    if hi_idx.size == 0:
        return float("nan"), float("nan"), float("nan")
    h = hi_idx[0]
    before = np.nonzero(signed[:h] + zq * stderr[:h] < 0)[0]
    low = float(times[before[-1]]) if before.size else float(times[0])
    not_past = np.nonzero(signed[:h + 1] <= 0)[0]
    if not_past.size == 0:
        point = float(times[0])
    else:
        i = not_past[-1]
        s0, s1 = signed[i], signed[i + 1]
        point = float(times[i] + (times[i + 1] - times[i]) * (-s0) / (s1 - s0))
    return point, low, float(times[h])
