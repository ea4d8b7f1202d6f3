"""Analyses: what a user asks of a model, each returning a report (frozen dataclass) that the
command line (:mod:`langevin_sim.cli`) prints.

:mod:`.steady` (the analytic steady state), :mod:`.validate` (sampled statistics against the
exact ones), :mod:`.relax` (relaxation from an initial state), :mod:`.evolve` (any model
evolved from its initial state), :mod:`.onsets` (when a measure first crosses its threshold),
:mod:`.switch_on` (the drive switched on: references, limit cycle, report), :mod:`.sweep`
(parameter maps), :mod:`.figures` (the paper's figures), :mod:`.detect` (the read-out
scheme), :mod:`.spectra` (noise spectra).

The package imports none of them: each is imported where it is used (the command line starts
faster, and no analysis pulls in another it does not need).
"""
