"""Entanglement and steering measures of a two-mode Gaussian state (docs/physics.md).

Every function takes a 4×4 covariance ``σ_AB = [[σ_A, C], [Cᵀ, σ_B]]`` in *xpxp* order and
the package's convention (vacuum variance 1/2); it does not care whether the matrix is
analytic or sampled. The names follow the pair (A, B) (:func:`measure_names`); for the
paper, A = b (phonons) and B = m (magnons):

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
from dataclasses import dataclass

import numpy as np

from ._kernels.measures import batch_measures, minimize_over_angles
from .conventions import THRESHOLD_TOL, physicality_margin, reduced_covariance


def measure_names(pair) -> tuple:
    """The six measure names of the pair (A, B), in display order:
    ``E_N``, ``E_<A><B>`` (Duan; ``E_<A>_<B>`` when a name is longer than one letter),
    ``S_<B>_given_<A>``, ``S_<A>_given_<B>``, ``G_<A>_to_<B>``, ``G_<B>_to_<A>``. For the
    paper's (b, m) these are the JSON keys used everywhere."""
    a, b = pair
    duan = f"E_{a}{b}" if len(a) == 1 and len(b) == 1 else f"E_{a}_{b}"
    return ("E_N", duan, f"S_{b}_given_{a}", f"S_{a}_given_{b}", f"G_{a}_to_{b}",
            f"G_{b}_to_{a}")


def measure_labels(pair) -> dict:
    """LaTeX labels of :func:`measure_names` for plots."""
    a, b = pair
    duan = rf"$E_{{{a}{b}}}$" if len(a) == len(b) == 1 else rf"$E_{{{a},{b}}}$"
    return dict(zip(measure_names(pair), (
        r"$E_N$", duan, rf"$S_{{{b}|{a}}}$", rf"$S_{{{a}|{b}}}$",
        rf"$\mathcal{{G}}_{{{a}\to {b}}}$", rf"$\mathcal{{G}}_{{{b}\to {a}}}$")))


_POSITION_THRESHOLD = (0.0, 1.0, 1.0, 1.0, 0.0, 0.0)
_POSITION_SMALLER = (False, True, True, True, False, False)


def threshold(name: str) -> float:
    """Value at which a measure starts to signal quantum correlations (``E_N``, ``G_*``: 0;
    Duan ``E_<A><B>`` and Reid ``S_*``: 1)."""
    return 0.0 if name == "E_N" or name.startswith("G_") else 1.0


def smaller_is_stronger(name: str) -> bool:
    """Whether smaller values mean stronger correlations (Duan and Reid)."""
    return name != "E_N" and not name.startswith("G_")


def signals_correlation(name: str, value, tol: float = THRESHOLD_TOL):
    """Whether ``value`` (a number or an array) is past the measure's threshold by more than
    ``tol``, so that round-off never counts as a correlation."""
    value = np.asarray(value, float)
    out = value < threshold(name) - tol if smaller_is_stronger(name) else \
        value > threshold(name) + tol
    return bool(out) if out.ndim == 0 else out


def clipped_at_zero(name: str) -> bool:
    """Whether a measure is reported clipped at 0 (``E_N`` and ``G_*``: ``max(0, ·)``; their
    unclipped values are what onsets and unbiased estimates use)."""
    return name == "E_N" or name.startswith("G_")


