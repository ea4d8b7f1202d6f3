"""Tan & Li's cascaded electromechanical → electromagnonic system (docs/physics.md).

Modes, in order: ``a1`` (electromechanical cavity, driven), ``a2`` (electromagnonic cavity,
fed by the output of ``a1``), ``b`` (mechanical oscillator), ``m`` (Kittel magnon mode).
Rates, detunings and couplings are in units of the mechanical frequency ω_b; times are in
units of 1/ω_b; temperatures in kelvin; lab frequencies (for thermal occupations) in Hz.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..conventions import HBAR, thermal_occupation
from ..systems.linear import LinearSystem

MODE_LABELS = ("a1", "a2", "b", "m")
NOISE_LABELS = ("a1_in", "a_eta_in", "b_in", "m_in")

_RATES = ("kappa1", "kappa2", "gamma_b", "gamma_m")
_REAL = ("delta1", "delta2", "delta_m", "g_ab", "g_am")
_TEMPERATURES = ("T", "T1", "T_eta", "T_b", "T_m")


AXIS_ALIASES = {"kappa": ("kappa1", "kappa2"), "g": ("g_ab", "g_am")}
"""The paper's sweep axes that set several parameters to the same value (``kappa``: κ1 = κ2,
``g``: g_ab = g_am), for any model that has those parameters
(:func:`~langevin_sim.analyses.sweep.axis_fields`)."""


AXIS_LABELS = {  # the paper's parameters in the paper's notation, for plots
    "kappa": r"$\kappa_1 = \kappa_2$ ($\omega_b$)", "kappa1": r"$\kappa_1$ ($\omega_b$)",
    "kappa2": r"$\kappa_2$ ($\omega_b$)", "delta1": r"$\Delta_1$ ($\omega_b$)",
    "delta2": r"$\Delta_2$ ($\omega_b$)", "delta_m": r"$\Delta_m$ ($\omega_b$)",
    "g_ab": r"$g_{ab}$ ($\omega_b$)", "g_am": r"$g_{am}$ ($\omega_b$)",
    "T": r"temperature $T$ (K)", "eta": r"efficiency $\eta$",
    "gamma_b": r"$\gamma_b$ ($\omega_b$)", "gamma_m": r"$\gamma_m$ ($\omega_b$)",
}
"""LaTeX labels of the cascade's parameters (rates in ω_b) on the axes of a plot."""


def _is_real(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.floating,
                                                             np.integer))


