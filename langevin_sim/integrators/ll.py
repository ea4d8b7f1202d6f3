"""Local linearisation in a displaced frame (``ll``): the default step for driven, nonlinear
or time-dependent models (docs/physics.md, "The local-linearisation step").

Every trajectory is written ``X = β(t) + δ``, ``β`` the deterministic path of the truncated
Wigner drift ``f`` (its fixed point for a steady state, or the solution of ``β' = f(β, t)``
computed once per run by DOP853 at ``rtol = 1e-12``). The ensemble propagates ``δ``:

``δ' = δ + Δt φ₁(Δt J) [f(β(t_m) + δ, t_m) − f(β(t_m), t_m)] + ξ``, ``ξ ~ N(0, Q_J(Δt))``,

``t_m = t_n + Δt/2``, ``J = ∂f/∂X`` at ``β(t_m)``, ``φ₁(z) = (e^z − 1)/z`` and ``Q_J`` the exact
Ornstein–Uhlenbeck noise of ``J`` over Δt. With ``f(β + δ) − f(β) = J δ + R(δ)`` (``R`` the
polynomial remainder, formed from the model's quadratic and cubic terms so that no large
numbers cancel) the step reads

``δ' = e^{Δt J} δ + Δt φ₁(Δt J) R(δ) + ξ``.

It is the full truncated Wigner dynamics (a change of variables, nothing dropped). For a
linear time-invariant model ``R = 0`` and it *is* the exact OU step; at a fixed point its
linear reduction is the exact OU step of the linearisation, so the stationary covariance is
the continuous σ∞ at any Δt; along a time-dependent path the midpoint Jacobian makes the linear
part second order. The per-step matrices ``(e^{ΔtJ}, Δt φ₁(ΔtJ), Q_J^{1/2}, β(t_m))`` are shared
by every trajectory and computed once per run, in blocks of steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from .._kernels.meanfield import drift_and_jacobian
from ..gaussian import ou_transition, psd_factor
from ..systems.linear import LinearSystem
from .exact import ExactOU

PATH_RTOL = 1e-12
"""Relative tolerance of the DOP853 integration of the deterministic path β(t)."""

BLOCK_STEPS = 1024
"""Steps whose matrices are computed together (one batched exponential): bounds the work
arrays of the precomputation."""

MAX_MATRIX_BYTES = 2 * 1024**3
"""Per-step matrices of a time-dependent path beyond this size are refused (use a larger
step): ``n_steps × (2 d² + d r + d) × 8`` bytes."""

_VAN_LOAN_MAX_NORM = 0.5


def _sym(m):
    return 0.5 * (m + np.swapaxes(m, -1, -2))


def exponential_maps(jac: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """``(e^{Δt J}, Δt φ₁(Δt J))`` for a stack of Jacobians ``jac`` (n, d, d), from one block
    exponential each: ``expm([[J, I], [0, 0]] Δt) = [[e^{ΔtJ}, Δt φ₁(ΔtJ)], [0, I]]``."""
    n, d, _ = jac.shape
    m = np.zeros((n, 2 * d, 2 * d))
    m[:, :d, :d] = jac * dt
    m[:, :d, d:] = np.eye(d) * dt
    e = sla.expm(m)
    return np.ascontiguousarray(e[:, :d, :d]), np.ascontiguousarray(e[:, :d, d:])


def ou_noise(jac: np.ndarray, diffusion: np.ndarray, dt: float) -> np.ndarray:
    """``Q_J(Δt) = ∫_0^Δt e^{Js} D e^{Jᵀs} ds`` for a stack of Jacobians (n, d, d): Van Loan's
    block exponential on a sub-step ``h = Δt/2^k`` (``max ||J||₁ h ≤ 0.5``) doubled back up
    with ``Q(2h) = Q(h) + Φ(h) Q(h) Φ(h)ᵀ`` (every term PSD: no cancellation), as
    :func:`~langevin_sim.gaussian.ou_transition` does for one matrix."""
    n, d, _ = jac.shape
    norm = float(np.max(np.abs(jac).sum(axis=1))) * dt
    k = 0 if norm <= _VAN_LOAN_MAX_NORM else int(math.ceil(math.log2(norm / _VAN_LOAN_MAX_NORM)))
    h = dt / 2**k
    m = np.zeros((n, 2 * d, 2 * d))
    m[:, :d, :d] = -jac * h
    m[:, :d, d:] = diffusion * h
    m[:, d:, d:] = np.swapaxes(jac, -1, -2) * h
    e = sla.expm(m)
    phi = np.swapaxes(e[:, d:, d:], -1, -2)
    q = _sym(phi @ e[:, :d, d:])
    for _ in range(k):
        q = _sym(q + phi @ q @ np.swapaxes(phi, -1, -2))
        phi = phi @ phi
    return q


_EIG_COND_MAX = 1e6
"""Jacobians whose eigenvector matrix is worse conditioned than this (close to a defective
matrix) take the block-exponential route instead of the eigendecomposition."""


def _phi1_times(z: np.ndarray, dt: float) -> np.ndarray:
    """``(e^{z Δt} − 1)/z`` elementwise for complex ``z`` (``Δt`` at ``z = 0``), without
    cancellation for small ``|z| Δt``."""
    zt = z * dt
    small = np.abs(zt) < 1e-8
    safe = np.where(small, 1.0, z)
    return np.where(small, dt * (1 + 0.5 * zt), np.expm1(zt) / safe)


def eigen_maps(jac: np.ndarray, diffusion: np.ndarray, dt: float):
    """``(e^{ΔtJ}, Δt φ₁(ΔtJ), Q_J(Δt), ok)`` for a stack of Jacobians (n, d, d) from one
    eigendecomposition each, ``J = V Λ V⁻¹``: ``e^{ΔtJ} = V e^{ΔtΛ} V⁻¹``,
    ``Δt φ₁(ΔtJ) = V diag((e^{λΔt} − 1)/λ) V⁻¹`` and
    ``Q = V [C_ij (e^{(λ_i + λ̄_j)Δt} − 1)/(λ_i + λ̄_j)] Vᴴ`` with ``C = V⁻¹ D V⁻ᴴ`` (the
    integral ``∫_0^Δt e^{Js} D e^{Jᵀs} ds`` term by term). ``ok`` (n,) marks the Jacobians
    whose eigenvectors are well conditioned (below :data:`_EIG_COND_MAX`); the others must
    be computed by :func:`exponential_maps` and :func:`ou_noise`. Roughly ten times cheaper
    than the two block exponentials for the paper's 8×8 Jacobians."""
    w, v = np.linalg.eig(jac)
    ok = np.linalg.cond(v) < _EIG_COND_MAX
    v = np.where(ok[:, None, None], v, np.eye(jac.shape[1]))
    vinv = np.linalg.inv(v)
    vh = np.conj(np.swapaxes(v, -1, -2))
    e = ((v * np.exp(w * dt)[:, None, :]) @ vinv).real
    p = ((v * _phi1_times(w, dt)[:, None, :]) @ vinv).real
    c = vinv @ diffusion @ np.conj(np.swapaxes(vinv, -1, -2))
    lam = w[:, :, None] + np.conj(w)[:, None, :]
    q = (v @ (c * _phi1_times(lam, dt)) @ vh).real
    return e, p, _sym(q), ok


