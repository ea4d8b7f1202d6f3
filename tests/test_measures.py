import math

import numpy as np
import pytest
from scipy.optimize import minimize

from langevin_sim.measures import (
    duan_product,
    gaussian_steerability,
    log_negativity,
    measures,
    reid_steering,
    swap_modes,
    two_mode_measures,
)

from .conftest import tmsv

PAIR = ("b", "m")  # the names the closed forms below are written with


def random_physical_state(rng, n_thermal=(0.0, 1.0)):
    """Random two-mode Gaussian state: a random symplectic acting on a thermal state."""
    from scipy.linalg import expm

    from langevin_sim.conventions import symplectic_form
    om = symplectic_form(2)
    h = rng.normal(size=(4, 4))
    h = 0.4 * (h + h.T)
    s = expm(om @ h)
    nu = rng.uniform(*n_thermal, size=2) + 0.5
    return s @ np.diag(np.repeat(nu, 2)) @ s.T


@pytest.mark.parametrize("r", [0.05, 0.3, 0.7, 1.2])
def test_two_mode_squeezed_vacuum_closed_forms(r):
    m = two_mode_measures(tmsv(r), pair=PAIR)
    assert m.physical
    assert m.E_N == pytest.approx(2 * r, rel=1e-10)
    assert m.E_bm == pytest.approx(math.exp(-4 * r), rel=1e-8)
    assert m.S_m_given_b == pytest.approx(1 / math.cosh(2 * r) ** 2, rel=1e-8)
    assert m.S_b_given_m == pytest.approx(1 / math.cosh(2 * r) ** 2, rel=1e-8)
    assert m.G_b_to_m == pytest.approx(math.log(math.cosh(2 * r)), rel=1e-10)
    assert m.G_m_to_b == pytest.approx(math.log(math.cosh(2 * r)), rel=1e-10)


@pytest.mark.parametrize("n", [0.0, 0.3, 5.0])
def test_product_thermal_states_have_no_correlations(n):
    sigma = np.diag([n + 0.5, n + 0.5, 2 * n + 0.5, 2 * n + 0.5])
    m = two_mode_measures(sigma, pair=PAIR)
    assert m.E_N == 0 and m.G_b_to_m == 0 and m.G_m_to_b == 0
    assert m.E_bm >= 1 - 1e-9 and m.S_m_given_b >= 1 - 1e-9 and m.S_b_given_m >= 1 - 1e-9


def test_classically_correlated_states_are_not_entangled():
    rng = np.random.default_rng(3)
    for _ in range(20):
        # separable: vacuum-or-hotter local states plus a classical (PSD) correlated noise
        g = rng.normal(size=(4, 2))
        sigma = np.diag(rng.uniform(0.5, 1.5, 4).repeat(1)) * 0 + 0.5 * np.eye(4) + g @ g.T
        m = two_mode_measures(sigma, pair=PAIR)
        assert m.physical
        assert m.E_N == 0
        assert m.E_bm >= 1 - 1e-9


def test_duan_is_symmetric_and_reid_swaps_direction():
    rng = np.random.default_rng(4)
    for _ in range(10):
        s = random_physical_state(rng)
        assert duan_product(s) == pytest.approx(duan_product(swap_modes(s)), rel=1e-7)
        assert log_negativity(s) == pytest.approx(log_negativity(swap_modes(s)), abs=1e-12)
        m = two_mode_measures(s, pair=PAIR)
        ms = two_mode_measures(swap_modes(s), pair=PAIR)
        assert m.S_m_given_b == pytest.approx(ms.S_b_given_m, rel=1e-7)
        assert m.G_b_to_m == pytest.approx(ms.G_m_to_b, abs=1e-12)


def _duan_bruteforce(s):
    def f(v):
        tm, tb, lx, ly = v
        ux = np.array([0, 0, math.cos(tm), math.sin(tm)])
        ub = np.array([math.cos(tb), math.sin(tb), 0, 0])
        vx = np.array([0, 0, -math.sin(tm), math.cos(tm)])
        vb = np.array([-math.sin(tb), math.cos(tb), 0, 0])
        fx, fy = math.exp(lx), math.exp(ly)
        a = ux + fx * ub
        b = vx - fy * vb
        return 4 * (a @ s @ a) * (b @ s @ b) / (1 + fx * fy) ** 2
    rng = np.random.default_rng(0)
    best = np.inf
    for _ in range(60):
        x0 = [rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi), rng.normal(), rng.normal()]
        best = min(best, minimize(f, x0, method="Nelder-Mead",
                                  options={"xatol": 1e-10, "fatol": 1e-13,
                                           "maxiter": 4000}).fun)
    return best


