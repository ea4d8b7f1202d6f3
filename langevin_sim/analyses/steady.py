"""Reports built from the analytic solver (used by the CLI and by notebooks)."""

from __future__ import annotations

import numpy as np

from ..conventions import physicality_margin
from ..errors import UnphysicalStateError, UnstableSystemError
from ..gaussian import steady_state
from ..measures import measure_names, measures
from ..models import as_model, check_pair
from ..observables import OBSERVABLES, observables_table, parse_observables, parse_parties


def resolve_pair(model, pair=None, parties=()) -> tuple | None:
    """The pair whose six measures are reported: ``pair`` if given (``--pair A,B``), else the
    first one-mode-against-one-mode bipartition of ``parties`` (``--parties A|B``), else the
    model's own pair; ``None`` for a model without one (a one-mode model)."""
    labels = tuple(model.mode_labels)
    if pair is not None:
        return check_pair(labels, pair)
    for groups in parties:
        if len(groups) == 2 and len(groups[0]) == len(groups[1]) == 1:
            return check_pair(labels, (groups[0][0], groups[1][0]))
    try:
        return check_pair(labels, model.pair(None))
    except ValueError:  # no default pair
        return None


def resolve_parties(labels, parties=(), pair=None, names=OBSERVABLES) -> tuple:
    """The groups reported: ``parties`` (each text ``"a1,b|m"`` or groups of names), the
    pair as ``A|B`` when no party is named, and, for a three-mode model when no three-party
    analysis is named, the three modes (``residual_contangle`` among ``names``)."""
    labels = tuple(labels)
    out = [parse_parties(p, labels) if isinstance(p, str) else
           parse_parties("|".join(",".join(g) for g in p), labels) for p in parties]
    if not out and pair is not None:
        out.append(((pair[0],), (pair[1],)))
    if (len(labels) == 3 and "residual_contangle" in names
            and not any(len(g) == 3 for g in out)):
        out.append(tuple((m,) for m in labels))
    return tuple(out)


def resolve_observable_request(model, labels, pair=None, parties=(), observables=None):
    """What an ensemble command reports (validate, relax, evolve): ``(pair, names, groups)``
    from the pair asked for, the parties (texts ``"a1,b|m"`` or groups of names) and the
    observables asked for (:func:`~langevin_sim.observables.resolve_ensemble_observables`)."""
    from ..observables import party_text, resolve_ensemble_observables

    labels = tuple(labels)
    groups = tuple(parse_parties(p if isinstance(p, str) else party_text(p), labels)
                   for p in parties)
    pair = resolve_pair(model, pair, groups)
    names = resolve_ensemble_observables(pair, groups, observables)
    return pair, names, resolve_parties(labels, groups, pair, names)


def steady_report(model=None, pair=None, branch: int = 0, parties=(),
                  observables=None) -> dict:
    """Stability, rates, steady covariance, the six measures of a pair and the observables of
    every mode and of the named groups of modes, as a ``dict``.

    ``model`` is anything :func:`~langevin_sim.models.as_model` takes (default: the paper's
    linearised cascade); ``pair`` the two modes measured (default: :func:`resolve_pair`; a
    model without a pair, e.g. one mode, has no pair measures). A driven or nonlinear model
    description also reports its steady mean fields (every branch found, with its stability)
    and is linearised around the stable branch number ``branch``. ``parties``: bipartitions
    ``"a1,b|m"`` or three modes ``"a|b|m"`` (:func:`resolve_parties`); ``observables``: names
    of :data:`~langevin_sim.observables.OBSERVABLES` (text with commas, or a sequence;
    default all).

    Keys: ``model``, ``parameters``, ``pair`` (or None), ``measure_names``, ``unit``,
    ``modes``, ``observables``, ``parties`` (as text), ``stable``,
    ``reason`` (if unstable), ``eigenvalues`` (pairs [re, im], model units), ``slowest_rate``,
    ``fastest_rate``, ``quadratures``, ``covariance``, ``physical`` (False, with ``reason`` and
    no numbers, when the solution violates σ + iΩ/2 ≥ 0), ``physicality_margin``,
    the six measures (keys :func:`~langevin_sim.measures.measure_names`), the observables
    (keys of :func:`~langevin_sim.observables.observables_table`: ``n_<mode>``,
    ``squeezing_db_<mode>``, ``E_N_<A>_<B>``, ...) with ``observables_layout``, and for a
    driven model ``mean_field`` (``branches``: amplitudes, quanta, effective detunings,
    stability; ``linearised_branch``: index into ``branches``), whose amplitude gives the
    coherent part of each occupation.
    """
    model = as_model(model)
    labels = tuple(model.mode_labels)
    if observables is None or isinstance(observables, str):
        names = parse_observables(observables)
    else:  # a sequence of names; empty: none
        names = parse_observables(",".join(observables)) if len(observables) else ()
    groups = tuple(parse_parties(p, labels) if isinstance(p, str) else tuple(map(tuple, p))
                   for p in parties)
    pair = resolve_pair(model, pair, groups)
    groups = resolve_parties(labels, groups, pair, names)
    report = {"model": model.name, "parameters": model.as_dict(),
              "pair": list(pair) if pair else None,
              "measure_names": list(measure_names(pair)) if pair else [], "unit": model.unit,
              "modes": list(labels), "observables": list(names),
              "parties": ["|".join(",".join(g) for g in p) for p in groups]}
    full = model.build()
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
    mean = np.zeros(sigma.shape[0])
    mf = report.get("mean_field")
    if mf and mf["linearised_branch"] is not None:  # the coherent amplitude <o> of each mode
        amplitudes = mf["branches"][mf["linearised_branch"]]["amplitudes"]
        for i, m in enumerate(system.mode_labels):
            mean[2 * i:2 * i + 2] = np.sqrt(2) * np.asarray(amplitudes.get(m, (0.0, 0.0)))
    values, layout = observables_table(sigma, system.mode_labels, groups, names, mean)
    report.update(values)
    report["observables_layout"] = layout
    if pair is not None:
        report.update(measures(sigma, system, modes=pair).as_dict())
    else:  # steady_state has refused an unphysical solution already
        report.update(physical=True, physicality_margin=physicality_margin(sigma))
    return report