def psd_factors(q: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
    """``L`` with ``L Lᵀ = Q`` for a stack of PSD matrices (n, d, d) → (n, d, d): symmetric
    eigendecomposition, round-off negatives and the null space (below ``rtol`` of the largest
    eigenvalue) set to zero columns."""
    w, v = np.linalg.eigh(_sym(q))
    top = np.maximum(w[:, -1:], 0.0)
    w = np.where(w > rtol * top, w, 0.0)
    return np.ascontiguousarray(v * np.sqrt(w)[:, None, :])


def jacobians(system, beta: np.ndarray, ordering: str = "weyl") -> np.ndarray:
    """``∂f/∂X`` of the drift (truncated Wigner by default, or ``"mean-field"``) at each state
    of ``beta`` (n, d) → (n, d, d)."""
    beta = np.atleast_2d(beta)
    jac = np.broadcast_to(system.linear_part(ordering), (beta.shape[0],) + (system.dim,) * 2)
    return add_polynomial_jacobian(system, beta, jac.copy())


def add_polynomial_jacobian(system, beta: np.ndarray, jac: np.ndarray, times=None
                            ) -> np.ndarray:
    """``jac`` (n, d, d), the linear part, plus the derivatives of the quadratic and cubic
    terms at the states ``beta`` (n, d), their coefficients taken at ``times`` (n,) when given
    (a time-dependent model's envelopes); returns ``jac``, updated in place."""
    if times is None:
        qc, cc = system.quadratic_coef, system.cubic_coef
    else:  # (n_q, n) and (n_c, n): one coefficient per state
        qc = system.quadratic_coef_at(np.asarray(times, float)).T
        cc = system.cubic_coef_at(np.asarray(times, float)).T
    for (i, j, k), c in zip(system.quadratic_index, qc):
        jac[:, i, j] += c * beta[:, k]
        jac[:, i, k] += c * beta[:, j]
    for (i, j, k, m), c in zip(system.cubic_index, cc):
        jac[:, i, j] += c * beta[:, k] * beta[:, m]
        jac[:, i, k] += c * beta[:, j] * beta[:, m]
        jac[:, i, m] += c * beta[:, j] * beta[:, k]
    return jac


# -- the deterministic path -----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Path:
    """The deterministic path β(t) that the ``ll`` frame follows.

    ``point`` (d,) for a fixed point (β constant), else ``solution``, the dense output of
    DOP853 on ``[0, t_end]`` (its first ``components`` entries, if given: the mean of a joint
    mean-and-covariance integration). Call it with times (n,) to get β (n, d).

    ``ordering`` is the drift β solves: ``"weyl"`` (the truncated Wigner drift itself), or
    ``"mean-field"`` (``a†a → |α|²``, the continuous reference's mean), in which case the step
    adds the deterministic remainder ``Δt φ₁(ΔtJ) (f(β) − β')``, the Weyl ordering's
    correction: the change of variables stays exact and the mean of δ is the ensemble's
    displacement from the mean field.
    """

    point: np.ndarray | None = None
    solution: object = None
    t_end: float = 0.0
    ordering: str = "weyl"
    components: int | None = None

    @property
    def is_constant(self) -> bool:
        return self.point is not None

    def __call__(self, t) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t, float))
        if self.is_constant:
            return np.broadcast_to(self.point, (t.size, self.point.size)).copy()
        y = self.solution(np.clip(t, 0.0, self.t_end))
        return np.ascontiguousarray((y if self.components is None else y[:self.components]).T)