@dataclass(frozen=True)
class CascadeParameters:
    """Parameters of the cascaded system; defaults are the paper's (docs/physics.md).

    Rates, detunings and couplings are angular rates in units of ω_b (dimensionless).

    Attributes
    ----------
    kappa1, kappa2 : float
        Cavity energy decay rates κ1, κ2 (units of ω_b, >= 0). Default 10.
    delta1, delta2 : float
        Cavity–drive detunings Δ1 = ω_c1 - ω_d, Δ2 = ω_c2 - ω_d (units of ω_b). Default 1, -1.
    delta_m : float
        Magnon–drive detuning Δm (units of ω_b). Default -1.
    g_ab : float
        Linearised (drive-enhanced) electromechanical coupling (units of ω_b). Default 0.5.
    g_am : float
        Cavity–magnon coupling (units of ω_b). Default 1.
    gamma_b, gamma_m : float
        Mechanical and magnon damping rates (units of ω_b, >= 0). Defaults 1e-5 (100 Hz) and
        0.15 (1.5 MHz).
    eta : float
        Transmission efficiency of the one-way line between the cavities, in [0, 1]. Default 1.
    T : float
        Temperature of every bath, in K (>= 0). Default 0.03.
    T1, T_eta, T_b, T_m : float or None
        Per-bath temperatures in K overriding ``T`` for the ``a1`` input, the line loss
        input ``a_η``, the mechanical bath and the magnon bath.
    omega_b_hz : float
        Mechanical frequency f_b = ω_b/2π in Hz (> 0). Default 10 MHz. Sets the unit of rate.
    f_m_hz : float
        Magnon frequency f_m in Hz (> 0). Default 10 GHz.
    """

    kappa1: float = 10.0
    kappa2: float = 10.0
    delta1: float = 1.0
    delta2: float = -1.0
    delta_m: float = -1.0
    g_ab: float = 0.5
    g_am: float = 1.0
    gamma_b: float = 1e-5
    gamma_m: float = 0.15
    eta: float = 1.0
    T: float = 0.03
    T1: float | None = None
    T_eta: float | None = None
    T_b: float | None = None
    T_m: float | None = None
    omega_b_hz: float = 10e6
    f_m_hz: float = 10e9

    def __post_init__(self):
        for name in (*_RATES, *_REAL, "eta", "T", "omega_b_hz", "f_m_hz"):
            value = getattr(self, name)
            if not _is_real(value):
                raise ValueError(f"{name} must be a real number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        for name in _RATES:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} is a decay rate and must be >= 0 (units of ω_b), "
                                 f"got {getattr(self, name)!r}")
        if not 0.0 <= self.eta <= 1.0:
            raise ValueError(f"eta is an efficiency and must be in [0, 1], got {self.eta!r}")
        for name in _TEMPERATURES:
            value = getattr(self, name)
            if value is None:
                continue
            if not _is_real(value):
                raise ValueError(f"{name} must be a real number of kelvin, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} is a temperature and must be finite and >= 0 K, "
                                 f"got {value!r}")
            object.__setattr__(self, name, float(value))
        for name in ("omega_b_hz", "f_m_hz"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} is a frequency and must be > 0 Hz, got "
                                 f"{getattr(self, name)!r}")
        f1, f2 = self.cavity_frequencies_hz
        if f1 <= 0 or f2 <= 0:
            raise ValueError(
                "delta1, delta2 and delta_m put a cavity at a non-positive lab frequency "
                f"(f_1 = {f1:.4g} Hz, f_2 = {f2:.4g} Hz); detunings must satisfy "
                "f_m - Δm f_b + Δ f_b > 0"
            )

    # -- derived quantities ------------------------------------------------------------
    @property
    def drive_frequency_hz(self) -> float:
        """Drive frequency f_d = f_m - Δm f_b, in Hz."""
        return self.f_m_hz - self.delta_m * self.omega_b_hz

    @property
    def cavity_frequencies_hz(self) -> tuple[float, float]:
        """Lab frequencies (f_1, f_2) = f_d + Δ_{1,2} f_b of the two cavities, in Hz."""
        fd = self.f_m_hz - self.delta_m * self.omega_b_hz
        return fd + self.delta1 * self.omega_b_hz, fd + self.delta2 * self.omega_b_hz

    @property
    def temperatures(self) -> dict[str, float]:
        """Temperature of each bath in K: keys ``a1_in``, ``a_eta_in``, ``b_in``, ``m_in``."""
        pick = lambda t: self.T if t is None else t  # noqa: E731
        return {"a1_in": pick(self.T1), "a_eta_in": pick(self.T_eta),
                "b_in": pick(self.T_b), "m_in": pick(self.T_m)}

    @property
    def occupations(self) -> dict[str, float]:
        """Thermal occupation n̄ of each bath at its lab frequency (keys as ``temperatures``)."""
        f1, f2 = self.cavity_frequencies_hz
        freqs = {"a1_in": f1, "a_eta_in": f2, "b_in": self.omega_b_hz, "m_in": self.f_m_hz}
        temps = self.temperatures
        return {k: thermal_occupation(freqs[k], temps[k]) for k in NOISE_LABELS}

    @property
    def cooperativities(self) -> tuple[float, float]:
        """(C_b, C_m) = (g_ab²/(κ1 γ_b), g_am²/(κ2 γ_m)); inf where a rate is zero."""
        cb = self.g_ab**2 / (self.kappa1 * self.gamma_b) if self.kappa1 * self.gamma_b else math.inf
        cm = self.g_am**2 / (self.kappa2 * self.gamma_m) if self.kappa2 * self.gamma_m else math.inf
        return cb, cm

    def replace(self, **changes) -> CascadeParameters:
        """A copy with some fields changed; unknown names raise ``ValueError``."""
        unknown = set(changes) - set(field_names())
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {', '.join(sorted(unknown))}; allowed: "
                f"{', '.join(field_names())}"
            )
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """Plain ``dict`` of the fields (for JSON and ``.npz`` metadata)."""
        return dataclasses.asdict(self)

    # -- the model interface shared with ModelDescription ---------------------------------
    name: ClassVar[str] = "cascade"
    default_pair: ClassVar[tuple] = ("b", "m")
    unit: ClassVar[str] = "ω_b"
    mode_labels: ClassVar[tuple] = MODE_LABELS

    def parameter_names(self) -> tuple:
        return field_names()

    def pair(self, pair=None) -> tuple:
        return self.default_pair if pair is None else tuple(pair)

    def linear_system(self, branch: int = 0) -> LinearSystem:
        """The linearised cascade (:func:`build_system`)."""
        return build_system(self)

    def build(self):
        """The cascade as a :class:`~langevin_sim.systems.nonlinear.LangevinSystem` (linear, no
        drive: the shipped description ``cascade`` built, :func:`cascade_model`)."""
        return cascade_model(self).build()

    @classmethod
    def from_physical(
        cls,
        *,
        omega_b_hz: float = 10e6,
        f_m_hz: float = 10e9,
        kappa1_hz: float = 100e6,
        kappa2_hz: float = 100e6,
        delta1_hz: float = 10e6,
        delta2_hz: float = -10e6,
        delta_m_hz: float = -10e6,
        g_am_hz: float = 10e6,
        gamma_b_hz: float = 100.0,
        gamma_m_hz: float = 1.5e6,
        g_ab_hz: float | None = None,
        g0_ab_hz: float | None = None,
        drive_power_w: float | None = None,
        eta: float = 1.0,
        T: float = 0.03,
        **temperatures,
    ) -> CascadeParameters:
        """Build parameters from lab units.

        Every ``*_hz`` argument is an angular rate divided by 2π (i.e. in Hz), e.g.
        ``gamma_b_hz = γ_b/2π``; they are converted to units of ω_b. The electromechanical
        coupling is either given directly (``g_ab_hz``) or from the drive power ``drive_power_w``
        (W) and the single-photon coupling ``g0_ab_hz`` = g̃_ab/2π through
        :func:`drive_coupling`. ``T`` (K) and the per-bath ``T1, T_eta, T_b, T_m`` pass through.
        """
        if omega_b_hz is None or not np.isfinite(omega_b_hz) or omega_b_hz <= 0:
            raise ValueError(f"omega_b_hz must be finite and > 0 Hz, got {omega_b_hz!r}")
        unknown = set(temperatures) - {"T1", "T_eta", "T_b", "T_m"}
        if unknown:
            raise ValueError(f"unknown argument(s) {', '.join(sorted(unknown))}; per-bath "
                             "temperatures are T1, T_eta, T_b, T_m")
        if (g_ab_hz is None) == (drive_power_w is None):
            raise ValueError("give exactly one of g_ab_hz and drive_power_w (with g0_ab_hz)")
        if g_ab_hz is None:
            if g0_ab_hz is None:
                raise ValueError("drive_power_w needs g0_ab_hz, the single-photon coupling / 2π")
            f_d = f_m_hz - delta_m_hz
            g_ab_hz = drive_coupling(
                g0_hz=g0_ab_hz, drive_power_w=drive_power_w, kappa1_hz=kappa1_hz,
                delta1_hz=delta1_hz, cavity_frequency_hz=f_d + delta1_hz,
            )
        w = omega_b_hz
        return cls(
            kappa1=kappa1_hz / w, kappa2=kappa2_hz / w, delta1=delta1_hz / w,
            delta2=delta2_hz / w, delta_m=delta_m_hz / w, g_ab=g_ab_hz / w, g_am=g_am_hz / w,
            gamma_b=gamma_b_hz / w, gamma_m=gamma_m_hz / w, eta=eta, T=T,
            omega_b_hz=omega_b_hz, f_m_hz=f_m_hz, **temperatures,
        )


