"""Models as data: the description, its TOML form, the drift it derives, mean fields and
linearisation, checked against closed forms and an independent transcription of docs/physics.md."""

import math

import numpy as np
import pytest
from scipy.linalg import expm

from langevin_sim.conventions import thermal_occupation
from langevin_sim.errors import UnphysicalStateError
from langevin_sim.gaussian import steady_state
from langevin_sim.measures import measures
from langevin_sim.models import (
    CascadeParameters,
    Damping,
    Mode,
    ModelDescription,
    ModelError,
    Term,
    build_system,
    library_models,
    load_model,
)
from langevin_sim.models.description import Cascade

from .conftest import random_parameters, tmsv


def reference_cascade(p: CascadeParameters):
    """A, B, n̄ of the linearised cascade typed in from docs/physics.md, independently of the
    package."""
    a = np.zeros((8, 8))

    def block(i, j, m):
        a[2 * i:2 * i + 2, 2 * j:2 * j + 2] = m

    block(0, 0, [[-p.kappa1 / 2, p.delta1], [-p.delta1, -p.kappa1 / 2]])
    block(1, 1, [[-p.kappa2 / 2, p.delta2], [-p.delta2, -p.kappa2 / 2]])
    block(2, 2, [[-p.gamma_b / 2, 1.0], [-1.0, -p.gamma_b / 2]])
    block(3, 3, [[-p.gamma_m / 2, p.delta_m], [-p.delta_m, -p.gamma_m / 2]])
    block(0, 2, [[0.0, 0.0], [-2 * p.g_ab, 0.0]])
    block(2, 0, [[0.0, 0.0], [-2 * p.g_ab, 0.0]])
    block(1, 3, [[0.0, p.g_am], [-p.g_am, 0.0]])
    block(3, 1, [[0.0, p.g_am], [-p.g_am, 0.0]])
    block(1, 0, -math.sqrt(p.eta * p.kappa1 * p.kappa2) * np.eye(2))
    b = np.zeros((8, 8))
    i2 = np.eye(2)
    b[0:2, 0:2] = -math.sqrt(p.kappa1) * i2
    b[2:4, 0:2] = -math.sqrt(p.eta * p.kappa2) * i2
    b[2:4, 2:4] = -math.sqrt((1 - p.eta) * p.kappa2) * i2
    b[4:6, 4:6] = -math.sqrt(p.gamma_b) * i2
    b[6:8, 6:8] = -math.sqrt(p.gamma_m) * i2
    fd = p.f_m_hz - p.delta_m * p.omega_b_hz
    temps = [p.T if t is None else t for t in (p.T1, p.T_eta, p.T_b, p.T_m)]
    freqs = [fd + p.delta1 * p.omega_b_hz, fd + p.delta2 * p.omega_b_hz, p.omega_b_hz, p.f_m_hz]
    nbar = np.repeat([thermal_occupation(f, t) for f, t in zip(freqs, temps)], 2)
    d = b @ np.diag(nbar + 0.5) @ b.T
    return a, b, nbar, d


def test_shipped_models_are_listed():
    assert {"cascade", "cascade-full", "optomech"} <= set(library_models())


@pytest.mark.parametrize("seed", range(40))
def test_description_reproduces_the_cascade_at_random_points(seed):
    p = random_parameters(np.random.default_rng(seed))
    a, b, nbar, d = reference_cascade(p)
    for system in (build_system(p), load_model("cascade").replace(
            **{k: v for k, v in p.as_dict().items() if v is not None}).linear_system()):
        np.testing.assert_allclose(system.drift, a, rtol=0, atol=1e-14 * np.abs(a).max())
        np.testing.assert_allclose(system.noise_input, b, rtol=0, atol=1e-14)
        np.testing.assert_allclose(system.diffusion, d, rtol=1e-14, atol=1e-14 * np.abs(d).max())
        np.testing.assert_allclose(system.occupations, nbar, rtol=1e-14, atol=0)


