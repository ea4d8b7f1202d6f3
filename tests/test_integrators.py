"""The integrators (langevin_sim.integrators): the registry and its declared orders, and each
scheme's stationary and transient statistics against its exact references (k·SE tolerances,
fixed seeds). The ll step has its own file, test_ll.py."""

import numpy as np
import pytest

from langevin_sim.analyses.validate import validate
from langevin_sim.engine import exact_moments, simulate
from langevin_sim.gaussian import em_stationary, steady_state
from langevin_sim.integrators import METHODS, get_integrator
from langevin_sim.models.cascade import CascadeParameters, build_system
from langevin_sim.statistics import consistency
from langevin_sim.systems.linear import LinearSystem

from .conftest import ALPHA
from .conftest import upper as _upper


def test_registry_declares_orders():
    from langevin_sim.integrators import methods_for

    assert set(METHODS) == {"em", "exact", "ll", "exp-euler", "exp-heun"}
    em, ex = get_integrator("em"), get_integrator("exact")
    assert (em.strong_order, em.weak_order) == (0.5, 1.0)
    assert ex.strong_order == np.inf and ex.exact
    orders = {k: (get_integrator(k).strong_order, get_integrator(k).weak_order) for k in METHODS}
    assert orders["ll"] == (1.0, 2.0) and orders["exp-heun"] == (0.5, 2.0)
    assert orders["exp-euler"] == (0.5, 1.0)
    assert methods_for("linear") == ("exact", "ll", "em")
    assert methods_for("nonlinear") == ("ll", "em", "exp-euler", "exp-heun")
    # one default step per scheme, the same in both engines
    assert get_integrator("em").default_step(True) == get_integrator("em").default_step(False)
    assert get_integrator("ll").default_step(True) == 0.1
    with pytest.raises(ValueError, match="unknown method 'rk4'.*allowed: em, exact"):
        get_integrator("rk4")


@pytest.mark.parametrize("eta", [1.0, 0.5])
def test_exact_method_stationary_covariance_matches_lyapunov(eta):
    rep = validate(CascadeParameters(eta=eta), method="exact", n_traj=8192, seed=11,
                   t_final=200, record_every=20, alpha=ALPHA)
    assert rep.check.consistent, rep.check.summary()
    assert rep.sample_physical
    np.testing.assert_allclose(rep.analytic, steady_state(build_system(CascadeParameters(eta=eta))))


def test_em_matches_its_discrete_lyapunov_covariance():
    rep = validate(method="em", dt=0.01, n_traj=4096, seed=12, t_final=150, record_every=10,
                   alpha=ALPHA)
    assert rep.check.consistent, rep.check.summary()
    # and the sample is far from the continuous solution: EM's bias is real and resolved
    xb = rep.quadratures.index("x_b")
    assert (rep.covariance[xb, xb] - rep.continuous[xb, xb]) / rep.stderr[xb, xb] > 20


def _oscillator(gamma=1.0, nbar=1.0):
    a = np.array([[-gamma / 2, 1.0], [-1.0, -gamma / 2]])
    b = -np.sqrt(gamma) * np.eye(2)
    return LinearSystem(a, b, [nbar, nbar], ("o",))


def test_em_sampled_gap_to_continuous_halves_with_dt():
    """EM's sampled stationary Var(x) − exact shrinks linearly: halving Δt halves the gap."""
    sys1 = _oscillator()
    exact = steady_state(sys1)[0, 0]
    gaps, ses, z = [], [], []
    for k, dt in enumerate((0.04, 0.02)):
        times = np.arange(0, 61) * 1.0  # records every 1/ω, 60 of them after a start in Σ_EM
        r = simulate(sys1, times, method="em", dt=dt, n_traj=32768, seed=30 + k,
                     initial="steady").time_average(0.0)
        cov, se = r.covariance[0, 0, 0], r.covariance_stderr[0, 0, 0]
        z.append((cov - em_stationary(sys1, dt)[0, 0]) / se)  # consistent with Σ_EM?
        gaps.append(cov - exact)
        ses.append(se)
    ratio = gaps[0] / gaps[1]
    ratio_se = ratio * np.hypot(ses[0] / gaps[0], ses[1] / gaps[1])
    exact_ratio = ((em_stationary(sys1, 0.04)[0, 0] - exact)
                   / (em_stationary(sys1, 0.02)[0, 0] - exact))
    assert abs(exact_ratio - 2.0) < 0.06  # first order in dt: 2 + O(dt) = 2.053 here
    assert ratio_se < 0.2  # the sample resolves the halving
    z.append((ratio - exact_ratio) / ratio_se)  # delta-method SE of the ratio
    check = consistency(z, ALPHA, r.jackknife_dof)
    assert check.consistent, check.summary()


@pytest.mark.parametrize("method, dt", [("exact", 0.5), ("em", 0.004)])
def test_transient_ensemble_matches_exact_covariance(method, dt):
    system = build_system()
    times = np.array([0.0, 0.2, 1.0, 4.0, 20.0, 60.0])
    r = simulate(system, times, method=method, dt=dt, n_traj=8192, seed=5, initial="thermal")
    means, covs = exact_moments(system, times, method=method, dt=dt, initial="thermal")
    z = _upper((r.covariance - covs) / r.covariance_stderr)
    zm = (r.mean - means) / r.mean_stderr
    check = consistency(np.concatenate([z.ravel(), zm.ravel()]), ALPHA, r.jackknife_dof)
    assert check.consistent, check.summary()