def fixed_point(system, start) -> Path:
    """The truncated Wigner drift's fixed point near ``start`` (a steady mean field): the
    Weyl-ordering corrections shift it from the mean field by O(g0)."""
    x = np.array(start, float)
    best, res = x.copy(), np.max(np.abs(system.drift(x, ordering="weyl")))
    for _ in range(8):  # Newton from a point already within O(g0) of the root
        x = x - np.linalg.solve(jacobians(system, x)[0], system.drift(x, ordering="weyl"))
        r = np.max(np.abs(system.drift(x, ordering="weyl")))
        if not np.all(np.isfinite(x)) or not r < res:
            break
        best, res = x.copy(), r
    return Path(point=best)


def path_from(system, mean0, t_end: float, rtol: float = PATH_RTOL) -> Path:
    """β(t) from ``β(0) = mean0`` to ``t_end``: ``β' = f(β, t)`` (truncated Wigner drift with
    its drives and their ramps) by DOP853 at ``rtol``, the absolute tolerance ``rtol`` times
    the scale of the steady mean field, with dense output. A system without drives and with
    ``mean0 = 0`` stays at 0; a linear time-invariant one at its fixed point is constant."""
    from scipy.integrate import solve_ivp

    mean0 = np.asarray(mean0, float)
    if t_end <= 0:
        return Path(point=mean0.copy())
    steady = system.mean_field_states() if not system.is_linear or system.is_driven else []
    scale = max([1.0, float(np.max(np.abs(mean0)))]
                + [float(np.max(np.abs(s.state))) for s in steady])
    invariant = all(kind == "sudden" or tr <= 0 for kind, tr in system.ramps)
    if invariant and np.max(np.abs(system.drift(mean0, 0.0, ordering="weyl")),
                            initial=0.0) <= 1e-13 * scale * max(1.0, np.abs(
                                system.linear_part("weyl")).max()):
        return Path(point=mean0.copy())  # already at a fixed point of a time-invariant drift
    breaks = sorted({0.0, float(t_end)} | {float(tr) for kind, tr in system.ramps
                                          if kind != "sudden" and 0 < tr < t_end})
    terms = system.compiled_terms("weyl")
    work = np.empty((system.dim, system.dim))

    def rhs(t, x):  # compiled truncated Wigner drift
        f = np.empty(x.size)
        drift_and_jacobian(x, t, *terms, f, work)
        return f

    pieces, y = [], mean0
    for a, b in zip(breaks[:-1], breaks[1:]):  # a ramp's kink is a step boundary
        sol = solve_ivp(rhs, (a, b), y,
                        method="DOP853", rtol=rtol, atol=rtol * scale, dense_output=True)
        if not sol.success:
            raise RuntimeError(f"the deterministic path failed at t = {sol.t[-1]:g}: "
                               f"{sol.message}")
        pieces.append((a, b, sol.sol))
        y = sol.y[:, -1]
    if len(pieces) == 1:
        return Path(solution=pieces[0][2], t_end=float(t_end))
    return Path(solution=_Piecewise(pieces), t_end=float(t_end))


