"""Steady mean fields of a :class:`~langevin_sim.systems.nonlinear.LangevinSystem`.

The mean-field equations are the drift without noise and with ``a†a → |α|²``. A linear
model has one mean field, ``-L⁻¹ c``. When the nonlinear terms (radiation pressure, Kerr) act
on one photon mode ``a``, the mean field is found from one scalar equation in its photon number
``n = |α|²``: at fixed ``n`` the radiation-pressure force and the Kerr shift are constants,
the effective detuning of ``a`` follows self-consistently, and the rest is linear. Every sign
change of ``n_a(X(n)) - n`` on a fine logarithmic grid is refined by Brent's method, so every
branch of a bistable case is found (for the paper's model this is the cubic
``n[(κ1/2)² + (δ1 - K n)²] = |E|²`` of docs/physics.md). With several photon modes a Newton search
from several starting points is used, which may miss branches. Each state is finally polished
by Newton's method on the full equations, and its stability is that of the linearisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

_SQRT2 = math.sqrt(2.0)
_GRID = 3000


@dataclass(frozen=True, eq=False)
class MeanField:
    """One steady mean field.

    Attributes
    ----------
    state : ndarray (d,)
        Mean quadratures ``(⟨x⟩, ⟨p⟩)`` per mode, *xpxp* order.
    eigenvalues : ndarray of complex (d,)
        Of the linearisation's drift matrix, slowest (largest real part) first.
    stable : bool
        Every eigenvalue has a negative real part.
    mode_labels : tuple of str
    effective_detunings : dict
        ``(A[x,p] - A[p,x])/2`` of each mode's diagonal block of the linearisation (rate
        units): for a cavity with radiation pressure ``Δ = δ + 2 g0 Re β``.
    residual : float
        ``max |f(X)|`` relative to the largest drift term.
    """

    state: np.ndarray
    eigenvalues: np.ndarray
    stable: bool
    mode_labels: tuple
    effective_detunings: dict
    residual: float

    @property
    def amplitudes(self) -> dict:
        """Complex amplitude ``⟨o⟩ = (⟨x⟩ + i⟨p⟩)/√2`` of each mode."""
        z = (self.state[0::2] + 1j * self.state[1::2]) / _SQRT2
        return dict(zip(self.mode_labels, z))

    @property
    def quanta(self) -> dict:
        """Mean-field quanta ``|⟨o⟩|²`` of each mode (photons, phonons, magnons)."""
        return {k: float(abs(v) ** 2) for k, v in self.amplitudes.items()}

    def to_dict(self) -> dict:
        return {"amplitudes": {k: [v.real, v.imag] for k, v in self.amplitudes.items()},
                "quanta": self.quanta, "effective_detunings": self.effective_detunings,
                "stable": self.stable,
                "max_real_eigenvalue": float(self.eigenvalues[0].real),
                "residual": self.residual}


def _describe(system, x) -> MeanField:
    jac = system.jacobian(x)
    ev = np.linalg.eigvals(jac)
    ev = ev[np.lexsort((ev.imag, -ev.real))]
    det = {m: float(0.5 * (jac[2 * i, 2 * i + 1] - jac[2 * i + 1, 2 * i]))
           for i, m in enumerate(system.mode_labels)}
    f = system.drift(x, ordering="mean-field")
    scale = max(1.0, float(np.max(np.abs(system.linear) @ np.abs(x))),
                float(np.max(np.abs(system.drive_vector()))))
    return MeanField(np.asarray(x, float), ev, bool(np.all(ev.real < 0)), system.mode_labels,
                     det, float(np.max(np.abs(f)) / scale))


def _polish(system, x0, t):
    sol = optimize.root(lambda x: system.drift(x, t, ordering="mean-field"), x0,
                        jac=lambda x: system.jacobian(x), method="hybr",
                        options={"xtol": 1e-14})
    return sol.x if np.all(np.isfinite(sol.x)) else x0


def _dedupe(states):
    out = []
    for s in states:
        if not any(np.allclose(s, o, rtol=1e-7, atol=1e-9 * max(1.0, np.abs(o).max()))
                   for o in out):
            out.append(s)
    return out


def _photon_modes(system) -> list[int]:
    modes = {system.mode_index(a) for a, _, _ in system.radiation_pressure}
    modes |= {system.mode_index(a) for a, _ in system.kerr}
    return sorted(modes)


def _scalar_branches(system, a: int, c: np.ndarray) -> list[np.ndarray]:
    """Mean fields of a model whose nonlinearity sits on one photon mode ``a``."""
    xa, pa = 2 * a, 2 * a + 1
    rp = [(system.mode_index(b), g0) for m, b, g0 in system.radiation_pressure]
    kerr = sum(k for _, k in system.kerr)

    def solve(n, s):
        n = np.atleast_1d(n)
        s = np.broadcast_to(s, n.shape)
        lx = np.broadcast_to(system.linear, (n.size,) + system.linear.shape).copy()
        lx[:, xa, pa] += s
        lx[:, pa, xa] -= s
        cx = np.broadcast_to(c, (n.size, c.size)).copy()
        for b, g0 in rp:
            cx[:, 2 * b + 1] -= _SQRT2 * g0 * n
        return np.linalg.solve(lx, -cx[..., None])[..., 0]

    def shift(x, n):
        return sum(_SQRT2 * g0 * x[..., 2 * b] for b, g0 in rp) + 2 * kerr * n

    def state(n):
        s = shift(solve(n, 0.0), n)
        for _ in range(60):
            x = solve(n, s)
            s_new = shift(x, n)
            if np.all(np.abs(s_new - s) <= 1e-13 * (1 + np.abs(s))):
                break
            s = s_new
        return x

    def h(n):
        x = state(n)
        return 0.5 * (x[..., xa] ** 2 + x[..., pa] ** 2) - n

    x0 = solve(0.0, 0.0)[0]
    forcing = c[xa:pa + 1] + system.linear[xa:pa + 1] @ x0 - system.linear[xa:pa + 1, xa:pa + 1] \
        @ x0[xa:pa + 1]
    kappa_a = -np.trace(system.linear[xa:pa + 1, xa:pa + 1])
    if kappa_a <= 0:
        raise ValueError(f"mode {system.mode_labels[a]!r} carries the nonlinearity but has no "
                         "damping: its mean field is unbounded")
    n_max = 100.0 * (0.5 * float(forcing @ forcing)) / (kappa_a / 2) ** 2 + 1.0
    grid = np.concatenate([[0.0], np.geomspace(n_max * 1e-16, n_max, _GRID)])
    with np.errstate(all="ignore"):
        vals = h(grid)
    roots = []
    if abs(vals[0]) <= 1e-300:
        roots.append(0.0)
    for i in np.nonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)[0]:
        roots.append(optimize.brentq(lambda n: float(h(n)[0]), grid[i], grid[i + 1],
                                     xtol=1e-300, rtol=4 * np.finfo(float).eps))
    return [state(n)[0] for n in roots]


def steady_states(system, t=np.inf) -> list[MeanField]:
    """Every steady mean field found (drives at their value at time ``t``), sorted by the
    photon number of the nonlinear modes (then by the norm of the state)."""
    c = system.drive_vector(t)
    if system.is_linear:
        try:
            x = np.linalg.solve(system.linear, -c)
        except np.linalg.LinAlgError:
            raise ValueError("the linear part of the drift is singular: the mean field is "
                             "not unique (an undamped mode?)") from None
        return [_describe(system, x)]
    modes = _photon_modes(system)
    if len(modes) == 1:
        candidates = _scalar_branches(system, modes[0], c)
    else:
        x_lin = np.linalg.lstsq(system.linear, -c, rcond=None)[0]
        candidates = [s * x_lin for s in (0.0, 0.3, 1.0, 3.0)]
    states = _dedupe([_polish(system, x, t) for x in candidates])
    n_idx = np.concatenate([[2 * m, 2 * m + 1] for m in modes])
    states.sort(key=lambda x: (float(np.sum(x[n_idx] ** 2)), float(np.sum(x ** 2))))
    return [_describe(system, x) for x in states]


def stable_states(system, t=np.inf):
    """``(stable states, all states)`` from :func:`steady_states`."""
    states = steady_states(system, t)
    return [s for s in states if s.stable], states
