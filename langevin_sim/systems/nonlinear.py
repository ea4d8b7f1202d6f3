"""A quantum Langevin system with a polynomial drift, in the truncated Wigner approximation.

``dX = f(X, t) dt + B sqrt(N) dW`` in *xpxp* order, with

``f_i(X, t) = Σ_j L_ij X_j + Σ_drives r_k(t) e_k,i + Σ Q_ijk X_j X_k + Σ C_ijkl X_j X_k X_l``

plus, for the truncated Wigner (Weyl-ordered) drift, the ordering corrections of the
radiation-pressure and Kerr terms (a constant force and a linear term). A time-dependent model
(envelopes on terms or drives, temporal modes of outputs) adds ``Σ_k e_k(t) L_k`` to ``L``,
``Σ_k e_k(t) B_k`` to the noise input, multiplies drive k by its envelope
(:meth:`LangevinSystem.linear_at`, :meth:`LangevinSystem.noise_input_at`) and a nonlinear
term's coefficients, with its ordering corrections, by the term's envelope
(:class:`NonlinearEnvelope`). The mean-field
equations (``a†a → |α|²``) are the same drift without those corrections; their Jacobian at a
mean field is the drift matrix of the linearised fluctuations. A model description
(:mod:`langevin_sim.models.description`) builds one; nothing here knows about the paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .linear import LinearSystem, ModeLabelled

RAMPS = ("sudden", "linear", "smooth")
"""Drive switch-on shapes: ``E`` from t = 0; ``E min(1, t/T)``; ``E sin²(πt/2T)`` for t < T."""


def ramp_factor(kind: str, ramp_time: float, t) -> np.ndarray:
    """The drive's switch-on factor r(t) ∈ [0, 1] (1 for every t >= 0 if ``sudden``)."""
    t = np.asarray(t, dtype=float)
    if kind == "sudden" or ramp_time <= 0:
        return np.where(t >= 0, 1.0, 0.0)
    s = np.clip(t / ramp_time, 0.0, 1.0)
    if kind == "linear":
        return s
    if kind == "smooth":
        return np.sin(0.5 * np.pi * s) ** 2
    raise ValueError(f"unknown ramp {kind!r}; allowed: {', '.join(RAMPS)}")


@dataclass(frozen=True, eq=False)
class OutputField:
    """The output field of a damping port, ``p_out = √κ o + p_in``, written out as
    ``Σ_m c_m o_m + Σ_j d_j in_j``: mode amplitudes and input (bath) fields with real
    coefficients, the same for both quadratures (cascades make a port's input itself a
    combination of upstream modes and fields). ``Σ_j d_j² = 1``: an output is a unit-normalised
    free field.

    Attributes
    ----------
    port, mode : str
        The port and the mode it damps.
    mode_coefficients : ndarray (n_modes,)
    noise_coefficients : ndarray (n_fields,)
        One per input field of ``noise_labels`` (x and p alike).
    """

    port: str
    mode: str
    mode_coefficients: np.ndarray
    noise_coefficients: np.ndarray

    def quadratures(self) -> tuple[np.ndarray, np.ndarray]:
        """``(C, D)`` with ``(x_out, p_out) = C X + D ξ``: shapes (2, d) and (2, 2 n_fields)."""
        return (np.kron(self.mode_coefficients, np.eye(2)),
                np.kron(self.noise_coefficients, np.eye(2)))


@dataclass(frozen=True, eq=False)
class TemporalModeInfo:
    """A temporal mode of a port's output held in the state (an accumulator mode).

    ``A = ∫ f*(t) p_out(t) dt`` with ``f = normalisation · envelope(t) · e^{-iωt}`` on
    ``[start, stop)`` (∫|f|² = 1), detected with efficiency ``efficiency``; times in the
    inverse of the model's unit, ``frequency`` ω in its unit. Before ``stop`` the mode holds a
    partial integral: its moments are not those of a detected mode.
    """

    name: str
    port: str
    start: float
    stop: float
    frequency: float
    efficiency: float
    normalisation: float
    envelope: object

    def to_dict(self) -> dict:
        return {"port": self.port, "window": [self.start, self.stop],
                "frequency": self.frequency, "efficiency": self.efficiency,
                "normalisation": self.normalisation, "envelope": self.envelope.expression.text}