def field_names() -> tuple[str, ...]:
    """Names of the :class:`CascadeParameters` fields (the CLI's ``--set`` names)."""
    return tuple(f.name for f in dataclasses.fields(CascadeParameters))


def drive_coupling(*, g0_hz: float, drive_power_w: float, kappa1_hz: float, delta1_hz: float,
                   cavity_frequency_hz: float) -> float:
    """Drive-enhanced coupling ``g_ab = g̃ sqrt(P κ1) / sqrt(ħ ω_c1 (Δ1² + κ1²/4))``.

    All rates are given divided by 2π (Hz); the result is g_ab/2π in Hz. With
    g̃/2π = 150 Hz, P = 1 μW and the paper's cavity this gives g_ab ≈ 0.5 ω_b.

    Parameters
    ----------
    g0_hz : float
        Single-photon electromechanical coupling g̃_ab/2π (Hz).
    drive_power_w : float
        Drive power P_d (W, >= 0).
    kappa1_hz, delta1_hz : float
        κ1/2π and Δ1/2π of the driven cavity (Hz).
    cavity_frequency_hz : float
        Lab frequency ω_c1/2π of the driven cavity (Hz, > 0).
    """
    for name, value in (("g0_hz", g0_hz), ("drive_power_w", drive_power_w),
                        ("kappa1_hz", kappa1_hz), ("delta1_hz", delta1_hz),
                        ("cavity_frequency_hz", cavity_frequency_hz)):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if drive_power_w < 0:
        raise ValueError(f"drive_power_w must be >= 0 W, got {drive_power_w!r}")
    if kappa1_hz <= 0 or cavity_frequency_hz <= 0:
        raise ValueError("kappa1_hz and cavity_frequency_hz must be > 0 Hz")
    two_pi = 2 * np.pi
    kappa, delta = two_pi * kappa1_hz, two_pi * delta1_hz
    photons = drive_power_w * kappa / (HBAR * two_pi * cavity_frequency_hz
                                       * (delta**2 + kappa**2 / 4))
    return float(g0_hz * np.sqrt(photons))


