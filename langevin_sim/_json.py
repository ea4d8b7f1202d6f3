"""JSON for results: numpy arrays and scalars as plain lists and numbers, non-finite as null."""

from __future__ import annotations

import json

import numpy as np


def jsonable(obj):
    """A copy of ``obj`` made of dicts, lists, str, bool, int, float and None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    return obj


def dumps(obj, indent: int | None = 2) -> str:
    """``json.dumps`` of :func:`jsonable` (strict JSON: NaN and inf become null)."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)