@dataclass(frozen=True, eq=False)
class NonlinearEnvelope:
    """The envelope ``e(t)`` of one nonlinear term (radiation pressure, Kerr): it multiplies the
    term's entries of ``quadratic_coef`` / ``cubic_coef`` and its truncated Wigner ordering
    corrections, which are kept here instead of in the system's constant ``weyl_constant`` /
    ``weyl_linear``.

    Attributes
    ----------
    function : TimeFunction
        ``e(t)``.
    quadratic, cubic : ndarray of int
        Positions of the term's entries in ``quadratic_coef`` and ``cubic_coef``.
    weyl_constant : ndarray (d,); weyl_linear : ndarray (d, d)
        The term's ordering corrections at ``e = 1``.
    """

    function: object
    quadratic: np.ndarray
    cubic: np.ndarray
    weyl_constant: np.ndarray
    weyl_linear: np.ndarray

    def padded(self, d: int) -> NonlinearEnvelope:
        """The same envelope in a state of dimension ``d`` (accumulator modes appended)."""
        c, lin = np.zeros(d), np.zeros((d, d))
        d0 = self.weyl_constant.shape[0]
        c[:d0], lin[:d0, :d0] = self.weyl_constant, self.weyl_linear
        return NonlinearEnvelope(self.function, self.quadratic, self.cubic, c, lin)


