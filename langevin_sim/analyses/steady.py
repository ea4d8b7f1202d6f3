"""The analytic steady state of a model (:func:`steady_report`, a :class:`SteadyReport`), and
how the pair, the parties and the observables asked for are resolved (used by the ensemble
analyses too)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..conventions import physicality_margin
from ..errors import UnphysicalStateError, UnstableSystemError
from ..gaussian import steady_state
from ..measures import Measures, measure_names, measures
from ..models import as_model, check_pair
from ..observables import (
    OBSERVABLES,
    observables_table,
    parse_observables,
    parse_parties,
    party_text,
    resolve_ensemble_observables,
)


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

    labels = tuple(labels)
    groups = tuple(parse_parties(p if isinstance(p, str) else party_text(p), labels)
                   for p in parties)
    pair = resolve_pair(model, pair, groups)
    names = resolve_ensemble_observables(pair, groups, observables)
    return pair, names, resolve_parties(labels, groups, pair, names)


@dataclass(frozen=True)
class SteadyMeanField:
    """The steady mean fields of a driven or nonlinear model: every branch found
    (:class:`~langevin_sim.systems.meanfield.MeanField`: amplitudes, quanta, effective
    detunings, stability) and the index of the one linearised (None if none is)."""

    branches: tuple
    linearised_branch: int | None = None

    def to_dict(self) -> dict:
        return {"branches": [b.to_dict() for b in self.branches],
                "linearised_branch": self.linearised_branch}


@dataclass(frozen=True)
class SteadyReport:
    """The analytic steady state of a model (:func:`steady_report`).

    Attributes
    ----------
    model, parameters, unit : str, dict, str
        The model's name, its parameters, its rate unit.
    pair : tuple of two str or None
        The pair measured (None: the model names none and none was asked for).
    modes, observables, parties : tuple
        The modes; the observables asked for (names); the groups reported, as text.
    mean_field : SteadyMeanField or None
        For a driven or nonlinear model.
    stable : bool
        Whether a steady state exists (``reason`` says why not).
    physical : bool
        Whether the steady covariance is a quantum state (False: ``reason``, no numbers).
    eigenvalues : ndarray (d,), complex, or None
        Of the drift, slowest first (model units); with ``slowest_rate``, ``fastest_rate``.
    quadratures : tuple of str, covariance : ndarray (d, d)
        The steady covariance (vacuum variance 1/2) and its row labels.
    measures : Measures or None
        The six measures of the pair, with the physicality check.
    physicality_margin : float
        Smallest eigenvalue of σ + iΩ/2 (a model without a pair: of the whole state).
    observable_values : dict
        The observables (keys of :func:`~langevin_sim.observables.observables_table`:
        ``n_<mode>``, ``E_N_<A>_<B>``, ...), laid out as ``observables_layout`` says.
    """

    model: str
    parameters: dict
    pair: tuple | None
    unit: str
    modes: tuple
    observables: tuple
    parties: tuple
    mean_field: SteadyMeanField | None = None
    stable: bool = False
    reason: str | None = None
    eigenvalues: np.ndarray | None = None
    slowest_rate: float | None = None
    fastest_rate: float | None = None
    quadratures: tuple | None = None
    physical: bool | None = None
    covariance: np.ndarray | None = None
    measures: Measures | None = None
    physicality_margin: float | None = None
    observable_values: dict = field(default_factory=dict)
    observables_layout: dict | None = None

    @property
    def measure_names(self) -> tuple:
        return measure_names(self.pair) if self.pair else ()

    def to_dict(self) -> dict:
        """The ``--json`` report: its keys as the command line has always written them (the
        six measures and every observable at the top level)."""
        out = {"model": self.model, "parameters": self.parameters,
               "pair": list(self.pair) if self.pair else None,
               "measure_names": list(self.measure_names), "unit": self.unit,
               "modes": list(self.modes), "observables": list(self.observables),
               "parties": list(self.parties)}
        if self.mean_field is not None:
            out["mean_field"] = self.mean_field.to_dict()
        if self.eigenvalues is not None:
            out.update(eigenvalues=[[float(z.real), float(z.imag)] for z in self.eigenvalues],
                       slowest_rate=self.slowest_rate, fastest_rate=self.fastest_rate,
                       quadratures=list(self.quadratures))
        if not self.stable:
            out.update(stable=False, reason=self.reason)
            return out
        if self.physical is False:
            out.update(stable=True, physical=False, reason=self.reason)
            return out
        out.update(stable=True, covariance=self.covariance)
        out.update(self.observable_values)
        out["observables_layout"] = self.observables_layout
        if self.measures is not None:
            out.update(self.measures.as_dict())
        else:
            out.update(physical=True, physicality_margin=self.physicality_margin)
        return out


def steady_report(model=None, pair=None, branch: int = 0, parties=(),
                  observables=None) -> SteadyReport:
    """Stability, rates, steady covariance, the six measures of a pair and the observables of
    every mode and of the named groups of modes (:class:`SteadyReport`; its ``to_dict()`` is
    the ``--json`` of ``langevin-sim steady``).

    ``model`` is anything :func:`~langevin_sim.models.as_model` takes (default: the paper's
    linearised cascade); ``pair`` the two modes measured (default: :func:`resolve_pair`; a
    model without a pair, e.g. one mode, has no pair measures). A driven or nonlinear model
    description also reports its steady mean fields (every branch found, with its stability)
    and is linearised around the stable branch number ``branch``. ``parties``: bipartitions
    ``"a1,b|m"`` or three modes ``"a|b|m"`` (:func:`resolve_parties`); ``observables``: names
    of :data:`~langevin_sim.observables.OBSERVABLES` (text with commas, or a sequence;
    default all).
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
    report = SteadyReport(model.name, model.as_dict(), pair, model.unit, labels, tuple(names),
                          tuple("|".join(",".join(g) for g in p) for p in groups))
    full = model.build()
    mean_field = None
    try:
        if full.is_driven or not full.is_linear:
            states = tuple(full.mean_field_states())
            stable = [i for i, s in enumerate(states) if s.stable]
            mean_field = SteadyMeanField(states)
            if full.is_linear:
                system = full.linear_system()
                mean_field = SteadyMeanField(states, 0)
            else:
                if not stable:
                    worst = max((s.eigenvalues[0] for s in states), key=lambda z: z.real)
                    raise UnstableSystemError(worst, "no stable steady mean field")
                if not 0 <= branch < len(stable):
                    raise ValueError(f"branch must be in [0, {len(stable)}): the model has "
                                     f"{len(stable)} stable mean-field branch(es)")
                mean_field = SteadyMeanField(states, stable[branch])
                system = full.linearise(states[stable[branch]].state)
        else:
            system = model.linear_system(branch)
    except UnstableSystemError as exc:
        return replace(report, mean_field=mean_field, stable=False, reason=str(exc))
    report = replace(report, mean_field=mean_field, eigenvalues=system.eigenvalues,
                     slowest_rate=system.slowest_rate, fastest_rate=system.fastest_rate,
                     quadratures=tuple(system.quadrature_labels()))
    try:
        sigma = steady_state(system)
    except UnstableSystemError as exc:
        return replace(report, stable=False, reason=str(exc))
    except UnphysicalStateError as exc:
        return replace(report, stable=True, physical=False, reason=str(exc))
    mean = np.zeros(sigma.shape[0])
    if mean_field is not None and mean_field.linearised_branch is not None:
        # the coherent amplitude <o> of each mode
        amplitudes = mean_field.to_dict()["branches"][mean_field.linearised_branch]["amplitudes"]
        for i, m in enumerate(system.mode_labels):
            mean[2 * i:2 * i + 2] = np.sqrt(2) * np.asarray(amplitudes.get(m, (0.0, 0.0)))
    values, layout = observables_table(sigma, system.mode_labels, groups, names, mean)
    if pair is not None:
        m = measures(sigma, system, modes=pair)
        physical, margin = m.physical, m.physicality_margin
    else:  # steady_state has refused an unphysical solution already
        m, physical, margin = None, True, physicality_margin(sigma)
    return replace(report, stable=True, physical=physical, covariance=sigma, measures=m,
                   physicality_margin=margin, observable_values=values,
                   observables_layout=layout)
