"""What the commands share on their way out: output paths checked before any computation,
JSON, and the text helpers of the reports (tables, standard errors, "n/a" for a NaN)."""

from __future__ import annotations

import os

import numpy as np

from ..io import dumps
from .options import UsageError


def prepare_output_dir(path: str | None) -> str | None:
    """Check (and create) an ``--output`` directory before any computation: one clear
    ``UsageError`` for an empty name, an existing file, or a directory that cannot be made."""
    if path is None:
        return None
    if not path.strip():
        raise UsageError("--output must name a directory, got ''")
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--output {path!r} exists and is not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--output {path!r}: cannot create the directory "
                         f"({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"--output {path!r} is not a writable directory")
    from ..io import OutputBusyError, lock_directory

    try:
        lock_directory(path)  # held to the end of the command: two runs never mix their files
    except OutputBusyError as exc:
        raise UsageError(str(exc)) from None
    return path


def prepare_output_file(path: str | None, suffix: str) -> str | None:
    """Check an ``--output`` file before any computation; returns the name that will really be
    written (``suffix`` appended if missing, as numpy does)."""
    if path is None:
        return None
    if not path.strip() or os.path.basename(path) in ("", ".", ".."):
        raise UsageError(f"--output must name a file, got {path!r}")
    if os.path.isdir(path):
        raise UsageError(f"--output {path!r} is a directory; name a {suffix} file")
    if not path.endswith(suffix):
        path += suffix
    if os.path.isdir(path):
        raise UsageError(f"--output {path!r} is a directory; name a {suffix} file")
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise UsageError(f"--output {path!r}: directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--output {path!r}: directory {parent!r} is not writable")
    return path


def dump_json(payload: dict) -> str:
    """JSON text with numpy arrays as nested lists and NaN/inf as null."""
    return dumps(payload)


_NAN = None


def no_nan(text: str) -> str:
    """Text for people: a NaN (a standard error, z-score or threshold that does not exist, e.g.
    with fewer than 2 jackknife groups) is shown as "n/a", never as "nan" (same width, so
    columns stay aligned)."""
    global _NAN
    if _NAN is None:
        import re

        _NAN = re.compile(r"(?<![\w.])nan(?!\w)")
    return _NAN.sub("n/a", text)


def format_matrix(m: np.ndarray, labels) -> str:
    """A labelled text table of a matrix."""
    width = max(11, *(len(lab) + 1 for lab in labels))
    head = " " * width + "".join(f"{lab:>{width}}" for lab in labels)
    rows = [f"{lab:>{width}}" + "".join(f"{v:>{width}.5g}" for v in row)
            for lab, row in zip(labels, m)]
    return "\n".join([head, *rows])


_COLUMNS = {"n": "n̄", "n_thermal": "n̄ thermal", "n_coherent": "n̄ coherent",
            "min_variance": "min var", "squeezing_angle": "angle/rad",
            "squeezing_db": "sqz/dB", "purity": "purity", "entropy": "S/nats"}


def render_observables(report: dict) -> list[str]:
    """Text of :func:`~langevin_sim.observables.observables_table`'s part of a report: the
    single-mode table, the bipartitions, the three-mode analyses."""
    from ..conventions import THRESHOLD_TOL

    layout = report.get("observables_layout") or {}
    lines = []
    cols = layout.get("single_mode", [])
    if cols:
        lines.append("single modes (n̄ = thermal + coherent quanta; variance of the vacuum 1/2; "
                     "squeezing in dB below the vacuum, along x cos θ + p sin θ; S in nats):")
        width = max(6, *(len(m) + 2 for m in report["modes"]))
        lines.append(f"  {'mode':<{width}}" + "".join(f"{_COLUMNS[c]:>13}" for c in cols))
        for m in report["modes"]:
            lines.append(f"  {m:<{width}}" + "".join(f"{report[f'{c}_{m}']:>13.6g}"
                                                     for c in cols))
    for bip in layout.get("bipartitions", []):
        cells = ", ".join(f"{k} = {report[k]:.6g}" for k in bip["names"])
        lines.append(f"bipartition {bip['parties']} (nats): {cells}")
    for tri in layout.get("tripartite", []):
        tag = "_".join(tri["modes"])
        i, j, k = tri["modes"]
        cuts = ", ".join(f"{a}|{b}{c} {report[f'E_N_{a}_{b}{c}']:.6g}"
                         for a, b, c in ((i, j, k), (j, i, k), (k, i, j)))
        pairs = ", ".join(f"{a}|{b} {report[f'E_N_{a}_{b}']:.6g}"
                          for a, b in ((i, j), (i, k), (j, k)))
        r = report[f"residual_contangle_{tag}"]
        verdict = "> 0: genuinely tripartite by this measure" if r > THRESHOLD_TOL else "not > 0"
        lines.append(f"three modes ({', '.join(tri['modes'])}): E_N of the 1|2 cuts {cuts}; "
                     f"of the pairs {pairs}")
        lines.append(f"  minimum residual contangle (C = E_N²) {r:.6g} ({verdict}); "
                     f"class {report[f'tripartite_class_{tag}']}: "
                     f"{report[f'classification_{tag}']}"
                     + (f" (separable: {', '.join(report[f'separable_cuts_{tag}'])})"
                        if report[f"separable_cuts_{tag}"] else ""))
    return lines


