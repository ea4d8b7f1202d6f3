"""Reports built from the analytic solver (used by the CLI and by notebooks)."""

from __future__ import annotations

from .errors import UnphysicalStateError, UnstableSystemError
from .gaussian import steady_state
from .measures import measure_names, measures
from .models import as_model, check_pair


def steady_report(model=None, pair=None, branch: int = 0) -> dict:
    """Stability, rates, steady covariance and the six measures of a pair, as a ``dict``.

    ``model`` is anything :func:`~langevin_sim.models.as_model` takes (default: the paper's
    linearised cascade); ``pair`` the two modes measured (default: the model's own). A driven
    or nonlinear model description also reports its steady mean fields (every branch found,
    with its stability) and is linearised around the stable branch number ``branch``.

    Keys: ``model``, ``parameters``, ``pair``, ``measure_names``, ``unit``, ``stable``,
    ``reason`` (if unstable), ``eigenvalues`` (pairs [re, im], model units), ``slowest_rate``,
    ``fastest_rate``, ``quadratures``, ``covariance``, ``physical`` (False, with ``reason`` and
    no numbers, when the solution violates σ + iΩ/2 ≥ 0), ``physicality_margin``,
    the six measures (keys :func:`~langevin_sim.measures.measure_names`), and for a driven
    model ``mean_field`` (``branches``: amplitudes, quanta, effective detunings, stability;
    ``linearised_branch``: index into ``branches``).
    """
    model = as_model(model)
    pair = check_pair(model.mode_labels, model.pair(pair))
    report = {"model": model.name, "parameters": model.as_dict(), "pair": list(pair),
              "measure_names": list(measure_names(pair)), "unit": model.unit}
    full = model.build() if hasattr(model, "build") else None
    try:
        if full is not None and (full.is_driven or not full.is_linear):
            states = full.mean_field_states()
            stable = [i for i, s in enumerate(states) if s.stable]
            report["mean_field"] = {"branches": [s.to_dict() for s in states],
                                    "linearised_branch": None}
            if full.is_linear:
                system = full.linear_system()
                report["mean_field"]["linearised_branch"] = 0
            else:
                if not stable:
                    worst = max((s.eigenvalues[0] for s in states), key=lambda z: z.real)
                    raise UnstableSystemError(worst, "no stable steady mean field")
                if not 0 <= branch < len(stable):
                    raise ValueError(f"branch must be in [0, {len(stable)}): the model has "
                                     f"{len(stable)} stable mean-field branch(es)")
                report["mean_field"]["linearised_branch"] = stable[branch]
                system = full.linearise(states[stable[branch]].state)
        else:
            system = model.linear_system(branch)
    except UnstableSystemError as exc:
        report.update(stable=False, reason=str(exc))
        return report
    ev = system.eigenvalues
    report.update({
        "eigenvalues": [[float(z.real), float(z.imag)] for z in ev],
        "slowest_rate": system.slowest_rate,
        "fastest_rate": system.fastest_rate,
        "quadratures": list(system.quadrature_labels()),
    })
    try:
        sigma = steady_state(system)
    except UnstableSystemError as exc:
        report.update(stable=False, reason=str(exc))
        return report
    except UnphysicalStateError as exc:
        report.update(stable=True, physical=False, reason=str(exc))
        return report
    report.update(stable=True, covariance=sigma)
    report.update(measures(sigma, system, modes=pair).as_dict())
    return report
