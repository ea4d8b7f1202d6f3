"""Observables of any mode or group of modes against closed forms (langevin_sim.observables),
and the steady/sweep commands that report them."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from langevin_sim import observables as ob
from langevin_sim.cli import main
from langevin_sim.measures import gaussian_steerability as pair_steerability
from langevin_sim.measures import log_negativity as pair_log_negativity

I2, Z2 = np.eye(2), np.diag([1.0, -1.0])


def thermal(n):
    return (n + 0.5) * I2


def squeezed_vacuum(r, theta=0.0):
    """σ of S(r) on the vacuum, squeezed along x^θ: variances e^{∓2r}/2 along θ, θ + π/2."""
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    return rot @ (0.5 * np.diag([math.exp(-2 * r), math.exp(2 * r)])) @ rot.T


def tmsv(r):
    """Two-mode squeezed vacuum: x1 x2 correlated, p1 p2 anticorrelated."""
    c, s = math.cosh(2 * r), math.sinh(2 * r)
    return 0.5 * np.block([[c * I2, s * Z2], [s * Z2, c * I2]])


def random_state(rng, n_modes):
    """A random physical covariance: S (thermal) Sᵀ with S a random symplectic matrix."""
    from scipy.linalg import expm

    from langevin_sim.conventions import symplectic_form

    om = symplectic_form(n_modes)
    h = rng.normal(size=(2 * n_modes, 2 * n_modes)) * 0.4
    s = expm(om @ (h + h.T))  # e^{ΩH}, H symmetric: symplectic
    nu = 0.5 + rng.exponential(0.5, n_modes)
    return s @ np.diag(np.repeat(nu, 2)) @ s.T


# --- one mode --------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0.0, 0.3, 2.0, 40.0])
def test_thermal_state_occupation_entropy_purity(n):
    obs = ob.single_mode(thermal(n))
    assert obs.n == pytest.approx(n, abs=1e-14)
    assert obs.n_thermal == pytest.approx(n, abs=1e-14) and obs.n_coherent == 0
    expected_s = (n + 1) * math.log(n + 1) - (n * math.log(n) if n > 0 else 0.0)
    assert obs.entropy == pytest.approx(expected_s, rel=1e-12, abs=1e-14)
    assert obs.purity == pytest.approx(1 / (2 * n + 1), rel=1e-13)
    assert obs.squeezing_db == pytest.approx(-10 * math.log10(2 * n + 1), abs=1e-12)


@pytest.mark.parametrize("r,theta", [(0.1, 0.0), (0.5, 0.3), (1.2, 2.0)])
def test_squeezed_vacuum_db_angle_purity(r, theta):
    obs = ob.single_mode(squeezed_vacuum(r, theta))
    # 10 log10(e^{2r}) dB below the vacuum, along θ; pure
    assert obs.squeezing_db == pytest.approx(20 * r / math.log(10), rel=1e-12)
    assert obs.squeezing_angle == pytest.approx(theta % math.pi, abs=1e-12)
    assert obs.min_variance == pytest.approx(0.5 * math.exp(-2 * r), rel=1e-12)
    assert obs.purity == pytest.approx(1.0, abs=1e-12)
    assert obs.entropy == pytest.approx(0.0, abs=1e-12)
    assert obs.n == pytest.approx(math.sinh(r) ** 2, rel=1e-12)


def test_displaced_thermal_state_splits_coherent_and_thermal_quanta():
    alpha = 1.5 - 0.5j
    mean = math.sqrt(2) * np.array([alpha.real, alpha.imag])  # <x> = √2 Re α
    obs = ob.single_mode(thermal(0.7), mean)
    assert obs.n_coherent == pytest.approx(abs(alpha) ** 2, rel=1e-14)
    assert obs.n_thermal == pytest.approx(0.7, rel=1e-14)
    assert obs.n == pytest.approx(0.7 + abs(alpha) ** 2, rel=1e-14)


def test_single_mode_refuses_what_is_not_a_state():
    with pytest.raises(ValueError, match="positive definite"):
        ob.single_mode(np.diag([1.0, -0.1]))
    with pytest.raises(ValueError, match="shape"):
        ob.single_mode(np.eye(3))
    with pytest.raises(ValueError, match="finite"):
        ob.single_mode(np.array([[np.nan, 0], [0, 1.0]]))


# --- bipartitions ----------------------------------------------------------------------------

@pytest.mark.parametrize("r", [0.0, 0.2, 0.8, 1.5])
def test_two_mode_squeezed_vacuum_log_negativity_mutual_information_steering(r):
    s = tmsv(r)
    assert ob.log_negativity(s, 0, 1) == pytest.approx(2 * r, abs=1e-12)
    # pure: I = 2 S(one mode), the mode thermal with n = sinh² r
    n = math.sinh(r) ** 2
    s_mode = (n + 1) * math.log(n + 1) - (n * math.log(n) if n > 0 else 0.0)
    assert ob.mutual_information(s, 0, 1) == pytest.approx(2 * s_mode, abs=1e-11)
    for a, b in ((0, 1), (1, 0)):
        assert ob.gaussian_steerability(s, a, b) == pytest.approx(math.log(math.cosh(2 * r)),
                                                                  abs=1e-12)


def test_one_against_one_reduces_to_the_pair_measures():
    rng = np.random.default_rng(4)
    for _ in range(30):
        s = random_state(rng, 3)
        for a, b in ((0, 1), (2, 0), (1, 2)):
            red = s[np.ix_(*(2 * [np.r_[2 * a:2 * a + 2, 2 * b:2 * b + 2]]))]
            assert ob.log_negativity(s, a, b) == pytest.approx(pair_log_negativity(red),
                                                               abs=1e-10)
            assert ob.gaussian_steerability(s, a, b) == pytest.approx(
                pair_steerability(red), abs=1e-10)


def test_product_and_classically_correlated_states_are_not_entangled():
    prod = np.zeros((6, 6))
    for i, n in enumerate((0.0, 0.4, 3.0)):
        prod[2 * i:2 * i + 2, 2 * i:2 * i + 2] = thermal(n)
    assert ob.log_negativity(prod, (0, 1), 2) == 0.0
    assert ob.mutual_information(prod, (0, 1), 2) == pytest.approx(0.0, abs=1e-12)
    assert ob.gaussian_steerability(prod, 2, (0, 1)) == 0.0
    # thermal ⊗ vacuum through a beam splitter: classical (positive P), separable, correlated
    t = 0.3
    bs = np.block([[math.sqrt(t) * I2, math.sqrt(1 - t) * I2],
                   [-math.sqrt(1 - t) * I2, math.sqrt(t) * I2]])
    s = bs @ np.block([[thermal(2.0), 0 * I2], [0 * I2, thermal(0.0)]]) @ bs.T
    assert ob.log_negativity(s, 0, 1) == 0.0
    assert ob.log_negativity(s, 0, 1, clip=False) < 0
    assert ob.mutual_information(s, 0, 1) > 0.01


def test_partial_transpose_of_m_n_modes_counts_every_eigenvalue():
    """Two independent TMSV pairs (r1 between modes 0,2 and r2 between 1,3): the 2|2 cut
    {0,1}|{2,3} has two partially transposed eigenvalues below 1/2, E_N = 2 r1 + 2 r2."""
    r1, r2 = 0.3, 0.7
    s = np.zeros((8, 8))
    for (i, j), r in (((0, 2), r1), ((1, 3), r2)):
        idx = np.r_[2 * i:2 * i + 2, 2 * j:2 * j + 2]
        s[np.ix_(idx, idx)] = tmsv(r)
    assert ob.log_negativity(s, (0, 1), (2, 3)) == pytest.approx(2 * (r1 + r2), abs=1e-12)
    assert ob.gaussian_steerability(s, (0, 1), (2, 3)) == pytest.approx(
        math.log(math.cosh(2 * r1)) + math.log(math.cosh(2 * r2)), abs=1e-12)
    assert ob.log_negativity(s, (0, 3), (1, 2)) == pytest.approx(2 * (r1 + r2), abs=1e-12)
    assert ob.log_negativity(s, (0, 2), (1, 3)) == pytest.approx(0.0, abs=1e-12)  # no pair cut


# --- three modes -----------------------------------------------------------------------------

def split_tmsv(r, t):
    """Modes (1, 2, 3): a TMSV(r) of 1 and 2, then a beam splitter of transmissivity t mixing
    2 with the vacuum mode 3 (2' = √t 2 + √(1−t) 3). A pure three-mode state."""
    s = np.zeros((6, 6))
    s[:4, :4] = tmsv(r)
    s[4:, 4:] = thermal(0.0)
    bs = np.eye(6)
    bs[2:, 2:] = np.block([[math.sqrt(t) * I2, math.sqrt(1 - t) * I2],
                           [-math.sqrt(1 - t) * I2, math.sqrt(t) * I2]])
    return bs @ s @ bs.T


def lossy_tmsv_log_negativity(r, t):
    """E_N of (1, 2') in closed form. Its covariance is [[a I, c Z], [c Z, b I]] with a =
    cosh 2r/2, b = (t cosh 2r + 1 − t)/2, c = √t sinh 2r/2; the partial transpose is
    [[a I, c I], [c I, b I]] = M ⊗ I, diagonalised by a rotation O ⊗ I (a passive, symplectic
    beam splitter), so its symplectic eigenvalues are the eigenvalues of M = [[a, c], [c, b]]:
    ν̃₋ = (a + b − √((a − b)² + 4c²))/2."""
    a = math.cosh(2 * r) / 2
    b = (t * math.cosh(2 * r) + 1 - t) / 2
    c = math.sqrt(t) * math.sinh(2 * r) / 2
    nu = (a + b - math.sqrt((a - b) ** 2 + 4 * c * c)) / 2
    return max(0.0, -math.log(2 * nu))


@pytest.mark.parametrize("r,t", [(0.5, 0.5), (0.9, 0.2), (0.3, 0.85)])
def test_beam_splitter_on_one_arm_of_a_tmsv(r, t):
    s = split_tmsv(r, t)
    tri = ob.tripartite(s, (0, 1, 2), ("1", "2", "3"))
    # pure state: E_N(i|jk) = arccosh(2√det σ_i) (locally a TMSV), σ_2' = (t c + 1 − t)/2 I
    sh2 = math.sinh(r) ** 2
    e1 = 2 * r
    e2 = math.acosh(1 + 2 * t * sh2)
    e3 = math.acosh(1 + 2 * (1 - t) * sh2)
    assert tri.one_vs_two["E_N_1_23"] == pytest.approx(e1, abs=1e-11)
    assert tri.one_vs_two["E_N_2_13"] == pytest.approx(e2, abs=1e-11)
    assert tri.one_vs_two["E_N_3_12"] == pytest.approx(e3, abs=1e-11)
    e12, e13 = lossy_tmsv_log_negativity(r, t), lossy_tmsv_log_negativity(r, 1 - t)
    assert tri.pairs["E_N_1_2"] == pytest.approx(e12, abs=1e-11)
    assert tri.pairs["E_N_1_3"] == pytest.approx(e13, abs=1e-11)
    assert tri.pairs["E_N_2_3"] == 0.0  # 2', 3': a thermal mode split by a beam splitter
    residual = {"1": e1 ** 2 - e12 ** 2 - e13 ** 2, "2": e2 ** 2 - e12 ** 2,
                "3": e3 ** 2 - e13 ** 2}
    assert tri.residual_contangle == pytest.approx(min(residual.values()), abs=1e-10)
    assert tri.residual_contangle > 0
    assert tri.class_number == 1 and tri.classification == "fully inseparable"
    # steering of a pure state, both ways: the Rényi-2 entropy ½ ln det(2 σ_i)
    assert ob.gaussian_steerability(s, 0, (1, 2)) == pytest.approx(
        math.log(math.cosh(2 * r)), abs=1e-11)
    assert ob.gaussian_steerability(s, (0, 2), 1) == pytest.approx(
        math.log(1 + 2 * t * sh2), abs=1e-11)
    # pure: I(1:23) = 2 S(1)
    assert ob.mutual_information(s, 0, (1, 2)) == pytest.approx(
        2 * ob.von_neumann_entropy(s[:2, :2]), abs=1e-10)


def test_classification_sees_a_separable_cut():
    """Negative control: t = 0 sends all of 2 into 3, so mode 2' is the vacuum and 2'|13 is
    separable (one-mode biseparable); a product of a TMSV and a thermal mode likewise."""
    tri = ob.tripartite(split_tmsv(0.6, 0.0), (0, 1, 2), ("1", "2", "3"))
    assert tri.separable == ("2|13",) and tri.class_number == 2
    assert tri.one_vs_two["E_N_1_23"] == pytest.approx(1.2, abs=1e-11)
    assert tri.residual_contangle == pytest.approx(0.0, abs=1e-10)
    s = np.zeros((6, 6))
    s[:4, :4], s[4:, 4:] = tmsv(0.4), thermal(1.0)
    tri = ob.tripartite(s, (2, 0, 1), ("c", "a", "b"))
    assert tri.separable == ("c|ab",) and tri.classification == "one-mode biseparable"
    prod = np.kron(np.eye(3), thermal(0.2))
    assert ob.tripartite(prod).class_number == 4


# --- fidelity --------------------------------------------------------------------------------

def test_fidelity_of_identical_states_is_one():
    rng = np.random.default_rng(7)
    for n_modes in (1, 2, 3):
        s = random_state(rng, n_modes)
        d = rng.normal(size=2 * n_modes)
        assert ob.fidelity(s, s, d, d) == pytest.approx(1.0, abs=1e-10)
    assert ob.fidelity(tmsv(0.9), tmsv(0.9)) == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("n1,n2", [(0.0, 0.0), (0.0, 3.0), (0.5, 0.5), (0.7, 2.0), (10., 0.1)])
def test_fidelity_of_two_thermal_states(n1, n2):
    """Σ_k √(p_k q_k) over the Bose–Einstein distributions p_k = n1^k/(n1+1)^{k+1}, q_k alike:
    a geometric series, F = [√((n1+1)(n2+1)) − √(n1 n2)]^{-2}."""
    expected = 1 / (math.sqrt((n1 + 1) * (n2 + 1)) - math.sqrt(n1 * n2)) ** 2
    assert ob.fidelity(thermal(n1), thermal(n2)) == pytest.approx(expected, rel=1e-12)
    # two modes of such pairs: the fidelity is multiplicative
    two1 = np.kron(np.eye(2), thermal(n1))
    two2 = np.kron(np.eye(2), thermal(n2))
    assert ob.fidelity(two1, two2) == pytest.approx(expected ** 2, rel=1e-12)


def test_fidelity_of_pure_states_is_the_overlap():
    # coherent states: |<α|β>|² = exp(−|α − β|²)
    alpha, beta = 0.3 + 0.8j, -0.5 + 0.1j
    mean = lambda z: math.sqrt(2) * np.array([z.real, z.imag])  # noqa: E731
    assert ob.fidelity(thermal(0), thermal(0), mean(alpha), mean(beta)) == pytest.approx(
        math.exp(-abs(alpha - beta) ** 2), rel=1e-12)
    # squeezed vacua along the same axis: |<0|S(r1)†S(r2)|0>|² = 1/cosh(r1 − r2)
    assert ob.fidelity(squeezed_vacuum(0.9), squeezed_vacuum(0.2)) == pytest.approx(
        1 / math.cosh(0.7), rel=1e-12)


def test_multimode_fidelity_agrees_with_the_single_mode_closed_form():
    rng = np.random.default_rng(11)
    for _ in range(20):
        s1, s2 = random_state(rng, 1), random_state(rng, 1)
        d1, d2 = rng.normal(size=2), rng.normal(size=2)
        assert ob.fidelity(s1, s2, d1, d2) == pytest.approx(
            ob.fidelity_single_mode(s1, s2, d1, d2), rel=1e-9)


def _expm_antihermitian(g):
    """e^G for an anti-Hermitian G = iK, through the eigendecomposition of the Hermitian K."""
    w, v = np.linalg.eigh(-1j * g)
    return (v * np.exp(1j * w)) @ v.conj().T


def _fock_state(n_fock, modes):
    """ρ of displaced squeezed thermal modes (each (n̄, ζ, α)), mixed by a beam splitter if
    there are two; returned with the ladder operators."""
    a1 = np.diag(np.sqrt(np.arange(1, n_fock)), 1)
    ops = [a1] if len(modes) == 1 else [np.kron(a1, np.eye(n_fock)), np.kron(np.eye(n_fock), a1)]
    rho = np.ones((1, 1))
    for n, _, _ in modes:
        p = (n / (n + 1)) ** np.arange(n_fock) / (n + 1)
        rho = np.kron(rho, np.diag(p))
    for a, (_, z, alpha) in zip(ops, modes):
        u = _expm_antihermitian(alpha * a.T - np.conj(alpha) * a) @ _expm_antihermitian(
            0.5 * (np.conj(z) * a @ a - z * a.T @ a.T))
        rho = u @ rho @ u.conj().T
    if len(ops) == 2:
        u = _expm_antihermitian(0.6 * (ops[0].T @ ops[1] - ops[0] @ ops[1].T))
        rho = u @ rho @ u.conj().T
    return rho, ops


def _fock_moments(rho, ops):
    quads = [q for a in ops for q in ((a + a.T) / math.sqrt(2), -1j * (a - a.T) / math.sqrt(2))]
    mean = np.array([np.trace(rho @ q).real for q in quads])
    cov = np.array([[np.trace(rho @ (q @ w + w @ q)).real / 2 for w in quads] for q in quads])
    return cov - np.outer(mean, mean), mean


@pytest.mark.parametrize("n_modes,n_fock", [(1, 30), (2, 13)])
def test_fidelity_against_uhlmann_in_the_fock_basis(n_modes, n_fock):
    """An independent computation: (Tr √(√ρ1 ρ2 √ρ1))² of truncated density matrices, with
    the covariances measured on the same matrices (low occupations: truncation below 1e-6)."""
    if n_modes == 1:
        specs = ([(0.3, 0.3 * np.exp(0.7j), 0.4 + 0.2j)], [(0.6, 0.2 * np.exp(-0.4j), -0.1j)])
    else:
        specs = ([(0.1, 0.2, 0.2), (0.05, 0.15j, -0.1j)], [(0.15, -0.1, 0.1j), (0.0, 0.1, 0.0)])
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small matrices: BLAS threads on a shared machine only cost
        rho1, ops = _fock_state(n_fock, specs[0])
        rho2, _ = _fock_state(n_fock, specs[1])
        s1, d1 = _fock_moments(rho1, ops)
        s2, d2 = _fock_moments(rho2, ops)
    w, v = np.linalg.eigh(rho1)  # ρ1, ρ2 Hermitian: square roots by eigendecomposition
    root = (v * np.sqrt(np.maximum(w, 0))) @ v.conj().T
    inner = np.linalg.eigvalsh(root @ rho2 @ root)
    exact = np.sum(np.sqrt(np.maximum(inner, 0))) ** 2
    assert ob.fidelity(s1, s2, d1, d2) == pytest.approx(exact, abs=2e-6)
    assert ob.fidelity(s1, s2, d1, d2) < 0.99  # a comparison that can fail


def test_fidelity_refuses_mismatched_states():
    with pytest.raises(ValueError, match="same modes"):
        ob.fidelity(thermal(0), np.eye(4))


# --- names and parsing -----------------------------------------------------------------------

def test_parse_parties_and_names():
    labels = ("a1", "a2", "b", "m")
    assert ob.parse_parties("a1,b|m", labels) == (("a1", "b"), ("m",))
    assert ob.bipartition_names(("a1", "b"), ("m",)) == ("E_N_a1b_m", "I_a1b_m", "G_a1b_to_m",
                                                          "G_m_to_a1b")
    assert ob.parse_parties("a1|b|m", labels) == (("a1",), ("b",), ("m",))
    for bad, msg in (("a1,b", "separated by '|'"), ("a1|x", "unknown mode 'x'"),
                     ("b|b", "twice"), ("a1,a2|b|m", "one mode each"), ("a1||m", "'|'")):
        with pytest.raises(ValueError, match=msg):
            ob.parse_parties(bad, labels)
    with pytest.raises(ValueError, match="unknown observable 'nbar'"):
        ob.parse_observables("n,nbar")


# --- ensembles -------------------------------------------------------------------------------

def test_ensemble_observables_agree_with_the_exact_state_within_their_errors():
    """A driven-free degenerate parametric oscillator (one mode, (g/2)(a² + a†²), decay κ) and
    a passive partner mode: the sampled observables with jackknife SEs against the exact
    stationary values, by the package's max-|z| test at family-wise significance 0.01."""
    from langevin_sim.engine import simulate
    from langevin_sim.gaussian import steady_state
    from langevin_sim.statistics import consistency
    from langevin_sim.systems.linear import LinearSystem

    def system(g, j=0.2, kappa=1.0):
        # x, p of mode a (squeezing g), of mode c (beam splitter j to a); vacuum baths
        drift = np.array([[-kappa / 2, -g, 0, j], [-g, -kappa / 2, -j, 0],
                          [0, j, -kappa / 2, 0], [-j, 0, 0, -kappa / 2]])
        return LinearSystem(drift, math.sqrt(kappa) * np.eye(4), np.zeros(4), ("a", "c"))

    exact = steady_state(system(0.3))
    r = simulate(system(0.3), [0.0, 5.0, 10.0], n_traj=8192, seed=21, initial="steady")
    z = []
    for mode in ("a", "c"):
        est = ob.ensemble_mode_observables(r, mode)
        ref = ob.mode_observables(exact, ("a", "c"), modes=(mode,))
        for key, (values, stderr) in est.items():
            if key.startswith("n_coherent"):
                continue  # the exact coherent part is 0: a boundary, not a Gaussian estimate
            assert np.all(stderr > 0)
            z.extend((values - ref[key]) / stderr)
    bip = ob.ensemble_bipartition(r, ("a",), ("c",))
    ref = ob.bipartition(exact, 0, 1, (("a",), ("c",)))
    assert ref["E_N_a_c"] > 0.04  # entangled: the estimate is not clipped at its threshold
    for key in ("E_N_a_c", "I_a_c"):
        values, stderr = bip[key]
        z.extend((values - ref[key]) / stderr)
    check = consistency(np.array(z), alpha=0.01, dof=r.jackknife_dof)
    assert check.consistent, (check, z)
    # and the test can fail: the same ensemble against the state of a squeezing g 1/3 larger
    wrong = ob.mode_observables(steady_state(system(0.4)), ("a", "c"), modes=("a",))
    est = ob.ensemble_mode_observables(r, "a", ("n", "squeezing_db"))
    z_wrong = [(v - wrong[k]) / e for k, (v, e) in est.items()]
    assert np.max(np.abs(z_wrong)) > check.threshold


# --- the steady and sweep commands -----------------------------------------------------------

OPO_FILE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "opo.toml"


@pytest.fixture()
def opo_file():
    return str(OPO_FILE)


def test_steady_of_a_one_mode_model(opo_file, capsys):
    """A degenerate parametric oscillator below threshold: the quadratures u, v = (x ± p)/√2
    decay at κ/2 ± g, so V_min = (1/2) κ/(κ + 2g) along θ = π/4 and V_max = (1/2) κ/(κ − 2g)."""
    kappa, g = 1.0, 0.3
    assert main(["steady", "--model", opo_file, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pair"] is None and out["measure_names"] == [] and "E_N" not in out
    v_min, v_max = 0.5 * kappa / (kappa + 2 * g), 0.5 * kappa / (kappa - 2 * g)
    assert out["squeezing_db_a"] == pytest.approx(10 * math.log10((kappa + 2 * g) / kappa),
                                                  rel=1e-10)
    assert out["squeezing_angle_a"] == pytest.approx(math.pi / 4, abs=1e-10)
    assert out["n_a"] == pytest.approx((v_min + v_max) / 2 - 0.5, rel=1e-10)
    assert out["purity_a"] == pytest.approx(1 / (2 * math.sqrt(v_min * v_max)), rel=1e-10)
    assert main(["steady", "--model", opo_file]) == 0
    text = capsys.readouterr().out
    assert "single modes" in text and "no pair measures" in text
    assert main(["steady", "--model", opo_file, "--pair", "a,a"]) == 2
    assert "two different modes" in capsys.readouterr().err


def test_steady_parties_and_json_names(capsys):
    assert main(["steady", "--parties", "a1,b|m", "--parties", "a1|b|m", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("n_b", "squeezing_db_b", "purity_m", "entropy_a2", "E_N_a1b_m", "I_a1b_m",
                "G_a1b_to_m", "G_m_to_a1b", "E_N_a1_bm", "residual_contangle_a1_b_m",
                "classification_a1_b_m"):
        assert key in out, key
    # the pair measures stay those of the default pair, exactly
    from langevin_sim.analyses.steady import steady_report

    assert out["E_N"] == steady_report().measures.E_N
    # the pair (b, m) within the three-mode analysis: the same E_N
    assert out["E_N_b_m"] == pytest.approx(out["E_N"], abs=1e-12)
    # E_N of a group is at least that of a member (monotone under tracing out)
    assert out["E_N_a1b_m"] >= out["E_N"] - 1e-12
    assert main(["steady", "--parties", "b|m", "--observables", "n,E_N", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "n_b" in out and "purity_b" not in out and "I_b_m" not in out
    assert out["E_N_b_m"] == pytest.approx(out["E_N"], abs=1e-12)


def test_pair_is_the_short_form_of_parties(capsys):
    model = ["--model", "docs/examples/three_mode.toml", "--json"]
    assert main(["steady", "--pair", "a,b", *model]) == 0
    by_pair = json.loads(capsys.readouterr().out)
    assert main(["steady", "--parties", "a|b", *model]) == 0
    by_parties = json.loads(capsys.readouterr().out)
    for key in ("E_N", "E_ab", "S_b_given_a", "G_a_to_b", "E_N_a_b", "I_a_b", "G_b_to_a"):
        assert by_pair[key] == by_parties[key]
    assert by_pair["pair"] == by_parties["pair"] == ["a", "b"]
    # a three-mode model gets the three-mode analysis without asking
    assert by_pair["classification_a_b_c"] == "fully inseparable"


@pytest.mark.parametrize("args,message", [
    (["--parties", "b"], "separated by '|'"),
    (["--parties", "b|x"], "unknown mode 'x'"),
    (["--parties", "b|b"], "twice"),
    (["--parties", "a1,a2|b|m"], "one mode each"),
    (["--observables", "nbar"], "unknown observable 'nbar'"),
])
def test_bad_parties_and_observables_exit_2_with_one_line(args, message, capsys):
    assert main(["steady", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert main(["sweep", "--axis", "eta=0.5:1:3", *args]) == 2
    assert message in capsys.readouterr().err


def test_sweep_saves_the_observables(tmp_path, capsys):
    from langevin_sim.analyses.sweep import SweepResult

    out_dir = tmp_path / "sw"
    assert main(["sweep", "--model", "docs/examples/three_mode.toml", "--axis",
                 "g_a=0.05:0.15:3", "--observables", "n,squeezing_db,E_N,residual_contangle",
                 "--parties", "a,b|c", "--output", str(out_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["observables"]["E_N_ab_c"]["n_correlated"] == 3
    loaded = SweepResult.load(out_dir / "sweep.npz")
    assert loaded.parties == ("a,b|c", "a|b|c") and loaded.pair == ("a", "c")
    from langevin_sim.analyses.steady import steady_report
    from langevin_sim.models import load_model

    model = load_model("docs/examples/three_mode.toml")
    for i, g in enumerate((0.05, 0.1, 0.15)):
        ref = steady_report(model.replace(g_a=g), parties=["a,b|c"]).to_dict()
        for key in ("n_b", "squeezing_db_c", "E_N_ab_c", "residual_contangle_a_b_c", "E_N"):
            assert loaded.values[key][i] == pytest.approx(ref[key], rel=1e-12, abs=1e-15)


def test_sweep_of_a_one_mode_model(opo_file, tmp_path, capsys):
    assert main(["sweep", "--model", opo_file, "--axis", "g=0:0.6:7", "--json",
                 "--output", str(tmp_path / "o")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pair"] is None and summary["measures"] == {}
    assert summary["n_stable"] == 5  # stable for 2g < κ: g = 0.5 is marginal, 0.6 beyond
    best = summary["observables"]["squeezing_db_a"]
    assert best["at"] == {"g": pytest.approx(0.4)}
    assert best["best"] == pytest.approx(10 * math.log10(1.8), rel=1e-10)
    assert summary["files"] == [str(tmp_path / "o" / "sweep.npz")]  # no pair: no maps


def test_li_zhu_agarwal_example_is_the_papers_linearised_model():
    """docs/examples/li_zhu_agarwal.toml against an independent transcription of the paper's
    fluctuation equations (Li, Zhu, Agarwal, PRL 121, 203601, with u = (X_a, Y_a, x_m, y_m,
    q, p), amplitude decay rates κ_a = κ_m = 0.1 ω_b, g_ma = G_mb = 0.32 ω_b, γ_b = 1e-5 ω_b).
    The paper damps the phonon's momentum only (Brownian), the package both quadratures:
    the drift differs by ∓γ_b/2 in those two entries, the noise by ±γ_b(n_b + 1/2), nothing
    else; the paper's own equations then give the same entanglement to within the scale of
    that difference, ||δD||/(slowest rate) (the covariance's shift)."""
    from scipy.linalg import solve_continuous_lyapunov

    from langevin_sim.conventions import thermal_occupation
    from langevin_sim.gaussian import steady_state
    from langevin_sim.models import load_model

    system = load_model("docs/examples/li_zhu_agarwal.toml").linear_system()
    k, g, gb, da, dm = 0.1, 0.32, 1e-5, -1.0, 0.9
    a = np.array([[-k, da, 0, g, 0, 0], [-da, -k, -g, 0, 0, 0], [0, g, -k, dm, 0, 0],
                  [-g, 0, -dm, -k, g, 0], [0, 0, 0, 0, 0, 1.0], [0, 0, g, 0, -1.0, -gb]])
    n_ph, n_b = thermal_occupation(10e9, 0.01), thermal_occupation(10e6, 0.01)
    d = np.diag([k * (2 * n_ph + 1)] * 4 + [0, gb * (2 * n_b + 1)])
    expected_da = np.zeros((6, 6))
    expected_da[4, 4], expected_da[5, 5] = -gb / 2, gb / 2
    np.testing.assert_allclose(system.drift - a, expected_da, atol=1e-14)
    expected_dd = np.zeros((6, 6))
    expected_dd[4, 4], expected_dd[5, 5] = gb * (n_b + 0.5), -gb * (n_b + 0.5)
    np.testing.assert_allclose(system.diffusion - d, expected_dd, atol=1e-12)
    paper = solve_continuous_lyapunov(a, -d)
    ours = steady_state(system)
    scale = gb * (n_b + 0.5) / system.slowest_rate
    for x, y in ((0, 1), (0, 2), (1, 2)):
        assert ob.log_negativity(ours, x, y) == pytest.approx(ob.log_negativity(paper, x, y),
                                                              abs=scale)
    tri_paper, tri_ours = ob.tripartite(paper), ob.tripartite(ours)
    assert tri_ours.residual_contangle == pytest.approx(tri_paper.residual_contangle,
                                                        abs=scale)
    # the paper's claim at this point: all three pairs entangled, genuinely tripartite
    assert min(tri_ours.pairs.values()) > 10 * scale and tri_ours.residual_contangle > scale
    assert tri_ours.classification == "fully inseparable"


def test_steady_report_selects_observables_from_python():
    from langevin_sim.analyses.steady import steady_report

    none = steady_report(observables=()).to_dict()
    assert not any(k.startswith(("n_", "E_N_", "I_")) for k in none) and none["E_N"] > 0
    some = steady_report("docs/examples/three_mode.toml", observables=["squeezing_db"])
    assert some.observable_values == {k: v for k, v in some.to_dict().items()
                                      if k.startswith("squeezing")}
    some = some.to_dict()
    assert [k for k in some if k.startswith("squeezing")] == ["squeezing_db_a", "squeezing_db_b",
                                                              "squeezing_db_c"]
    assert "residual_contangle_a_b_c" not in some
    with pytest.raises(ValueError, match="unknown mode 'q'"):
        steady_report(parties=["b|q"])


# --- ensembles against exact states (validate, relax) ----------------------------------------

def three_mode_system(**changes):
    """docs/examples/three_mode.toml (every 1|2 cut entangled, the pair b, c not)."""
    from langevin_sim.models import load_model

    return load_model("docs/examples/three_mode.toml").replace(**changes).linear_system()


def test_ensemble_observables_of_groups_agree_with_the_exact_state():
    """ensemble_observables (single modes, a 2|1 bipartition unclipped, the three-mode
    analysis) against exact_observables of the exact stationary state, by the max-|z| test
    at family-wise 0.01; and the test can fail (a coupling g_a 20% larger)."""
    from langevin_sim.engine import simulate
    from langevin_sim.gaussian import steady_state
    from langevin_sim.statistics import consistency

    system = three_mode_system()
    labels = system.mode_labels
    parties = ((("a", "b"), ("c",)), (("a",), ("b",), ("c",)))
    names = ("n", "purity", "E_N", "I", "G", "residual_contangle")
    exact_state = steady_state(system)
    r = simulate(system, [0.0, 8.0], n_traj=8192, seed=7, initial="steady")
    sample = ob.ensemble_observables(r, parties, names, clip=False)
    exact = ob.exact_observables(np.array([exact_state] * 2), labels, parties, names,
                                 clip=False)
    assert set(sample) == set(exact)
    for k in ("n_a", "purity_c", "E_N_ab_c", "I_ab_c", "G_ab_to_c", "G_c_to_ab", "E_N_a_bc",
              "residual_contangle_a_b_c"):
        assert k in sample, k
    assert exact["E_N_ab_c"][0] > 0.1 and exact["residual_contangle_a_b_c"][0] > 0.005
    z = []
    for k, (values, stderr) in sample.items():
        if k.startswith("E_N_") and exact[k][0] <= 1e-12:
            continue  # E_N_b_c, clipped at 0: a boundary, not a Gaussian estimate
        assert np.all(stderr > 0), k
        z.extend(ob.observable_z(k, values, stderr, exact[k]))
    assert len(z) == 2 * (len(sample) - 1)
    check = consistency(np.array(z), alpha=0.01, dof=r.jackknife_dof)
    assert check.consistent, (check, dict(zip(sample, z)))
    wrong = ob.exact_observables(steady_state(three_mode_system(g_a=0.12))[None], labels,
                                 parties, ("n", "E_N"), clip=False)
    z_wrong = [ob.observable_z(k, *sample[k], wrong[k]) for k in ("n_a", "E_N_ab_c")]
    assert np.max(np.abs(z_wrong)) > check.threshold


def test_unclipped_bipartition_is_the_pairs_unclipped_measure():
    rng = np.random.default_rng(5)
    for _ in range(10):
        s = random_state(rng, 2)
        raw = ob.bipartition(s, 0, 1, clip=False)
        clipped = ob.bipartition(s, 0, 1)
        assert raw["E_N_A_B"] == pytest.approx(pair_log_negativity(s, clip=False), abs=1e-10)
        assert raw["G_A_to_B"] == pytest.approx(pair_steerability(s, clip=False), abs=1e-10)
        assert clipped["G_B_to_A"] == pytest.approx(max(0.0, raw["G_B_to_A"]), abs=1e-12)


def test_verdict_set_and_angle_z():
    labels = ("a", "n_b")  # a mode named like an observable prefix: keys matched exactly
    assert ob.in_verdict("n_a", labels) and ob.in_verdict("purity_n_b", labels)
    assert ob.in_verdict("n_thermal_a", labels) and ob.in_verdict("n_n_b", labels)
    for k in ("n_coherent_a", "entropy_a", "squeezing_db_a", "E_N_a_n_b", "n_c"):
        assert not ob.in_verdict(k, labels), k
    # θ and θ + π are the same quadrature: 3.1 vs 0.0 is 0.04 rad apart
    assert ob.observable_z("squeezing_angle_a", [3.1], [0.01], [0.0])[0] == pytest.approx(
        (3.1 - math.pi) / 0.01)
    assert np.isnan(ob.observable_z("n_a", [1.0], [0.0], [1.0])[0])
    assert ob.resolve_ensemble_observables(("b", "m")) == ()
    assert ob.resolve_ensemble_observables(None) == ob.OBSERVABLES
    assert ob.resolve_ensemble_observables(("b", "m"), ((("b",), ("m",)),)) == ob.OBSERVABLES
    assert ob.resolve_ensemble_observables(("b", "m"), (), "n,purity") == ("n", "purity")


def test_fidelity_target_file_and_ensemble_fidelity(tmp_path):
    """A two-mode target (a two-mode squeezed vacuum) from an .npz; the sampled F(σ(t), target)
    ± SE from the vacuum against F of the exact σ(t) (:func:`fidelity` itself is tested
    against closed forms above), by the max-|z| test at every record."""
    from langevin_sim.engine import exact_moments, make_initial_state, simulate
    from langevin_sim.integrators import get_integrator
    from langevin_sim.statistics import consistency

    system = three_mode_system()
    target = tmsv(0.3)
    path = tmp_path / "t.npz"
    np.savez(path, modes=np.array(["a", "c"]), covariance=target, mean=np.zeros(4))
    tgt = ob.load_fidelity_target(str(path), system.mode_labels)
    assert tgt.modes == ("a", "c") and tgt.key == "fidelity_ac"
    times = np.array([0.0, 0.5, 1.0, 2.0, 4.0])
    integ = get_integrator("exact")
    init = make_initial_state(system, "vacuum", integ, 1.0)
    r = simulate(system, times, n_traj=8192, seed=3, initial=init)
    values, stderr = ob.ensemble_fidelity(r, tgt)
    means, covs = exact_moments(system, times, method=integ, dt=1.0, initial=init)
    exact = ob.exact_fidelity(covs, means, system.mode_labels, tgt)
    # independent check of the exact value at t = 0 (vacuum against a TMSV: |<0|TMSV>|² =
    # 1/cosh² r)
    assert exact[0] == pytest.approx(1 / math.cosh(0.3) ** 2, rel=1e-10)
    check = consistency(ob.observable_z("fidelity_ac", values, stderr, exact), 0.01,
                        r.jackknife_dof)
    assert check.consistent, check
    with pytest.raises(ValueError, match="unknown mode 'c'"):
        ob.load_fidelity_target(str(path), ("a", "b"))


def test_at_records_keeps_estimates_and_errors():
    """simulate computes the observables at the records it shows: the same values and SEs as
    over all records."""
    from langevin_sim.engine import simulate

    r = simulate(three_mode_system(), np.arange(0.0, 6.0), n_traj=512, seed=11,
                 initial="thermal")
    parties = ((("a", "b"), ("c",)), (("a",), ("b",), ("c",)))
    full = ob.ensemble_observables(r, parties)
    part = ob.ensemble_observables(ob.at_records(r, [1, 4]), parties)
    assert set(full) == set(part)
    for k, (values, stderr) in full.items():
        np.testing.assert_array_equal(part[k][0], values[[1, 4]])
        np.testing.assert_array_equal(part[k][1], stderr[[1, 4]])
