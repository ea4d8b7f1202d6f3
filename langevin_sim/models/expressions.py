"""Arithmetic expressions of a model's parameters (``"sqrt(eta*kappa1)"``), parsed safely.

A value in a model description is a number or a string: the name of a parameter, or an
arithmetic expression of parameters with ``+ - * / **``, parentheses, the constant ``pi`` and
the functions ``sqrt, exp, log, sin, cos, tan, abs, min, max``. Nothing else is evaluated
(no attribute access, no calls of other names), so a model file cannot run code.

An *envelope* (:class:`TimeFunction`) may also use the time ``t`` and the pulse shapes
``box(t, a, b)`` (1 on [a, b)), ``step(t, a)``, ``ramp(t, a, b)`` (0 → 1 linearly),
``smooth(t, a, b)`` (sin² from 0 to 1) and ``gauss(t, c, w)`` (exp(−(t−c)²/(2w²))).

Nor can it exhaust the machine: an expression is at most :data:`MAX_LENGTH` characters and
:data:`MAX_DEPTH` levels of nesting, and every number in it is a double, so ``9**9**9**9``
overflows at once instead of building an integer of billions of digits. Messages echo at most
:data:`ECHO_LIMIT` characters of a bad value (:func:`shorten`).
"""

from __future__ import annotations

import ast
import functools
import math
from dataclasses import dataclass

import numpy as np


def box(t, a, b):
    """1 on ``[a, b)``, 0 elsewhere (a switched pulse)."""
    return np.where((t >= a) & (t < b), 1.0, 0.0)


def step(t, a):
    """0 before ``a``, 1 from ``a`` on (the ``sudden`` drive ramp is ``step(t, 0)``)."""
    return np.where(t >= a, 1.0, 0.0)


def ramp(t, a, b):
    """0 before ``a``, linear to 1 at ``b``, 1 after (the ``linear`` ramp is ``ramp(t, 0, T)``)."""
    if not b > a:
        raise ValueError(f"ramp(t, a, b) needs b > a, got a = {a!r}, b = {b!r}")
    return np.clip((t - a) / (b - a), 0.0, 1.0)


def smooth(t, a, b):
    """0 before ``a``, ``sin²(π(t - a)/(2(b - a)))`` up to 1 at ``b``, 1 after (the ``smooth``
    ramp is ``smooth(t, 0, T)``)."""
    if not b > a:
        raise ValueError(f"smooth(t, a, b) needs b > a, got a = {a!r}, b = {b!r}")
    return np.sin(0.5 * np.pi * np.clip((t - a) / (b - a), 0.0, 1.0)) ** 2


def gauss(t, c, w):
    """``exp(-(t - c)²/(2 w²))``."""
    if not w > 0:
        raise ValueError(f"gauss(t, c, w) needs a width w > 0, got {w!r}")
    return np.exp(-0.5 * ((t - c) / w) ** 2)


TIME_FUNCTIONS = {"box": box, "step": step, "ramp": ramp, "smooth": smooth, "gauss": gauss}
"""Functions of the time ``t`` for envelopes (their first argument is ``t``)."""
FUNCTIONS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "sin": math.sin,
             "cos": math.cos, "tan": math.tan, "abs": abs, "min": min, "max": max,
             **TIME_FUNCTIONS}
CONSTANTS = {"pi": math.pi}
TIME = "t"
"""The variable of an envelope: time in the inverse of the model's rate unit."""


def _reduce(op):
    return lambda *args: functools.reduce(op, args)


ARRAY_FUNCTIONS = {"sqrt": np.sqrt, "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos,
                   "tan": np.tan, "abs": np.abs, "min": _reduce(np.minimum),
                   "max": _reduce(np.maximum), **TIME_FUNCTIONS}
"""The same functions elementwise over arrays of times (an envelope at many t at once)."""
MAX_LENGTH = 1000
"""Longest expression accepted, in characters (the shipped models' longest is under 60)."""
MAX_DEPTH = 100
"""Deepest nesting of operations accepted (parsing and compiling recurse on it)."""
ECHO_LIMIT = 60
"""Characters of a bad value that a message echoes."""
_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, ast.Call,
          ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