def test_duan_matches_brute_force_minimisation():
    rng = np.random.default_rng(5)
    for _ in range(6):
        s = random_physical_state(rng, (0.0, 0.3))
        ours = duan_product(s)
        brute = _duan_bruteforce(s)
        assert ours <= brute * (1 + 1e-6)  # never worse than the brute-force search
        assert ours == pytest.approx(brute, rel=1e-5)


def _reid_bruteforce(s, independent):
    def vinf(u, v):
        return u @ s @ u - (u @ s @ v) ** 2 / (v @ s @ v)

    def f(ang):
        tm, tb1, tb2 = ang if independent else (ang[0], ang[1], ang[1])
        xm = np.array([0, 0, math.cos(tm), math.sin(tm)])
        pm = np.array([0, 0, -math.sin(tm), math.cos(tm)])
        xb = np.array([math.cos(tb1), math.sin(tb1), 0, 0])
        pb = np.array([-math.sin(tb2), math.cos(tb2), 0, 0])
        return 4 * vinf(xm, xb) * vinf(pm, pb)
    grid = np.linspace(0, np.pi, 41)[:-1]
    if independent:
        vals = [f((a, b, c)) for a in grid for b in grid for c in grid]
        x0 = [(a, b, c) for a in grid for b in grid for c in grid][int(np.argmin(vals))]
    else:
        vals = [f((a, b)) for a in grid for b in grid]
        x0 = [(a, b) for a in grid for b in grid][int(np.argmin(vals))]
    return minimize(f, x0, method="Nelder-Mead", options={"xatol": 1e-11, "fatol": 1e-14}).fun


def test_reid_matches_brute_force_and_independent_variant_is_closed_form():
    rng = np.random.default_rng(6)
    for _ in range(4):
        s = random_physical_state(rng, (0.0, 0.2))
        assert reid_steering(s) == pytest.approx(_reid_bruteforce(s, False), rel=1e-6)
        indep = reid_steering(s, independent_angles=True)
        assert indep == pytest.approx(_reid_bruteforce(s, True), rel=1e-6)
        assert indep <= reid_steering(s) * (1 + 1e-9)
        g = gaussian_steerability(s)
        if g > 0:
            assert indep == pytest.approx(math.exp(-2 * g), rel=1e-9)


def test_full_covariance_mode_selection(default_system):
    from langevin_sim.gaussian import steady_state
    sigma = steady_state(default_system)
    m = measures(sigma, default_system)  # default (b, m)
    idx = [4, 5, 6, 7]
    m2 = two_mode_measures(sigma[np.ix_(idx, idx)], pair=PAIR)
    assert m == m2
    m3 = measures(sigma, default_system, modes=("m", "b"))
    # names follow the pair: swapping the modes swaps the roles, not the meaning of a name
    assert m3.names == ("E_N", "E_mb", "S_b_given_m", "S_m_given_b", "G_m_to_b", "G_b_to_m")
    for k, k3 in zip(m.names, ("E_N", "E_mb", "S_m_given_b", "S_b_given_m", "G_b_to_m",
                               "G_m_to_b")):
        assert m3[k3] == pytest.approx(m[k], rel=1e-8, abs=1e-12)
    with pytest.raises(ValueError, match="unknown mode"):
        measures(sigma, default_system, modes=("b", "q"))
    with pytest.raises(ValueError, match="two different modes"):
        measures(sigma, default_system, modes=("b", "b"))


def test_unphysical_sample_is_flagged():
    s = tmsv(0.5)
    s[0, 0] -= 0.4
    m = two_mode_measures(s, pair=PAIR)
    assert not m.physical and m.physicality_margin < 0


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match=r"shape \(4, 4\)"):
        two_mode_measures(np.eye(3))
    with pytest.raises(ValueError, match="finite"):
        two_mode_measures(np.full((4, 4), np.nan))


def test_the_default_pair_comes_from_the_system_or_is_asked_for(default_system):
    from dataclasses import replace

    from langevin_sim.gaussian import steady_state

    sigma = steady_state(default_system)
    assert default_system.default_pair == ("b", "m")  # the cascade model's, from its TOML
    assert measures(sigma, default_system).pair == ("b", "m")
    bare = replace(default_system, default_pair=None)
    with pytest.raises(ValueError, match="name the two modes"):
        measures(sigma, bare)
    assert measures(sigma, bare, modes=("a1", "m")).pair == ("a1", "m")
    # an unlabelled two-mode covariance names its modes A and B
    assert two_mode_measures(tmsv(0.3)).names[1:3] == ("E_AB", "S_B_given_A")
