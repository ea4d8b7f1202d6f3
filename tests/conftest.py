import numpy as np
import pytest

from langevin_sim.models.cascade import CascadeParameters, build_system

ALPHA = 0.01  # family-wise significance of every consistency test of the ensembles


def upper(m: np.ndarray) -> np.ndarray:
    """The upper triangle (diagonal included) of the last two axes: a covariance's independent
    entries, flattened over the last axis."""
    iu = np.triu_indices(m.shape[-1])
    return m[..., iu[0], iu[1]]


def random_parameters(rng: np.random.Generator) -> CascadeParameters:
    """A random point of parameter space (every physical knob varied); may be unstable."""
    return CascadeParameters(
        kappa1=rng.uniform(0.2, 30), kappa2=rng.uniform(0.2, 30),
        delta1=rng.uniform(-3, 3), delta2=rng.uniform(-3, 3), delta_m=rng.uniform(-3, 3),
        g_ab=rng.uniform(0, 1.5), g_am=rng.uniform(0, 2.5),
        gamma_b=10 ** rng.uniform(-6, -1), gamma_m=rng.uniform(0.01, 1),
        eta=rng.uniform(0, 1), T=rng.uniform(0, 1.0),
        T_b=rng.choice([None, rng.uniform(0, 0.5)]),
    )


def random_stable_systems(n: int, seed: int):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        p = random_parameters(rng)
        s = build_system(p)
        if s.is_stable and s.slowest_rate > 1e-9:
            out.append((p, s))
    return out


def tmsv(r: float) -> np.ndarray:
    """Two-mode squeezed vacuum, vacuum variance 1/2, xpxp."""
    c, s = np.cosh(2 * r) / 2, np.sinh(2 * r) / 2
    z = np.diag([1.0, -1.0])
    return np.block([[c * np.eye(2), s * z], [s * z, c * np.eye(2)]])


@pytest.fixture(scope="session")
def default_system():
    return build_system(CascadeParameters())
