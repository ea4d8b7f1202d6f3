"""A quantum Langevin network described as data (Python or a TOML file).

A :class:`ModelDescription` lists modes, Hamiltonian terms, damping ports, cascade links and
coherent drives; every value is a number or an expression of the entries of its
``parameters`` table (:mod:`langevin_sim.models.expressions`), so ``--set`` and sweeps work on
any model. It knows nothing of numerics: :meth:`ModelDescription.build` turns it into a
:class:`~langevin_sim.systems.nonlinear.LangevinSystem` (drift, noise, linear part), from which
the mean field, the linearisation and every solver follow.

Conventions (ħ = 1, rates in the model's unit, ω_b for the paper's models):

=====================  ==================================  ===============================
kind                   Hamiltonian term                    value key
=====================  ==================================  ===============================
``detuning``           ``Δ a†a``                            ``value``
``beam_splitter``      ``g (a†b + a b†)``                   ``g``
``position_coupling``  ``g (a + a†)(b + b†)``               ``g``
``two_mode_squeezing`` ``g (a b + a† b†)``                  ``g``
``squeezing``          ``(g/2)(a² + a†²)``                  ``g``
``radiation_pressure`` ``g0 a†a (b + b†)`` (modes [a, b])   ``g0``
``kerr``               ``K a†a†a a``                        ``K``
drive                  ``-i(E* a - E a†)``                  ``amplitude = [Re E, Im E]``
=====================  ==================================  ===============================

Any term's value and any drive's amplitude may carry ``envelope = "<expression of t>"``
(:mod:`~langevin_sim.models.expressions`: ``box, step, ramp, smooth, gauss`` and the
parameters): its value at time t multiplies the coefficient, and the model becomes
time-dependent (``langevin-sim evolve``; the steady-state commands refuse it). On a
``radiation_pressure`` or ``kerr`` term the envelope multiplies the whole term, its truncated
Wigner ordering corrections included.

A ``[[temporal_modes]]`` entry measures a port's output in a temporal mode
``f(t) = N envelope(t) e^{-iωt}`` on ``window = [start, stop]`` (``N`` normalises ∫|f|² to 1):
``A = ∫ f*(t) p_out(t) dt``, with detection efficiency η (``√η A + √(1-η)`` vacuum). It is
one more mode of the state, an accumulator ``dA/dt = f*(t) (√η p_out + √(1-η) v_in)``
starting from zero; before ``stop`` it holds a partial integral.

A damping port of rate κ on mode ``a`` gives ``da/dt ⊃ -κ/2 a - √κ a_in`` and an output
``a_out = √κ a + a_in``. A cascade link feeds the output of one port into another port:
``b_in = √η a_out + √(1-η) l_in``, the lost fraction replaced by a bath ``l_in`` of its own
(by default at the receiving port's temperature and its mode's frequency).
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..conventions import thermal_occupation
from ..systems.nonlinear import (
    RAMPS,
    LangevinSystem,
    NonlinearEnvelope,
    OutputField,
    TemporalModeInfo,
)
from .expressions import (
    CONSTANTS,
    FUNCTIONS,
    TIME,
    TimeFunction,
    parse,
    resolve_parameters,
    shorten,
)

TERM_KINDS = {
    # kind: (number of modes, value key)
    "detuning": (1, "value"),
    "beam_splitter": (2, "g"),
    "position_coupling": (2, "g"),
    "two_mode_squeezing": (2, "g"),
    "squeezing": (1, "g"),
    "radiation_pressure": (2, "g0"),
    "kerr": (1, "K"),
}
"""Hamiltonian term kinds, with how many modes each takes and the key of its value."""

LIBRARY = Path(__file__).with_name("library")
_SQRT2 = math.sqrt(2.0)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_MODEL_BYTES = 1 << 20
"""Largest model file read, in bytes (the shipped ones are under 4 kB)."""
RESOLVABLE_SPAN = 1e15
"""Largest ratio between the largest and the smallest non-zero rate, frequency or coupling of
a model: beyond it (about 1/ε of a double) the small ones are lost to round-off in the drift
matrix, and neither its stability nor its steady state means anything."""


class ModelError(ValueError):
    """A model description is malformed or a value is out of range (one line, with where)."""


@dataclass(frozen=True)
class Mode:
    """A bosonic mode; ``frequency_hz`` (lab frequency) is needed only for temperatures."""

    name: str
    frequency_hz: float | str | None = None


@dataclass(frozen=True)
class Term:
    """A Hamiltonian term of :data:`TERM_KINDS` on one or two modes."""

    kind: str
    modes: tuple
    value: float | str
    envelope: str | None = None


@dataclass(frozen=True)
class Damping:
    """A damping port: rate, and its bath by temperature (K) or occupation (default vacuum)."""

    mode: str
    rate: float | str
    temperature: float | str | None = None
    occupation: float | str | None = None
    port: str | None = None

    @property
    def name(self) -> str:
        return self.port or self.mode


@dataclass(frozen=True)
class Cascade:
    """The output of port ``source`` feeds port ``target`` with efficiency η."""

    source: str
    target: str
    efficiency: float | str = 1.0
    loss_temperature: float | str | None = None
    loss_occupation: float | str | None = None
    loss_name: str | None = None


@dataclass(frozen=True)
class Drive:
    """A coherent drive ``E`` (complex, ``[Re E, Im E]``) on a mode, with its switch-on."""

    mode: str
    amplitude: tuple = (0.0, 0.0)
    ramp: str = "sudden"
    ramp_time: float | str = 0.0
    envelope: str | None = None


@dataclass(frozen=True)
class TemporalMode:
    """The output of damping port ``port`` measured in the temporal mode
    ``f(t) = N envelope(t) e^{-iωt}`` on ``window = (start, stop)`` (times in the inverse
    of the model's unit, ω = ``frequency`` in its unit), with detection efficiency
    ``efficiency``; ``N`` normalises ``∫|f|² dt`` over the window to 1."""

    name: str
    port: str
    envelope: str
    window: tuple
    frequency: float | str = 0.0
    efficiency: float | str = 1.0


@dataclass(frozen=True, eq=False)
class ModelDescription:
    """A Langevin network as data (see the module docstring).

    Attributes
    ----------
    name : str
    modes : tuple of Mode
    terms : tuple of Term
    damping : tuple of Damping
    cascades : tuple of Cascade
    drives : tuple of Drive
    temporal_modes : tuple of TemporalMode
        Output temporal modes, appended to the modes of the built system (after ``modes``).
    parameters : dict
        ``name -> number or expression``; any value of the description may name them.
    default_pair : tuple of two str, optional
        The pair the measures are computed for unless another is asked for.
    unit : str
        The rate unit (``ω_b`` for the paper's models); times are in its inverse.
    description : str
    source : str
        File (or library name) it was read from, for messages.
    lines : dict
        ``"terms[2].g" -> line number`` in ``source``, for messages.
    """

    name: str
    modes: tuple
    terms: tuple = ()
    damping: tuple = ()
    cascades: tuple = ()
    drives: tuple = ()
    parameters: dict = field(default_factory=dict)
    default_pair: tuple | None = None
    temporal_modes: tuple = ()
    unit: str = "ω_b"
    description: str = ""
    source: str = "<python>"
    lines: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        kinds = {"modes": Mode, "terms": Term, "damping": Damping, "cascades": Cascade,
                 "drives": Drive, "temporal_modes": TemporalMode}
        for name, kind in kinds.items():  # a wrong type: one line, not an AttributeError
            value = getattr(self, name)
            if not isinstance(value, (tuple, list)) or not all(isinstance(v, kind)
                                                                for v in value):
                raise TypeError(f"ModelDescription({name}=...) must be a tuple of "
                                f"{kind.__name__}, got {shorten(value)}")
        if not isinstance(self.parameters, dict):
            raise TypeError("ModelDescription(parameters=...) must be a dict of name -> number "
                            f"or expression, got {shorten(self.parameters)}")
        for name in ("name", "unit", "description", "source"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"ModelDescription({name}=...) must be a str, got "
                                f"{shorten(getattr(self, name))}")
        self._check_structure()

    # -- messages ---------------------------------------------------------------------------
    def _where(self, key: str) -> str:
        line = self.lines.get(key)
        if line is None:
            line = self.lines.get(key.rsplit(".", 1)[0])
        return f"{key}, line {line} of {self.source}" if line else f"{key} in {self.source}"

    def _error(self, key: str, message: str) -> ModelError:
        return ModelError(f"{message} ({self._where(key)})")

    # -- structure (checked once, when the description is made) ------------------------------
    def _check_structure(self) -> None:
        names = [m.name for m in self.modes]
        if not names:
            raise ModelError(f"a model needs at least one mode ({self.source})")
        for i, n in enumerate(names):
            if not isinstance(n, str) or not _NAME.match(n):
                raise self._error(f"modes.{n}", f"mode name {shorten(n)} must be an "
                                  "identifier")
            if n in names[:i]:
                raise self._error(f"modes.{n}", f"mode {shorten(n)} is defined twice")
        known = set(names)
        for k, v in self.parameters.items():
            if not isinstance(k, str) or not _NAME.match(k):
                raise self._error(f"parameters.{k}", f"parameter name {shorten(k)} must be an "
                                  "identifier")
            if k in CONSTANTS or k in FUNCTIONS:
                # an expression would read the constant or function, never the parameter
                what = "constant" if k in CONSTANTS else "function"
                raise self._error(f"parameters.{k}", f"parameter name {k!r} is reserved: it is "
                                  f"a {what} of the expressions (reserved: "
                                  f"{', '.join([*CONSTANTS, *FUNCTIONS])})")
            if k in known:
                raise self._error(f"parameters.{k}", f"parameter {k!r} has a mode's name")
            if k == TIME:
                raise self._error(f"parameters.{k}", f"parameter name {k!r} is reserved: it is "
                                  "the time of the envelopes")
            self._check_value(f"parameters.{k}", v)

        def need_mode(key, mode):
            if mode not in known:
                raise self._error(key, f"unknown mode {shorten(mode)}; modes: {', '.join(names)}")

        for m in self.modes:
            if m.frequency_hz is not None:
                self._check_value(f"modes.{m.name}.frequency_hz", m.frequency_hz)
        for i, t in enumerate(self.terms):
            key = f"terms[{i}]"
            if t.kind not in TERM_KINDS:
                raise self._error(f"{key}.kind", f"unknown term kind {shorten(t.kind)}; allowed: "
                                  f"{', '.join(TERM_KINDS)}")
            n, vkey = TERM_KINDS[t.kind]
            if len(t.modes) != n:
                raise self._error(key, f"a {t.kind} term takes {n} mode(s), got "
                                  f"{list(t.modes)}")
            for m in t.modes:
                need_mode(key, m)
            if n == 2 and t.modes[0] == t.modes[1]:
                raise self._error(key, f"a {t.kind} term needs two different modes")
            self._check_value(f"{key}.{vkey}", t.value)
            if t.envelope is not None:
                self._check_value(f"{key}.envelope", t.envelope, time=True)
        ports = {}
        for i, dmp in enumerate(self.damping):
            key = f"damping[{i}]"
            need_mode(f"{key}.mode", dmp.mode)
            if dmp.name in ports:
                raise self._error(key, f"port {shorten(dmp.name)} is defined twice; give the "
                                  "second damping of a mode its own 'port' name")
            ports[dmp.name] = i
            if dmp.temperature is not None and dmp.occupation is not None:
                raise self._error(key, "give a port's bath as temperature or occupation, "
                                  "not both")
            for vkey in ("rate", "temperature", "occupation"):
                if getattr(dmp, vkey) is not None:
                    self._check_value(f"{key}.{vkey}", getattr(dmp, vkey))
            if dmp.temperature is not None and self._mode(dmp.mode).frequency_hz is None:
                raise self._error(f"{key}.temperature", f"a temperature needs the lab "
                                  f"frequency of mode {dmp.mode!r} (modes.{dmp.mode}."
                                  "frequency_hz); or give occupation = n instead")
        sources, targets = set(), set()
        for i, c in enumerate(self.cascades):
            key = f"cascade[{i}]"
            for role, port in (("from", c.source), ("to", c.target)):
                if port not in ports:
                    raise self._error(f"{key}.{role}", f"unknown port {shorten(port)}; ports "
                                      f"(damping entries): {', '.join(ports) or 'none'}")
            if c.source == c.target:
                raise self._error(key, "a port cannot feed itself")
            if c.source in sources:
                raise self._error(f"{key}.from", f"port {shorten(c.source)} already feeds another "
                                  "port (an output field can be used once)")
            if c.target in targets:
                raise self._error(f"{key}.to", f"port {shorten(c.target)} already receives a "
                                  "cascade")
            sources.add(c.source)
            targets.add(c.target)
            for vkey in ("efficiency", "loss_temperature", "loss_occupation"):
                if getattr(c, vkey) is not None:
                    self._check_value(f"{key}.{vkey}", getattr(c, vkey))
        self._cascade_order()  # raises on a cycle
        for i, dr in enumerate(self.drives):
            key = f"drives[{i}]"
            need_mode(f"{key}.mode", dr.mode)
            if dr.ramp not in RAMPS:
                raise self._error(f"{key}.ramp", f"unknown ramp {shorten(dr.ramp)}; allowed: "
                                  f"{', '.join(RAMPS)}")
            if len(dr.amplitude) != 2:
                raise self._error(f"{key}.amplitude", "amplitude is [Re E, Im E]")
            for v in dr.amplitude:
                self._check_value(f"{key}.amplitude", v)
            self._check_value(f"{key}.ramp_time", dr.ramp_time)
            if dr.envelope is not None:
                self._check_value(f"{key}.envelope", dr.envelope, time=True)
        for i, tm in enumerate(self.temporal_modes):
            key = f"temporal_modes[{i}]"
            if not isinstance(tm.name, str) or not _NAME.match(tm.name):
                raise self._error(f"{key}.name", f"temporal mode name {shorten(tm.name)} must be "
                                  "an identifier")
            if tm.name in known or tm.name in [m.name for m in self.temporal_modes[:i]]:
                raise self._error(f"{key}.name", f"temporal mode {tm.name!r} has the name of "
                                  "another mode")
            if tm.name in self.parameters:
                raise self._error(f"{key}.name", f"temporal mode {tm.name!r} has a parameter's "
                                  "name")
            if tm.port not in ports:
                raise self._error(f"{key}.port", f"unknown port {shorten(tm.port)}; ports "
                                  f"(damping entries): {', '.join(ports) or 'none'}")
            self._check_value(f"{key}.envelope", tm.envelope, time=True)
            if not isinstance(tm.window, (tuple, list)) or len(tm.window) != 2:
                raise self._error(f"{key}.window", "window is [start, stop] (times), got "
                                  f"{shorten(tm.window)}")
            for v in tm.window:
                self._check_value(f"{key}.window", v)
            self._check_value(f"{key}.frequency", tm.frequency)
            self._check_value(f"{key}.efficiency", tm.efficiency)
        if self.default_pair is not None:
            if len(self.default_pair) != 2 or self.default_pair[0] == self.default_pair[1]:
                raise self._error("default_pair", "default_pair names two different modes")
            temporal = {tm.name for tm in self.temporal_modes}
            for m in self.default_pair:
                if m not in temporal:
                    need_mode("default_pair", m)

    def _check_value(self, key, value, time: bool = False) -> None:
        if time and not isinstance(value, str):
            raise self._error(key, "an envelope is a string, an expression of t and the "
                              f"parameters, got {shorten(value)}")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self._error(key, "expected a number or a parameter expression, got "
                              f"{shorten(value)}")
        if isinstance(value, int):
            try:
                value = float(value)
            except OverflowError:  # a TOML integer of 400 digits
                raise self._error(key, f"{shorten(value)} is beyond the range of a double "
                                  "(about 1.8e308)") from None
        if isinstance(value, str):
            try:
                expr = parse(value)
            except ValueError as exc:
                raise self._error(key, str(exc)) from None
            unknown = sorted(expr.names - set(self.parameters) - ({TIME} if time else set()))
            if TIME in unknown:
                raise self._error(key, f"{shorten(value)} uses the time t, which only an "
                                  "envelope may use")
            if unknown:
                raise self._error(key, f"{shorten(value)} uses unknown parameter(s) "
                                  f"{', '.join(unknown)}; parameters: "
                                  f"{', '.join(self.parameters) or 'none'}")
        elif not math.isfinite(value):
            raise self._error(key, f"value must be finite, got {shorten(value)}")

    def _mode(self, name: str) -> Mode:
        return next(m for m in self.modes if m.name == name)

    def _cascade_order(self) -> list:
        """Ports in an order where every cascade source comes before its target."""
        feeds = {c.target: c.source for c in self.cascades}
        order, state = [], {}

        def visit(port, chain):
            if state.get(port) == "done":
                return
            if port in chain:
                raise ModelError(f"cascade links form a loop: {' -> '.join([*chain, port])} "
                                 f"({self.source})")
            if port in feeds:
                visit(feeds[port], [*chain, port])
            state[port] = "done"
            order.append(port)

        for dmp in self.damping:
            visit(dmp.name, [])
        return order

    # -- parameters -------------------------------------------------------------------------
    @property
    def mode_labels(self) -> tuple:
        """The modes, then the temporal modes (the order of the built system's state)."""
        return tuple(m.name for m in self.modes) + tuple(t.name for t in self.temporal_modes)

    def parameter_names(self) -> tuple:
        return tuple(self.parameters)

    def replace(self, **changes) -> ModelDescription:
        """A copy with some parameters set to numbers; unknown names raise ``ValueError``."""
        unknown = set(changes) - set(self.parameters)
        if unknown:
            raise ModelError(f"unknown parameter(s) {', '.join(sorted(unknown))} of model "
                             f"{self.name!r}; allowed: {', '.join(self.parameters)}")
        for k, v in changes.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise ModelError(f"parameter {k} must be a number, got {shorten(v)}")
            try:
                finite = math.isfinite(v)
            except OverflowError:  # a Python int beyond the doubles
                finite = False
            if not finite:
                raise ModelError(f"parameter {k} must be finite (a double, |x| < 1.8e308), got "
                                 f"{shorten(v)}")
        return replace(self, parameters={**self.parameters,
                                         **{k: float(v) for k, v in changes.items()}})

    def parameter_values(self) -> dict:
        """Every parameter as a number (expressions evaluated)."""
        try:
            return resolve_parameters(self.parameters)
        except ValueError as exc:
            raise ModelError(f"{exc} ({self.source})") from None

    def as_dict(self) -> dict:
        """The model's name and its parameters as numbers (for JSON and ``.npz`` metadata)."""
        return {"model": self.name, **self.parameter_values()}

    def pair(self, pair=None) -> tuple:
        """The mode pair to measure: ``pair`` if given, else the model's default."""
        if pair is None:
            if self.default_pair is None:
                raise ModelError(f"model {self.name!r} has no default_pair: name the two modes "
                                 f"to measure (modes: {', '.join(m.name for m in self.modes)})")
            return tuple(self.default_pair)
        return tuple(pair)

    # -- numbers ----------------------------------------------------------------------------
    def build(self) -> LangevinSystem:
        """Evaluate every value and assemble the :class:`LangevinSystem` (``ModelError``
        naming the key and its line for a value out of range)."""
        values = self.parameter_values()
        b = _Builder(self, values)
        return b.system()

    def linear_system(self, branch: int = 0):
        """Shortcut for ``build().linear_system(branch)``, carrying the model's default pair
        (so that ``measures(sigma, model.linear_system())`` needs no modes)."""
        system = self.build().linear_system(branch)
        if self.default_pair is None:
            return system
        return replace(system, default_pair=tuple(self.default_pair))

    # -- files ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>", lines: dict | None = None
                  ) -> ModelDescription:
        """Build from the structure of a TOML model file (see :func:`load_model`)."""
        return _from_dict(data, source, lines or {})

    @classmethod
    def from_toml(cls, path) -> ModelDescription:
        """Read a TOML model file: a regular file of at most :data:`MAX_MODEL_BYTES` (a
        device such as ``/dev/zero`` or a FIFO is refused before it is opened, so nothing
        blocks or reads without end)."""
        path = Path(path)
        try:
            info = os.stat(path)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(f"Is a directory: {shorten(str(path))}")
            if not stat.S_ISREG(info.st_mode):
                raise ModelError(f"cannot read model file {shorten(str(path))}: not a regular "
                                 "file (a device, FIFO or socket)")
            if info.st_size > MAX_MODEL_BYTES:
                raise ModelError(f"model file {shorten(str(path))} has {info.st_size} bytes; "
                                 f"a model file may have at most {MAX_MODEL_BYTES}")
            with open(path, "rb") as f:
                raw = f.read(MAX_MODEL_BYTES + 1)  # the file may have grown since the stat
            if len(raw) > MAX_MODEL_BYTES:
                raise ModelError(f"model file {shorten(str(path))} has more than "
                                 f"{MAX_MODEL_BYTES} bytes")
            text = raw.decode("utf-8")
        except FileNotFoundError:
            raise ModelError(f"model file {shorten(str(path))} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"cannot read model file {shorten(str(path))}: "
                             f"{shorten(str(exc))}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ModelError(f"{path}: not valid TOML: {exc}") from None
        data.setdefault("name", path.stem)
        return _from_dict(data, str(path), _line_map(text))


# ------------------------------------------------------------------------------------------
# evaluation
class _Builder:
    def __init__(self, model: ModelDescription, values: dict):
        self.model, self.values = model, values
        self.labels = tuple(m.name for m in model.modes)
        self.d = 2 * len(self.labels)

    def num(self, key, value, *, what=None, low=None, high=None, strict=False) -> float:
        if isinstance(value, str):
            v = parse(value).evaluate(self.values)
        else:
            v = float(value)
        name = value if isinstance(value, str) and value in self.values else None
        if name:  # follow aliases (T1 = "T") to the parameter the user set
            chain, raw = [name], self.model.parameters.get(name)
            while isinstance(raw, str) and raw.strip() in self.values and raw.strip() not in chain:
                chain.append(raw.strip())
                raw = self.model.parameters.get(raw.strip())
            name = " = ".join(chain)
        shown = f"{name} = {v!r}" if name else f"{v!r}"
        if not math.isfinite(v):
            raise self.model._error(key, f"{what or key} must be finite, got {shown}")
        if low is not None and (v <= low if strict else v < low):
            rel = ">" if strict else ">="
            lead = f"{name} is {what}" if name else f"{key} is {what}"
            rng = f"must be {rel} {low:g}" if high is None else f"must be in [{low:g}, {high:g}]"
            raise self.model._error(key, f"{lead} and {rng}, got {v!r}")
        if high is not None and v > high:
            lead = f"{name} is {what}" if name else f"{key} is {what}"
            raise self.model._error(key, f"{lead} and must be in [{low:g}, {high:g}], got {v!r}")
        return v

    def idx(self, mode) -> int:
        return self.labels.index(mode)

    def frequency(self, mode: str) -> float:
        m = self.model._mode(mode)
        return self.num(f"modes.{mode}.frequency_hz", m.frequency_hz, what="a frequency (Hz)",
                        low=0.0, strict=True)

    def occupation(self, key, mode, temperature, occupation) -> float:
        if occupation is not None:
            return self.num(f"{key}.occupation", occupation, what="an occupation", low=0.0)
        if temperature is None:
            return 0.0
        t = self.num(f"{key}.temperature", temperature, what="a temperature (K)", low=0.0)
        return float(thermal_occupation(self.frequency(mode), t))

    def check_span(self, scales) -> None:
        """``ModelError`` if the non-zero rates, frequencies and couplings span more than
        :data:`RESOLVABLE_SPAN` (the small ones would vanish in round-off beside the large:
        ``κ = 1e308`` beside ``γ = 0.15``), or if one is so large (> 1e150) that a product of
        two of them overflows."""
        nonzero = [(k, raw, abs(v)) for k, raw, v in scales if v != 0]
        if not nonzero:
            return
        big = max(nonzero, key=lambda e: e[2])
        small = min(nonzero, key=lambda e: e[2])

        def label(entry):
            key, raw, v = entry
            name = raw.strip() if isinstance(raw, str) else key
            return f"{shorten(name)[1:-1] if isinstance(raw, str) else name} = {v:g}"

        span = math.log10(big[2]) - math.log10(small[2])  # the ratio itself may overflow
        if span > math.log10(RESOLVABLE_SPAN):
            # blame the one farther from the model's unit (its natural scale)
            odd, other = ((big, small) if abs(math.log10(big[2])) >= abs(math.log10(small[2]))
                          else (small, big))
            raise self.model._error(odd[0], f"{label(odd)} loses all precision beside "
                                    f"{label(other)}: they differ by a factor of about "
                                    f"1e{span:.0f}, beyond the {RESOLVABLE_SPAN:.0e} that "
                                    f"doubles (16 digits) resolve, so {label(small)} would "
                                    "vanish in round-off in the drift matrix")
        if big[2] > 1e150:
            raise self.model._error(big[0], f"{label(big)} is beyond 1e150: products of two "
                                    "rates would overflow double precision")

    def system(self) -> LangevinSystem:
        model, d = self.model, self.d
        lin = np.zeros((d, d))
        weyl_lin = np.zeros((d, d))
        weyl_c = np.zeros(d)
        quad, cubic, rp, kerr = [], [], [], []
        scales = []  # (key, value as written, number): the rates, frequencies and couplings
        enveloped = []  # (TimeFunction, matrix) of the linear terms with an envelope
        nonlinear_env = []  # NonlinearEnvelope of the nonlinear terms with an envelope
        for i, t in enumerate(model.terms):
            key = f"terms[{i}].{TERM_KINDS[t.kind][1]}"
            g = self.num(key, t.value)
            scales.append((key, t.value, g))
            # a term with an envelope keeps its own matrices, multiplied by envelope(t)
            env = None if t.envelope is None else \
                self.time_function(f"terms[{i}].envelope", t.envelope)
            m = lin if env is None else np.zeros((d, d))
            wc, wl = (weyl_c, weyl_lin) if env is None else (np.zeros(d), np.zeros((d, d)))
            n_quad, n_cubic = len(quad), len(cubic)
            a = self.idx(t.modes[0])
            xa, pa = 2 * a, 2 * a + 1
            if len(t.modes) == 2:
                b = self.idx(t.modes[1])
                xb, pb = 2 * b, 2 * b + 1
            if t.kind == "detuning":  # H = Δ (x² + p²)/2
                m[xa, pa] += g
                m[pa, xa] -= g
            elif t.kind == "beam_splitter":  # H = g (x_a x_b + p_a p_b)
                m[xa, pb] += g
                m[pa, xb] -= g
                m[xb, pa] += g
                m[pb, xa] -= g
            elif t.kind == "position_coupling":  # H = 2 g x_a x_b
                m[pa, xb] += -2 * g
                m[pb, xa] += -2 * g
            elif t.kind == "two_mode_squeezing":  # H = g (x_a x_b - p_a p_b)
                m[xa, pb] -= g
                m[pa, xb] -= g
                m[xb, pa] -= g
                m[pb, xa] -= g
            elif t.kind == "squeezing":  # H = (g/2)(x² - p²)
                m[xa, pa] -= g
                m[pa, xa] -= g
            elif t.kind == "radiation_pressure":
                # Weyl symbol √2 g0 x_b ((x_a² + p_a²)/2 - 1/2)
                quad += [(xa, xb, pa, _SQRT2 * g), (pa, xb, xa, -_SQRT2 * g),
                         (pb, xa, xa, -g / _SQRT2), (pb, pa, pa, -g / _SQRT2)]
                wc[pb] += g / _SQRT2
                rp.append((t.modes[0], t.modes[1], g))
            elif t.kind == "kerr":
                # Weyl symbol K (n² - 2n + 1/2), n = (x² + p²)/2; mean field K n²
                cubic += [(xa, xa, xa, pa, g), (xa, pa, pa, pa, g),
                          (pa, xa, xa, xa, -g), (pa, xa, pa, pa, -g)]
                wl[xa, pa] -= 2 * g
                wl[pa, xa] += 2 * g
                kerr.append((t.modes[0], g))
            if env is not None and t.kind in ("radiation_pressure", "kerr"):
                nonlinear_env.append(NonlinearEnvelope(
                    env, np.arange(n_quad, len(quad)), np.arange(n_cubic, len(cubic)), wc, wl))
            elif env is not None:
                enveloped.append((env, m))

        # damping ports and cascades: each port's input as (modes, noise fields), squared
        # coefficients (all links are real and positive, so products of square roots)
        ports = {dmp.name: (i, dmp) for i, dmp in enumerate(model.damping)}
        rates = {}
        for name, (i, dmp) in ports.items():
            rates[name] = self.num(f"damping[{i}].rate", dmp.rate, what="a decay rate", low=0.0)
            scales.append((f"damping[{i}].rate", dmp.rate, rates[name]))
        self.check_span(scales)  # before any product of two of them can overflow
        feeds = {c.target: (j, c) for j, c in enumerate(model.cascades)}
        noise_labels, occupations, field_of = [], [], {}
        for name, (i, dmp) in ports.items():
            if name in feeds:
                j, c = feeds[name]
                label = (c.loss_name or f"{name}_loss") + "_in"
                if c.loss_temperature is None and c.loss_occupation is None:
                    n = self.occupation(f"damping[{i}]", dmp.mode, dmp.temperature,
                                        dmp.occupation)
                else:
                    n = self.occupation(f"cascade[{j}]", dmp.mode, c.loss_temperature,
                                        c.loss_occupation)
            else:
                label = f"{name}_in"
                n = self.occupation(f"damping[{i}]", dmp.mode, dmp.temperature, dmp.occupation)
            field_of[name] = len(noise_labels)
            noise_labels.append(label)
            occupations.append(n)
        k = len(noise_labels)
        inputs = {}  # port -> (mode coefficients², noise coefficients²)
        for name in model._cascade_order():
            cm, cn = np.zeros(len(self.labels)), np.zeros(k)
            if name in feeds:
                j, c = feeds[name]
                eta = self.num(f"cascade[{j}].efficiency", c.efficiency, what="an efficiency",
                               low=0.0, high=1.0)
                up_m, up_n = inputs[c.source]
                src_mode = self.idx(ports[c.source][1].mode)
                cm = eta * up_m
                cm[src_mode] += eta * rates[c.source]
                cn = eta * up_n
                cn[field_of[name]] = 1 - eta
            else:
                cn[field_of[name]] = 1.0
            inputs[name] = (cm, cn)
        outputs = {}
        for name, (_, dmp) in ports.items():  # p_out = √κ p + p_in
            cm, cn = inputs[name]
            coeff = np.sqrt(cm)
            coeff[self.idx(dmp.mode)] += math.sqrt(rates[name])
            outputs[name] = OutputField(name, dmp.mode, coeff, np.sqrt(cn))
        b_in = np.zeros((d, 2 * k))
        for name, (_, dmp) in ports.items():
            kappa = rates[name]
            a = self.idx(dmp.mode)
            s = slice(2 * a, 2 * a + 2)
            lin[2 * a, 2 * a] += -kappa / 2
            lin[2 * a + 1, 2 * a + 1] += -kappa / 2
            cm, cn = inputs[name]
            for m in np.nonzero(cm)[0]:
                lin[s, 2 * m:2 * m + 2] += -math.sqrt(cm[m] * kappa) * np.eye(2)
            for f in range(k):
                if cn[f] != 0 or f == field_of[name]:
                    b_in[s, 2 * f:2 * f + 2] += -math.sqrt(cn[f] * kappa) * np.eye(2)

        drives, ramps, drive_envelopes = [], [], []
        for i, dr in enumerate(model.drives):
            key = f"drives[{i}]"
            re_e = self.num(f"{key}.amplitude", dr.amplitude[0])
            im_e = self.num(f"{key}.amplitude", dr.amplitude[1])
            tr = self.num(f"{key}.ramp_time", dr.ramp_time, what="a ramp time", low=0.0)
            e = np.zeros(d)
            a = self.idx(dr.mode)
            e[2 * a], e[2 * a + 1] = _SQRT2 * re_e, _SQRT2 * im_e
            drives.append(e)
            ramps.append((dr.ramp, tr))
            drive_envelopes.append(None if dr.envelope is None else
                                   self.time_function(f"{key}.envelope", dr.envelope))
        qi = np.array([q[:3] for q in quad], np.int64).reshape(-1, 3)
        ci = np.array([q[:4] for q in cubic], np.int64).reshape(-1, 4)
        system = LangevinSystem(
            mode_labels=self.labels, noise_labels=tuple(noise_labels), linear=lin,
            noise_input=b_in, occupations=np.repeat(occupations, 2),
            drives=np.array(drives).reshape(-1, d), ramps=tuple(ramps), quadratic_index=qi,
            quadratic_coef=np.array([q[3] for q in quad], float), cubic_index=ci,
            cubic_coef=np.array([q[4] for q in cubic], float), weyl_constant=weyl_c,
            weyl_linear=weyl_lin, radiation_pressure=tuple(rp), kerr=tuple(kerr),
            parameters=self.values, name=model.name, outputs=outputs,
            linear_envelopes=tuple(enveloped), drive_envelopes=tuple(drive_envelopes),
            nonlinear_envelopes=tuple(nonlinear_env))
        return self.temporal_modes(system) if model.temporal_modes else system

    def time_function(self, key, text) -> TimeFunction:
        """The envelope ``text`` at ``key``, tried once at t = 0 so that a wrong call
        (``box(t, 0)``, ``gauss(t, 1, 0)``) fails here, in one line."""
        f = TimeFunction(parse(text), self.values, label=key)
        try:
            f.envelope(0.0)
        except ValueError as exc:
            raise self.model._error(key, str(exc)) from None
        return f

    def temporal_modes(self, system: LangevinSystem) -> LangevinSystem:
        """``system`` with each temporal mode appended as an accumulator mode
        ``dA/dt = f*(t) (√η p_out + √(1-η) v_in)``: with ``f* = N env(t) e^{iωt}``, in
        quadratures ``d(x_A, p_A)/dt = N env(t) [[cos ωt, -sin ωt], [sin ωt, cos ωt]] (x, p)``
        of the detected field. Its rows of the drift and of the noise input are time-dependent
        (two :class:`TimeFunction`, the cos and sin parts); its loss (η < 1) is a vacuum input
        of its own."""
        from scipy.integrate import quad

        model = self.model
        d0, k0 = system.dim, system.noise_input.shape[1]
        n_tm = len(model.temporal_modes)
        losses = []
        specs = []
        for i, tm in enumerate(model.temporal_modes):
            key = f"temporal_modes[{i}]"
            start = self.num(f"{key}.window", tm.window[0], what="a window start", low=0.0)
            stop = self.num(f"{key}.window", tm.window[1], what="a window end")
            if not stop > start:
                raise model._error(f"{key}.window", f"window = [{start:g}, {stop:g}] must have "
                                   "stop > start")
            omega = self.num(f"{key}.frequency", tm.frequency, what="a frequency")
            eta = self.num(f"{key}.efficiency", tm.efficiency, what="an efficiency", low=0.0,
                           high=1.0)
            env = self.time_function(f"{key}.envelope", tm.envelope)
            env.check(stop)
            pts = sorted(b for b in env.breakpoints() if start < b < stop)
            norm2, _ = quad(lambda s, env=env: float(env.envelope(s)) ** 2, start, stop,
                            points=pts or None, limit=400, epsabs=0.0, epsrel=1e-12)
            if not (math.isfinite(norm2) and norm2 > 0):
                raise model._error(f"{key}.envelope", f"the envelope of temporal mode "
                                   f"{tm.name!r} has ∫ envelope² dt = {norm2:g} over its window "
                                   f"[{start:g}, {stop:g}]: it must be positive and finite")
            if eta < 1:
                losses.append(i)
            specs.append((tm, start, stop, omega, eta, env, 1.0 / math.sqrt(norm2)))
        d, k = d0 + 2 * n_tm, k0 + 2 * len(losses)
        lin = np.zeros((d, d))
        lin[:d0, :d0] = system.linear
        b_in = np.zeros((d, k))
        b_in[:d0, :k0] = system.noise_input

        def pad(mat, shape):
            out = np.zeros(shape)
            out[:mat.shape[0], :mat.shape[1]] = mat
            return out

        lin_env = [(f, pad(mat, (d, d))) for f, mat in system.linear_envelopes]
        noise_env = []
        labels, noise_labels = list(system.mode_labels), list(system.noise_labels)
        occupations = list(system.occupations)
        info = {}
        for i, (tm, start, stop, omega, eta, env, norm) in enumerate(specs):
            a = d0 + 2 * i
            out = system.outputs[tm.port]
            c, dn = out.quadratures()  # (x_out, p_out) = C X + Dn ξ
            parts = {}
            for kind in ("cos", "sin"):
                f = TimeFunction(env.expression, self.values, scale=norm, window=(start, stop),
                                 carrier=(omega, kind), label=env.label)
                lm, nm = np.zeros((d, d)), np.zeros((d, k))
                # cos: [[1, 0], [0, 1]] (x, p); sin: [[0, -1], [1, 0]] (x, p)
                rows = (c, dn) if kind == "cos" else (np.array([-c[1], c[0]]),
                                                      np.array([-dn[1], dn[0]]))
                lm[a:a + 2, :d0] = math.sqrt(eta) * rows[0]
                nm[a:a + 2, :k0] = math.sqrt(eta) * rows[1]
                if eta < 1:
                    v = k0 + 2 * losses.index(i)
                    rot = np.eye(2) if kind == "cos" else np.array([[0.0, -1.0], [1.0, 0.0]])
                    nm[a:a + 2, v:v + 2] = math.sqrt(1 - eta) * rot
                lin_env.append((f, lm))
                noise_env.append((f, nm))
                parts[kind] = f
            if eta < 1:
                noise_labels.append(f"{tm.name}_loss_in")
                occupations += [0.0, 0.0]
            labels.append(tm.name)
            info[tm.name] = TemporalModeInfo(tm.name, tm.port, start, stop, omega, eta, norm,
                                             env)
        return replace(system, mode_labels=tuple(labels), noise_labels=tuple(noise_labels),
                       linear=lin, noise_input=b_in, occupations=np.array(occupations, float),
                       drives=np.hstack([system.drives, np.zeros((system.drives.shape[0],
                                                                  d - d0))]),
                       weyl_constant=pad(system.weyl_constant[None], (1, d))[0],
                       weyl_linear=pad(system.weyl_linear, (d, d)),
                       linear_envelopes=tuple(lin_env),
                       noise_envelopes=tuple(noise_env),
                       nonlinear_envelopes=tuple(e.padded(d)
                                                 for e in system.nonlinear_envelopes),
                       temporal_modes=info)


# ------------------------------------------------------------------------------------------
# TOML
_TOP_KEYS = {"name", "description", "unit", "default_pair", "parameters", "modes", "terms",
             "damping", "cascade", "drives", "temporal_modes"}


def _line_map(text: str) -> dict:
    """``"terms[2].g" -> line`` for the keys of a TOML file written one key per line."""
    lines, table, counts = {}, "", {}
    header = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
    keyline = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")
    for n, raw in enumerate(text.splitlines(), start=1):
        h = header.match(raw)
        if h:
            name = h.group(2).replace('"', "").replace("'", "")
            if h.group(1) == "[[":
                i = counts.get(name, 0)
                counts[name] = i + 1
                table = f"{name}[{i}]"
            else:
                table = name
            lines.setdefault(table, n)
            continue
        k = keyline.match(raw)
        if k:
            key = f"{table}.{k.group(1)}" if table else k.group(1)
            lines.setdefault(key, n)
    return lines


def _from_dict(data: dict, source: str, lines: dict) -> ModelDescription:
    def where(key):
        line = lines.get(key) or lines.get(key.rsplit(".", 1)[0]) if "." in key else \
            lines.get(key)
        return f"{key}, line {line} of {source}" if line else f"{key} in {source}"

    def fail(key, message):
        return ModelError(f"{message} ({where(key)})")

    def check_keys(key, table, allowed, required=()):
        if not isinstance(table, dict):
            raise fail(key, f"{key} must be a table")
        for k in table:
            if k not in allowed:
                raise fail(f"{key}.{k}", f"unknown key {shorten(k)}; allowed: {', '.join(allowed)}")
        for k in required:
            if k not in table:
                raise fail(key, f"missing key {k!r}")

    def entries(name):
        value = data.get(name, [])
        if not isinstance(value, list):
            raise fail(name, f"{name} must be an array of tables ([[{name}]])")
        return value

    def text(key, value):
        if not isinstance(value, str):
            raise fail(key, f"{key} must be a string, got {shorten(value)}")
        return value

    def optional_text(key, value):
        return None if value is None else text(key, value)

    check_keys("", data, sorted(_TOP_KEYS))
    params = data.get("parameters", {})
    if not isinstance(params, dict):
        raise fail("parameters", "parameters must be a table")
    modes_raw = data.get("modes", {})
    if not isinstance(modes_raw, dict) or not modes_raw:
        raise ModelError(f"a model needs a [modes.NAME] table per mode ({source})")
    modes = []
    for name, spec in modes_raw.items():
        check_keys(f"modes.{name}", spec, ["frequency_hz"])
        modes.append(Mode(name, spec.get("frequency_hz")))
    terms = []
    for i, spec in enumerate(entries("terms")):
        key = f"terms[{i}]"
        check_keys(key, spec, ["kind", "mode", "modes", "envelope",
                               *sorted({v for _, v in TERM_KINDS.values()})], ["kind"])
        kind = text(f"{key}.kind", spec["kind"])
        if kind not in TERM_KINDS:
            raise fail(f"{key}.kind", f"unknown term kind {shorten(kind)}; allowed: "
                       f"{', '.join(TERM_KINDS)}")
        n, vkey = TERM_KINDS[kind]
        for k in spec:
            if k not in ("kind", "mode", "modes", "envelope", vkey):
                raise fail(f"{key}.{k}", f"a {kind} term has no key {shorten(k)}; its value key is "
                           f"{vkey!r}")
        if vkey not in spec:
            raise fail(key, f"missing key {vkey!r} (the {kind} term's value)")
        if n == 1:
            if "mode" not in spec:
                raise fail(key, f"a {kind} term needs mode = \"NAME\"")
            mode_list = (text(f"{key}.mode", spec["mode"]),)
        else:
            if "modes" not in spec or not isinstance(spec["modes"], list):
                raise fail(key, f"a {kind} term needs modes = [\"A\", \"B\"]")
            mode_list = tuple(text(f"{key}.modes", m) for m in spec["modes"])
        terms.append(Term(kind, mode_list, spec[vkey], spec.get("envelope")))
    damping = []
    for i, spec in enumerate(entries("damping")):
        key = f"damping[{i}]"
        check_keys(key, spec, ["mode", "rate", "temperature", "occupation", "port"],
                   ["mode", "rate"])
        damping.append(Damping(text(f"{key}.mode", spec["mode"]), spec["rate"],
                               spec.get("temperature"), spec.get("occupation"),
                               optional_text(f"{key}.port", spec.get("port"))))
    cascades = []
    for i, spec in enumerate(entries("cascade")):
        key = f"cascade[{i}]"
        check_keys(key, spec, ["from", "to", "efficiency", "loss_temperature",
                               "loss_occupation", "loss_name"], ["from", "to"])
        cascades.append(Cascade(text(f"{key}.from", spec["from"]), text(f"{key}.to", spec["to"]),
                                spec.get("efficiency", 1.0), spec.get("loss_temperature"),
                                spec.get("loss_occupation"),
                                optional_text(f"{key}.loss_name", spec.get("loss_name"))))
    drives = []
    for i, spec in enumerate(entries("drives")):
        key = f"drives[{i}]"
        check_keys(key, spec, ["mode", "amplitude", "ramp", "ramp_time", "envelope"],
                   ["mode", "amplitude"])
        amp = spec["amplitude"]
        amp = tuple(amp) if isinstance(amp, list) else (amp, 0.0)
        ramp_time = spec.get("ramp_time", 0.0)
        # a number > 0 implies a linear ramp; any other type is named by the structure check
        timed = isinstance(ramp_time, (int, float)) and not isinstance(ramp_time, bool) \
            and ramp_time > 0
        ramp = spec.get("ramp", "linear" if timed else "sudden")
        drives.append(Drive(text(f"{key}.mode", spec["mode"]), amp, text(f"{key}.ramp", ramp),
                            ramp_time, spec.get("envelope")))
    temporal = []
    for i, spec in enumerate(entries("temporal_modes")):
        key = f"temporal_modes[{i}]"
        check_keys(key, spec, ["name", "port", "envelope", "window", "frequency", "efficiency"],
                   ["name", "port", "envelope", "window"])
        window = spec["window"]
        if not isinstance(window, list) or len(window) != 2:
            raise fail(f"{key}.window", f"window must be [start, stop], got {shorten(window)}")
        temporal.append(TemporalMode(text(f"{key}.name", spec["name"]),
                                     text(f"{key}.port", spec["port"]), spec["envelope"],
                                     tuple(window), spec.get("frequency", 0.0),
                                     spec.get("efficiency", 1.0)))
    pair = data.get("default_pair")
    if pair is not None:
        if not isinstance(pair, list) or not all(isinstance(m, str) for m in pair):
            raise fail("default_pair", "default_pair must be [\"A\", \"B\"]")
        pair = tuple(pair)
    return ModelDescription(
        name=text("name", data.get("name", "model")), modes=tuple(modes), terms=tuple(terms),
        damping=tuple(damping), cascades=tuple(cascades), drives=tuple(drives),
        temporal_modes=tuple(temporal), parameters=dict(params), default_pair=pair,
        unit=text("unit", data.get("unit", "ω_b")),
        description=text("description", data.get("description", "")), source=source,
        lines=lines)


def library_models() -> tuple:
    """Names of the models shipped with the package (``models/library/*.toml``)."""
    return tuple(sorted(p.stem for p in LIBRARY.glob("*.toml")))


_CACHE: dict = {}


def load_model(name_or_path="cascade") -> ModelDescription:
    """A shipped model by name (see :func:`library_models`) or a TOML file by path.

    Shipped models are parsed once per process and cached (descriptions are immutable).
    """
    if isinstance(name_or_path, ModelDescription):
        return name_or_path
    key = str(name_or_path)
    if key in library_models():
        if key not in _CACHE:
            _CACHE[key] = replace(ModelDescription.from_toml(LIBRARY / f"{key}.toml"),
                                  source=f"{key}.toml (shipped model)")
        return _CACHE[key]
    path = Path(key)
    if path.suffix != ".toml" and not path.exists():
        raise ModelError(f"unknown model {shorten(key)}: neither a shipped model "
                         f"({', '.join(library_models())}) nor a .toml file")
    return ModelDescription.from_toml(path)
