import math

import numpy as np
import pytest

from langevin_sim.models.cascade import CascadeParameters, build_system, drive_coupling
from langevin_sim.systems.linear import LinearSystem


def test_defaults_are_the_papers():
    p = CascadeParameters()
    assert (p.kappa1, p.kappa2, p.delta1, p.delta2, p.delta_m) == (10, 10, 1, -1, -1)
    assert (p.g_ab, p.g_am, p.eta, p.T) == (0.5, 1.0, 1.0, 0.03)
    assert p.gamma_b == pytest.approx(100 / 10e6) and p.gamma_m == pytest.approx(1.5e6 / 10e6)
    f1, f2 = p.cavity_frequencies_hz
    assert f2 == pytest.approx(p.f_m_hz) and f1 == pytest.approx(p.f_m_hz + 2 * p.omega_b_hz)
    occ = p.occupations
    assert occ["b_in"] == pytest.approx(62.0, abs=0.05)
    for k in ("m_in", "a1_in", "a_eta_in"):
        assert occ[k] == pytest.approx(1.1e-7, rel=0.05)


def test_eigenvalues_match_model_md(default_system):
    ev = default_system.eigenvalues
    expected = [-0.0069 + 0.98j, -0.287 + 1.0j, -4.79 + 1.0j, -4.99 + 0.98j]
    for z in expected:
        assert np.min(np.abs(ev - z)) < 0.01
    assert default_system.slowest_rate == pytest.approx(0.00694, abs=1e-4)
    assert default_system.fastest_rate == pytest.approx(4.99, abs=0.01)


def test_drift_blocks_follow_model_md():
    p = CascadeParameters(kappa1=3.0, kappa2=5.0, eta=0.36, g_ab=0.7, g_am=1.3)
    a = build_system(p).drift
    assert np.allclose(a[2:4, 0:2], -math.sqrt(0.36 * 15) * np.eye(2))  # A21 cascade
    assert np.all(a[0:2, 2:4] == 0)  # A12 = 0: unidirectional
    assert np.allclose(a[0:2, 4:6], [[0, 0], [-1.4, 0]])  # A13 radiation pressure
    assert np.allclose(a[4:6, 0:2], [[0, 0], [-1.4, 0]])
    assert np.allclose(a[2:4, 6:8], [[0, 1.3], [-1.3, 0]])  # beam splitter