class _Piecewise:
    """Dense output of consecutive integrations, called like an ``OdeSolution``."""

    def __init__(self, pieces):
        self.pieces = pieces

    def __call__(self, t):
        t = np.asarray(t, float)
        out = np.empty((self.pieces[0][2](0.0).shape[0], t.size))
        for i, (a, b, f) in enumerate(self.pieces):
            sel = (t >= a) & ((t < b) if i < len(self.pieces) - 1 else (t <= b))
            if np.any(sel):
                out[:, sel] = f(t[sel])
        return out


# -- per-step matrices -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class StepMatrices:
    """What every trajectory of an ``ll`` run shares, per matrix index ``k``:

    ``propagator`` (n_k, d, d) ``e^{ΔtJ}``; ``phi1`` (n_k, d, d) ``Δt φ₁(ΔtJ)``; ``noise``
    (n_k, d, r) ``Q_J^{1/2}`` zero-padded, ``ranks`` (n_k,) its used columns; ``beta``
    (n_k, d) the path at the step's midpoint (the cubic remainder needs it); ``forcing``
    (n_k, d) ``Δt φ₁(ΔtJ) (f(β) − β')`` for a path that does not solve the truncated Wigner
    drift itself (:class:`Path` ``ordering``), else None.
    """

    propagator: np.ndarray
    phi1: np.ndarray
    noise: np.ndarray
    ranks: np.ndarray
    beta: np.ndarray
    forcing: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.propagator, self.phi1, self.noise, self.beta))


def step_matrices(system, beta: np.ndarray, dts, ordering: str = "weyl") -> StepMatrices:
    """The matrices of steps of lengths ``dts`` (n,) at the path points ``beta`` (n, d), in
    blocks of :data:`BLOCK_STEPS`. A single point and step uses the scalar exact OU
    transition (so that a linear model's ``ll`` run is the ``exact`` run, bit for bit).
    ``ordering``: the drift the path solves (:class:`Path`); other than ``"weyl"`` the
    matrices carry the forcing ``Δt φ₁(ΔtJ) (f_weyl(β) − f_ordering(β))``."""
    mats = _step_matrices(system, beta, dts)
    if ordering == "weyl":
        return mats
    b = mats.beta
    gap = system.weyl_constant[None, :] + b @ system.weyl_linear.T  # f_weyl − f_mean-field
    forcing = np.ascontiguousarray(np.einsum("kij,kj->ki", mats.phi1, gap))
    return StepMatrices(mats.propagator, mats.phi1, mats.noise, mats.ranks, mats.beta, forcing)


