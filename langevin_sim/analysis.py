"""Reports built from the analytic solver (used by the CLI and by notebooks)."""

from __future__ import annotations

from .errors import UnstableSystemError
from .gaussian import steady_state
from .measures import measures
from .models.cascade import CascadeParameters, build_system


def steady_report(params: CascadeParameters | None = None) -> dict:
    """Stability, rates, steady covariance and the six (b, m) measures, as a ``dict``.

    Keys: ``stable``, ``reason`` (if unstable), ``eigenvalues`` (pairs [re, im], units of
    ω_b), ``slowest_rate``, ``fastest_rate`` (ω_b), ``quadratures``, ``covariance`` (8×8),
    ``physical``, ``physicality_margin``, ``E_N``, ``E_bm``, ``S_m_given_b``,
    ``S_b_given_m``, ``G_b_to_m``, ``G_m_to_b``, and ``parameters``.
    """
    params = CascadeParameters() if params is None else params
    system = build_system(params)
    ev = system.eigenvalues
    report = {
        "parameters": params.as_dict(),
        "eigenvalues": [[float(z.real), float(z.imag)] for z in ev],
        "slowest_rate": system.slowest_rate,
        "fastest_rate": system.fastest_rate,
        "quadratures": list(system.quadrature_labels()),
    }
    try:
        sigma = steady_state(system)
    except UnstableSystemError as exc:
        report.update(stable=False, reason=str(exc))
        return report
    report.update(stable=True, covariance=sigma)
    report.update(measures(sigma, system).as_dict())
    return report
