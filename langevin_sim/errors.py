"""Exceptions raised by ``langevin_sim``."""

from __future__ import annotations


class UnstableSystemError(ValueError):
    """The drift matrix has an eigenvalue with non-negative real part.

    No steady state exists; the message names the offending eigenvalue. Functions that map
    many parameter points return a stability mask instead of raising this.
    """

    def __init__(self, eigenvalue: complex, detail: str = ""):
        self.eigenvalue = complex(eigenvalue)
        msg = (
            "unstable system: drift eigenvalue "
            f"{self.eigenvalue.real:+.6g}{self.eigenvalue.imag:+.6g}j has real part >= 0, "
            "so there is no steady state"
        )
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class StepTooLargeError(ValueError):
    """An explicit integrator was asked for a step beyond its stability bound."""


class UnphysicalStateError(ValueError):
    """A covariance that should be a quantum state violates σ + iΩ/2 ≥ 0 beyond round-off
    (for a steady state: the system is too close to an instability for a trustworthy
    solution). Reported as such (CLI exit status 3), never as numbers."""
