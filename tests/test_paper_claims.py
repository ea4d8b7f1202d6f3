"""The paper's claims (docs/physics.md) that the analytic steady state can check."""

import numpy as np

from langevin_sim.gaussian import steady_state
from langevin_sim.measures import measures
from langevin_sim.models.cascade import CascadeParameters, build_system


def _m(**kw):
    s = build_system(CascadeParameters(**kw))
    return measures(steady_state(s), s)


def test_one_way_steering_phonons_to_magnons_at_defaults():
    m = _m()
    assert m.E_N > 0 and m.E_bm < 1
    assert m.S_m_given_b < 1 < m.S_b_given_m
    assert m.G_b_to_m > 0 and m.G_m_to_b == 0


def test_magnon_detuning_minus_omega_b_is_optimal():
    grid = np.round(np.arange(-1.6, -0.39, 0.05), 10)
    e = [_m(delta_m=d).E_bm for d in grid]
    s = [_m(delta_m=d).S_m_given_b for d in grid]
    assert abs(grid[int(np.argmin(e))] + 1) <= 0.05
    assert abs(grid[int(np.argmin(s))] + 1) <= 0.05


def test_entanglement_survives_above_100_mK_at_half_efficiency_and_outlives_steering():
    m = _m(eta=0.5, T=0.1)
    assert m.E_N > 0 and m.E_bm < 1 and m.S_m_given_b < 1
    # between the steering and entanglement thresholds: entangled, not steerable
    m = _m(eta=0.5, T=0.25)
    assert m.E_N > 0 and m.S_m_given_b > 1
