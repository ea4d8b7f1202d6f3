"""Sub-commands that run trajectory ensembles (registered into :mod:`langevin_sim.cli`)."""
