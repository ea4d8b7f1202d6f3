"""Entanglement and steering measures of a two-mode Gaussian state (MODEL.md).

Every function takes a 4×4 covariance ``σ_AB = [[σ_A, C], [Cᵀ, σ_B]]`` in *xpxp* order and
the package's convention (vacuum variance 1/2); it does not care whether the matrix is
analytic or sampled. For the paper, A = b (phonons) and B = m (magnons):

========================  =====================================  ==========================
measure                   definition                             correlated when
========================  =====================================  ==========================
``E_N``                   log-negativity ``max(0, -ln 2ν̃₋)``       > 0 (iff entangled)
``E_bm``                  Duan product criterion (paper Eq. 9)   < 1
``S_m_given_b``           Reid steering of B by A (Eqs. 10–11)   < 1
``S_b_given_m``           Reid steering of A by B                < 1
``G_b_to_m``              Gaussian steerability A → B (Kogias)   > 0
``G_m_to_b``              Gaussian steerability B → A            > 0
========================  =====================================  ==========================
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ._kernels.measures import minimize_over_angles
from .conventions import physicality_margin, reduced_covariance

MEASURE_NAMES = ("E_N", "E_bm", "S_m_given_b", "S_b_given_m", "G_b_to_m", "G_m_to_b")
"""Keys of :meth:`Measures.as_dict`, in display order."""

MEASURE_THRESHOLDS = {"E_N": 0.0, "E_bm": 1.0, "S_m_given_b": 1.0, "S_b_given_m": 1.0,
                      "G_b_to_m": 0.0, "G_m_to_b": 0.0}
"""Value at which each measure starts to signal quantum correlations."""

MEASURE_LABELS = {"E_N": r"$E_N$", "E_bm": r"$E_{bm}$", "S_m_given_b": r"$S_{m|b}$",
                  "S_b_given_m": r"$S_{b|m}$", "G_b_to_m": r"$\mathcal{G}_{b\to m}$",
                  "G_m_to_b": r"$\mathcal{G}_{m\to b}$"}

SMALLER_IS_STRONGER = {"E_N": False, "E_bm": True, "S_m_given_b": True, "S_b_given_m": True,
                       "G_b_to_m": False, "G_m_to_b": False}

_SWAP = np.array([2, 3, 0, 1])


def _two_mode(sigma) -> np.ndarray:
    s = np.asarray(sigma, dtype=float)
    if s.shape != (4, 4):
        raise ValueError(f"a two-mode covariance must have shape (4, 4), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("covariance must be finite")
    return np.ascontiguousarray(0.5 * (s + s.T))


def swap_modes(sigma) -> np.ndarray:
    """Exchange the two modes of a 4×4 covariance."""
    s = _two_mode(sigma)
    return s[np.ix_(_SWAP, _SWAP)]


def log_negativity(sigma, clip: bool = True) -> float:
    """``E_N = max(0, -ln(2 ν̃₋))`` with ν̃₋ the smallest partially transposed symplectic
    eigenvalue: ``ν̃₋² = (Σ̃ - sqrt(Σ̃² - 4 det σ))/2``, ``Σ̃ = det σ_A + det σ_B - 2 det C``.

    Returns NaN if the matrix is so unphysical that ν̃₋ is not real. With ``clip=False`` the
    unclipped ``-ln(2 ν̃₋)`` is returned (negative when separable): a smooth quantity whose
    zero crossing marks the onset of entanglement.
    """
    s = _two_mode(sigma)
    det_a = np.linalg.det(s[:2, :2])
    det_b = np.linalg.det(s[2:, 2:])
    det_c = np.linalg.det(s[:2, 2:])
    det_s = np.linalg.det(s)
    sig = det_a + det_b - 2 * det_c
    disc = sig * sig - 4 * det_s
    nu2 = 0.5 * (sig - math.sqrt(max(disc, 0.0)))
    if nu2 <= 0:
        return math.nan
    value = -math.log(2 * math.sqrt(nu2))
    return max(0.0, value) if clip else value


def duan_product(sigma) -> float:
    """Duan–Giovannetti product ``E_bm`` (paper Eq. 9), minimised over angles and gains.

    ``min 4 V(x_B^θB + f_x x_A^θA) V(p_B^θB - f_y p_A^θA) / (1 + f_x f_y)²`` over
    ``θ_B ∈ [0, π)``, ``θ_A ∈ [0, 2π)``, ``f_x, f_y > 0``. Entangled if < 1.
    Symmetric under exchange of the modes.
    """
    return float(minimize_over_angles(0, _two_mode(sigma), 2 * math.pi)[0])


def reid_steering(sigma, *, independent_angles: bool = False) -> float:
    """Reid EPR steering of mode B by mode A (paper Eqs. 10–11): ``S_{B|A}``.

    ``min over θ_B, θ_A of 4 V_inf(x_B^θB | x_A^θA) V_inf(p_B^θB | p_A^θA)`` with
    ``V_inf(u | v) = V(u) - Cov(u, v)²/V(v)``: A measures a pair of conjugate quadratures.
    B is steered by A if < 1.

    With ``independent_angles=True``, A may choose its two measured quadratures
    independently; then the minimum is ``4 det(σ_B - Cᵀ σ_A⁻¹ C)`` in closed form (the best
    single quadrature of A achieves the full Gaussian conditional variance of any quadrature
    of B), which equals ``exp(-2 G_{A→B})`` wherever ``G_{A→B} > 0``.
    """
    s = _two_mode(sigma)
    if independent_angles:
        cond = s[2:, 2:] - s[2:, :2] @ np.linalg.solve(s[:2, :2], s[:2, 2:])
        return float(4 * np.linalg.det(cond))
    return float(minimize_over_angles(1, s, math.pi)[0])


def gaussian_steerability(sigma, clip: bool = True) -> float:
    """Gaussian steerability ``G_{A→B} = max(0, ½ ln(det σ_A / (4 det σ_AB)))`` (Kogias et
    al., PRL 114, 060403 (2015), in the vacuum-1/2 convention). Positive iff A can steer B by
    Gaussian measurements. NaN if ``det σ_AB <= 0`` (unphysical). ``clip=False`` returns the
    unclipped logarithm (its zero crossing marks the onset of steering).
    """
    s = _two_mode(sigma)
    det_s = np.linalg.det(s)
    det_a = np.linalg.det(s[:2, :2])
    if det_s <= 0 or det_a <= 0:
        return math.nan
    value = 0.5 * math.log(det_a / (4 * det_s))
    return max(0.0, value) if clip else value


@dataclass(frozen=True)
class Measures:
    """The six measures of one two-mode covariance (A = b, B = m in the paper).

    Attributes
    ----------
    E_N : float
        Log-negativity (> 0: entangled).
    E_bm : float
        Duan product criterion (< 1: entangled).
    S_m_given_b, S_b_given_m : float
        Reid steering of m by b, and of b by m (< 1: steering).
    G_b_to_m, G_m_to_b : float
        Gaussian steerability (> 0: steering).
    physical : bool
        Whether ``σ + iΩ/2 >= 0`` held (always check this for a *sampled* matrix).
    physicality_margin : float
        Smallest eigenvalue of ``σ + iΩ/2``.
    """

    E_N: float
    E_bm: float
    S_m_given_b: float
    S_b_given_m: float
    G_b_to_m: float
    G_m_to_b: float
    physical: bool
    physicality_margin: float

    def as_dict(self) -> dict:
        return asdict(self)

    def values(self) -> np.ndarray:
        """The six measures as an array, in :data:`MEASURE_NAMES` order."""
        return np.array([getattr(self, k) for k in MEASURE_NAMES])


def two_mode_measures(sigma, tol: float = 1e-9) -> Measures:
    """All six measures of a 4×4 covariance, plus the physicality check.

    ``tol`` is the relative round-off allowance of the physicality check.
    """
    s = _two_mode(sigma)
    margin = physicality_margin(s)
    physical = margin >= -tol * max(1.0, float(np.abs(s).max()))
    swapped = s[np.ix_(_SWAP, _SWAP)]
    return Measures(
        E_N=log_negativity(s),
        E_bm=duan_product(s),
        S_m_given_b=reid_steering(s),
        S_b_given_m=reid_steering(swapped),
        G_b_to_m=gaussian_steerability(s),
        G_m_to_b=gaussian_steerability(swapped),
        physical=bool(physical),
        physicality_margin=margin,
    )


def measures(sigma, system=None, modes=("b", "m"), tol: float = 1e-9) -> Measures:
    """Measures of the pair ``modes`` of a full covariance.

    Parameters
    ----------
    sigma : ndarray, shape (d, d) or (4, 4)
        Covariance of the whole system, or already the two-mode one (then ``system`` and
        ``modes`` are ignored).
    system : LinearSystem, optional
        Gives the mode labels; without it ``modes`` must be integer indices.
    modes : pair of str or int
        (A, B): A plays the paper's ``b`` (steering) role, B the ``m`` role.
    """
    s = np.asarray(sigma, dtype=float)
    if s.shape == (4, 4) and system is None:
        return two_mode_measures(s, tol)
    if len(modes) != 2:
        raise ValueError(f"modes must name two modes, got {modes!r}")
    if system is not None:
        idx = tuple(system.mode_index(m) for m in modes)
    else:
        if not all(isinstance(m, (int, np.integer)) for m in modes):
            raise ValueError("without a system, modes must be integer mode indices")
        idx = tuple(int(m) for m in modes)
    if idx[0] == idx[1]:
        raise ValueError(f"modes must be two different modes, got {modes!r}")
    return two_mode_measures(reduced_covariance(s, idx), tol)