def onset_names(pair) -> tuple:
    """The measures of the pair (A, B) whose onsets are reported: entanglement ``E_N``,
    steering of B by A ``S_<B>_given_<A>`` (Reid) and ``G_<A>_to_<B>`` (Gaussian)."""
    a, b = pair
    return ("E_N", f"S_{b}_given_{a}", f"G_{a}_to_{b}")


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
    """The six measures of one two-mode covariance of the pair (A, B).

    Indexing by name (``m["E_N"]``, ``m["S_m_given_b"]``) or attribute (``m.E_bm`` for the
    pair (b, m)) uses the pair's names (:func:`measure_names`).

    Attributes
    ----------
    E_N : float
        Log-negativity (> 0: entangled).
    duan : float
        Duan product criterion ``E_<A><B>`` (< 1: entangled).
    steer_b_by_a, steer_a_by_b : float
        Reid steering ``S_<B>_given_<A>`` and ``S_<A>_given_<B>`` (< 1: steering).
    g_a_to_b, g_b_to_a : float
        Gaussian steerability (> 0: steering).
    physical : bool
        Whether ``σ + iΩ/2 >= 0`` held (always check this for a *sampled* matrix).
    physicality_margin : float
        Smallest eigenvalue of ``σ + iΩ/2``.
    pair : tuple of str
    """

    E_N: float
    duan: float
    steer_b_by_a: float
    steer_a_by_b: float
    g_a_to_b: float
    g_b_to_a: float
    physical: bool
    physicality_margin: float
    pair: tuple

    @property
    def names(self) -> tuple:
        return measure_names(self.pair)

    def values(self) -> np.ndarray:
        """The six measures as an array, in :func:`measure_names` order."""
        return np.array([self.E_N, self.duan, self.steer_b_by_a, self.steer_a_by_b,
                         self.g_a_to_b, self.g_b_to_a])

    def as_dict(self) -> dict:
        out = dict(zip(self.names, self.values().tolist()))
        out.update(physical=self.physical, physicality_margin=self.physicality_margin)
        return out

    def __getitem__(self, name: str) -> float:
        try:
            return float(self.values()[self.names.index(name)])
        except ValueError:
            raise KeyError(f"unknown measure {name!r} for the pair {self.pair}; names: "
                           f"{', '.join(self.names)}") from None

    def __getattr__(self, name: str):
        pair = self.__dict__.get("pair")
        if pair is not None and not name.startswith("__") and name in measure_names(pair):
            return self[name]
        raise AttributeError(name)


def two_mode_measures(sigma, tol: float = 1e-9, pair=("A", "B")) -> Measures:
    """All six measures of a 4×4 covariance (modes ordered as ``pair``, A first; the names of
    the modes only name the measures), plus the physicality check. ``tol`` is the relative
    round-off allowance of that check.
    """
    s = _two_mode(sigma)
    margin = physicality_margin(s)
    physical = margin >= -tol * max(1.0, float(np.abs(s).max()))
    swapped = s[np.ix_(_SWAP, _SWAP)]
    return Measures(
        E_N=log_negativity(s),
        duan=duan_product(s),
        steer_b_by_a=reid_steering(s),
        steer_a_by_b=reid_steering(swapped),
        g_a_to_b=gaussian_steerability(s),
        g_b_to_a=gaussian_steerability(swapped),
        physical=bool(physical),
        physicality_margin=margin,
        pair=tuple(pair),
    )


def measures_stack(stack, clip: bool = True) -> np.ndarray:
    """The six measures of each 4×4 covariance of ``stack`` (n, 4, 4), shape (n, 6), in one
    compiled pass (parallel over the matrices); NaN where a matrix cannot be evaluated."""
    s = np.ascontiguousarray(np.asarray(stack, dtype=float).reshape(-1, 4, 4))
    return batch_measures(s, np.ones(6, dtype=np.bool_), clip)


def measures(sigma, system=None, modes=None, tol: float = 1e-9) -> Measures:
    """Measures of the pair ``modes`` of a full covariance.

    Parameters
    ----------
    sigma : ndarray, shape (d, d) or (4, 4)
        Covariance of the whole system, or already the two-mode one (then ``system`` and
        ``modes`` are ignored).
    system : LinearSystem, optional
        Gives the mode labels; without it ``modes`` must be integer indices.
    modes : pair of str or int, optional
        (A, B): A plays the paper's ``b`` (steering) role, B the ``m`` role. Default: the
        system's :attr:`~langevin_sim.systems.linear.LinearSystem.default_pair` (the model's),
        or ``("A", "B")`` for a two-mode covariance without a system.
    """
    s = np.asarray(sigma, dtype=float)
    if modes is None:
        if system is not None and system.default_pair is not None:
            modes = system.default_pair
        elif s.shape == (4, 4) and system is None:
            modes = ("A", "B")
        else:
            raise ValueError("name the two modes to measure (modes=(A, B)): the system has no "
                             "default pair")
    if s.shape == (4, 4) and system is None:
        labels = tuple(modes) if all(isinstance(m, str) for m in modes) else ("A", "B")
        return two_mode_measures(s, tol, labels)
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
    labels = tuple(system.mode_labels[i] for i in idx) if system is not None else \
        tuple(f"mode{i}" for i in idx)
    return two_mode_measures(reduced_covariance(s, idx), tol, labels)