def cascade_model(params: CascadeParameters | None = None):
    """The shipped model description ``cascade`` (``models/library/cascade.toml``) at these
    parameters: the one source of the paper's linearised model."""
    from .description import load_model

    p = CascadeParameters() if params is None else params
    return load_model("cascade").replace(**{k: v for k, v in p.as_dict().items()
                                            if v is not None})


def build_system(params: CascadeParameters | None = None) -> LinearSystem:
    """The linearised cascade as a :class:`LinearSystem` (docs/physics.md, "Linearised dynamics"),
    built from the model description ``cascade`` (:func:`cascade_model`).

    The same input field ``a1_in`` drives both cavities (rows x1, p1 with ``-sqrt(κ1)`` and
    rows x2, p2 with ``-sqrt(η κ2)``): the correlated cascade noise. The loss on the line
    enters cavity 2 through ``a_eta_in``.
    """
    desc = cascade_model(params)
    # the pair the paper measures travels with the system (measures(sigma, system), ...)
    return dataclasses.replace(desc.linear_system(), default_pair=desc.default_pair)


DRIVE_SETTINGS = ("drive_power_w", "drive_amplitude")
"""Settings of the drive of ``cascade-full`` given in lab terms (:func:`drive_parameters`)."""


def drive_parameters(model, overrides: dict) -> dict:
    """The paper's drive settings: resolve ``drive_power_w`` (W) or ``drive_amplitude`` (|E|,
    the model's rate unit) into the model's ``drive_re``/``drive_im`` (a real E), as ``--set``
    values.

    ``|E| = sqrt(κ1 P / (ħ ω_d))`` for a drive of power P through cavity 1's port (rates in the
    model's unit ω_b = 2π·omega_b_hz; ω_d = 2π(f_m_hz − delta_m·omega_b_hz), the drive's lab
    frequency). Other entries pass through; the bare detuning keeps its value (``delta1_bare``
    may be set alongside).
    """
    out = dict(overrides)
    power = out.pop("drive_power_w", None)
    amp = out.pop("drive_amplitude", None)
    if power is None and amp is None:
        return out
    if power is not None and amp is not None:
        raise ValueError("set either drive_power_w or drive_amplitude, not both")
    params = model.replace(**out).as_dict()
    needed = ("drive_re", "drive_im", "kappa1", "omega_b_hz", "f_m_hz", "delta_m")
    if any(k not in params for k in needed):
        raise ValueError("drive_power_w and drive_amplitude apply to a model with the "
                         f"parameters {', '.join(needed)} (cascade-full)")
    if amp is None:
        if not (math.isfinite(power) and power >= 0):
            raise ValueError(f"drive_power_w must be a finite number >= 0 (W), got {power!r}")
        unit = 2 * math.pi * params["omega_b_hz"]
        omega_d = 2 * math.pi * (params["f_m_hz"] - params["delta_m"] * params["omega_b_hz"])
        amp = math.sqrt(params["kappa1"] * unit * power / (HBAR * omega_d)) / unit
    elif not (math.isfinite(amp) and amp >= 0):
        raise ValueError(f"drive_amplitude must be a finite number >= 0, got {amp!r}")
    return {**out, "drive_re": float(amp), "drive_im": 0.0}
