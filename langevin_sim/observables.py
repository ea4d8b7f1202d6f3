"""Observables of any mode or group of modes of a Gaussian state (docs: README, "Observables
for any mode or group of modes").

Every function takes a covariance in the package's convention (:mod:`langevin_sim.conventions`:
*xpxp* order, vacuum variance 1/2, ``x = (o + o†)/√2``) and, where it matters, the means of the
quadratures in the same units (``<x> = √2 Re<o>``). Nothing here knows where the matrix came
from (Lyapunov solution or ensemble sample); the ensemble versions at the end attach jackknife
standard errors through :meth:`~langevin_sim.engine.EnsembleResult.statistic`.

==========================  ====================================================================
single mode                 ``n̄ = (Var x + Var p + <x>² + <p>²)/2 − 1/2`` (its incoherent part
                            from σ, its coherent part ``|<o>|²``), the smallest quadrature
                            variance and its angle, squeezing in dB below the vacuum, purity
                            ``1/(2√det σ)``, von Neumann entropy (nats)
bipartition ``A|B``         log-negativity from every partially transposed symplectic eigenvalue,
                            mutual information, Gaussian steerability both ways (Kogias, Lee,
                            Ragy, Adesso, PRL 114, 060403 (2015), for m|n modes)
three modes                 the three 1|2 log-negativities, the residual contangles and their
                            minimum (Adesso and Illuminati), the classification of Giedke et al.
two states                  Uhlmann fidelity of two Gaussian states (Banchi, Braunstein,
                            Pirandola, PRL 115, 260501 (2015))
==========================  ====================================================================
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .conventions import THRESHOLD_TOL, VACUUM_VARIANCE, quadrature_indices, symplectic_form

# ---------------------------------------------------------------------------------------------
# names

SINGLE_MODE_OBSERVABLES = ("n", "n_thermal", "n_coherent", "min_variance", "squeezing_angle",
                           "squeezing_db", "purity", "entropy")
"""The single-mode observables, in display order (JSON key: ``<name>_<mode>``)."""

BIPARTITION_OBSERVABLES = ("E_N", "I", "G")
"""The bipartition observables: log-negativity ``E_N_<A>_<B>``, mutual information
``I_<A>_<B>``, Gaussian steerability ``G_<A>_to_<B>`` and ``G_<B>_to_<A>``."""

TRIPARTITE_OBSERVABLES = ("residual_contangle",)
"""Three-mode analysis (switched on by three single-mode parties, or a three-mode model)."""

OBSERVABLES = SINGLE_MODE_OBSERVABLES + BIPARTITION_OBSERVABLES + TRIPARTITE_OBSERVABLES

UNITS = {"n": "quanta", "n_thermal": "quanta", "n_coherent": "quanta",
         "min_variance": "vacuum variance 1/2", "squeezing_angle": "rad", "squeezing_db": "dB",
         "purity": "", "entropy": "nats", "E_N": "nats", "I": "nats", "G": "nats",
         "residual_contangle": "nats²"}


def parse_observables(text: str | None) -> tuple:
    """``"n,squeezing_db,E_N"`` → the names, checked (``ValueError`` naming the allowed ones);
    ``None`` → every observable."""
    if text is None:
        return OBSERVABLES
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    if not names:
        raise ValueError(f"--observables expects names separated by commas; allowed: "
                         f"{', '.join(OBSERVABLES)}")
    for name in names:
        if name not in OBSERVABLES:
            raise ValueError(f"unknown observable {name!r} in --observables; allowed: "
                             f"{', '.join(OBSERVABLES)}")
    return names


def parse_parties(text: str, labels) -> tuple:
    """``"a1,b|m"`` → ``(("a1", "b"), ("m",))``: two (or, for the three-mode analysis, three
    single-mode) disjoint groups of the model's modes ``labels`` (``ValueError`` otherwise)."""
    labels = tuple(labels)
    groups = tuple(tuple(m.strip() for m in part.split(",")) for part in str(text).split("|"))
    if len(groups) not in (2, 3) or any(not all(g) for g in groups):
        raise ValueError(f"--parties expects groups of modes separated by '|' (e.g. 'a1,b|m', "
                         f"or 'a|b|m' for three modes), got {text!r}; modes: {', '.join(labels)}")
    if len(groups) == 3 and any(len(g) != 1 for g in groups):
        raise ValueError(f"--parties with three parties takes one mode each (e.g. 'a|b|m'), "
                         f"got {text!r}")
    seen = []
    for g in groups:
        for m in g:
            if m not in labels:
                raise ValueError(f"unknown mode {m!r} in --parties {text!r}; modes: "
                                 f"{', '.join(labels)}")
            if m in seen:
                raise ValueError(f"mode {m!r} appears twice in --parties {text!r}: the parties "
                                 f"must be disjoint")
            seen.append(m)
    return groups


def group_name(group) -> str:
    """The key fragment of a group of modes: their names joined (``("a1", "b")`` → ``a1b``)."""
    return "".join(group)


def bipartition_names(a, b) -> tuple:
    """JSON keys of the bipartition ``A|B`` (groups of mode names), in display order:
    ``E_N_<A>_<B>``, ``I_<A>_<B>``, ``G_<A>_to_<B>``, ``G_<B>_to_<A>``."""
    na, nb = group_name(a), group_name(b)
    return (f"E_N_{na}_{nb}", f"I_{na}_{nb}", f"G_{na}_to_{nb}", f"G_{nb}_to_{na}")


