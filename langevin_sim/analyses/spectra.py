"""Noise spectra: analytic, from the transfer function of a linear system, and simulated, from
sampled records of its trajectories (Welch estimates), with a consistency verdict.

Conventions (README, section Spectra): for a stable linear system ``dμ/dt = A μ + B ξ`` and
signals ``X = u μ + u_n ξ`` (rows ``u`` over the state, ``u_n`` over the input quadratures; an
output field carries its input's white noise), the symmetrised spectrum is

    ``S_XY(ω) = ∫ ⟨{X(t), Y†(0)}⟩/2 e^{iωt} dt = T_X(ω) N T_Y(ω)ᴴ``,
    ``T(ω) = u (−iω − A)⁻¹ B + u_n``,  ``N = diag(n̄) + I/2``,

two-sided, normalised so that ``∫ S_XX dω/2π = Var(X)`` (for a mode quadrature: the steady
covariance σ∞). Frequencies are angular, in the model's rate unit (ω_b for the paper), relative
to the rotating frame (the drive). A real quadrature's spectrum is even in ω; the heterodyne
spectrum of ``a_out = (x_out + i p_out)/√2`` is not: a line at ``+ω`` is light above the
drive frequency. Its vacuum level is 1/2, so ``S − 1/2`` is the photon-flux spectral density.
A detector of efficiency η sees ``√η X + √(1−η) v`` (``v`` a vacuum quadrature):
``η S + (1−η)/2``.

Each eigenvalue ``λ_k = −γ_k − iω_k`` of ``A`` is a *line*: ``S`` is a sum of
``a_k/(γ_k − i(ω−ω_k)) + b_k/(γ_k + i(ω−ω_k))`` (a Lorentzian of FWHM ``2γ_k`` centred at
``ω_k = −Im λ_k`` and a dispersive part) plus the white background; the line's area
``∫ dω/2π`` is ``(a_k + b_k)/2`` and the areas add up to ``Var(X)``.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .. import _signals
from .._kernels.random import seed_state
from .._kernels.records import record_chunk
from .._signals import checkpoint, deferred_interrupts
from ..conventions import VACUUM_VARIANCE
from ..gaussian import ou_transition, psd_factor, small_linear_algebra, steady_state
from ..models import as_model
from ..statistics import consistency
from ..systems.linear import LinearSystem

CHUNK = 8
"""Trajectories per chunk; chunk ``i`` draws from child ``i`` of ``SeedSequence(seed)``."""
MAX_SEGMENT = 2**17
"""Longest Welch segment accepted (records)."""
MAX_RECORDS = 5 * 10**8
"""Most trajectory-records one simulated spectrum may take (a few minutes here)."""
POINTS_PER_LINE = 81
BACKGROUND_POINTS = 600
_EIG_COND_MAX = 1e10
NORMALISATION = ("two-sided symmetrised spectrum S(ω) = ∫⟨{X(t),Y†(0)}⟩/2 e^{iωt} dt, "
                 "normalised so that ∫ S_XX dω/2π = Var(X); vacuum white noise has S = 1/2")


# ------------------------------------------------------------------------------------------
# the system seen by the spectra: state, inputs (with one vacuum per detector) and signals
@dataclass(frozen=True, eq=False)
class Signal:
    """A linear signal ``X = u μ + u_n ξ`` of the state and the (extended) inputs.

    Attributes
    ----------
    name : str
    state_row : ndarray (d,), complex
    noise_row : ndarray (k,), complex
        Over the extended inputs: the model's input quadratures, then (x, p) of each port's
        detector vacuum.
    real : bool
        Whether the signal is a real quadrature (even spectrum).
    kind : str
        ``"mode"``, ``"homodyne"`` or ``"heterodyne"``.
    """

    name: str
    state_row: np.ndarray
    noise_row: np.ndarray
    real: bool
    kind: str

    @property
    def white(self) -> bool:
        """Whether the signal carries white input noise (then records average it over the
        sampling interval, as a detector's current does)."""
        return bool(np.any(self.noise_row != 0))


@dataclass(frozen=True, eq=False)
class SpectralSystem:
    """A stable linear system with its output ports, ready for spectra.

    Attributes
    ----------
    linear : LinearSystem
    sigma : ndarray (d, d)
        Steady covariance σ∞.
    noise_input : ndarray (d, k)
        ``B`` extended by zero columns for the detector vacua.
    occupations : ndarray (k,)
    outputs : dict
        ``port -> OutputField`` (empty for a bare ``LinearSystem``).
    unit : str
    name : str
    """

    linear: LinearSystem
    sigma: np.ndarray
    noise_input: np.ndarray
    occupations: np.ndarray
    outputs: dict
    unit: str
    name: str

    @property
    def drift(self) -> np.ndarray:
        return self.linear.drift

    @property
    def n_inputs(self) -> int:
        return self.linear.noise_input.shape[1]

    def detector_columns(self, port: str) -> slice:
        i = list(self.outputs).index(port)
        return slice(self.n_inputs + 2 * i, self.n_inputs + 2 * i + 2)


def spectral_system(model=None, branch: int = 0) -> SpectralSystem:
    """The linear system of ``model`` (anything :func:`~langevin_sim.models.as_model` takes;
    a nonlinear one linearised at its stable mean-field branch ``branch``) with its output
    ports. Raises :class:`~langevin_sim.errors.UnstableSystemError` if it has no steady state.
    """

    model = as_model(model)
    outputs = dict(model.build().outputs)
    linear = model.linear_system(branch)
    sigma = steady_state(linear)  # raises UnstableSystemError (names the eigenvalue)
    k = linear.noise_input.shape[1]
    b = np.zeros((linear.dim, k + 2 * len(outputs)))
    b[:, :k] = linear.noise_input
    occ = np.concatenate([linear.occupations, np.zeros(2 * len(outputs))])
    return SpectralSystem(linear, sigma, b, occ, outputs, model.unit,
                          model.name)


def parse_angle(text: str) -> float:
    """An angle in radians: a number, or a multiple of pi (``pi/2``, ``0.25pi``, ``-pi``)."""
    t = text.strip().replace(" ", "")
    try:
        value = float(t)
    except ValueError:
        m = re.fullmatch(r"([+-]?(?:\d+\.?\d*|\.\d+)?)\*?pi(?:/(\d+\.?\d*))?", t)
        if not m:
            raise ValueError(f"angle {text!r} is not a number of radians or a multiple of pi "
                             "(e.g. 0.5, pi/4, 0.25pi)") from None
        head = m.group(1)
        factor = -1.0 if head == "-" else 1.0 if head in ("", "+") else float(head)
        divisor = float(m.group(2)) if m.group(2) else 1.0
        if divisor == 0:
            raise ValueError(f"angle {text!r} divides by zero") from None
        value = factor * math.pi / divisor
    if not math.isfinite(value):
        raise ValueError(f"angle {text!r} must be finite")
    return value


def _allowed(ss: SpectralSystem) -> str:
    modes = ", ".join(ss.linear.mode_labels)
    text = f"x_<mode>, p_<mode> or <mode>:θ for modes {modes}"
    if ss.outputs:
        text += (f"; x_<port>_out, p_<port>_out or <port>_out:θ (homodyne at angle θ, rad) "
                 f"for ports {', '.join(ss.outputs)}")
    return text


def _output_rows(ss: SpectralSystem, port: str, efficiency: float):
    """``(C, D)``: rows of ``(x_out, p_out)`` of ``port`` as seen by a detector of efficiency
    η, over the state (2, d) and the extended inputs (2, k)."""
    c, dn = ss.outputs[port].quadratures()
    d_ext = np.zeros((2, ss.noise_input.shape[1]))
    d_ext[:, :dn.shape[1]] = math.sqrt(efficiency) * dn
    d_ext[:, ss.detector_columns(port)] = math.sqrt(1 - efficiency) * np.eye(2)
    return math.sqrt(efficiency) * c, d_ext


def _check_efficiency(efficiency) -> float:
    try:
        eta = float(efficiency)
    except (TypeError, ValueError):
        eta = math.nan
    if not 0 < eta <= 1:
        raise ValueError(f"efficiency (detection efficiency η) must be in (0, 1], got "
                         f"{efficiency!r}")
    return eta


def _port_name(ss: SpectralSystem, text: str) -> str:
    port = text[:-4] if text.endswith("_out") else text
    if port not in ss.outputs:
        if not ss.outputs:
            raise ValueError(f"unknown port {text!r}: this model has no output ports (a bare "
                             "LinearSystem); describe it as a model to use its outputs")
        raise ValueError(f"unknown port {text!r}; ports: {', '.join(ss.outputs)} (write "
                         "PORT or PORT_out)")
    return port


def quadrature_signal(ss: SpectralSystem, name: str, efficiency: float = 1.0) -> Signal:
    """The signal named ``name``: ``x_b``, ``p_b``, ``b:θ`` (``x^θ = x cosθ + p sinθ``) for a
    mode; ``x_a2_out``, ``p_a2_out`` or ``a2_out:θ`` for the homodyne quadrature at angle θ
    (radians) of a port's output seen with detection efficiency ``efficiency``.
    ``ValueError`` naming what is allowed otherwise."""
    eta = _check_efficiency(efficiency)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"quadrature must be a name ({_allowed(ss)}), got {name!r}")
    name = name.strip()
    labels = ss.linear.mode_labels
    d, k = ss.linear.dim, ss.noise_input.shape[1]
    base, sep, angle = name.partition(":")
    if sep:
        theta = parse_angle(angle)
        target = base
    else:
        m = re.fullmatch(r"([xp])_(.+)", name)
        if not m:
            raise ValueError(f"unknown quadrature {name!r}; allowed: {_allowed(ss)}")
        theta = 0.0 if m.group(1) == "x" else math.pi / 2
        target = m.group(2)
    rot = np.array([math.cos(theta), math.sin(theta)])
    if target in labels:
        u = np.zeros(d, complex)
        i = labels.index(target)
        u[2 * i:2 * i + 2] = rot
        return Signal(name, u, np.zeros(k, complex), True, "mode")
    if target.endswith("_out") and ss.outputs:
        port = _port_name(ss, target)
        c, dn = _output_rows(ss, port, eta)
        return Signal(name, (rot @ c).astype(complex), (rot @ dn).astype(complex), True,
                      "homodyne")
    raise ValueError(f"unknown quadrature {name!r}; allowed: {_allowed(ss)}")