def test_default_cascade_is_bit_identical_to_the_reference():
    a, b, nbar, _ = reference_cascade(CascadeParameters())
    s = build_system()
    assert np.array_equal(s.drift, a) and np.array_equal(s.noise_input, b)
    assert np.array_equal(s.occupations, nbar)
    assert s.noise_labels == ("a1_in", "a_eta_in", "b_in", "m_in")


# -- the full cascade (paper Eq. 1) -------------------------------------------------------------
@pytest.mark.parametrize("changes", [{}, {"g0": 1e-3}, {"delta1": 0.3, "g_ab": 0.8},
                                     {"eta": 0.4, "T": 0.2, "kappa1": 6.0, "g0": 2e-4}])
def test_linearising_cascade_full_gives_the_linear_cascade(changes):
    full = load_model("cascade-full").replace(**changes)
    linear = load_model("cascade").replace(**{k: v for k, v in changes.items() if k != "g0"})
    states = full.build().mean_field_states()
    assert len(states) == 1 and states[0].stable
    mf = states[0]
    alpha = mf.amplitudes["a1"]
    values = full.parameter_values()
    assert alpha.real == pytest.approx(values["g_ab"] / values["g0"], rel=1e-10)
    assert abs(alpha.imag) < 1e-9 * abs(alpha)
    assert mf.effective_detunings["a1"] == pytest.approx(values["delta1"], abs=1e-10)
    ls, ref = full.linear_system(), linear.linear_system()
    np.testing.assert_allclose(ls.drift, ref.drift, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ls.noise_input, ref.noise_input)
    np.testing.assert_array_equal(ls.occupations, ref.occupations)


def test_cascade_full_radiation_pressure_shift_matches_model_md():
    v = load_model("cascade-full").parameter_values()
    # δ1 - Δ1 = 2 g_ab² ω_b/(ω_b² + γ_b²/4) ≈ 0.5 ω_b at the defaults, whatever g0 is
    assert v["delta1_bare"] - v["delta1"] == pytest.approx(2 * 0.25 / (1 + 1e-10 / 4), rel=1e-14)
    beta = load_model("cascade-full").build().mean_field_states()[0].amplitudes["b"]
    n = (v["g_ab"] / v["g0"]) ** 2
    expected = -1j * v["g0"] * n / (v["gamma_b"] / 2 + 1j)  # β = -i g0 |α|²/(γ_b/2 + iω_b)
    assert beta == pytest.approx(expected, rel=1e-9)


# -- mean-field branches: the cubic of docs/physics.md -------------------------------------------
def cubic_photon_numbers(kappa, delta, g0, drive, gamma=1e-4):
    """Positive real roots n of n[(κ/2)² + (δ - K n)²] = |E|², K = 2 g0² ω/(ω² + γ²/4)."""
    k = 2 * g0**2 / (1 + gamma**2 / 4)
    roots = np.roots([k**2, -2 * delta * k, (kappa / 2) ** 2 + delta**2, -drive**2])
    return np.sort([r.real for r in roots if abs(r.imag) < 1e-6 * abs(r) and r.real > 0])


def bistable_window(kappa, delta, g0, gamma=1e-4):
    """Drive amplitudes (E_low, E_high) between which the cubic has three positive roots: its
    turning points K n = [2δ ± sqrt(δ² - 3κ²/4)]/3 (none unless δ > √3 κ/2)."""
    k = 2 * g0**2 / (1 + gamma**2 / 4)
    disc = delta**2 - 3 * kappa**2 / 4
    if disc <= 0:
        return None
    u = np.array([2 * delta + math.sqrt(disc), 2 * delta - math.sqrt(disc)]) / 3
    e2 = (u / k) * ((kappa / 2) ** 2 + (delta - u) ** 2)
    return tuple(np.sqrt(np.sort(e2)))


