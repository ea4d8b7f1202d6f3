import warnings

import numpy as np
import pytest

from langevin_sim.conventions import (
    BOLTZMANN_K,
    PLANCK_H,
    from_vacuum_one,
    is_physical,
    physicality_margin,
    symplectic_form,
    thermal_occupation,
    to_vacuum_one,
    xxpp_to_xpxp,
)


def test_symplectic_form_is_antisymmetric_and_squares_to_minus_one():
    om = symplectic_form(4)
    assert np.array_equal(om, -om.T)
    assert np.array_equal(om @ om, -np.eye(8))
    assert om[0, 1] == 1 and om[1, 0] == -1 and om[0, 3] == 0


def test_thermal_occupation_matches_bose_einstein():
    f, t = 10e6, 0.03
    x = PLANCK_H * f / (BOLTZMANN_K * t)
    assert thermal_occupation(f, t) == pytest.approx(1 / (np.exp(x) - 1), rel=1e-14)
    # the paper's numbers (docs/physics.md): n_b ≈ 62.0 at 10 MHz, n_m ≈ 1.1e-7 at 10 GHz, 30 mK
    assert thermal_occupation(10e6, 0.03) == pytest.approx(62.0, abs=0.05)
    assert thermal_occupation(10e9, 0.03) == pytest.approx(1.13e-7, rel=0.01)


def test_zero_and_tiny_temperatures_give_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert thermal_occupation(10e9, 0.0) == 0.0
        assert thermal_occupation(10e9, 1e-6) == 0.0
        assert thermal_occupation(10e9, 1e-3) == pytest.approx(np.exp(-480.0), rel=1e-2)
        arr = thermal_occupation(np.array([10e9, 10e6]), np.array([0.0, 1e-9]))
        assert np.array_equal(arr, [0.0, 0.0])


@pytest.mark.parametrize("f, t", [(-1.0, 0.1), (0.0, 0.1), (1e9, -0.1), (np.nan, 0.1),
                                  (1e9, np.inf)])
def test_thermal_occupation_rejects_bad_input(f, t):
    with pytest.raises(ValueError, match="frequency_hz|temperature_k"):
        thermal_occupation(f, t)


def test_vacuum_is_physical_and_below_vacuum_is_not():
    assert is_physical(0.5 * np.eye(4))
    assert physicality_margin(0.5 * np.eye(4)) == pytest.approx(0.0, abs=1e-15)
    assert not is_physical(0.4 * np.eye(4))
    squeezed = np.diag([0.5 * np.exp(-1), 0.5 * np.exp(1)])
    assert is_physical(squeezed)
    assert not is_physical(np.diag([0.2, 0.5]))


def test_convention_converters_round_trip():
    rng = np.random.default_rng(1)
    m = rng.normal(size=(4, 4))
    s = m @ m.T
    assert np.allclose(from_vacuum_one(to_vacuum_one(s)), s)
    xxpp = np.diag([1.0, 2.0, 3.0, 4.0])  # x1, x2, p1, p2
    assert np.array_equal(np.diag(xxpp_to_xpxp(xxpp)), [1.0, 3.0, 2.0, 4.0])