def heterodyne_signal(ss: SpectralSystem, port: str, efficiency: float = 1.0) -> Signal:
    """``a_out = (x_out + i p_out)/√2`` of ``port`` (``"a2"`` or ``"a2_out"``) as a detector of
    efficiency η sees it."""
    eta = _check_efficiency(efficiency)
    port = _port_name(ss, str(port).strip())
    c, dn = _output_rows(ss, port, eta)
    w = np.array([1.0, 1j]) / math.sqrt(2)
    return Signal(f"{port}_out", w @ c, w @ dn, False, "heterodyne")


# ------------------------------------------------------------------------------------------
# analytic spectra
def transfer(ss: SpectralSystem, signals, omegas) -> np.ndarray:
    """``T(ω) = u (−iω − A)⁻¹ B + u_n`` for each signal, shape (n_ω, n_signals, k)."""
    w = np.asarray(omegas, float)
    a = ss.drift
    d = a.shape[0]
    m = -1j * w[:, None, None] * np.eye(d)[None] - a[None]
    with small_linear_algebra():
        x = np.linalg.solve(m, np.broadcast_to(ss.noise_input.astype(complex),
                                               (w.size,) + ss.noise_input.shape))
    u = np.array([s.state_row for s in signals])
    un = np.array([s.noise_row for s in signals])
    return np.einsum("sd,wdk->wsk", u, x) + un[None]


def spectral_matrix(ss: SpectralSystem, signals, omegas) -> np.ndarray:
    """``S_XY(ω) = T_X N T_Yᴴ`` for every pair of ``signals``: shape (n_ω, n, n), complex,
    Hermitian at each ω (units: signal² × time unit)."""
    t = transfer(ss, signals, omegas)
    n = ss.occupations + VACUUM_VARIANCE
    return np.einsum("wsk,k,wrk->wsr", t, n, t.conj())


@dataclass(frozen=True)
class Lines:
    """The lines of one spectrum ``S_XY``: one per eigenvalue ``λ_k = −γ_k − iω_k`` of A.

    Attributes
    ----------
    centre : ndarray (n,)
        ``ω_k`` (model's rate unit).
    fwhm : ndarray (n,)
        ``2 γ_k``: the Lorentzian's full width at half maximum.
    a, b : ndarray (n,), complex
        Coefficients of ``a/(γ − i(ω−ω_k)) + b/(γ + i(ω−ω_k))``.
    background : complex
        ``S(ω → ∞)``: the white part (0 for mode quadratures, 1/2 for a vacuum output).
    """

    centre: np.ndarray
    fwhm: np.ndarray
    a: np.ndarray
    b: np.ndarray
    background: complex

    @property
    def area(self) -> np.ndarray:
        """``∫ dω/2π`` of each line (complex for a cross spectrum), signal²."""
        return 0.5 * (self.a + self.b)

    def evaluate(self, omegas) -> np.ndarray:
        """The spectrum rebuilt from its lines (a check of the decomposition)."""
        w = np.asarray(omegas, float)[:, None]
        g = 0.5 * self.fwhm[None]
        x = w - self.centre[None]
        return (self.a / (g - 1j * x) + self.b / (g + 1j * x)).sum(axis=1) + self.background


