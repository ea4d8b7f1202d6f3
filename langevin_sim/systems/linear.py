"""A generic linear quantum Langevin system ``dμ/dt = A μ + B ξ(t)``.

Nothing here knows about the paper: a model (see :mod:`langevin_sim.models`) builds a
:class:`LinearSystem` from its physical parameters, and every solver and integrator takes one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..conventions import VACUUM_VARIANCE, mode_slice
from ..errors import UnstableSystemError


def _frozen(a, name: str, ndim: int) -> np.ndarray:
    arr = np.array(a, dtype=float)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    arr.setflags(write=False)
    return arr


class ModeLabelled:
    """Mode bookkeeping shared by the systems: ``mode_labels`` and a state of 2 per mode."""

    mode_labels: tuple

    @property
    def n_modes(self) -> int:
        """Number of bosonic modes."""
        return len(self.mode_labels)

    @property
    def dim(self) -> int:
        """Length ``d`` of the state vector (2 per mode)."""
        return 2 * self.n_modes

    def mode_index(self, mode: str | int) -> int:
        """0-based index of a mode given by label or index."""
        if isinstance(mode, (int, np.integer)):
            if not 0 <= mode < self.n_modes:
                raise ValueError(f"mode index must be in [0, {self.n_modes}), got {mode}")
            return int(mode)
        try:
            return self.mode_labels.index(mode)
        except ValueError:
            raise ValueError(
                f"unknown mode {mode!r}; allowed: {', '.join(self.mode_labels)}"
            ) from None

    def quadrature_labels(self) -> tuple[str, ...]:
        """Labels ``x_<mode>``, ``p_<mode>`` in *xpxp* order."""
        return tuple(f"{q}_{m}" for m in self.mode_labels for q in ("x", "p"))

    def mode_slice(self, mode: str | int) -> slice:
        """Rows of the state vector that belong to ``mode``."""
        return mode_slice(self.mode_index(mode))


MARGINAL_TOL = 1e-12
"""Relative size of the largest Re λ below which a system counts as marginally stable."""


@dataclass(frozen=True, eq=False)
class LinearSystem(ModeLabelled):
    """Linear Langevin system in *xpxp* order with white thermal noise.

    ``dμ/dt = A μ + B ξ(t)`` with symmetrised input-noise correlations
    ``<ξ_k(t) ξ_l(t') + ξ_l(t') ξ_k(t)>/2 = (n̄_k + 1/2) δ_kl δ(t - t')``.
    Times are in the model's time unit (for the paper's model, 1/ω_b).

    Parameters
    ----------
    drift : ndarray, shape (d, d)
        Drift matrix ``A`` (rate units), ``d = 2 × number of modes``.
    noise_input : ndarray, shape (d, k)
        Noise-input matrix ``B`` (units of sqrt(rate)); column ``j`` is input quadrature ``j``.
    occupations : ndarray, shape (k,)
        Thermal occupation ``n̄_j >= 0`` of each input quadrature.
    mode_labels : tuple of str
        One label per mode (``d/2`` labels).
    noise_labels : tuple of str
        One label per input *field* (``k/2`` labels).
    default_pair : tuple of two str, optional
        The pair ``(A, B)`` whose measures are reported when none is named, as the model that
        built the system declares it (None: none; a pair must then be named).
    """

    drift: np.ndarray
    noise_input: np.ndarray
    occupations: np.ndarray
    mode_labels: tuple[str, ...]
    noise_labels: tuple[str, ...] = field(default=())
    default_pair: tuple[str, str] | None = None

    def __post_init__(self):
        a = _frozen(self.drift, "drift", 2)
        b = _frozen(self.noise_input, "noise_input", 2)
        n = _frozen(self.occupations, "occupations", 1)
        d = a.shape[0]
        if a.shape != (d, d) or d % 2:
            raise ValueError(f"drift must be square of even size, got shape {a.shape}")
        if b.shape[0] != d:
            raise ValueError(f"noise_input must have {d} rows (one per quadrature), got {b.shape}")
        if n.shape != (b.shape[1],):
            raise ValueError(
                f"occupations must have one entry per noise_input column ({b.shape[1]}), "
                f"got shape {n.shape}"
            )
        if np.any(n < 0):
            raise ValueError("occupations must be >= 0")
        labels = tuple(self.mode_labels)
        if len(labels) != d // 2 or len(set(labels)) != len(labels):
            raise ValueError(f"mode_labels must be {d // 2} distinct names, got {labels}")
        noise_labels = tuple(self.noise_labels) or tuple(
            f"in{j}" for j in range(b.shape[1] // 2 + b.shape[1] % 2)
        )
        object.__setattr__(self, "drift", a)
        object.__setattr__(self, "noise_input", b)
        object.__setattr__(self, "occupations", n)
        object.__setattr__(self, "mode_labels", labels)
        object.__setattr__(self, "noise_labels", noise_labels)
        if self.default_pair is not None:
            pair = tuple(self.default_pair)
            if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(labels):
                raise ValueError(f"default_pair must name two different modes of "
                                 f"{', '.join(labels)}, got {self.default_pair!r}")
            object.__setattr__(self, "default_pair", pair)

    # -- noise ---------------------------------------------------------------------------
    @property
    def noise_amplitude(self) -> np.ndarray:
        """``B sqrt(N)`` with ``N = diag(n̄) + I/2``: the SDE's noise matrix, shape (d, k).

        The SDE ``dX = A X dt + B sqrt(N) dW`` is driven through this matrix, never through
        a Cholesky factor of ``D`` (which is singular for the perfect cascade η = 1).
        """
        return self.noise_input * np.sqrt(self.occupations + VACUUM_VARIANCE)[None, :]

    @property
    def diffusion(self) -> np.ndarray:
        """Diffusion matrix ``D = B N Bᵀ``, shape (d, d), positive semidefinite."""
        g = self.noise_amplitude
        d = g @ g.T
        return 0.5 * (d + d.T)

    def thermal_covariance(self) -> np.ndarray:
        """Covariance with every mode in equilibrium with the baths that drive it.

        Each mode's variance is ``n̄ + 1/2`` where ``n̄`` is the noise-weighted mean occupation
        of the inputs on its rows (``Σ_j B_ij² n̄_j / Σ_j B_ij²``); modes without input noise
        are put in vacuum. For the paper's model this is each mode thermal at its own bath.
        """
        b2 = self.noise_input**2
        weight = b2.sum(axis=1)
        nbar = np.divide(b2 @ self.occupations, weight, out=np.zeros(self.dim), where=weight > 0)
        # both quadratures of a mode share one occupation: average them
        nbar = np.repeat(nbar.reshape(-1, 2).mean(axis=1), 2)
        return np.diag(nbar + VACUUM_VARIANCE)

    # -- spectrum ------------------------------------------------------------------------
    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of ``A``, sorted by real part, slowest (largest real part) first."""
        ev = np.linalg.eigvals(self.drift)
        return ev[np.lexsort((ev.imag, -ev.real))]

    @property
    def is_stable(self) -> bool:
        """Whether every eigenvalue of ``A`` has a negative real part beyond round-off."""
        try:
            self.check_stable()
        except UnstableSystemError:
            return False
        return True

    @property
    def slowest_rate(self) -> float:
        """``min |Re λ|``: the slowest relaxation rate (time unit⁻¹). Meaningful if stable."""
        return float(-self.eigenvalues[0].real)

    @property
    def fastest_rate(self) -> float:
        """``max |Re λ|``: the fastest relaxation rate (time unit⁻¹)."""
        return float(-self.eigenvalues[-1].real)

    def check_stable(self) -> None:
        """Raise :class:`UnstableSystemError` naming the offending eigenvalue if unstable or
        marginally stable (largest real part within round-off of 0: ``|Re λ| <= 1e-12 ||A||``,
        where no steady state can be trusted)."""
        ev = self.eigenvalues
        if ev[0].real >= 0:
            raise UnstableSystemError(ev[0])
        if ev[0].real >= -MARGINAL_TOL * max(1.0, float(np.max(np.abs(self.drift)))):
            raise UnstableSystemError(ev[0], "marginally stable: a mode is undamped to "
                                      "round-off")

    def with_noise_input(self, noise_input: np.ndarray) -> LinearSystem:
        """The same system with another noise-input matrix (for what-if studies)."""
        return LinearSystem(
            self.drift, noise_input, self.occupations, self.mode_labels, self.noise_labels,
            self.default_pair
        )
