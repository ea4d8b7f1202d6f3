"""The engine's normal generator (xoshiro256++ bits, ziggurat transform), tested statistically.

Every tolerance is k standard errors of the statistic (k = 5: a correct generator fails one of
these checks with probability below 1e-5 each)."""

import numpy as np
import pytest
from scipy import stats

from langevin_sim._kernels.random import R, fill_normals, seed_state

K = 5.0
N = 4_000_000


@pytest.fixture(scope="module")
def draws():
    z = np.empty((4, N // 4))
    fill_normals(z, 4, seed_state(np.random.SeedSequence(12345)))
    return z.ravel()


def test_moments(draws):
    n = draws.size
    assert abs(draws.mean()) < K / np.sqrt(n)
    assert abs(draws.var() - 1) < K * np.sqrt(2 / n)
    assert abs(stats.skew(draws)) < K * np.sqrt(6 / n)
    assert abs(stats.kurtosis(draws)) < K * np.sqrt(24 / n)


@pytest.mark.parametrize("c", [0.5, 1.0, 2.0, 3.0, R, 4.0])
def test_tail_fractions_including_beyond_the_ziggurat_base(draws, c):
    """Counts beyond c (including the tail |x| > R, drawn by rejection) are binomial."""
    p = 2 * stats.norm.sf(c)
    count = np.count_nonzero(np.abs(draws) > c)
    assert abs(count - p * draws.size) < K * np.sqrt(draws.size * p * (1 - p))


def test_histogram_and_independence_of_neighbours(draws):
    edges = np.linspace(-4.5, 4.5, 91)
    h, _ = np.histogram(draws, edges)
    expected = np.diff(stats.norm.cdf(edges)) * draws.size
    chi2 = np.sum((h - expected) ** 2 / expected)
    assert stats.chi2.sf(chi2, edges.size - 2) > 1e-5
    lag1 = np.mean(draws[1:] * draws[:-1])  # successive draws uncorrelated
    assert abs(lag1) < K / np.sqrt(draws.size)


def test_streams_are_reproducible_and_distinct():
    def draw(entropy, spawn):
        z = np.empty((2, 1000))
        fill_normals(z, 2, seed_state(np.random.SeedSequence(entropy).spawn(spawn + 1)[spawn]))
        return z

    assert np.array_equal(draw(7, 0), draw(7, 0))
    a, b = draw(7, 0).ravel(), draw(7, 1).ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < K / np.sqrt(a.size)


def test_rows_beyond_the_requested_are_untouched():
    z = np.full((3, 10), 99.0)
    fill_normals(z, 2, seed_state(np.random.SeedSequence(1)))
    assert np.all(z[2] == 99.0) and np.all(z[:2] != 99.0)