def test_cascade_noise_is_shared_and_diffusion_is_singular_at_eta_one():
    s = build_system(CascadeParameters(eta=1.0))
    b = s.noise_input
    # the same column (a1_in) drives x1 and x2
    assert b[0, 0] != 0 and b[2, 0] != 0
    d = s.diffusion
    # D12 = sqrt(η κ1 κ2)(n̄1 + 1/2) I  (docs/physics.md correction 3)
    n1 = s.occupations[0]
    assert np.allclose(d[0:2, 2:4], math.sqrt(100) * (n1 + 0.5) * np.eye(2))
    w = np.linalg.eigvalsh(d)
    assert w[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(w > -1e-12)


def test_drive_coupling_gives_about_half_omega_b():
    p = CascadeParameters()
    f1 = p.cavity_frequencies_hz[0]
    g = drive_coupling(g0_hz=150.0, drive_power_w=1e-6, kappa1_hz=100e6, delta1_hz=10e6,
                       cavity_frequency_hz=f1)
    assert 0.4 < g / 10e6 < 0.6
    q = CascadeParameters.from_physical(g0_ab_hz=150.0, drive_power_w=1e-6)
    assert q.g_ab == pytest.approx(g / 10e6)
    assert q.kappa1 == pytest.approx(10.0) and q.gamma_b == pytest.approx(1e-5)
    # power scales g² linearly
    q4 = CascadeParameters.from_physical(g0_ab_hz=150.0, drive_power_w=4e-6)
    assert q4.g_ab == pytest.approx(2 * q.g_ab)


def test_from_physical_with_direct_coupling_equals_defaults():
    q = CascadeParameters.from_physical(g_ab_hz=5e6)
    assert q == CascadeParameters()


@pytest.mark.parametrize("name, value, match", [
    ("kappa1", -1.0, "kappa1.*>= 0"),
    ("gamma_m", -0.1, "gamma_m.*>= 0"),
    ("eta", 1.5, r"eta.*\[0, 1\]"),
    ("eta", -0.1, r"eta.*\[0, 1\]"),
    ("T", -0.01, "T .*>= 0"),
    ("T_b", -1.0, "T_b.*>= 0"),
    ("g_ab", float("nan"), "g_ab must be finite"),
    ("delta1", float("inf"), "delta1 must be finite"),
    ("omega_b_hz", 0.0, "omega_b_hz.*> 0"),
    ("kappa2", "ten", "kappa2 must be a real number"),
])
def test_bad_parameters_raise_naming_the_parameter(name, value, match):
    with pytest.raises(ValueError, match=match):
        CascadeParameters(**{name: value})


def test_replace_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown parameter.*kapa1.*allowed"):
        CascadeParameters().replace(kapa1=1.0)


def test_per_bath_temperatures():
    p = CascadeParameters(T=0.03, T_b=0.3)
    assert p.temperatures["b_in"] == 0.3 and p.temperatures["m_in"] == 0.03
    assert p.occupations["b_in"] > 600


def test_linear_system_validation():
    a = -np.eye(4)
    b = np.eye(4)
    with pytest.raises(ValueError, match="occupations"):
        LinearSystem(a, b, np.zeros(3), ("u", "v"))
    with pytest.raises(ValueError, match="mode_labels"):
        LinearSystem(a, b, np.zeros(4), ("u",))
    with pytest.raises(ValueError, match="occupations must be >= 0"):
        LinearSystem(a, b, -np.ones(4), ("u", "v"))
    s = LinearSystem(a, b, np.zeros(4), ("u", "v"))
    with pytest.raises(ValueError, match="unknown mode 'w'"):
        s.mode_index("w")
    assert s.drift.flags.writeable is False


def test_every_kind_of_model_implements_the_protocol():
    from langevin_sim.gaussian import steady_state
    from langevin_sim.models import FixedSystem, Model, as_model, load_model

    system = build_system()
    models = [CascadeParameters(), load_model("cascade"), load_model("cascade-full"),
              as_model(system)]
    assert isinstance(models[-1], FixedSystem)
    for model in models:
        assert isinstance(model, Model), type(model)
        assert model.pair() == ("b", "m")  # each model's own default pair
        lang = model.build()
        assert lang.mode_labels == model.mode_labels
    # the dataclass, the description and the bare system are one linear model
    sigma = steady_state(system)
    for model in (models[0], models[1], models[3]):
        np.testing.assert_allclose(steady_state(model.linear_system()), sigma, rtol=1e-12,
                                   atol=1e-14)
        np.testing.assert_array_equal(model.build().linear_system().drift, system.drift)
    # a bare system that names no pair: one must be given
    from dataclasses import replace

    assert FixedSystem(load_model("cascade-full").linear_system()).pair() == ("b", "m")
    bare = FixedSystem(replace(system, default_pair=None))
    assert bare.default_pair is None
    with pytest.raises(ValueError, match="name the two modes"):
        bare.pair()
    assert bare.pair(("a1", "b")) == ("a1", "b")
    # negative control: an object without the members is not a model
    with pytest.raises(ValueError, match="not a model"):
        as_model(object())


def test_a_linear_system_keeps_its_default_pair_valid():
    s = build_system()
    with pytest.raises(ValueError, match="default_pair"):
        LinearSystem(s.drift, s.noise_input, s.occupations, s.mode_labels, s.noise_labels,
                     ("b", "q"))
    assert s.with_noise_input(s.noise_input).default_pair == ("b", "m")