def shorten(value, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters with its full length named, so that a
    message about a 10 MB value stays one short line."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters in all)"


def _depth(tree) -> int:
    """Nesting depth of an AST, without recursion (the tree may be deep)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


class _Floats(ast.NodeTransformer):
    """Every numeric constant as a double: powers and products then overflow to an error in
    constant time (``9.0**9.0**9.0**9.0``), never build huge integers."""

    def visit_Constant(self, node):
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            return ast.copy_location(ast.Constant(float(node.value)), node)
        return node


@dataclass(frozen=True, eq=False)
class Expression:
    """A parsed expression: its text, the parameter names it uses, and compiled code."""

    text: str
    names: frozenset
    code: object

    def evaluate(self, values: dict) -> float:
        env = {**FUNCTIONS, **CONSTANTS, **{k: values[k] for k in self.names}}
        try:
            return float(eval(self.code, {"__builtins__": {}}, env))  # noqa: S307 (checked AST)
        except OverflowError:
            raise ValueError(f"cannot evaluate {shorten(self.text)}: the result is beyond the "
                             "range of a double (about 1.8e308)") from None
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ValueError(f"cannot evaluate {shorten(self.text)}: {exc}") from None


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """Parse ``text``; ``ValueError`` (one line) if it is not an allowed expression.

    Cached: a model is rebuilt at every point of a sweep from the same few expressions.
    Longer than :data:`MAX_LENGTH` characters or nested deeper than :data:`MAX_DEPTH` levels
    is refused before it is compiled.
    """
    shown = shorten(text)
    if len(text) > MAX_LENGTH:
        raise ValueError(f"{shown}: an expression may have at most {MAX_LENGTH} characters, "
                         f"this one has {len(text)}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError):
        raise ValueError(f"{shown} is not a number, a parameter name or an arithmetic "
                         "expression") from None
    except (RecursionError, MemoryError):
        tree = None
    if tree is None or _depth(tree) > MAX_DEPTH:
        raise ValueError(f"{shown}: an expression may nest at most {MAX_DEPTH} levels of "
                         "operations and parentheses")
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise ValueError(f"{shown}: only numbers, parameter names, + - * / **, and "
                             f"{', '.join(FUNCTIONS)} are allowed")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool)
                                               or not isinstance(node.value, (int, float))):
            raise ValueError(f"{shown}: constant {shorten(node.value)} is not a number")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS \
                    or node.keywords:
                raise ValueError(f"{shown}: only the functions {', '.join(FUNCTIONS)} may be "
                                 "called")
        elif isinstance(node, ast.Name) and node.id not in FUNCTIONS \
                and node.id not in CONSTANTS:
            names.add(node.id)
    try:
        tree = ast.fix_missing_locations(_Floats().visit(tree))
    except OverflowError:
        raise ValueError(f"{shown}: a number in it is beyond the range of a double "
                         "(about 1.8e308)") from None
    return Expression(text, frozenset(names), compile(tree, "<model expression>", "eval"))


def resolve_parameters(raw: dict) -> dict[str, float]:
    """Numbers for a ``{name: number or expression}`` table; entries may use each other.

    ``ValueError`` naming the entry for an unknown name, a cycle, or a non-finite result.
    """
    parsed = {}
    for k, v in raw.items():
        try:
            parsed[k] = parse(v) if isinstance(v, str) else float(v)
        except OverflowError:
            raise ValueError(f"parameter {k!r} = {shorten(v)} is beyond the range of a double "
                             "(about 1.8e308)") from None
    out: dict[str, float] = {}
    visiting: list[str] = []

    def value(name: str) -> float:
        if name in out:
            return out[name]
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name):], name])
            raise ValueError(f"parameters refer to each other in a cycle: {cycle}")
        v = parsed[name]
        if isinstance(v, Expression):
            unknown = sorted(v.names - set(parsed))
            if unknown:
                raise ValueError(f"parameter {name!r} = {shorten(v.text)} uses unknown name(s) "
                                 f"{', '.join(unknown)}; parameters: {', '.join(parsed)}")
            visiting.append(name)
            env = {k: value(k) for k in v.names}
            visiting.pop()
            try:
                v = v.evaluate(env)
            except ValueError as exc:
                raise ValueError(f"parameter {name!r}: {exc}") from None
        if not math.isfinite(v):
            raise ValueError(f"parameter {name!r} must be finite, got {shorten(v)}")
        out[name] = v
        return v

    for name in parsed:
        value(name)
    return out


class TimeFunction:
    """A real function of the time ``t``: ``scale · envelope(t) · box(t, *window) · carrier``,
    evaluated elementwise over an array of times.

    Parameters
    ----------
    expression : Expression
        The envelope, an expression of ``t`` and of the parameters in ``values``.
    values : dict
        Parameter values (numbers) the expression uses.
    scale : float
        A constant factor (a temporal mode's normalisation).
    window : (start, stop), optional
        Zero outside ``[start, stop)``.
    carrier : (omega, "cos" | "sin"), optional
        Multiplies by ``cos(ωt)`` or ``sin(ωt)`` (ω in the model's rate unit).
    label : str
        Where the envelope was written, for messages.
    """

    def __init__(self, expression: Expression, values: dict, *, scale: float = 1.0,
                 window=None, carrier=None, label: str = "envelope"):
        self.expression, self.scale, self.window, self.carrier = (expression, float(scale),
                                                                  window, carrier)
        self.label = label
        self._env = {**CONSTANTS, **{k: values[k] for k in expression.names if k != TIME}}

    def envelope(self, t) -> np.ndarray:
        """The bare envelope (no scale, window or carrier) at ``t`` (array), NaN where it
        cannot be evaluated."""
        t = np.asarray(t, float)
        with np.errstate(all="ignore"):
            try:
                v = eval(self.expression.code, {"__builtins__": {}},  # noqa: S307 (checked AST)
                         {**ARRAY_FUNCTIONS, **self._env, TIME: t})
            except (ArithmeticError, TypeError, ValueError) as exc:
                raise ValueError(f"{self.label} = {shorten(self.expression.text)} cannot be "
                                 f"evaluated: {exc}") from None
        return np.broadcast_to(np.asarray(v, float), t.shape).copy()

    def __call__(self, t) -> np.ndarray:
        t = np.asarray(t, float)
        v = self.scale * self.envelope(t)
        if self.window is not None:
            v = v * box(t, *self.window)
        if self.carrier is not None:
            omega, kind = self.carrier
            v = v * (np.cos(omega * t) if kind == "cos" else np.sin(omega * t))
        return v

    def breakpoints(self) -> set:
        """Times where the envelope may have a kink or a jump: the constant time arguments of
        ``box``, ``step``, ``ramp`` and ``smooth`` and the window's ends (an adaptive
        integrator starts a new piece there instead of stumbling over them)."""
        out = set(self.window or ())
        for node in ast.walk(ast.parse(self.expression.text.strip(), mode="eval")):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("box", "step", "ramp", "smooth"):
                for arg in node.args[1:]:
                    try:
                        expr = parse(ast.unparse(arg))
                        if TIME not in expr.names:
                            out.add(expr.evaluate(self._env))
                    except (ValueError, KeyError):
                        pass
        return {float(b) for b in out if math.isfinite(b)}

    def check(self, t_final: float, n: int = 4001) -> None:
        """``ValueError`` (one line) if the envelope is not finite somewhere on ``[0, t_final]``
        (sampled at ``n`` points and at its breakpoints)."""
        grid = np.union1d(np.linspace(0.0, t_final, n),
                          [b for b in self.breakpoints() if 0 <= b <= t_final])
        v = self.envelope(grid)
        bad = ~np.isfinite(v)
        if np.any(bad):
            raise ValueError(f"{self.label} = {shorten(self.expression.text)} is not finite at "
                             f"t = {grid[bad][0]:.6g} (a NaN or an infinity): an envelope must "
                             "be a finite number at every time of the run")