@dataclass(frozen=True, eq=False)
class LangevinSystem(ModeLabelled):
    """Polynomial-drift Langevin system (see module docstring). Shapes: ``d = 2 n_modes``.

    Attributes
    ----------
    mode_labels, noise_labels : tuple of str
    linear : ndarray (d, d)
        Constant linear part ``L`` of the mean-field drift (damping, detunings, quadratic
        Hamiltonian terms, cascade links), rate units.
    noise_input : ndarray (d, k)
        ``B``; ``occupations`` (k,) the thermal occupation of each input quadrature.
    drives : ndarray (n_drives, d)
        Full-amplitude drive vectors ``(√2 Re E, √2 Im E)`` on their mode's rows.
    ramps : tuple of (kind, ramp_time)
        Switch-on of each drive.
    quadratic_index : ndarray of int (n_q, 3); quadratic_coef (n_q,)
        Terms ``f_i += c X_j X_k``.
    cubic_index : ndarray of int (n_c, 4); cubic_coef (n_c,)
        Terms ``f_i += c X_j X_k X_l``.
    weyl_constant : ndarray (d,); weyl_linear (d, d)
        Ordering corrections present in the truncated Wigner drift only.
    radiation_pressure : tuple of (photon mode, displaced mode, g0)
    kerr : tuple of (mode, K)
    parameters : dict
        The numbers the system was built from (for reports).
    outputs : dict
        ``port name -> OutputField``: every damping port's output field.
    linear_envelopes : tuple of (TimeFunction, ndarray (d, d))
        Time-dependent parts of the linear drift: ``L(t) = L + Σ e_k(t) L_k``.
    noise_envelopes : tuple of (TimeFunction, ndarray (d, k))
        Time-dependent parts of the noise input: ``B(t) = B + Σ e_k(t) B_k``.
    drive_envelopes : tuple of (TimeFunction or None)
        Per drive, a factor multiplying its ramp.
    nonlinear_envelopes : tuple of NonlinearEnvelope
        Envelopes of the nonlinear terms (:meth:`quadratic_coef_at`, :meth:`cubic_coef_at`,
        :meth:`weyl_constant_at`, and their ordering corrections in :meth:`linear_at`).
    temporal_modes : dict
        ``name -> TemporalModeInfo`` for the accumulator modes (the last modes of the state).
    """

    mode_labels: tuple
    noise_labels: tuple
    linear: np.ndarray
    noise_input: np.ndarray
    occupations: np.ndarray
    drives: np.ndarray
    ramps: tuple
    quadratic_index: np.ndarray
    quadratic_coef: np.ndarray
    cubic_index: np.ndarray
    cubic_coef: np.ndarray
    weyl_constant: np.ndarray
    weyl_linear: np.ndarray
    radiation_pressure: tuple = ()
    kerr: tuple = ()
    parameters: dict = field(default_factory=dict)
    name: str = ""
    outputs: dict = field(default_factory=dict)
    linear_envelopes: tuple = ()
    noise_envelopes: tuple = ()
    drive_envelopes: tuple = ()
    nonlinear_envelopes: tuple = ()
    temporal_modes: dict = field(default_factory=dict)

    @property
    def is_time_dependent(self) -> bool:
        """True when a term, a drive or a temporal mode carries an envelope."""
        return bool(self.linear_envelopes or self.noise_envelopes or self.nonlinear_envelopes
                    or any(e is not None for e in self.drive_envelopes))

    def _term_envelopes(self) -> tuple:
        """Every envelope of a term (linear, noise, nonlinear) as ``TimeFunction``s."""
        return (*(f for f, _ in self.linear_envelopes), *(f for f, _ in self.noise_envelopes),
                *(e.function for e in self.nonlinear_envelopes))

    def envelope_functions(self) -> dict:
        """``label -> TimeFunction`` of every envelope (where it was written), for plots."""
        from ..models.expressions import TimeFunction

        out = {}
        for f, _ in self.linear_envelopes:
            if f.window is None:  # a temporal mode's rows are drawn as its |f(t)| below
                out.setdefault(f"{f.label} = {f.expression.text}", f)
        for f in (*(e.function for e in self.nonlinear_envelopes), *self.drive_envelopes):
            if f is not None:
                out.setdefault(f"{f.label} = {f.expression.text}", f)
        for info in self.temporal_modes.values():
            env = info.envelope
            out[f"temporal mode {info.name}: |f(t)|"] = TimeFunction(
                env.expression, env._env, scale=info.normalisation,
                window=(info.start, info.stop), label=env.label)
        return out

    def envelope_breakpoints(self) -> list:
        """Sorted times where an envelope may jump or kink."""
        pts = set()
        for f in self._term_envelopes():
            pts |= f.breakpoints()
        for f in self.drive_envelopes:
            if f is not None:
                pts |= f.breakpoints()
        return sorted(pts)

    def check_envelopes(self, t_final: float) -> None:
        """``ValueError`` (one line) if an envelope is not finite somewhere on
        ``[0, t_final]``, or a temporal mode's window ends after ``t_final``."""
        for f in self._term_envelopes():
            f.check(t_final)
        for f in self.drive_envelopes:
            if f is not None:
                f.check(t_final)
        for info in self.temporal_modes.values():
            if info.stop > t_final * (1 + 1e-12):
                raise ValueError(f"temporal mode {info.name!r}: its window [{info.start:g}, "
                                 f"{info.stop:g}] ends after the run's last time "
                                 f"{t_final:g}; the mode would never be complete (lengthen "
                                 "the run or shorten the window)")

    def _refuse_time_dependent(self, what: str) -> None:
        if self.is_time_dependent:
            where = [f.label for f in self.envelope_functions().values()]
            raise ValueError(f"model {self.name or '(unnamed)'!r} is time-dependent (envelopes: "
                             f"{'; '.join(where[:3])}{' ...' if len(where) > 3 else ''}): "
                             f"{what} needs a time-invariant model; use `langevin-sim evolve` "
                             "(langevin_sim.analyses.evolve)")

    @staticmethod
    def _with_envelopes(base: np.ndarray, parts, t) -> np.ndarray:
        """``base + Σ e_k(t) part_k`` over ``parts`` (``(TimeFunction, array)`` pairs, in
        order) at the time ``t``: ``base``'s shape, or (n, ...) for an array of times."""
        t = np.asarray(t, float)
        out = np.broadcast_to(base, t.shape + base.shape).copy()
        for f, part in parts:
            out += np.asarray(f(t))[(...,) + (None,) * part.ndim] * part
        return out

    def _weyl_parts(self, name: str) -> list:
        """The nonlinear envelopes' ordering corrections ``name`` as ``(e_k, part)`` pairs."""
        return [(e.function, getattr(e, name)) for e in self.nonlinear_envelopes]

    def linear_at(self, t, ordering: str = "weyl") -> np.ndarray:
        """``L(t)``: the linear part of the drift with its envelopes at the time ``t``
        (a number → (d, d); an array (n,) → (n, d, d))."""
        if ordering == "weyl":
            return self._with_envelopes(self.linear + self.weyl_linear,
                                        [*self.linear_envelopes, *self._weyl_parts("weyl_linear")],
                                        t)
        return self._with_envelopes(self.linear, self.linear_envelopes, t)

    def _coef_at(self, coef: np.ndarray, which: str, t) -> np.ndarray:
        t = np.asarray(t, float)
        out = np.broadcast_to(coef, t.shape + coef.shape).copy()
        for e in self.nonlinear_envelopes:
            out[..., getattr(e, which)] *= np.asarray(e.function(t))[..., None]
        return out

    def quadratic_coef_at(self, t) -> np.ndarray:
        """The quadratic coefficients with their terms' envelopes at ``t``: (n_q,), or (n, n_q)
        for an array of times."""
        return self._coef_at(self.quadratic_coef, "quadratic", t)

    def cubic_coef_at(self, t) -> np.ndarray:
        """The cubic coefficients with their terms' envelopes at ``t``: (n_c,) or (n, n_c)."""
        return self._coef_at(self.cubic_coef, "cubic", t)

    def weyl_constant_at(self, t) -> np.ndarray:
        """The constant ordering correction of the truncated Wigner drift at ``t``: (d,), or
        (n, d) for an array of times."""
        return self._with_envelopes(self.weyl_constant, self._weyl_parts("weyl_constant"), t)

    def weyl_linear_at(self, t) -> np.ndarray:
        """The linear ordering correction at ``t``: (d, d), or (n, d, d) for an array of
        times."""
        return self._with_envelopes(self.weyl_linear, self._weyl_parts("weyl_linear"), t)

    def noise_input_at(self, t) -> np.ndarray:
        """``B(t)`` (d, k), or (n, d, k) for an array of times."""
        return self._with_envelopes(self.noise_input, self.noise_envelopes, t)

    def diffusion_at(self, t) -> np.ndarray:
        """``D(t) = B(t) diag(n̄ + 1/2) B(t)ᵀ``, (d, d) or (n, d, d)."""
        b = self.noise_input_at(t)
        return (b * (self.occupations + 0.5)) @ np.swapaxes(b, -1, -2)

    @property
    def is_linear(self) -> bool:
        """True when the drift has no quadratic or cubic terms."""
        return self.quadratic_coef.size == 0 and self.cubic_coef.size == 0

    @property
    def is_driven(self) -> bool:
        return bool(self.drives.size and np.any(self.drives != 0))

    # -- drift ----------------------------------------------------------------------------
    def drive_vector(self, t=np.inf) -> np.ndarray:
        """Σ_k r_k(t) s_k(t) e_k: the drive term of the drift at time ``t``, shape (d,)
        (``s_k`` the drive's envelope, 1 without one)."""
        out = np.zeros(self.dim)
        envs = self.drive_envelopes or (None,) * len(self.ramps)
        for e, (kind, tr), env in zip(self.drives, self.ramps, envs):
            factor = float(ramp_factor(kind, tr, t))
            if env is not None:
                factor *= float(env(t))
            out += factor * e
        return out

    def linear_part(self, ordering: str = "weyl") -> np.ndarray:
        """``L``: the constant linear part of the drift (``ordering="weyl"`` for the truncated
        Wigner drift, ``"mean-field"`` without the ordering correction). ``ValueError`` for a
        time-dependent model (see :meth:`linear_at`)."""
        self._refuse_time_dependent("a constant linear part (steady state, baseline schemes)")
        return self.linear + self.weyl_linear if ordering == "weyl" else self.linear

    def compiled_terms(self, ordering: str = "weyl") -> tuple:
        """The drift's arrays for the compiled right-hand sides of
        :mod:`langevin_sim._kernels.meanfield`: ``(L, drives, ramp kinds, ramp times,
        constant, quadratic index, quadratic coef, cubic index, cubic coef)``, contiguous, the
        ramp kinds numbered as in :data:`RAMPS`. A time-dependent model has no such arrays
        (``ValueError``): its right-hand sides are :meth:`drift` and :meth:`jacobian`."""
        const = self.weyl_constant if ordering == "weyl" else np.zeros(self.dim)
        c = np.ascontiguousarray
        return (c(self.linear_part(ordering), dtype=float),
                c(self.drives.reshape(-1, self.dim), dtype=float),
                np.array([RAMPS.index(k) for k, _ in self.ramps], np.int64),
                np.array([tr for _, tr in self.ramps], float), c(const, dtype=float),
                c(self.quadratic_index, dtype=np.int64).reshape(-1, 3),
                c(self.quadratic_coef, dtype=float),
                c(self.cubic_index, dtype=np.int64).reshape(-1, 4),
                c(self.cubic_coef, dtype=float))

    def drift(self, x, t=np.inf, ordering: str = "weyl") -> np.ndarray:
        """``f(X, t)`` for a state (d,) or a stack of states (d, n)."""
        x = np.asarray(x, dtype=float)
        col = (slice(None),) + (None,) * (x.ndim - 1)
        if self.is_time_dependent:
            lin, const = self.linear_at(t, ordering), self.weyl_constant_at(t)
            qc, cc = self.quadratic_coef_at(t), self.cubic_coef_at(t)
        else:
            lin, const = self.linear_part(ordering), self.weyl_constant
            qc, cc = self.quadratic_coef, self.cubic_coef
        f = lin @ x + self.drive_vector(t)[col]
        if ordering == "weyl":
            f = f + const[col]
        for (i, j, k), c in zip(self.quadratic_index, qc):
            f[i] += c * x[j] * x[k]
        for (i, j, k, m), c in zip(self.cubic_index, cc):
            f[i] += c * x[j] * x[k] * x[m]
        return f

    def jacobian(self, x, ordering: str = "mean-field", t=None) -> np.ndarray:
        """``∂f/∂X`` at the state ``x`` (d,) (and the time ``t`` for a time-dependent model):
        the drift matrix of the linearised fluctuations."""
        x = np.asarray(x, dtype=float)
        if self.is_time_dependent:
            if t is None:
                raise ValueError("the Jacobian of a time-dependent model needs the time t")
            jac = self.linear_at(float(t), ordering)
            qc, cc = self.quadratic_coef_at(float(t)), self.cubic_coef_at(float(t))
        else:
            jac = self.linear_part(ordering).copy()
            qc, cc = self.quadratic_coef, self.cubic_coef
        for (i, j, k), c in zip(self.quadratic_index, qc):
            jac[i, j] += c * x[k]
            jac[i, k] += c * x[j]
        for (i, j, k, m), c in zip(self.cubic_index, cc):
            jac[i, j] += c * x[k] * x[m]
            jac[i, k] += c * x[j] * x[m]
            jac[i, m] += c * x[j] * x[k]
        return jac

    # -- linearisation ----------------------------------------------------------------------
    def linearise(self, mean) -> LinearSystem:
        """The fluctuations around the mean field ``mean`` (d,) as a :class:`LinearSystem`:
        drift ``A = ∂f/∂X`` of the mean-field equations, the same noise."""
        return LinearSystem(self.jacobian(mean), self.noise_input, self.occupations,
                            self.mode_labels, self.noise_labels)

    def mean_field_states(self, t=np.inf):
        """Every steady mean field found, sorted by the photon number of the nonlinear
        modes (see :func:`langevin_sim.systems.meanfield.steady_states`)."""
        from .meanfield import steady_states

        self._refuse_time_dependent("a steady mean field")
        return steady_states(self, t)

    def linear_system(self, branch: int = 0) -> LinearSystem:
        """The linear system the Gaussian tools and the linear engine work with.

        A linear model gives ``(L, B, n̄)`` directly (its drives only shift the mean). A
        nonlinear one is linearised around its stable steady mean field number ``branch``
        (0: the one with the fewest photons); ``UnstableSystemError`` if it has none.
        ``ValueError`` (one line) for a time-dependent model: it has no steady state.
        """
        self._refuse_time_dependent("the steady state")
        if self.is_linear:
            return LinearSystem(self.linear, self.noise_input, self.occupations,
                                self.mode_labels, self.noise_labels)
        from ..errors import UnstableSystemError
        from .meanfield import stable_states

        states, all_states = stable_states(self)
        if not states:
            worst = max((s.eigenvalues[0] for s in all_states), key=lambda z: z.real,
                        default=complex(math.nan, 0))
            raise UnstableSystemError(worst, "no stable steady mean field: every branch of "
                                      "the linearisation is unstable")
        if not 0 <= branch < len(states):
            raise ValueError(f"branch must be in [0, {len(states)}): the model has "
                             f"{len(states)} stable mean-field branch(es), got {branch}")
        return self.linearise(states[branch].state)