@pytest.mark.parametrize("delta, where, n_branches", [
    (1.1, "inside", 3), (1.1, "below", 1), (1.1, "above", 1), (3.0, "inside", 3),
    (0.95, "inside", 3), (3.0, "below", 1),
])
def test_mean_field_branches_are_the_roots_of_the_cubic(delta, where, n_branches):
    v = load_model("optomech").parameter_values()
    lo, hi = bistable_window(v["kappa"], delta, v["g0"], v["gamma"])
    drive = {"inside": math.sqrt(lo * hi), "below": 0.7 * lo, "above": 1.3 * hi}[where]
    model = load_model("optomech").replace(delta_bare=delta, drive=drive)
    system = model.build()
    states = system.mean_field_states()
    roots = cubic_photon_numbers(v["kappa"], delta, v["g0"], drive, v["gamma"])
    assert len(roots) == n_branches == len(states)
    np.testing.assert_allclose([s.quanta["a"] for s in states], roots, rtol=1e-8)
    for s in states:
        assert s.residual < 1e-12
        # a direct check of the steady state: the mean-field drift vanishes there
        f = system.drift(s.state, ordering="mean-field")
        assert np.max(np.abs(f)) < 1e-9 * max(1.0, np.max(np.abs(s.state)))
    if n_branches == 3:
        assert not states[1].stable  # the middle branch of a bistable case is unstable
        assert states[0].stable


def test_no_bistability_below_sqrt3_kappa_over_2():
    v = load_model("optomech").parameter_values()
    assert bistable_window(v["kappa"], 0.85, v["g0"]) is None  # √3/2 = 0.866 (κ = 1)
    for e in np.geomspace(100, 1e5, 60):
        assert len(load_model("optomech").replace(delta_bare=0.85, drive=e).build()
                   .mean_field_states()) == 1


def test_linear_system_picks_the_stable_branch_and_reports_none():
    model = load_model("optomech").replace(delta_bare=3.0, drive=9000.0)
    states = model.build().mean_field_states()
    stable = [s for s in states if s.stable]
    np.testing.assert_allclose(model.linear_system().drift,
                               model.build().jacobian(stable[0].state))
    with pytest.raises(ValueError, match="branch must be in"):
        model.linear_system(branch=len(stable))


# -- each Hamiltonian term against its closed-form evolution (no damping) ------------------------
def _lossless(terms, modes=("a", "b")):
    return ModelDescription("t", tuple(Mode(m) for m in modes), tuple(terms),
                            damping=tuple(Damping(m, 0.0) for m in modes)).build()


def _evolve(system, sigma0, t):
    u = expm(system.linear * t)
    return u @ sigma0 @ u.T


def test_two_mode_squeezing_makes_a_two_mode_squeezed_vacuum():
    g, t = 0.7, 0.5
    s = _lossless([Term("two_mode_squeezing", ("a", "b"), g)])
    sigma = _evolve(s, 0.5 * np.eye(4), t)
    assert measures(sigma).E_N == pytest.approx(2 * g * t, rel=1e-10)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(sigma)),
                               np.sort(np.linalg.eigvalsh(tmsv(g * t))), rtol=1e-10)


def test_single_mode_squeezing_rate():
    g, t = 0.3, 1.2
    s = _lossless([Term("squeezing", ("a",), g)], modes=("a",))
    ev = np.linalg.eigvalsh(_evolve(s, 0.5 * np.eye(2), t))
    np.testing.assert_allclose(ev, [0.5 * np.exp(-2 * g * t), 0.5 * np.exp(2 * g * t)],
                               rtol=1e-10)


def test_beam_splitter_swaps_the_modes_at_quarter_period():
    g = 0.4
    s = _lossless([Term("beam_splitter", ("a", "b"), g)])
    sigma0 = np.diag([1.5, 1.5, 0.5, 0.5])  # a thermal (n̄ = 1), b vacuum
    np.testing.assert_allclose(_evolve(s, sigma0, np.pi / (2 * g)), np.diag([0.5, 0.5, 1.5, 1.5]),
                               atol=1e-12)