def _step_matrices(system, beta: np.ndarray, dts) -> StepMatrices:
    beta = np.atleast_2d(np.asarray(beta, float))
    dts = np.broadcast_to(np.asarray(dts, float), (beta.shape[0],))
    d = system.dim
    diffusion = system.noise_input @ np.diag(system.occupations + 0.5) @ system.noise_input.T
    if beta.shape[0] == 1:
        jac = jacobians(system, beta)
        lin = LinearSystem(jac[0], system.noise_input, system.occupations, system.mode_labels)
        phi, q = ou_transition(lin, float(dts[0]))
        g = psd_factor(q)
        _, p = exponential_maps(jac, float(dts[0]))
        noise = np.zeros((1, d, max(g.shape[1], 1)))
        noise[0, :, :g.shape[1]] = g
        return StepMatrices(phi[None].copy(), p, noise, np.array([g.shape[1]], np.int64),
                            beta.copy())
    n = beta.shape[0]
    prop, phi1, noise = np.empty((n, d, d)), np.empty((n, d, d)), np.empty((n, d, d))
    for a in range(0, n, BLOCK_STEPS):
        b = min(a + BLOCK_STEPS, n)
        jac = jacobians(system, beta[a:b])
        for h in np.unique(dts[a:b]):
            sel = np.flatnonzero(dts[a:b] == h)
            prop[a + sel], phi1[a + sel], noise[a + sel] = block_matrices(
                jac[sel], diffusion, float(h))
    return StepMatrices(prop, phi1, noise, np.full(n, d, np.int64), beta.copy())


def block_matrices(jac: np.ndarray, diffusion: np.ndarray, dt: float):
    """``(e^{ΔtJ}, Δt φ₁(ΔtJ), Q_J(Δt)^{1/2})`` for a block of Jacobians (n, d, d) and one
    diffusion (d, d) or one per Jacobian (n, d, d): the eigendecomposition route
    (:func:`eigen_maps`), the block exponentials for the nearly defective Jacobians."""
    e, p, q, ok = eigen_maps(jac, diffusion, dt)
    if not np.all(ok):
        bad = ~ok
        e[bad], p[bad] = exponential_maps(jac[bad], dt)
        q[bad] = ou_noise(jac[bad], diffusion[bad] if diffusion.ndim == 3 else diffusion, dt)
    return e, p, psd_factors(q)


def check_matrix_memory(n_steps: int, d: int) -> None:
    """``ValueError`` if a time-dependent path's per-step matrices would exceed
    :data:`MAX_MATRIX_BYTES`."""
    size = float(n_steps) * (3 * d * d + d) * 8
    if size > MAX_MATRIX_BYTES:
        raise ValueError(f"the ll step's per-step matrices would take {size / 1024**3:.3g} GiB "
                         f"({n_steps} steps of a time-dependent path, d = {d}), above "
                         f"{MAX_MATRIX_BYTES / 1024**3:g} GiB: use a larger dt (ll is accurate "
                         "at large steps) or a shorter run")


class LocalLinearisation(ExactOU):
    """``ll`` on a linear system: the exact OU step (``R = 0`` and a constant ``J = A``).

    On a nonlinear or time-dependent model the truncated Wigner engine runs the displaced-frame
    step of the module docstring; weak order 2 along a time-dependent path (midpoint
    Jacobian), exact at a fixed point's linearisation; A-stable (no step bound).
    """

    name = "ll"
    strong_order = 1.0
    weak_order = 2.0
    exact = True
    uniform_steps = False
    default_dt = 1.0
    engines = ("linear", "nonlinear")
    nonlinear_default_dt = 0.1
    """Default step on a nonlinear or time-dependent path (1/ω_b for the paper's model):
    consistent with the continuous reference there (``scripts/ll_accuracy.py``)."""