def higher_is_stronger(name: str) -> bool:
    """Whether larger values of an observable key are the stronger effect (for summaries):
    every key except the occupations, the smallest variance, the entropy (cooling and
    purification go down) and the three-mode class (1: fully inseparable)."""
    family = name.split("_")[0]
    return not (family == "n" or name.startswith(("min_variance", "entropy",
                                                   "tripartite_class")))


def signal_threshold(name: str):
    """The value beyond which an observable key signals a quantum effect, or ``None``:
    ``E_N_*``, ``G_*``, ``residual_contangle_*`` > 0 (entanglement, steering, genuine tripartite
    entanglement), ``squeezing_db_*`` > 0 (below the vacuum)."""
    if name.startswith(("E_N_", "G_", "residual_contangle_", "squeezing_db_")):
        return 0.0
    return None


# ---------------------------------------------------------------------------------------------
# helpers


def _covariance(sigma) -> np.ndarray:
    s = np.asarray(sigma, dtype=float)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or s.shape[0] % 2 or s.shape[0] == 0:
        raise ValueError(f"sigma must be a square covariance of even size (2 per mode), got "
                         f"shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("sigma must be finite")
    return 0.5 * (s + s.T)


def _means(mean, dim: int) -> np.ndarray:
    if mean is None:
        return np.zeros(dim)
    d = np.asarray(mean, dtype=float).ravel()
    if d.shape != (dim,) or not np.all(np.isfinite(d)):
        raise ValueError(f"mean must be {dim} finite numbers (the quadrature means), got shape "
                         f"{np.shape(mean)}")
    return d


def _indices(groups, n_modes: int) -> list:
    out = []
    for g in groups:
        idx = tuple(int(i) for i in np.atleast_1d(g))
        if not idx or any(not 0 <= i < n_modes for i in idx):
            raise ValueError(f"mode indices must be in [0, {n_modes}), got {g!r}")
        out.append(idx)
    flat = [i for g in out for i in g]
    if len(set(flat)) != len(flat):
        raise ValueError(f"the groups of modes must be disjoint, got {groups!r}")
    return out


def _sub(s: np.ndarray, modes) -> np.ndarray:
    idx = quadrature_indices(modes)
    return s[np.ix_(idx, idx)]


def symplectic_eigenvalues(sigma) -> np.ndarray:
    """Symplectic eigenvalues ``ν_k`` of a covariance (``|eig(iΩσ)|``, each once), ascending;
    the vacuum has ``ν = 1/2``.

    Parameters
    ----------
    sigma : ndarray, shape (2N, 2N)

    Returns
    -------
    ndarray, shape (N,)
    """
    s = _covariance(sigma)
    n = s.shape[0] // 2
    w, v = np.linalg.eigh(s)
    if w[0] > 0:
        # iσ^½Ωσ^½ is Hermitian with eigenvalues ±ν_k: exact pairs, real, sorted
        root = (v * np.sqrt(w)) @ v.T
        ev = np.linalg.eigvalsh(1j * root @ symplectic_form(n) @ root)
        return np.sort(ev[n:])
    # not positive definite (a noisy sample): the spectrum of iΩσ, pairs ±ν
    ev = np.sort(np.abs(np.linalg.eigvals(1j * symplectic_form(n) @ s).real))
    return ev[::2]


def _entropy_term(nu: np.ndarray) -> float:
    """``Σ_k (ν+½) ln(ν+½) − (ν−½) ln(ν−½)`` with ``0 ln 0 = 0`` (ν below ½ by round-off or
    sampling counts as ½)."""
    nu = np.maximum(np.asarray(nu, float), VACUUM_VARIANCE)
    hi, lo = nu + 0.5, nu - 0.5
    lo_term = np.where(lo > 0, lo * np.log(np.where(lo > 0, lo, 1.0)), 0.0)
    return float(np.sum(hi * np.log(hi) - lo_term))


def von_neumann_entropy(sigma) -> float:
    """Von Neumann entropy ``S = Σ_k g(ν_k)`` in nats, ``g(ν) = (ν+½)ln(ν+½) − (ν−½)ln(ν−½)``
    (a thermal mode of occupation n̄: ``(n̄+1) ln(n̄+1) − n̄ ln n̄``). Shape (2N, 2N) → float."""
    return _entropy_term(symplectic_eigenvalues(sigma))


def purity(sigma) -> float:
    """Purity ``Tr ρ² = 1/(2^N √det σ)`` (one mode: ``1/(2√det σ)``; 1 for a pure state)."""
    s = _covariance(sigma)
    det = np.linalg.det(s)
    if det <= 0:
        raise ValueError(f"purity needs det σ > 0, got {det:.3g} (not a covariance)")
    return float(1.0 / (2 ** (s.shape[0] // 2) * math.sqrt(det)))


# ---------------------------------------------------------------------------------------------
# one mode


@dataclass(frozen=True)
class SingleMode:
    """Observables of one mode (units in brackets).

    Attributes
    ----------
    n : float
        Mean occupation ``<o†o> = (Var x + Var p + <x>² + <p>²)/2 − 1/2`` [quanta].
    n_thermal : float
        Its incoherent part ``(Var x + Var p)/2 − 1/2`` (thermal and squeezing quanta) [quanta].
    n_coherent : float
        Its coherent part ``(<x>² + <p>²)/2 = |<o>|²`` [quanta].
    min_variance : float
        Smallest variance of a rotated quadrature ``x^θ = x cos θ + p sin θ`` (vacuum: 1/2).
    squeezing_angle : float
        The θ of that quadrature, in [0, π) [rad].
    squeezing_db : float
        ``−10 log10(min_variance / (1/2))`` [dB]: positive when squeezed below the vacuum.
    purity : float
        ``1/(2√det σ)``.
    entropy : float
        Von Neumann entropy [nats].
    """

    n: float
    n_thermal: float
    n_coherent: float
    min_variance: float
    squeezing_angle: float
    squeezing_db: float
    purity: float
    entropy: float

    def as_dict(self, mode: str | None = None) -> dict:
        """``{name: value}``, names suffixed ``_<mode>`` when ``mode`` is given."""
        suffix = "" if mode is None else f"_{mode}"
        return {f"{k}{suffix}": getattr(self, k) for k in SINGLE_MODE_OBSERVABLES}


def single_mode(sigma, mean=None) -> SingleMode:
    """Observables of one mode from its 2×2 covariance and optional means ``(<x>, <p>)``.

    Parameters
    ----------
    sigma : ndarray, shape (2, 2)
        Covariance of ``(x, p)`` (vacuum variance 1/2).
    mean : array_like, shape (2,), optional
        ``(<x>, <p>)`` (default 0: the coherent part is then 0).
    """
    s = _covariance(sigma)
    if s.shape != (2, 2):
        raise ValueError(f"single_mode takes one mode's (2, 2) covariance, got {s.shape}")
    d = _means(mean, 2)
    w, v = np.linalg.eigh(s)
    if w[0] <= 0:
        raise ValueError(f"the mode's covariance is not positive definite (smallest variance "
                         f"{w[0]:.3g}); not a state")
    theta = math.atan2(v[1, 0], v[0, 0]) % math.pi  # x^θ = x cos θ + p sin θ: eigenvector
    n_thermal = float(0.5 * (s[0, 0] + s[1, 1]) - 0.5)
    n_coherent = 0.5 * float(d @ d)
    det = float(w[0] * w[1])
    return SingleMode(
        n=n_thermal + n_coherent, n_thermal=n_thermal, n_coherent=n_coherent,
        min_variance=float(w[0]), squeezing_angle=float(theta),
        squeezing_db=float(-10 * math.log10(w[0] / VACUUM_VARIANCE)),
        purity=float(1 / (2 * math.sqrt(det))),
        entropy=_entropy_term(np.array([math.sqrt(det)])))


def mode_observables(sigma, labels, mean=None, modes=None) -> dict:
    """Single-mode observables of every mode (or of ``modes``) of a full covariance, keyed
    ``<observable>_<mode>`` (``n_b``, ``squeezing_db_b``, ...).

    Parameters
    ----------
    sigma : ndarray, shape (2N, 2N)
    labels : sequence of str, length N
        The mode names, in state-vector order.
    mean : array_like, shape (2N,), optional
        Quadrature means (the coherent parts); default 0.
    modes : sequence of str, optional
        Which modes (default all).
    """
    s = _covariance(sigma)
    labels = tuple(labels)
    if len(labels) != s.shape[0] // 2:
        raise ValueError(f"labels name {len(labels)} modes, sigma has {s.shape[0] // 2}")
    d = _means(mean, s.shape[0])
    out = {}
    for m in (labels if modes is None else modes):
        i = labels.index(m)
        out.update(single_mode(s[2 * i:2 * i + 2, 2 * i:2 * i + 2], d[2 * i:2 * i + 2])
                   .as_dict(m))
    return out


# ---------------------------------------------------------------------------------------------
# bipartitions


def partial_transpose(sigma, modes) -> np.ndarray:
    """The partially transposed covariance: ``p → −p`` for the listed modes (0-based)."""
    s = _covariance(sigma).copy()
    flip = np.ones(s.shape[0])
    flip[[2 * int(m) + 1 for m in np.atleast_1d(modes)]] = -1.0
    return s * flip[:, None] * flip[None, :]


def log_negativity(sigma, a, b, clip: bool = True) -> float:
    """Log-negativity of the bipartition ``A|B`` of a Gaussian state.

    ``E_N = Σ_k max(0, −ln 2ν̃_k)`` over the symplectic eigenvalues ν̃_k of the partial
    transpose (on B) of the reduced covariance of A ∪ B; for one mode against one mode this is
    :func:`langevin_sim.measures.log_negativity`. ``clip=False`` returns ``−ln 2ν̃_min``
    (negative when separable; its zero crossing marks the onset).

    Parameters
    ----------
    sigma : ndarray, shape (2N, 2N)
    a, b : int or sequence of int
        Mode indices (0-based) of the two disjoint groups.
    """
    s = _covariance(sigma)
    a, b = _indices((a, b), s.shape[0] // 2)
    red = _sub(s, a + b)
    nu = symplectic_eigenvalues(partial_transpose(red, range(len(a), len(a) + len(b))))
    if not clip:
        return float(-math.log(2 * nu[0])) if nu[0] > 0 else math.nan
    return float(np.sum(np.maximum(0.0, -np.log(2 * nu[nu > 0]))))


def mutual_information(sigma, a, b) -> float:
    """Quantum mutual information ``I(A:B) = S(A) + S(B) − S(AB)`` in nats (modes as in
    :func:`log_negativity`)."""
    s = _covariance(sigma)
    a, b = _indices((a, b), s.shape[0] // 2)
    return (von_neumann_entropy(_sub(s, a)) + von_neumann_entropy(_sub(s, b))
            - von_neumann_entropy(_sub(s, a + b)))


def gaussian_steerability(sigma, a, b, clip: bool = True) -> float:
    """Gaussian steerability ``G_{A→B}`` (A steers B by Gaussian measurements) of m|n modes.

    Kogias, Lee, Ragy and Adesso, PRL 114, 060403 (2015), in the vacuum-1/2 convention:
    ``G_{A→B} = Σ_j max(0, −ln 2ν̄_j)`` over the symplectic eigenvalues ν̄_j of the Schur
    complement ``M = σ_B − C_ABᵀ σ_A⁻¹ C_AB`` (the covariance of B conditioned on Gaussian
    measurements of A); for one mode each it is
    :func:`langevin_sim.measures.gaussian_steerability`. ``clip=False`` returns
    ``−ln 2ν̄_min`` (negative when A cannot steer B; smooth through the threshold, for tests).
    """
    s = _covariance(sigma)
    a, b = _indices((a, b), s.shape[0] // 2)
    ia, ib = quadrature_indices(a), quadrature_indices(b)
    sa, sb, c = s[np.ix_(ia, ia)], s[np.ix_(ib, ib)], s[np.ix_(ia, ib)]
    schur = sb - c.T @ np.linalg.solve(sa, c)
    nu = symplectic_eigenvalues(schur)
    if not clip:
        return float(-math.log(2 * nu[0])) if nu[0] > 0 else math.nan
    return float(np.sum(np.maximum(0.0, -np.log(2 * nu[nu > 0]))))


def bipartition(sigma, a, b, names=None, clip: bool = True) -> dict:
    """E_N, mutual information and both steerabilities of ``A|B`` as a dict keyed by
    :func:`bipartition_names` (``names``: the two groups' mode names; default ``A``, ``B``;
    ``clip=False``: E_N and G unclipped, see :func:`log_negativity`)."""
    keys = bipartition_names(*(names or (("A",), ("B",))))
    return dict(zip(keys, (log_negativity(sigma, a, b, clip), mutual_information(sigma, a, b),
                           gaussian_steerability(sigma, a, b, clip),
                           gaussian_steerability(sigma, b, a, clip))))


# ---------------------------------------------------------------------------------------------
# three modes

CLASS_NAMES = {
    1: "fully inseparable",
    2: "one-mode biseparable",
    3: "two-mode biseparable",
    4: "three-mode biseparable or fully separable",
}


@dataclass(frozen=True)
class Tripartite:
    """Entanglement structure of three modes (i, j, k).

    Attributes
    ----------
    modes : tuple of str
    one_vs_two : dict
        ``E_N`` of each ``i|jk`` bipartition, keyed ``E_N_<i>_<jk>`` [nats].
    pairs : dict
        ``E_N`` of each pair ``i|j`` of the reduced two-mode state, keyed ``E_N_<i>_<j>``.
    residual_contangles : dict
        ``R^{i|jk} = C_{i|jk} − C_{i|j} − C_{i|k}``, keyed ``residual_contangle_<i>_<jk>``,
        with the contangle estimated by the squared log-negativity ``C = E_N²`` [nats²].
    residual_contangle : float
        ``R_min = min_i R^{i|jk}``: > 0 signals genuine tripartite entanglement.
    class_number : int
        Giedke, Kraus, Lewenstein and Cirac (PRA 64, 052303 (2001)): 1 fully inseparable, 2 one
        ``i|jk`` separable, 3 two separable, 4 all three separable (class 4 or 5: the
        partial transposes cannot tell three-mode biseparable from fully separable).
    classification : str
    separable : tuple of str
        The ``i|jk`` cuts found separable (PPT, with the threshold margin 1e-9).
    """

    modes: tuple
    one_vs_two: dict
    pairs: dict
    residual_contangles: dict
    residual_contangle: float
    class_number: int
    classification: str
    separable: tuple

    def as_dict(self) -> dict:
        tag = "_".join(self.modes)
        return {**self.one_vs_two, **self.pairs, **self.residual_contangles,
                f"residual_contangle_{tag}": self.residual_contangle,
                f"tripartite_class_{tag}": self.class_number,
                f"classification_{tag}": self.classification,
                f"separable_cuts_{tag}": list(self.separable)}


def tripartite(sigma, modes=(0, 1, 2), labels=None) -> Tripartite:
    """The three ``1|2`` log-negativities, the residual contangles and the classification of
    three modes of a Gaussian state.

    For a bipartition of one mode against N the positive partial transpose is necessary and
    sufficient for separability (Werner and Wolf, PRL 86, 3658 (2001)), so the ``i|jk`` cuts
    decide classes 1–3 exactly. The residual contangle follows Adesso and Illuminati (NJP 8, 15
    (2006)), with each contangle estimated by the squared log-negativity as in Li, Zhu and
    Agarwal, PRL 121, 203601 (2018) (exact for pure states).

    Parameters
    ----------
    sigma : ndarray, shape (2N, 2N)
    modes : three ints
        Mode indices (0-based) of the three parties.
    labels : three str, optional
        Their names for the keys (default ``1, 2, 3``).
    """
    s = _covariance(sigma)
    idx = _indices(tuple((m,) for m in modes), s.shape[0] // 2)
    if len(idx) != 3:
        raise ValueError(f"tripartite takes three modes, got {modes!r}")
    idx = [g[0] for g in idx]
    names = tuple(labels) if labels is not None else ("1", "2", "3")
    one_vs_two, pairs, residual, separable = {}, {}, {}, []
    e_pair = {}
    for x, y in itertools.combinations(range(3), 2):
        e_pair[x, y] = e_pair[y, x] = log_negativity(s, idx[x], idx[y])
        pairs[f"E_N_{names[x]}_{names[y]}"] = e_pair[x, y]
    for i in range(3):
        j, k = (x for x in range(3) if x != i)
        e = log_negativity(s, idx[i], (idx[j], idx[k]))
        cut = f"{names[i]}_{names[j]}{names[k]}"
        one_vs_two[f"E_N_{cut}"] = e
        residual[f"residual_contangle_{cut}"] = e * e - e_pair[i, j] ** 2 - e_pair[i, k] ** 2
        if e <= THRESHOLD_TOL:
            separable.append(f"{names[i]}|{names[j]}{names[k]}")
    number = 1 + len(separable)
    return Tripartite(tuple(names), one_vs_two, pairs, residual, min(residual.values()),
                      number, CLASS_NAMES[number], tuple(separable))


# ---------------------------------------------------------------------------------------------
# fidelity


_PURE_TOL = 1e-12
"""Relative excess of ``√det σ`` over ``2^-N`` below which :func:`fidelity` treats a state as
pure (round-off of a pure state's covariance)."""


def fidelity(sigma1, sigma2, mean1=None, mean2=None) -> float:
    """Uhlmann fidelity ``F = (Tr √(√ρ1 ρ2 √ρ1))²`` of two Gaussian states (``|<ψ|φ>|²`` for
    pure ones; 1 iff equal).

    Banchi, Braunstein and Pirandola, PRL 115, 260501 (2015), whose convention is ours (vacuum
    variance 1/2): with ``V = σ1 + σ2``, ``V_aux = Ωᵀ V⁻¹ (Ω/4 + σ2 Ω σ1)`` and ``δ`` the
    difference of the means,
    ``√F = F_tot exp(−δᵀ V⁻¹ δ / 4)``,
    ``F_tot⁴ = det[2 (√(I + (V_aux Ω)⁻²/4) + I) V_aux] / det V``.
    The matrix square root enters only through its determinant, ``Π_k (1 + √μ_k)`` over the
    eigenvalues ``μ_k = 1 + 1/(4λ_k²)`` (λ_k those of ``V_aux Ω``), which stays exact for
    pure states where the matrix under the root vanishes. If either state is pure (to
    round-off) the overlap ``F = exp(−δᵀV⁻¹δ/2)/√det V`` is used, which the general form
    approaches only as a square root (accuracy 1e-8 instead of 1e-15). The general form is
    accurate to about 1e-8 for states within ~1e-12 of purity.

    Parameters
    ----------
    sigma1, sigma2 : ndarray, shape (2N, 2N)
    mean1, mean2 : array_like, shape (2N,), optional
        Quadrature means (default 0).
    """
    s1, s2 = _covariance(sigma1), _covariance(sigma2)
    if s1.shape != s2.shape:
        raise ValueError(f"the two states must have the same modes, got shapes {s1.shape} and "
                         f"{s2.shape}")
    dim = s1.shape[0]
    delta = _means(mean1, dim) - _means(mean2, dim)
    omega = symplectic_form(dim // 2)
    v = s1 + s2
    det_v = np.linalg.det(v)
    if det_v <= 0:
        raise ValueError("fidelity needs σ1 + σ2 positive definite (two covariances)")
    exponent = -0.5 * float(delta @ np.linalg.solve(v, delta))
    half = 0.5 ** (dim // 2)
    if min(np.linalg.det(s1), np.linalg.det(s2)) <= (half * (1 + _PURE_TOL)) ** 2:
        # one state pure: F = <ψ|ρ|ψ>, the Gaussian overlap. The general form below reaches
        # it through √μ_k with μ_k -> 0, where round-off of 1e-16 would cost 1e-8.
        return float(math.exp(exponent) / math.sqrt(det_v))
    v_aux = omega.T @ np.linalg.solve(v, omega / 4 + s2 @ omega @ s1)
    lam = np.linalg.eigvals(v_aux @ omega)
    mu = 1.0 + 1.0 / (4.0 * lam * lam)
    if np.all(np.abs(mu.imag) <= 1e-9 * (1 + np.abs(mu))):
        # the μ_k are real and >= 0 for physical states; round-off below 0 is a pure state
        roots = np.sqrt(np.maximum(mu.real, 0.0))
    else:
        roots = np.sqrt(mu)
    f_tot4 = np.real(np.prod(1.0 + roots)) * np.linalg.det(2.0 * v_aux) / det_v
    if not f_tot4 > 0:
        raise ValueError("fidelity: the states are not physical covariances")
    return float(math.sqrt(f_tot4) * math.exp(exponent))


def fidelity_single_mode(sigma1, sigma2, mean1=None, mean2=None) -> float:
    """The single-mode closed form (Scutaru, J. Phys. A 31, 3659 (1998); Nha and Carmichael,
    PRA 71, 032336 (2005)), vacuum variance 1/2:
    ``F = exp(−δᵀ(σ1+σ2)⁻¹δ/2) / (√(Δ + Λ) − √Λ)`` with ``Δ = det(σ1 + σ2)`` and
    ``Λ = 4 (det σ1 − 1/4)(det σ2 − 1/4)``. A cross-check of :func:`fidelity`."""
    s1, s2 = _covariance(sigma1), _covariance(sigma2)
    if s1.shape != (2, 2) or s2.shape != (2, 2):
        raise ValueError("fidelity_single_mode takes two (2, 2) covariances")
    delta = _means(mean1, 2) - _means(mean2, 2)
    big = np.linalg.det(s1 + s2)
    small = max(0.0, 4 * (np.linalg.det(s1) - 0.25) * (np.linalg.det(s2) - 0.25))
    return float(math.exp(-0.5 * float(delta @ np.linalg.solve(s1 + s2, delta)))
                 / (math.sqrt(big + small) - math.sqrt(small)))


# ---------------------------------------------------------------------------------------------
# ensembles


def ensemble_mode_observables(result, mode, names=SINGLE_MODE_OBSERVABLES) -> dict:
    """Single-mode observables of ``mode`` at each record of an
    :class:`~langevin_sim.engine.EnsembleResult`, with jackknife standard errors.

    The observables of the covariance go through ``result.statistic``; the occupation and its
    coherent part, which need the sample means, through ``result.record_statistic``.

    Returns
    -------
    dict of ``<name>_<mode>`` -> (values, stderr), each ndarray of shape (n_rec,)
    """
    labels = tuple(result.mode_labels)
    if mode not in labels:
        raise ValueError(f"unknown mode {mode!r}; modes: {', '.join(labels)}")
    i = labels.index(mode)
    sl = slice(2 * i, 2 * i + 2)
    cov_names = [k for k in names if k not in ("n", "n_coherent")]

    def of_cov(c):
        obs = single_mode(c[sl, sl])
        return [getattr(obs, k) for k in cov_names]

    out = {}
    if cov_names:
        values, stderr = result.statistic(of_cov)
        out.update({f"{k}_{mode}": (values[:, j], stderr[:, j])
                    for j, k in enumerate(cov_names)})
    mean_names = [k for k in names if k in ("n", "n_coherent")]
    if mean_names:
        def of_means(means, covs):
            rows = [single_mode(c[sl, sl], m[sl]) for m, c in zip(means, covs)]
            return np.array([[getattr(r, k) for k in mean_names] for r in rows]).ravel()

        value, stderr = result.record_statistic(of_means)
        value = value.reshape(-1, len(mean_names))
        stderr = np.asarray(stderr).reshape(-1, len(mean_names))
        out.update({f"{k}_{mode}": (value[:, j], stderr[:, j])
                    for j, k in enumerate(mean_names)})
    return {f"{k}_{mode}": out[f"{k}_{mode}"] for k in names}


def ensemble_bipartition(result, a, b, clip: bool = True) -> dict:
    """:func:`bipartition` of the groups ``a``, ``b`` (mode names) at each record of an
    :class:`~langevin_sim.engine.EnsembleResult`, with jackknife standard errors
    (``clip=False``: E_N and G unclipped, smooth and unbiased through their threshold).

    Returns
    -------
    dict of key (:func:`bipartition_names`) -> (values, stderr), each shape (n_rec,)
    """
    labels = tuple(result.mode_labels)
    text = f"{','.join(a)}|{','.join(b)}"
    ga, gb = parse_parties(text, labels)
    ia = tuple(labels.index(m) for m in ga)
    ib = tuple(labels.index(m) for m in gb)
    keys = bipartition_names(ga, gb)
    values, stderr = result.statistic(
        lambda c: list(bipartition(c, ia, ib, clip=clip).values()))
    return {k: (values[:, j], stderr[:, j]) for j, k in enumerate(keys)}


# ---------------------------------------------------------------------------------------------
# tables (what steady and sweep report)


def party_text(groups) -> str:
    """``(("a1", "b"), ("m",))`` → ``"a1,b|m"``."""
    return "|".join(",".join(g) for g in groups)


def observables_table(sigma, labels, parties=(), names=OBSERVABLES, mean=None,
                      clip: bool = True) -> tuple:
    """Every requested observable of a full covariance, keyed after the modes.

    Parameters
    ----------
    sigma : ndarray, shape (2N, 2N)
    labels : sequence of str
        Mode names in state-vector order.
    parties : sequence of groups
        Each a pair of groups of mode names (a bipartition, :func:`bipartition`) or three
        single modes (the three-mode analysis, :func:`tripartite`), as :func:`parse_parties`
        returns them.
    names : sequence of str
        Which observables (:data:`OBSERVABLES`): the single-mode ones are reported for every
        mode; ``E_N``, ``I``, ``G`` for each bipartition; ``residual_contangle`` switches the
        three-mode analysis on.
    mean : array_like, shape (2N,), optional
        Quadrature means (the coherent parts of the occupations).
    clip : bool
        ``False``: the bipartitions' E_N and G unclipped (:func:`bipartition`); the three-mode
        analysis always uses the clipped E_N (its contangles are E_N²).

    Returns
    -------
    values : dict
        ``n_<mode>``, ``squeezing_db_<mode>``, ... ; ``E_N_<A>_<B>``, ``I_<A>_<B>``,
        ``G_<A>_to_<B>``, ``G_<B>_to_<A>``; for three modes :meth:`Tripartite.as_dict` (its
        classification as text and as a class number).
    layout : dict
        ``single_mode`` (the observables shown per mode), ``bipartitions`` (per bipartition:
        ``parties`` as text and its keys), ``tripartite`` (per analysis: ``modes`` and keys).
    """
    s = _covariance(sigma)
    labels = tuple(labels)
    values, layout = {}, {"single_mode": [k for k in SINGLE_MODE_OBSERVABLES if k in names],
                          "bipartitions": [], "tripartite": []}
    if layout["single_mode"]:
        table = mode_observables(s, labels, mean)
        for m in labels:
            values.update({f"{k}_{m}": table[f"{k}_{m}"] for k in layout["single_mode"]})
    families = ("E_N", "I", "G", "G")
    for groups in parties:
        idx = [tuple(labels.index(m) for m in g) for g in groups]
        if len(groups) == 2:
            keys = [k for k, f in zip(bipartition_names(*groups), families) if f in names]
            if not keys:
                continue
            all_values = bipartition(s, idx[0], idx[1], groups, clip=clip)
            values.update({k: all_values[k] for k in keys})
            layout["bipartitions"].append({"parties": party_text(groups), "names": keys})
        elif "residual_contangle" in names:
            tri = tripartite(s, [i[0] for i in idx], [g[0] for g in groups])
            out = tri.as_dict()
            values.update(out)
            layout["tripartite"].append({"modes": list(tri.modes), "names": list(out)})
    return values, layout


# ---------------------------------------------------------------------------------------------
# ensembles against the exact state (validate, relax, simulate)

VERDICT_OBSERVABLES = ("n", "n_thermal", "purity")
"""The single-mode observables that join an ensemble command's family-wise max-|z| verdict.

They are smooth functions of the moments at *every* physical state (the occupation is linear in
σ and quadratic in the means, the purity ``1/(2√det σ)`` has a non-zero gradient wherever
``det σ > 0``), so their estimators are unbiased to O(1/N) and their jackknife z-scores are
close to Student's t, which the max-|z| test assumes (it holds under any dependence between
the z's). The others are reported with z-scores but kept out of the verdict, because each is
non-smooth somewhere an ordinary model sits: the smallest variance, its angle and the dB at an
isotropic (thermal) mode, where the sampled smallest eigenvalue is biased low by O(SE); the
entropy and the mutual information at a pure mode (``g'(ν) → ∞`` at ν = 1/2); the coherent
part at zero mean (a boundary, whose jackknife SE vanishes); the bipartitions' E_N and G at
degenerate partially transposed eigenvalues, and the three-mode contangles (clipped E_N²)."""


def in_verdict(key: str, labels) -> bool:
    """Whether an observable key (``n_b``, ``purity_m``, ...) of a model with modes ``labels``
    joins the verdict (:data:`VERDICT_OBSERVABLES`)."""
    return any(key == f"{k}_{m}" for k in VERDICT_OBSERVABLES for m in labels)


_NON_NUMERIC = ("tripartite_class_", "classification_", "separable_cuts_")


def at_records(result, records=None):
    """The :class:`~langevin_sim.engine.EnsembleResult` restricted to the record indices
    ``records`` (None: all), with its chunk groups, so that every estimate and its jackknife
    SE at those records are unchanged (a command shows some records: the work is theirs)."""
    if records is None:
        return result
    from dataclasses import replace

    from .statistics import Moments

    rec = np.asarray(records, int)
    g = result.groups
    return replace(result, times=result.times[rec],
                   groups=Moments(g.count[:, rec], g.mean[:, rec], g.m2[:, rec]))


def ensemble_observables(result, parties=(), names=OBSERVABLES, clip: bool = True) -> dict:
    """Every requested observable at each record of an
    :class:`~langevin_sim.engine.EnsembleResult`, with jackknife standard errors: the
    single-mode ones of every mode (:func:`ensemble_mode_observables`), E_N, I, G of each
    bipartition (:func:`ensemble_bipartition`) and the numeric part of each three-mode analysis
    (:func:`tripartite`: the E_N of its cuts and pairs, the residual contangles), with the keys
    of :func:`observables_table`.

    Parameters
    ----------
    result : EnsembleResult
    parties : sequence of groups
        As :func:`parse_parties` returns them.
    names : sequence of str
        Observables (:data:`OBSERVABLES`).
    clip : bool
        ``False``: the bipartitions' E_N and G unclipped (for z-scores).

    Returns
    -------
    dict of key -> (values, stderr), each ndarray of shape (n_rec,)
    """
    labels = tuple(result.mode_labels)
    out = {}
    single = tuple(k for k in SINGLE_MODE_OBSERVABLES if k in names)
    if single:
        for m in labels:
            out.update(ensemble_mode_observables(result, m, single))
    families = ("E_N", "I", "G", "G")
    for groups in parties:
        if len(groups) == 2:
            keys = [k for k, f in zip(bipartition_names(*groups), families) if f in names]
            if keys:
                est = ensemble_bipartition(result, groups[0], groups[1], clip=clip)
                out.update({k: est[k] for k in keys})
        elif "residual_contangle" in names:
            idx = [labels.index(g[0]) for g in groups]
            tags = [g[0] for g in groups]
            keys = [k for k in tripartite(np.eye(result.dim) / 2, idx, tags).as_dict()
                    if not k.startswith(_NON_NUMERIC)]

            def numeric(c, idx=idx, tags=tags, keys=keys):
                d = tripartite(c, idx, tags).as_dict()
                return [d[k] for k in keys]

            values, stderr = result.statistic(numeric)
            out.update({k: (values[:, j], stderr[:, j]) for j, k in enumerate(keys)})
    return out


def exact_observables(covariances, labels, parties=(), names=OBSERVABLES, means=None,
                      clip: bool = True) -> dict:
    """:func:`observables_table` of a stack of exact states, numeric keys only.

    Parameters
    ----------
    covariances : ndarray, shape (n_rec, 2N, 2N)
    labels : sequence of str
    parties, names, clip : as :func:`ensemble_observables`
    means : ndarray, shape (n_rec, 2N), optional
        The exact quadrature means (default 0).

    Returns
    -------
    dict of key -> ndarray, shape (n_rec,)
    """
    covs = np.asarray(covariances, float)
    rows = [observables_table(c, labels, parties, names,
                              None if means is None else means[i], clip)[0]
            for i, c in enumerate(covs)]
    keys = [k for k in rows[0] if not k.startswith(_NON_NUMERIC)] if rows else []
    return {k: np.array([r[k] for r in rows], float) for k in keys}


def observable_z(key: str, sample, stderr, exact) -> np.ndarray:
    """``(sample − exact)/stderr`` per record; for a squeezing angle the difference is taken
    modulo π into [−π/2, π/2) (θ and θ + π are the same quadrature). NaN where the SE is not
    positive."""
    diff = np.asarray(sample, float) - np.asarray(exact, float)
    if key.startswith("squeezing_angle_"):
        diff = (diff + math.pi / 2) % math.pi - math.pi / 2
    se = np.asarray(stderr, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.nan)


def resolve_ensemble_observables(pair, parties=(), observables=None) -> tuple:
    """The observables an ensemble command reports: ``observables`` when named (text with
    commas or a sequence); otherwise every observable when parties are named or there is no
    pair (a one-mode model), and none for a run on a pair alone (its output and its verdict
    stay those of the pair's six measures)."""
    if observables is None:
        return OBSERVABLES if parties or pair is None else ()
    if isinstance(observables, str):
        return parse_observables(observables)
    return parse_observables(",".join(observables)) if len(observables) else ()


# ---------------------------------------------------------------------------------------------
# fidelity with a target state


@dataclass(frozen=True)
class FidelityTarget:
    """A Gaussian target state of some modes, for :func:`ensemble_fidelity`.

    Attributes
    ----------
    modes : tuple of str
        The modes it describes, in the order of ``mean`` and ``covariance``.
    mean : ndarray, shape (2k,)
        Quadrature means (xpxp, ``<x> = √2 Re<o>``).
    covariance : ndarray, shape (2k, 2k)
        Covariance (vacuum variance 1/2).
    """

    modes: tuple
    mean: np.ndarray
    covariance: np.ndarray

    @property
    def key(self) -> str:
        """JSON key of the fidelity with this target: ``fidelity_<modes joined>``."""
        return f"fidelity_{group_name(self.modes)}"


def load_fidelity_target(path, labels) -> FidelityTarget:
    """A target state from a ``.json`` file or an ``.npz`` archive holding ``modes`` (mode
    names, e.g. ``["b"]``), ``covariance`` (2k × 2k) and optionally ``mean`` (2k; default 0),
    in the package's convention. ``ValueError`` (one line naming the file and what is wrong)
    for anything else: unknown or repeated modes, wrong shapes, non-finite numbers, or a
    covariance that is not a quantum state (``σ + iΩ/2 ≥ 0`` violated)."""
    from .conventions import physicality_margin
    from .io import read_json, read_npz

    labels = tuple(labels)
    where = f"fidelity target {path}"
    try:
        if str(path).endswith(".json"):
            data = read_json(path)
            if not isinstance(data, dict):
                raise ValueError(f"{where}: expected a JSON object with modes, covariance "
                                 "(and mean)")
        else:
            data, _ = read_npz(path)
    except OSError as exc:  # no such file, a directory, no permission
        raise ValueError(f"{where}: not a readable .json or .npz file "
                         f"({type(exc).__name__})") from None
    except ValueError as exc:
        if str(exc).startswith(where):
            raise
        raise ValueError(f"{where}: not a readable .json or .npz file ({exc})") from None
    for k in ("modes", "covariance"):
        if k not in data:
            raise ValueError(f"{where}: no {k!r} (expected modes, covariance and optionally "
                             "mean)")
    raw_modes = data["modes"]
    modes = (raw_modes,) if isinstance(raw_modes, str) else tuple(
        str(m) for m in np.atleast_1d(np.asarray(raw_modes, dtype=object)))
    for m in modes:
        if m not in labels:
            raise ValueError(f"{where}: unknown mode {m!r}; modes: {', '.join(labels)}")
    if not modes or len(set(modes)) != len(modes):
        raise ValueError(f"{where}: 'modes' must name distinct modes, got {list(modes)}")
    dim = 2 * len(modes)
    try:
        cov = np.asarray(data["covariance"], dtype=float)
        mean = np.zeros(dim) if data.get("mean") is None else np.asarray(data["mean"],
                                                                          dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: 'covariance' and 'mean' must be arrays of real "
                         "numbers") from None
    if cov.shape != (dim, dim) or mean.ravel().shape != (dim,):
        raise ValueError(f"{where}: {len(modes)} mode(s) need a ({dim}, {dim}) covariance and "
                         f"{dim} means, got shapes {cov.shape} and {mean.shape}")
    if not (np.all(np.isfinite(cov)) and np.all(np.isfinite(mean))):
        raise ValueError(f"{where}: 'covariance' and 'mean' must be finite")
    cov = 0.5 * (cov + cov.T)
    if physicality_margin(cov) < -1e-12:
        raise ValueError(f"{where}: the covariance is not a quantum state (σ + iΩ/2 has a "
                         "negative eigenvalue; the vacuum variance is 1/2)")
    return FidelityTarget(modes, mean.ravel(), cov)


def _target_indices(target: FidelityTarget, labels) -> np.ndarray:
    labels = tuple(labels)
    return quadrature_indices([labels.index(m) for m in target.modes])


def ensemble_fidelity(result, target: FidelityTarget) -> tuple:
    """Fidelity (:func:`fidelity`) of the sampled state of ``target.modes`` with the target at
    each record of an :class:`~langevin_sim.engine.EnsembleResult`, with its jackknife
    standard error (means and covariances of every record: ``record_statistic``).

    Returns
    -------
    values, stderr : ndarray, shape (n_rec,)
    """
    idx = _target_indices(target, result.mode_labels)
    ix = np.ix_(idx, idx)

    def of_records(means, covs):
        return np.array([fidelity(c[ix], target.covariance, m[idx], target.mean)
                         for m, c in zip(means, covs)])

    return result.record_statistic(of_records)


def exact_fidelity(covariances, means, labels, target: FidelityTarget) -> np.ndarray:
    """Fidelity of each exact state (stacks (n_rec, 2N, 2N) and (n_rec, 2N)) with the target,
    shape (n_rec,)."""
    idx = _target_indices(target, labels)
    ix = np.ix_(idx, idx)
    return np.array([fidelity(c[ix], target.covariance, m[idx], target.mean)
                     for m, c in zip(np.asarray(means, float), np.asarray(covariances, float))])