def lines(ss: SpectralSystem, x: Signal, y: Signal | None = None) -> Lines | None:
    """Pole decomposition of ``S_XY`` (``y`` defaults to ``x``); ``None`` when A's eigenvector
    matrix is too ill-conditioned (a nearly defective A) for the split to be trusted.

    With ``A = V Λ V⁻¹`` and ``p_k = (u v_k)(w_kᵀ B)``: ``T = Σ_k p_k/(−iω − λ_k) + u_n``, and
    partial fractions of ``T_X N T_Yᴴ`` give ``a_k = p_k N (u_nYᴴ − Σ_l q_lᴴ/(λ_k + λ̄_l))``,
    ``b_l = (u_nX − Σ_k p_k/(λ_k + λ̄_l)) N q_lᴴ``.
    """
    y = x if y is None else y
    lam, v = np.linalg.eig(ss.drift)
    if not np.isfinite(np.linalg.cond(v)) or np.linalg.cond(v) > _EIG_COND_MAX:
        return None
    winv = np.linalg.inv(v)
    wb = winv @ ss.noise_input  # (d, k)
    n = ss.occupations + VACUUM_VARIANCE
    p = (x.state_row @ v)[:, None] * wb  # (d, k)
    q = (y.state_row @ v)[:, None] * wb
    denom = lam[:, None] + lam.conj()[None, :]  # λ_k + λ̄_l
    pq = (p * n) @ q.conj().T  # p_k N q_lᴴ
    a = -(pq / denom).sum(axis=1) + (p * n) @ y.noise_row.conj()
    b = -(pq / denom).sum(axis=0) + (x.noise_row * n) @ q.conj().T
    background = complex((x.noise_row * n) @ y.noise_row.conj())
    return Lines(-lam.imag, -2 * lam.real, a, b, background)