def test_detuning_rotates_and_position_coupling_kicks_momenta():
    s = _lossless([Term("detuning", ("a",), 0.9)], modes=("a",))
    t = 0.7
    np.testing.assert_allclose(expm(s.linear * t),
                               [[np.cos(0.9 * t), np.sin(0.9 * t)],
                                [-np.sin(0.9 * t), np.cos(0.9 * t)]], atol=1e-14)
    s = _lossless([Term("position_coupling", ("a", "b"), 0.3)])
    u = expm(s.linear * 2.0)  # x's conserved, p_a -= 2 g t x_b, p_b -= 2 g t x_a
    expected = np.eye(4)
    expected[1, 2] = expected[3, 0] = -2 * 0.3 * 2.0
    np.testing.assert_allclose(u, expected, atol=1e-14)


def _numerical_flow(h, x, eps=1e-6):
    """Ω ∇H by central differences: the classical (truncated Wigner) drift of a Hamiltonian."""
    grad = np.array([(h(x + eps * e) - h(x - eps * e)) / (2 * eps) for e in np.eye(x.size)])
    omega = np.kron(np.eye(x.size // 2), [[0.0, 1.0], [-1.0, 0.0]])
    return omega @ grad


@pytest.mark.parametrize("ordering", ["weyl", "mean-field"])
def test_nonlinear_drift_is_the_flow_of_the_weyl_symbol(ordering):
    g0, kerr = 0.013, 0.021
    s = _lossless([Term("radiation_pressure", ("a", "b"), g0), Term("kerr", ("b",), kerr)])
    half = 0.5 if ordering == "weyl" else 0.0

    def h(x):  # Weyl symbols: a†a → n - 1/2; a†a†aa → n² - 2n + 1/2 (mean field: n, n²)
        na, nb = (x[0] ** 2 + x[1] ** 2) / 2, (x[2] ** 2 + x[3] ** 2) / 2
        return (np.sqrt(2) * g0 * x[2] * (na - half)
                + kerr * (nb**2 - (4 * half) * nb + half))

    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.normal(scale=3.0, size=4)
        np.testing.assert_allclose(s.drift(x, ordering=ordering), _numerical_flow(h, x),
                                   rtol=1e-7, atol=1e-8)
        jac = np.array([(s.drift(x + 1e-6 * e, ordering="mean-field")
                         - s.drift(x - 1e-6 * e, ordering="mean-field")) / 2e-6
                        for e in np.eye(4)]).T
        np.testing.assert_allclose(s.jacobian(x), jac, rtol=1e-6, atol=1e-8)


def test_drive_and_ramps():
    m = ModelDescription("d", (Mode("a"),), damping=(Damping("a", 1.0),),
                         drives=(__import__("langevin_sim.models.description",
                                            fromlist=["Drive"]).Drive("a", (3.0, -4.0), "smooth",
                                                                      2.0),))
    s = m.build()
    np.testing.assert_allclose(s.drive_vector(np.inf), np.sqrt(2) * np.array([3.0, -4.0]))
    assert s.drive_vector(1.0) == pytest.approx(np.sin(np.pi / 4) ** 2 * s.drive_vector())
    mf = s.mean_field_states()[0]
    assert mf.amplitudes["a"] == pytest.approx((3 - 4j) / 0.5)  # α = E/(κ/2)


# -- cascades: chains keep a vacuum a vacuum ------------------------------------------------------
def chain(eta12=1.0, eta23=0.7, temperature=None):
    modes = tuple(Mode(n, 5e9) for n in ("a1", "a2", "a3"))
    terms = (Term("detuning", ("a1",), 0.4), Term("detuning", ("a2",), -1.3),
             Term("detuning", ("a3",), 2.0))
    damping = tuple(Damping(n, r, temperature=temperature) for n, r in
                    zip(("a1", "a2", "a3"), (2.0, 3.0, 0.5)))
    return ModelDescription("chain", modes, terms, damping,
                            (Cascade("a1", "a2", eta12), Cascade("a2", "a3", eta23)))


def test_cascaded_chain_is_one_way_with_the_input_output_coefficients():
    s = chain().build()
    a = s.linear
    assert np.all(a[0:2, 2:6] == 0) and np.all(a[2:4, 4:6] == 0)  # no way back
    # a3 sees a1 through a2's output: -sqrt(κ3 η23 η12 κ1), and a2 directly: -sqrt(κ3 η23 κ2)
    assert a[4, 0] == pytest.approx(-math.sqrt(0.5 * 0.7 * 1.0 * 2.0))
    assert a[4, 2] == pytest.approx(-math.sqrt(0.5 * 0.7 * 3.0))
    assert s.noise_labels == ("a1_in", "a2_loss_in", "a3_loss_in")


def test_output_fields_are_named_objects_with_the_input_output_relation():
    s = load_model("cascade").replace(eta=0.6).build()
    v = load_model("cascade").replace(eta=0.6).parameter_values()
    out1, out2 = s.outputs["a1"], s.outputs["a2"]
    # a1_out = √κ1 a1 + a1_in;  a2_out = √κ2 a2 + √η a1_out + √(1-η) a_η,in
    np.testing.assert_allclose(out1.mode_coefficients, [math.sqrt(v["kappa1"]), 0, 0, 0])
    np.testing.assert_allclose(out1.noise_coefficients, [1, 0, 0, 0])
    np.testing.assert_allclose(out2.mode_coefficients, [math.sqrt(0.6 * v["kappa1"]),
                                                        math.sqrt(v["kappa2"]), 0, 0])
    np.testing.assert_allclose(out2.noise_coefficients, [math.sqrt(0.6), math.sqrt(0.4), 0, 0])
    c, dmat = out2.quadratures()
    assert c.shape == (2, 8) and dmat.shape == (2, 8)
    for eta12, eta23 in [(1.0, 0.7), (0.3, 0.5)]:  # every output is a unit free field
        for o in chain(eta12, eta23).build().outputs.values():
            assert np.sum(o.noise_coefficients ** 2) == pytest.approx(1.0)


@pytest.mark.parametrize("eta12, eta23", [(1.0, 1.0), (1.0, 0.7), (0.3, 0.5)])
def test_passive_chain_of_vacuum_inputs_stays_in_vacuum(eta12, eta23):
    # closed form: linear passive optics fed by vacuum is vacuum everywhere (any η), which
    # holds only if every cavity sees the very same upstream noise it is cascaded from
    system = chain(eta12, eta23, temperature=0.0).linear_system()
    np.testing.assert_allclose(steady_state(system), 0.5 * np.eye(6), atol=1e-12)
    b = system.noise_input.copy()
    b[2:4, 0:2] = 0.0  # cavity 2 no longer shares cavity 1's input
    try:
        broken = steady_state(system.with_noise_input(b))
    except UnphysicalStateError:  # not even a quantum state
        return
    assert np.max(np.abs(broken - 0.5 * np.eye(6))) > 0.05


# -- TOML files and their errors -------------------------------------------------------------------
THREE_MODE = """
name = "three-mode chain"
default_pair = ["a", "c"]
unit = "ω_0"
[parameters]
g = 0.3
kappa = 1.0
T = 0.05
[modes.a]
frequency_hz = 5e9
[modes.b]
frequency_hz = 5e9
[modes.c]
frequency_hz = 5e9
[[terms]]
kind = "two_mode_squeezing"
modes = ["a", "b"]
g = "g"
[[terms]]
kind = "beam_splitter"
modes = ["b", "c"]
g = 0.5
[[damping]]
mode = "a"
rate = "kappa"
temperature = "T"
[[damping]]
mode = "b"
rate = "kappa"
temperature = "T"
[[damping]]
mode = "c"
rate = "2*kappa"
occupation = 0.0
"""


def test_toml_round_trip_and_parameters(tmp_path):
    path = tmp_path / "chain.toml"
    path.write_text(THREE_MODE)
    m = load_model(str(path))
    assert m.name == "three-mode chain" and m.pair() == ("a", "c") and m.unit == "ω_0"
    s = m.replace(g=0.2).linear_system()
    assert s.drift[0, 3] == -0.2  # two-mode squeezing x_a <- p_b
    assert s.drift[4, 4] == -1.0  # κ_c/2 = 2 κ/2
    sig = steady_state(s)
    assert measures(sig, s, modes=("a", "b")).E_N > 0


BAD = [
    ("[modes.a]\n[[damping]]\nmode = \"a\"\nrate = -1.0\n",
     r"rate.*>= 0.*damping\[0\]\.rate, line 4"),
    ("[modes.a]\n[[damping]]\nmode = \"z\"\nrate = 1.0\n", r"unknown mode 'z'.*line 3"),
    ("[modes.a]\n[[damping]]\nmode = \"a\"\nrate = 1.0\ncolour = 1\n",
     r"unknown key 'colour'.*line 5"),
    ("[modes.a]\nfrequency_hz = 5e9\n[[damping]]\nmode = \"a\"\nrate = 1\ntemperature = -0.1\n",
     r"temperature.*>= 0.*line 6"),
    ("[parameters]\neta = 1.5\n[modes.a]\n[modes.b]\n[[damping]]\nmode = \"a\"\nrate = 1\n"
     "[[damping]]\nmode = \"b\"\nrate = 1\n[[cascade]]\nfrom = \"a\"\nto = \"b\"\n"
     "efficiency = \"eta\"\n", r"eta is an efficiency and must be in \[0, 1\].*line 14"),
    ("[modes.a]\n[[terms]]\nkind = \"cubic\"\nmode = \"a\"\nvalue = 1\n",
     r"unknown term kind 'cubic'.*line 3"),
    ("[modes.a]\n[[terms]]\nkind = \"kerr\"\nmode = \"a\"\nvalue = 1\n",
     r"no key 'value'.*'K'.*line 5"),
    ("[modes.a]\n[[terms]]\nkind = \"detuning\"\nmode = \"a\"\nvalue = \"w + 1\"\n",
     r"unknown parameter\(s\) w.*line 5"),
    ("[modes.a]\n[[terms]]\nkind = \"detuning\"\nmode = \"a\"\nvalue = \"__import__('os')\"\n",
     r"only the functions"),
    ("[modes.a]\n[[damping]]\nmode = \"a\"\nrate = 1\ntemperature = 0.1\n",
     r"temperature needs the lab frequency.*line 5"),
    ("[modes.a]\n[modes.b]\n[[damping]]\nmode = \"a\"\nrate = 1\n[[damping]]\nmode = \"b\"\n"
     "rate = 1\n[[cascade]]\nfrom = \"a\"\nto = \"b\"\n[[cascade]]\nfrom = \"b\"\nto = \"a\"\n",
     r"loop"),
    ("[modes]\n", r"needs a \[modes.NAME\] table"),
    ("modes = 3\n[x]\n", r"unknown key 'x'"),
    ("[modes.a\n", r"not valid TOML"),
]


@pytest.mark.parametrize("text, match", BAD)
def test_bad_model_files_name_the_key_and_line(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ModelError, match=match):
        load_model(str(path)).build()


def test_unknown_model_and_parameter():
    with pytest.raises(ModelError, match="neither a shipped model"):
        load_model("no-such-model")
    with pytest.raises(ModelError, match="unknown parameter.*kapa1.*allowed"):
        load_model("cascade").replace(kapa1=1.0)
    with pytest.raises(ModelError, match="cycle"):
        ModelDescription("c", (Mode("a"),), parameters={"x": "y", "y": "x + 1"}).build()


# -- hostile model files and values: one line naming the key, bounded time and memory ---------
HOSTILE = [
    # a power that would build an integer of billions of digits overflows as a double at once
    ("[parameters]\ng = \"9**9**9**9\"\n[modes.a]\n", r"parameter 'g'.*beyond the range"),
    ("[parameters]\ng = \"10**10**8\"\n[modes.a]\n", r"beyond the range of a double"),
    ("[parameters]\ng = \"" + "+".join(["1"] * 100000) + "\"\n[modes.a]\n",
     r"at most 1000 characters, this one has 199999.*parameters\.g, line 2"),
    ("[parameters]\ng = \"" + "-" * 900 + "1\"\n[modes.a]\n", r"nest at most 100 levels"),
    ("[parameters]\ng = 1" + "0" * 400 + "\n[modes.a]\n",
     r"beyond the range of a double.*parameters\.g, line 2"),
    ("[parameters]\npi = 0.1\n[modes.a]\n", r"'pi' is reserved: it is a constant.*line 2"),
    ("[parameters]\nsqrt = 0.1\n[modes.a]\n", r"'sqrt' is reserved: it is a function.*line 2"),
    ("[modes.a]\n[[drives]]\nmode = \"a\"\namplitude = [1.0, 0.0]\nramp_time = [1]\n",
     r"got \[1\] \(drives\[0\]\.ramp_time, line 5"),
    ("[modes.a]\n[[damping]]\nmode = \"a\"\nrate = 1\nport = [1]\n",
     r"damping\[0\]\.port must be a string.*line 5"),
    ("[modes.a]\n[modes.b]\n[[damping]]\nmode = \"a\"\nrate = 1\n[[damping]]\nmode = \"b\"\n"
     "rate = 1\n[[cascade]]\nfrom = \"a\"\nto = \"b\"\nloss_name = 3\n",
     r"cascade\[0\]\.loss_name must be a string.*line 12"),
]


@pytest.mark.parametrize("text, match", HOSTILE)
def test_hostile_model_files_are_refused_in_one_line(tmp_path, text, match):
    path = tmp_path / "hostile.toml"
    path.write_text(text)
    with pytest.raises(ModelError, match=match) as info:
        load_model(str(path)).build()
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_expressions_are_doubles_and_bounded():
    from langevin_sim.models.expressions import ECHO_LIMIT, parse, resolve_parameters
    assert resolve_parameters({"a": "2**10 + 3**2*2", "b": "sqrt(a) - min(1, 2)"}) == \
        {"a": 1042.0, "b": math.sqrt(1042.0) - 1.0}
    huge = "x" * 10_000_000  # a 10 MB value is echoed cut short, its length named
    with pytest.raises(ValueError, match="10000002 characters in all") as info:
        parse(huge)
    assert len(str(info.value)) < ECHO_LIMIT + 150
    with pytest.raises(ModelError, match="characters in all") as info:
        ModelDescription("m", (Mode("a"),), terms=(Term("detuning", ("a",), "q" * 10**6),))
    assert len(str(info.value)) < 300
    with pytest.raises(ModelError, match="reserved"):
        ModelDescription("m", (Mode("a"),), parameters={"pi": 0.1})
    with pytest.raises(ModelError, match="finite"):
        load_model("optomech").replace(g0=10**400)


def test_model_files_must_be_small_regular_files(tmp_path):
    import os

    from langevin_sim.models.description import MAX_MODEL_BYTES
    if os.path.exists("/dev/zero"):
        with pytest.raises(ModelError, match="not a regular file"):
            load_model("/dev/zero")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # opening it would block until a writer came: it is never opened
    with pytest.raises(ModelError, match="not a regular file"):
        load_model(str(fifo))
    big = tmp_path / "big.toml"
    big.write_text("#" * (MAX_MODEL_BYTES + 1))
    with pytest.raises(ModelError, match=f"at most {MAX_MODEL_BYTES}"):
        load_model(str(big))


def test_rates_beyond_double_precision_are_refused():
    with pytest.raises(ModelError, match=r"kappa1 = 1e\+308 loses all precision beside "
                                         r"gamma_b = 1e-05.*damping\[0\]\.rate"):
        CascadeParameters(kappa1=1e308).linear_system()
    with pytest.raises(ModelError, match=r"gamma_b = 1e-16 loses all precision"):
        CascadeParameters(gamma_b=1e-16).linear_system()
    # negative control: a span of 1e12 is resolved and stays stable
    steady_state(CascadeParameters(gamma_b=1e-11).linear_system())


def test_model_description_arguments_of_the_wrong_type():
    for kwargs, match in [({"modes": "ab"}, r"modes=\.\.\.\) must be a tuple of Mode"),
                          ({"modes": (Mode("a"),), "parameters": [1]}, "must be a dict"),
                          ({"modes": (Mode("a"),), "terms": [1]}, "tuple of Term")]:
        with pytest.raises(TypeError, match=match):
            ModelDescription("m", **kwargs)
