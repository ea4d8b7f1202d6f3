"""Arithmetic expressions of a model's parameters (``"sqrt(eta*kappa1)"``), parsed safely.

A value in a model description is a number or a string: the name of a parameter, or an
arithmetic expression of parameters with ``+ - * / **``, parentheses, the constant ``pi`` and
the functions ``sqrt, exp, log, sin, cos, tan, abs, min, max``. Nothing else is evaluated
(no attribute access, no calls of other names), so a model file cannot run code.

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

FUNCTIONS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "sin": math.sin,
             "cos": math.cos, "tan": math.tan, "abs": abs, "min": min, "max": max}
CONSTANTS = {"pi": math.pi}
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