def format_se(value, width: int = 10, spec: str = ".2g") -> str:
    """A number right-aligned in ``width``, or "n/a" when it does not exist (a standard error
    of fewer than 2 jackknife groups is NaN; text never shows "nan")."""
    return f"{value:>{width}{spec}}" if np.isfinite(value) else f"{'n/a':>{width}}"


def render_observable_summary(obs, times) -> list:
    """Text of the observables of a relaxation: per key the largest |z| over the records and
    the last record, sample ± SE (exact); ``*`` marks the keys whose z join the verdict."""
    width = max(14, *(len(k) + 2 for k in obs.names))
    lines = [f"observables: max |z| over the {len(times)} records, and at t = {times[-1]:.4g} "
             "sample ± SE (exact)  (* in the verdict; E_N and G: z of the unclipped values)"]
    for k in obs.names:
        z = np.abs(np.asarray(obs.z[k], float))
        mz = np.nanmax(z) if np.any(np.isfinite(z)) else float("nan")
        mark = " *" if k in obs.in_verdict else ""
        v, e, x = obs.sample[k][-1], obs.stderr[k][-1], obs.analytic[k][-1]
        lines.append(f"  {k:<{width}}{mz:>8.2f}   {f'{v:.5g} ± {e:.2g} ({x:.5g})':<36}{mark}")
    for k, v in obs.classification.items():
        if k.startswith("classification_"):
            tag = k[len("classification_"):]
            lines.append(f"  three modes {tag.replace('_', ', ')} (exact, at t = "
                         f"{times[-1]:.4g}): {v}")
    return lines


def render_observable_rows(obs) -> list:
    """Text of :attr:`ValidationReport.observables`: one row per key (sample ± SE, exact, z;
    ``*`` marks the z-scores that join the verdict)."""
    width = max(14, *(len(k) + 2 for k in obs.names))
    lines = [f"{'observable':<{width}}{'sample':>12}{'± SE':>11}{'analytic':>12}{'z':>8}"
             "  (* in the verdict; E_N and G: z of the unclipped values)"]
    for k in obs.names:
        mark = " *" if k in obs.in_verdict else ""
        lines.append(f"{k:<{width}}{obs.sample[k]:>12.5g}{obs.stderr[k]:>11.2g}"
                     f"{obs.analytic[k]:>12.5g}{obs.z[k]:>8.2f}{mark}")
    for k, v in obs.classification.items():
        if k.startswith("classification_"):
            tag = k[len("classification_"):]
            sep = obs.classification.get(f"separable_cuts_{tag}") or []
            lines.append(f"three modes {tag.replace('_', ', ')} (exact): {v}"
                         + (f" (separable: {', '.join(sep)})" if sep else ""))
    return lines


def print_result(as_json: bool, payload: dict, text: str) -> None:
    """Print a command's result: its JSON ``payload``, or ``text`` for people (NaN as n/a)
    followed by the files it wrote (``payload["files"]``, when there are any)."""
    if as_json:
        print(dump_json(payload))
        return
    print(no_nan(text))
    if payload.get("files"):
        print("wrote " + ", ".join(payload["files"].values()))
