"""Arithmetic expressions of a model's parameters (``"sqrt(eta*kappa1)"``), parsed safely.

A value in a model description is a number or a string: the name of a parameter, or an
arithmetic expression of parameters with ``+ - * / **``, parentheses, the constant ``pi`` and
the functions ``sqrt, exp, log, sin, cos, tan, abs, min, max``. Nothing else is evaluated
(no attribute access, no calls of other names), so a model file cannot run code.
"""

from __future__ import annotations

import ast
import functools
import math
from dataclasses import dataclass

FUNCTIONS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "sin": math.sin,
             "cos": math.cos, "tan": math.tan, "abs": abs, "min": min, "max": max}
CONSTANTS = {"pi": math.pi}
_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, ast.Call,
          ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


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
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ValueError(f"cannot evaluate {self.text!r}: {exc}") from None


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """Parse ``text``; ``ValueError`` (one line) if it is not an allowed expression.

    Cached: a model is rebuilt at every point of a sweep from the same few expressions.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"{text!r} is not a number, a parameter name or an arithmetic "
                         "expression") from None
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise ValueError(f"{text!r}: only numbers, parameter names, + - * / **, and "
                             f"{', '.join(FUNCTIONS)} are allowed")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool)
                                               or not isinstance(node.value, (int, float))):
            raise ValueError(f"{text!r}: constant {node.value!r} is not a number")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS \
                    or node.keywords:
                raise ValueError(f"{text!r}: only the functions {', '.join(FUNCTIONS)} may be "
                                 "called")
        elif isinstance(node, ast.Name) and node.id not in FUNCTIONS \
                and node.id not in CONSTANTS:
            names.add(node.id)
    return Expression(text, frozenset(names), compile(tree, "<model expression>", "eval"))


def resolve_parameters(raw: dict) -> dict[str, float]:
    """Numbers for a ``{name: number or expression}`` table; entries may use each other.

    ``ValueError`` naming the entry for an unknown name, a cycle, or a non-finite result.
    """
    parsed = {k: (parse(v) if isinstance(v, str) else float(v)) for k, v in raw.items()}
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
                raise ValueError(f"parameter {name!r} = {v.text!r} uses unknown name(s) "
                                 f"{', '.join(unknown)}; parameters: {', '.join(parsed)}")
            visiting.append(name)
            env = {k: value(k) for k in v.names}
            visiting.pop()
            v = v.evaluate(env)
        if not math.isfinite(v):
            raise ValueError(f"parameter {name!r} must be finite, got {v!r}")
        out[name] = v
        return v

    for name in parsed:
        value(name)
    return out