def adaptive_grid(ss: SpectralSystem, lo: float, hi: float,
                  points_per_line: int = POINTS_PER_LINE,
                  background_points: int = BACKGROUND_POINTS) -> np.ndarray:
    """Frequencies in ``[lo, hi]`` that resolve every line: ``ω_k + γ_k tan u`` for ``u``
    uniform in (−π/2, π/2) around each eigenvalue (equal shares of each Lorentzian's area, so a
    line of width 1e-5 gets as many points as one of width 10) and log-spaced through its
    tails, plus a uniform and a logarithmic background grid. Sorted, unique, shape (n,)."""
    lam = np.linalg.eigvals(ss.drift)
    u = np.linspace(-0.5 * math.pi, 0.5 * math.pi, points_per_line + 2)[1:-1]
    pts = [np.linspace(lo, hi, background_points)]
    span = hi - lo
    for z in lam:
        c, h = -z.imag, -z.real
        pts.append(c + h * np.tan(u))
        if span > h:  # the tails, log-spaced out to the whole range (S falls as 1/δω²)
            off = h * np.geomspace(1.0, span / h, points_per_line)
            pts.append(np.concatenate([c - off, c + off]))
    g_min = max(float(np.min(-lam.real)), 1e-12 * max(abs(lo), abs(hi)))
    if hi > 0:  # log axes need points down to well below the narrowest width
        pts.append(np.geomspace(max(g_min / 10, hi * 1e-9), hi, background_points // 2))
    if lo < 0:
        pts.append(-np.geomspace(max(g_min / 10, -lo * 1e-9), -lo, background_points // 2))
    w = np.concatenate(pts)
    w = np.unique(w[(w >= lo) & (w <= hi)])
    return np.unique(np.concatenate([[lo, hi], w]))


def default_range(ss: SpectralSystem, two_sided: bool) -> tuple[float, float]:
    """``(lo, hi)``: up to ``max_k (1.5 |ω_k| + 10 γ_k)`` (every line and its shoulders);
    from 0 for an even spectrum, symmetric about 0 otherwise."""
    lam = np.linalg.eigvals(ss.drift)
    hi = float(np.max(1.5 * np.abs(lam.imag) + 10 * np.abs(lam.real)))
    return (-hi if two_sided else 0.0), hi


def parse_range(text: str) -> tuple[float, float]:
    """``"LO:HI"`` → ``(lo, hi)`` with ``lo < hi`` (``ValueError`` otherwise)."""
    lo_s, sep, hi_s = str(text).partition(":")
    try:
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        raise ValueError(f"range must be LO:HI (angular frequencies in the model's unit), got "
                         f"{text!r}") from None
    return check_range((lo, hi))


def check_range(rng) -> tuple[float, float]:
    lo, hi = (float(v) for v in rng)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"range must be finite, got {lo!r}:{hi!r}")
    if not lo < hi:
        raise ValueError(f"range {lo:g}:{hi:g} has no points: it needs LO < HI (angular "
                         "frequencies in the model's unit)")
    return lo, hi


@dataclass(frozen=True)
class Peak:
    """A local maximum of ``|S|``: ``frequency`` (model's unit), ``height``, ``fwhm`` (full width
    at half height above the white background; ``None`` where a neighbouring line keeps the
    curve above half height), ``area`` (sum of the areas of the lines centred within the
    peak's basin, between its flanking minima; complex for a cross spectrum; ``None`` if no
    line is centred there, as for a shoulder made by interfering lines)."""

    frequency: float
    height: float
    fwhm: float | None
    area: complex | None


@dataclass(frozen=True, eq=False)
class Spectrum:
    """An analytic spectrum (see the module docstring for the convention).

    Attributes
    ----------
    names : tuple of str
        ``(X,)`` or ``(X, Y)`` for a cross spectrum.
    kind : str
        ``"mode"``, ``"homodyne"``, ``"heterodyne"`` or ``"cross"``.
    frequencies : ndarray (n,)
        Angular frequencies, model's rate unit, relative to the rotating frame.
    values : ndarray (n,)
        ``S_XX`` (real) or ``S_XY`` (complex); units signal² × time unit.
    variance : float or complex or None
        ``∫ S dω/2π`` over all ω: ``Var(X)`` (``Cov``) from σ∞ for mode quadratures; ``None``
        for outputs, whose white noise has no finite variance.
    excess_area : complex or None
        ``∫ (S − background) dω/2π``: the lines' total (photon flux of a heterodyne output).
    lines : Lines or None
    peaks : tuple of Peak
        Strongest first.
    background : float
    efficiency : float
    unit : str
    """

    names: tuple
    kind: str
    frequencies: np.ndarray
    values: np.ndarray
    variance: complex | float | None
    excess_area: complex | None
    lines: Lines | None
    peaks: tuple
    background: complex
    efficiency: float
    unit: str
    model: str = ""
    normalisation: str = NORMALISATION
    signals: tuple = field(default=(), repr=False)

    @property
    def is_cross(self) -> bool:
        return len(self.names) == 2

    def to_dict(self) -> dict:
        """JSON-ready: ``frequencies``, ``analytic`` (real part; ``analytic_imag`` for a cross
        spectrum), ``peak_frequency``, ``fwhm``, ``area`` (per peak, strongest first),
        ``variance``, and the lines."""
        def real(z):
            return None if z is None else float(np.real(z))

        out = {"model": self.model, "unit": self.unit, "signals": list(self.names),
               "kind": self.kind, "efficiency": self.efficiency,
               "normalisation": self.normalisation,
               "frequencies": self.frequencies, "analytic": np.real(self.values),
               "peak_frequency": [p.frequency for p in self.peaks],
               "peak_height": [p.height for p in self.peaks],
               "fwhm": [p.fwhm for p in self.peaks],
               "area": [real(p.area) for p in self.peaks],
               "variance": real(self.variance), "excess_area": real(self.excess_area),
               "background": real(self.background)}
        if self.is_cross:
            out["analytic_imag"] = np.imag(self.values)
            out["area_imag"] = [None if p.area is None else float(np.imag(p.area))
                                for p in self.peaks]
            out["variance_imag"] = None if self.variance is None else \
                float(np.imag(self.variance))
        if self.lines is not None:
            out["lines"] = {"centre": self.lines.centre, "fwhm": self.lines.fwhm,
                            "area": np.real(self.lines.area)}
        return out


def _evaluate(ss, x, y, omegas) -> np.ndarray:
    s = spectral_matrix(ss, (x,) if y is None else (x, y), omegas)
    return s[:, 0, 0].real if y is None else s[:, 0, 1]


def _peaks(ss, x, y, w, s, lns, background) -> tuple:
    """Local maxima of ``|S − background|`` on the grid, refined on the analytic function."""
    from scipy.optimize import brentq, minimize_scalar

    def mag(om):
        return float(np.abs(_evaluate(ss, x, y, [om])[0] - background))

    h = np.abs(s - background)
    if w.size < 3:
        return ()
    top = float(h.max())
    idx = [i for i in range(1, w.size - 1) if h[i] > h[i - 1] and h[i] >= h[i + 1]
           and h[i] > 1e-9 * top]
    mins = [0] + [i for i in range(1, w.size - 1) if h[i] < h[i - 1] and h[i] <= h[i + 1]] \
        + [w.size - 1]
    peaks = []
    for i in idx:
        r = minimize_scalar(lambda om: -mag(om), bounds=(w[i - 1], w[i + 1]), method="bounded",
                            options={"xatol": 1e-12 * max(1.0, abs(w[i]))})
        f0, h0 = (float(r.x), -float(r.fun)) if -r.fun >= h[i] else (float(w[i]), float(h[i]))
        half = 0.5 * h0
        left = max(m for m in mins if m < i)
        right = min(m for m in mins if m > i)
        edges = []
        for stop, step in ((left, -1), (right, 1)):
            edge, j = None, i
            while j != stop:
                if h[j + step] < half:
                    inner = f0 if j == i else w[j]
                    a, b = sorted((inner, w[j + step]))
                    try:
                        edge = brentq(lambda om, lev=half: mag(om) - lev, a, b, xtol=1e-14)
                    except ValueError:  # the grid point nearest the top is below half
                        edge = None
                    break
                j += step
            edges.append(edge)
        fwhm = edges[1] - edges[0] if None not in edges else None
        area = None  # no line centred in the basin: a shoulder made by interference
        if lns is not None:
            inside = (lns.centre >= w[left]) & (lns.centre <= w[right])
            if np.any(inside):
                area = complex(lns.area[inside].sum())
        peaks.append(Peak(f0, h0, fwhm, area))
    peaks.sort(key=lambda p: -p.height)
    return tuple(peaks)


def spectrum(model=None, quadrature: str = "x_b", cross: str | None = None, *,
             heterodyne: str | None = None, efficiency: float = 1.0, range=None,
             frequencies=None, branch: int = 0, system: SpectralSystem | None = None
             ) -> Spectrum:
    """The analytic symmetrised spectrum of one signal, or the cross spectrum of two.

    Parameters
    ----------
    model : model, name, TOML path or LinearSystem
        Default: the paper's linearised cascade.
    quadrature : str
        ``x_b``, ``p_b``, ``b:θ`` (mode quadratures) or ``a2_out:θ``, ``x_a2_out`` (homodyne
        quadratures of an output port), θ in radians.
    cross : str, optional
        A second quadrature: the cross spectrum ``S_XY``.
    heterodyne : str, optional
        A port: the spectrum of its ``a_out`` (both sidebands) instead of ``quadrature``.
    efficiency : float
        Detection efficiency η in (0, 1] of the output signals.
    range : (lo, hi), optional
        Angular frequencies (model's unit). Default: every line and its shoulders
        (:func:`default_range`), from 0 for an even spectrum, symmetric about 0 otherwise.
    frequencies : array, optional
        Evaluate here instead of on the adaptive grid.
    branch : int
        Stable mean-field branch of a nonlinear model.

    Returns
    -------
    Spectrum
    """
    ss = spectral_system(model, branch) if system is None else system
    if heterodyne is not None:
        x = heterodyne_signal(ss, heterodyne, efficiency)
        y = None if cross is None else quadrature_signal(ss, cross, efficiency)
    else:
        x = quadrature_signal(ss, quadrature, efficiency)
        y = None if cross is None else quadrature_signal(ss, cross, efficiency)
    two_sided = not (x.real and (y is None or y.real))
    if frequencies is not None:
        w = np.sort(np.asarray(frequencies, float).ravel())
        if w.size == 0 or not np.all(np.isfinite(w)):
            raise ValueError("frequencies must be a non-empty array of finite numbers")
    else:
        lo, hi = default_range(ss, two_sided) if range is None else check_range(range)
        w = adaptive_grid(ss, lo, hi)
    s = _evaluate(ss, x, y, w)
    lns = lines(ss, x, y)
    yy = x if y is None else y
    background = complex((x.noise_row * (ss.occupations + VACUUM_VARIANCE))
                         @ yy.noise_row.conj())
    if x.white or yy.white:
        variance = None
    else:
        variance = complex(x.state_row @ ss.sigma @ yy.state_row.conj())
        variance = variance.real if y is None else variance
    excess = None if lns is None else complex(lns.area.sum())
    peaks = _peaks(ss, x, y, w, s, lns, background.real if y is None else background)
    kind = "cross" if y is not None else x.kind
    names = (x.name,) if y is None else (x.name, y.name)
    return Spectrum(names, kind, w, s, variance, excess, lns, peaks,
                    background.real if y is None else background, float(efficiency), ss.unit,
                    ss.name, signals=(x,) if y is None else (x, y))


# ------------------------------------------------------------------------------------------
# what an experimentalist reads from the lines: occupation, linewidth, sideband asymmetry
def mode_line_pair(ss: SpectralSystem, mode: str) -> np.ndarray:
    """Indices (into ``np.linalg.eig(A)``'s order, the order of :func:`lines`) of the
    conjugate pair of eigenvalues whose eigenvectors live most on ``mode``: that mode's own
    lines (e.g. the optically damped mechanical line)."""
    i = ss.linear.mode_index(mode)
    lam, v = np.linalg.eig(ss.drift)
    w = np.abs(v) ** 2
    share = w[2 * i:2 * i + 2].sum(axis=0) / w.sum(axis=0)
    order = np.argsort(-share, kind="stable")
    k0 = order[0]
    k1 = int(np.argmin(np.abs(lam - np.conj(lam[k0])) + (np.arange(lam.size) == k0) * 1e300))
    return np.array([k0, k1])


def occupation_from_spectrum(model=None, mode: str = "b", branch: int = 0) -> dict:
    """A mode's occupation as read from its spectra: the areas of its own line pair in
    ``S_xx`` and ``S_pp`` (the lab's "area under the mechanical peak"),
    ``n = (A_x + A_p)/2 − 1/2``, beside the steady state's exact
    ``(σ_xx + σ_pp)/2 − 1/2`` (which also counts the weight the mode has on the other lines),
    the line's centre and FWHM (model's unit). Keys: ``occupation``, ``occupation_steady``,
    ``area_x``, ``area_p``, ``frequency``, ``fwhm``."""
    ss = spectral_system(model, branch)
    k = mode_line_pair(ss, mode)
    i = ss.linear.mode_index(mode)
    out = {}
    for q in ("x", "p"):
        ln = lines(ss, quadrature_signal(ss, f"{q}_{mode}"))
        if ln is None:
            raise ValueError("the drift matrix is nearly defective: its lines cannot be "
                             "separated")
        out[f"area_{q}"] = float(np.real(ln.area[k]).sum())
    lam, _ = np.linalg.eig(ss.drift)
    out["occupation"] = 0.5 * (out["area_x"] + out["area_p"]) - VACUUM_VARIANCE
    out["occupation_steady"] = 0.5 * (ss.sigma[2 * i, 2 * i] + ss.sigma[2 * i + 1, 2 * i + 1]) \
        - VACUUM_VARIANCE
    out["frequency"] = float(abs(lam[k[0]].imag))
    out["fwhm"] = float(-2 * lam[k[0]].real)
    return out


def sideband_asymmetry(model=None, port: str = "a", mode: str = "b",
                       efficiency: float = 1.0, branch: int = 0) -> dict:
    """The two motional sidebands of ``mode`` in the heterodyne spectrum of ``port``.

    In ``S(ω) − 1/2`` (photon flux density) of ``a_out`` the mode's line pair appears at
    ``+ω_b`` (anti-Stokes: a phonon absorbed) and ``−ω_b`` (Stokes: one emitted). For weak
    coupling their areas are ``∝ |χ_c(+ω_b)|² n`` and ``∝ |χ_c(−ω_b)|² (n + 1)`` with the port's
    cavity response ``|χ_c(ω)|² = 1/((κ/2)² + (ω − Δ)²)`` (κ, Δ from its mode's block of A).
    Divided by the cavity filter, their ratio is ``R = (n + 1)/n``, so ``n = 1/(R − 1)``.

    Returns a dict: ``area_plus``, ``area_minus`` (flux in each sideband, per unit time),
    ``frequency`` (``ω_b``), ``raw_ratio`` (minus/plus), ``filter_plus``, ``filter_minus``
    (``|χ_c|²`` there), ``ratio`` (filtered), ``occupation_asymmetry``, ``occupation_steady``.
    """
    ss = spectral_system(model, branch)
    x = heterodyne_signal(ss, port, efficiency)
    ln = lines(ss, x)
    if ln is None:
        raise ValueError("the drift matrix is nearly defective: its lines cannot be separated")
    k = mode_line_pair(ss, mode)
    area = np.real(ln.area[k])
    centre = ln.centre[k]
    plus, minus = (int(np.argmax(centre)), int(np.argmin(centre)))
    c = ss.linear.mode_index(ss.outputs[_port_name(ss, port)].mode)
    kappa = -(ss.drift[2 * c, 2 * c] + ss.drift[2 * c + 1, 2 * c + 1])
    delta = 0.5 * (ss.drift[2 * c, 2 * c + 1] - ss.drift[2 * c + 1, 2 * c])
    chi2 = 1.0 / ((kappa / 2) ** 2 + (centre - delta) ** 2)
    ratio = (area[minus] / chi2[minus]) / (area[plus] / chi2[plus])
    i = ss.linear.mode_index(mode)
    n_steady = 0.5 * (ss.sigma[2 * i, 2 * i] + ss.sigma[2 * i + 1, 2 * i + 1]) - VACUUM_VARIANCE
    return {"area_plus": float(area[plus]), "area_minus": float(area[minus]),
            "frequency": float(centre[plus]), "raw_ratio": float(area[minus] / area[plus]),
            "filter_plus": float(chi2[plus]), "filter_minus": float(chi2[minus]),
            "ratio": float(ratio), "occupation_asymmetry": float(1.0 / (ratio - 1.0)),
            "occupation_steady": float(n_steady)}


# ------------------------------------------------------------------------------------------
# simulated spectra: records, Welch estimates, the estimator's exact expectation
@dataclass(frozen=True, eq=False)
class RecordPlan:
    """The exact sampled dynamics of the signals' records.

    Every ``sample_interval`` the exact OU step maps the state ``μ`` to the augmented
    ``y = (μ', I)``, where ``I`` integrates each white signal over the interval. A record is
    ``P y``: a mode quadrature sampled at the end of the interval, or a detector's current
    averaged over it (``I/Δt``). Shapes: ``d`` state rows, ``e = d + m`` augmented rows,
    ``c`` real channels.
    """

    step: np.ndarray        # (e, d): F
    noise: np.ndarray       # (e, r): G, G Gᵀ = Q
    initial: np.ndarray     # (d, r0): factor of σ∞
    channels: np.ndarray    # (c, e): P
    combine: np.ndarray     # (n_signals, c) complex: signal = combine @ channels
    y_covariance: np.ndarray  # (e, e): stationary covariance of y
    sample_interval: float


def record_plan(ss: SpectralSystem, signals, sample_interval: float) -> RecordPlan:
    """Build the exact sampled recursion of ``signals`` (see :class:`RecordPlan`)."""
    dt = float(sample_interval)
    d = ss.linear.dim
    rows, combine = [], []
    for s in signals:  # real channels: the real and imaginary parts of each signal
        coef = []
        for part in (np.real, np.imag):
            u, un = part(s.state_row), part(s.noise_row)
            if not (np.any(u) or np.any(un)):
                coef.append(None)
                continue
            coef.append(len(rows))
            rows.append((u, un, s.white))
        combine.append(coef)
    m = sum(1 for _, _, white in rows if white)
    e = d + m
    pad = e % 2  # LinearSystem wants an even dimension: one idle row
    a = np.zeros((e + pad, e + pad))
    a[:d, :d] = ss.drift
    b = np.zeros((e + pad, ss.noise_input.shape[1]))
    b[:d] = ss.noise_input
    p = np.zeros((len(rows), e))
    j = d
    for c, (u, un, white) in enumerate(rows):
        if white:
            a[j, :d] = u
            b[j] = un
            p[c, j] = 1.0 / dt
            j += 1
        else:
            p[c, :d] = u
    aug = LinearSystem(a, b, ss.occupations, tuple(f"r{i}" for i in range((e + pad) // 2)))
    with small_linear_algebra():
        phi, q = ou_transition(aug, dt)
    phi, q = phi[:e, :d], q[:e, :e]
    g = psd_factor(q)
    l0 = psd_factor(ss.sigma)
    cov = phi @ ss.sigma @ phi.T + q
    comb = np.zeros((len(signals), len(rows)), complex)
    for i, (re_c, im_c) in enumerate(combine):
        if re_c is not None:
            comb[i, re_c] += 1
        if im_c is not None:
            comb[i, im_c] += 1j
    return RecordPlan(np.ascontiguousarray(phi), np.ascontiguousarray(g),
                      np.ascontiguousarray(l0), p, comb, 0.5 * (cov + cov.T), dt)


def hann(n: int) -> np.ndarray:
    """Periodic Hann window of length ``n``."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def expected_welch(plan: RecordPlan, segment_length: int) -> np.ndarray:
    """The exact expectation of the Welch estimate (Hann window) of every pair of signals:
    ``E[P_XY(ω_j)] = (Δt/Σw²) Σ_k γ_XY(k) W(k) e^{iω_j kΔt}``, ``W(k) = Σ_n w_{n+k} w_n``,
    ``γ_XY(k) = E[X_{n+k} Ȳ_n]`` from the sampled recursion (no aliasing or leakage left out).
    Shape (n_signals, n_signals, L), bins in FFT order (``ω_j = 2π fftfreq(L, Δt)``)."""
    L = int(segment_length)
    d = plan.step.shape[1]
    e = plan.step.shape[0]
    trans = np.zeros((e, e))
    trans[:, :d] = plan.step
    p = plan.combine @ plan.channels  # (n, e) complex
    mk = plan.y_covariance @ p.conj().T  # (e, n)
    gam = np.empty((L, p.shape[0], p.shape[0]), complex)
    for k in np.arange(L):
        gam[k] = p @ mk
        mk = trans @ mk
    w = hann(L)
    wk = np.fft.irfft(np.abs(np.fft.rfft(w, 2 * L)) ** 2, 2 * L)[:L]  # Σ_n w_{n+k} w_n
    c = gam * wk[:, None, None]
    folded = c.copy()  # k and k - L share the DFT phase: fold the negative lags in
    folded[1:] += np.conj(np.transpose(c[:0:-1], (0, 2, 1)))
    ex = np.fft.ifft(folded, axis=0) * L * plan.sample_interval / (w @ w)
    return np.transpose(ex, (1, 2, 0))


def _welch_units(records, comb, segment_length, n_segments, blocks, dt):
    """Welch estimates of every unit (a block of one trajectory): records (c, n_rec, n_traj)
    real channels → (n_traj·blocks, n, n, L) complex."""
    L = segment_length
    hop = L // 2
    block_len = hop * (n_segments + 1)
    w = hann(L)
    sig = np.einsum("sc,ctj->jst", comb, records)  # (n_traj, n_signals, n_rec)
    out = []
    for b in np.arange(blocks):
        base = b * block_len
        acc = 0
        for s in np.arange(n_segments):
            seg = sig[:, :, base + s * hop: base + s * hop + L] * w
            f = np.fft.ifft(seg, axis=-1) * L  # Σ_n w r e^{+iωnΔt}
            acc = acc + f[:, :, None, :] * f[:, None, :, :].conj()
        out.append(acc * (dt / (w @ w) / n_segments))
    return np.concatenate(out, axis=0) if blocks > 1 else out[0]


def _run_chunk(plan, n, n_rec, seed, segment_length, n_segments, blocks):

    d = plan.step.shape[1]
    e = plan.step.shape[0]
    rank = plan.noise.shape[1]
    x = np.zeros((d, n))
    y = np.zeros((e, n))
    z = np.zeros((max(rank, plan.initial.shape[1], 1), n))
    out = np.zeros((plan.channels.shape[0], n_rec, n))
    record_chunk(plan.step, plan.noise, rank, plan.initial, plan.channels, seed_state(seed),
                 x, y, z, out)
    return _welch_units(out, plan.combine, segment_length, n_segments, blocks,
                        plan.sample_interval)


@dataclass(frozen=True, eq=False)
class SimulatedSpectrum:
    """A Welch estimate from simulated records, compared with the exact expectation.

    Attributes
    ----------
    frequencies : ndarray (n,)
        The Welch bins compared (ω ≥ 0 for an even spectrum), model's unit.
    estimate, estimate_stderr : ndarray (n,)
        Mean over the independent units (a block of one trajectory) and its SE from their
        spread (real part; ``estimate_imag`` and ``estimate_imag_stderr`` for a cross spectrum).
    expected : ndarray (n,) (complex for a cross spectrum)
        The estimator's exact expectation (the reference's spectrum as sampled, windowed and
        aliased) — what the verdict compares with.
    analytic : ndarray (n,)
        The reference's continuous spectrum at the same frequencies (for the plot).
    z : ndarray (n,) or (4, n)
        Wilson–Hilferty z-scores (:func:`wilson_hilferty_z`) of the auto spectrum, or for a
        cross spectrum of the auto spectra of X, Y, X + Y and X + iY (which determine
        ``S_XX``, ``S_YY`` and both parts of ``S_XY``).
    consistency : statistics.Consistency
    """

    names: tuple
    frequencies: np.ndarray
    estimate: np.ndarray
    estimate_stderr: np.ndarray
    estimate_imag: np.ndarray | None
    estimate_imag_stderr: np.ndarray | None
    expected: np.ndarray
    analytic: np.ndarray
    z: np.ndarray
    consistency: object
    n_traj: int
    n_units: int
    sample_interval: float
    segment_length: int
    n_segments: int
    seed: int
    unit: str

    def to_dict(self) -> dict:
        c = self.consistency
        out = {"estimate_frequencies": self.frequencies, "estimate": self.estimate,
               "estimate_stderr": self.estimate_stderr,
               "estimate_expected": np.real(self.expected),
               "estimate_analytic": np.real(self.analytic), "consistent": bool(c.consistent),
               "max_abs_z": c.max_abs_z, "z_threshold": c.threshold,
               "n_compared": c.n_compared, "alpha": c.alpha, "n_traj": self.n_traj,
               "n_units": self.n_units, "sample_interval": self.sample_interval,
               "segment_length": self.segment_length, "n_segments": self.n_segments,
               "seed": self.seed}
        if self.estimate_imag is not None:
            out.update(estimate_imag=self.estimate_imag,
                       estimate_imag_stderr=self.estimate_imag_stderr,
                       estimate_expected_imag=np.imag(self.expected))
        return out


def simulation_defaults(ss: SpectralSystem, hi: float, sample_interval=None,
                        segment_length=None) -> tuple[float, int]:
    """``(Δt, L)``: by default Nyquist at ``hi`` (``Δt = π/hi``), and a segment of at least
    8/γ_min (γ_min the narrowest line's half-width), rounded up to a power of 2."""
    dt = math.pi / hi if sample_interval is None else float(sample_interval)
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"sample_interval must be > 0 (a time, in the inverse of the rate "
                         f"unit), got {sample_interval!r}")
    if segment_length is None:
        g = float(np.min(-np.linalg.eigvals(ss.drift).real))
        need = 8.0 / g / dt
        if need > MAX_SEGMENT:
            raise ValueError(f"the narrowest line (half-width {g:.3g} {ss.unit}) needs "
                             f"segments of {need:.3g} records at sample_interval {dt:.3g}; "
                             f"give segment_length (<= {MAX_SEGMENT}) or a longer interval")
        segment_length = 2 ** max(4, int(math.ceil(math.log2(max(need, 16)))))
    L = int(segment_length)
    if not 16 <= L <= MAX_SEGMENT or L != segment_length:
        raise ValueError(f"segment_length must be an integer in [16, {MAX_SEGMENT}] records, "
                         f"got {segment_length!r}")
    return dt, L


def simulate_spectrum(model=None, quadrature: str = "x_b", cross: str | None = None, *,
                      heterodyne: str | None = None, efficiency: float = 1.0,
                      n_traj: int = 64, seed: int = 1, sample_interval: float | None = None,
                      segment_length: int | None = None, n_segments: int = 8,
                      blocks: int | None = None, alpha: float = 0.01, reference=None,
                      branch: int = 0, threads: int | None = None,
                      range=None) -> SimulatedSpectrum:
    """Welch spectrum of simulated records, compared with the exact expectation.

    ``n_traj`` trajectories of the linear system start in the stationary state and are
    propagated by the exact OU step over ``sample_interval`` (time unit; default π/ω_max,
    Nyquist at the top of ``range``, a pair ``(lo, hi)`` of angular frequencies, or of the
    default range; the lines beyond it alias, and the exact expectation says by how much).
    Each trajectory's records are cut into ``blocks`` blocks (default 1, or enough for 16
    units in all) of ``n_segments`` Hann segments of ``segment_length`` records overlapping by
    half; each block's Welch average is one independent unit, and the SE comes from the
    spread over units. Trajectories run in fixed chunks of :data:`CHUNK`, chunk ``i`` seeded
    by child ``i`` of ``SeedSequence(seed)``: results do not depend on ``threads``.

    The verdict compares every bin (of a cross spectrum: the auto spectra of X, Y, X + Y and
    X + iY) with the estimator's exact expectation under ``reference`` (default: the simulated
    model itself; another model gives a negative control) by a max-|z| test at family-wise
    significance ``alpha`` (Bonferroni, Student t with ``n_units − 1`` dof).
    """

    for name, v, low in (("n_traj", n_traj, 1), ("n_segments", n_segments, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    if blocks is None:
        blocks = max(1, -(-16 // int(n_traj)))
    if isinstance(blocks, bool) or not isinstance(blocks, (int, np.integer)) or blocks < 1:
        raise ValueError(f"blocks must be an integer >= 1, got {blocks!r}")
    if n_traj * blocks < 2:
        raise ValueError("need at least 2 independent units (n_traj × blocks) for an SE")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    ss = spectral_system(model, branch)
    if heterodyne is not None:
        x = heterodyne_signal(ss, heterodyne, efficiency)
    else:
        x = quadrature_signal(ss, quadrature, efficiency)
    y = None if cross is None else quadrature_signal(ss, cross, efficiency)
    signals = (x,) if y is None else (x, y)
    two_sided = not all(s.real for s in signals)
    lo, hi = default_range(ss, two_sided) if range is None else check_range(range)
    hi = max(abs(lo), abs(hi))
    dt, L = simulation_defaults(ss, hi, sample_interval, segment_length)
    n_rec = blocks * (L // 2) * (n_segments + 1)
    if n_rec * n_traj > MAX_RECORDS:
        raise ValueError(f"{n_traj} trajectories × {n_rec} records is beyond {MAX_RECORDS:.0e} "
                         "trajectory-records; lower n_traj, n_segments or segment_length")
    ref = ss if reference is None else spectral_system(reference, branch)
    ref_signals = tuple(_same_signal(ref, s, efficiency) for s in signals)

    plan = record_plan(ss, signals, dt)
    sizes = [CHUNK] * (n_traj // CHUNK) + ([n_traj % CHUNK] if n_traj % CHUNK else [])
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    jobs = [(plan, n, n_rec, s, L, n_segments, blocks) for n, s in zip(sizes, seeds)]
    omega = 2 * np.pi * np.fft.fftfreq(L, dt)
    if not two_sided:  # an even spectrum: ω >= 0, the Nyquist bin (fftfreq's -π/Δt) included
        omega[L // 2] = np.pi / dt
    keep = np.argsort(omega)
    if not two_sided:
        keep = keep[omega[keep] >= 0]
    cross_ = y is not None
    acc = None  # (count, mean, M2) of the units' features, merged in chunk order (Chan)
    threads = 1 if threads is None else int(threads)

    def merge(units):  # (units of one chunk, n, n, L): memory of one chunk only
        nonlocal acc
        f = _features(units, keep, cross_)
        part = (f.shape[0], f.mean(axis=0), ((f - f.mean(axis=0)) ** 2).sum(axis=0))
        acc = part if acc is None else _chan(acc, part)

    stop = _signals.stop
    # an interrupt only sets `stop` while chunks run (never a KeyboardInterrupt inside a
    # future's wait); no further chunk starts, and the run is abandoned below
    with deferred_interrupts():
        if threads > 1:
            with ThreadPoolExecutor(threads) as pool:
                pending, ahead = {}, 0
                for i, _ in enumerate(jobs):
                    while ahead < len(jobs) and ahead < i + 2 * threads and not stop.is_set():
                        pending[ahead] = pool.submit(_run_chunk, *jobs[ahead])
                        ahead += 1
                    if i not in pending:
                        break
                    merge(pending.pop(i).result())
                    checkpoint(f"chunk:{i + 1}")
                for fut in pending.values():
                    fut.cancel()
        else:
            for i, j in enumerate(jobs):
                if stop.is_set():
                    break
                merge(_run_chunk(*j))
                checkpoint(f"chunk:{i + 1}")
        interrupted = stop.is_set()
    if interrupted:
        raise KeyboardInterrupt("while simulating the records (a spectrum needs them all)")
    n_units, fmean, fm2 = acc
    fse = np.sqrt(fm2 / (n_units - 1) / n_units)
    expected = _features(expected_welch(record_plan(ref, ref_signals, dt), L), keep, cross_)
    est, se = fmean[0], fse[0]
    est_im = se_im_ij = None
    if not cross_:
        z = wilson_hilferty_z(est, se, expected[0])
        exp_out = expected[0]
    else:
        est_im, se_im_ij = fmean[1], fse[1]
        exp_out = expected[0] + 1j * expected[1]
        # the 2×2 spectral matrix is tested through four positive auto spectra, of X, Y,
        # X + Y and X + iY (P_XX + P_YY + 2 Re P_XY and + 2 Im P_XY): each a Welch average, for
        # Wilson-Hilferty z-scores (the co- and quadrature spectra's own spread is skewed)
        z = wilson_hilferty_z(fmean[2:], fse[2:], expected[2:])
    verdict = consistency(z, alpha, dof=n_units - 1)
    cont = _evaluate(ref, ref_signals[0], None if y is None else ref_signals[1], omega[keep])
    return SimulatedSpectrum(tuple(s.name for s in signals), omega[keep], est, se, est_im,
                             se_im_ij, exp_out, cont, z, verdict, int(n_traj), n_units, dt,
                             L, int(n_segments), int(seed), ss.unit)


def _features(m, keep, cross: bool) -> np.ndarray:
    """The quantities of Welch matrices ``m`` (..., n, n, L) that are reported and tested, at
    the bins ``keep``: ``P_XX`` (shape (..., 1, n_keep)), or for a cross spectrum
    ``Re P_XY, Im P_XY, P_XX, P_YY, P_XX + P_YY + 2 Re P_XY, P_XX + P_YY + 2 Im P_XY``
    (the last four: auto spectra of X, Y, X + Y and X + iY)."""
    if not cross:
        return m[..., 0:1, 0, :].real[..., keep]
    pxx, pyy, pxy = m[..., 0, 0, :].real, m[..., 1, 1, :].real, m[..., 0, 1, :]
    return np.stack([pxy.real, pxy.imag, pxx, pyy, pxx + pyy + 2 * pxy.real,
                     pxx + pyy + 2 * pxy.imag], axis=-2)[..., keep]


def _chan(a, b):
    """Elementwise pooled ``(count, mean, M2)`` of two samples (Chan et al.)."""
    (na, ma, sa), (nb, mb, sb) = a, b
    n = na + nb
    delta = mb - ma
    return n, ma + delta * (nb / n), sa + sb + delta**2 * (na * nb / n)


def wilson_hilferty_z(mean, stderr, expected):
    """z-scores of positive averages of periodograms against their expectation.

    A Welch average is close to a scaled χ²_ν, ``ν = 2 (mean/SE)²``: skewed, and its sample SE
    grows with it, so the plain ``(mean − expected)/SE`` has a heavy lower tail (with 32 units
    of 8 segments, 3 % false alarms at a nominal 1 %). The cube root of a χ²_ν/ν is nearly
    normal, with mean ``1 − 2/(9ν)`` and variance ``2/(9ν)`` (Wilson & Hilferty 1931):
    ``z = ((mean/expected)^{1/3} − 1 + 2/(9ν)) / √(2/(9ν))``. For large ν it is
    ``(mean − expected)/(SE · expected/mean)``.
    """
    mean, stderr, expected = (np.asarray(v, float) for v in (mean, stderr, expected))
    with np.errstate(divide="ignore", invalid="ignore"):
        nu = 2.0 * (mean / stderr) ** 2
        v = 2.0 / (9.0 * nu)
        return (np.cbrt(mean / expected) - 1.0 + v) / np.sqrt(v)


def _same_signal(ref: SpectralSystem, s: Signal, efficiency: float) -> Signal:
    if s.kind == "heterodyne":
        return heterodyne_signal(ref, s.name, efficiency)
    return quadrature_signal(ref, s.name, efficiency)
