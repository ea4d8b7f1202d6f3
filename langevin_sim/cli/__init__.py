"""The command line ``langevin-sim``: a thin layer over the Python API that renders its reports.

:mod:`.main` (the parser, the explicit list of commands, exit statuses), :mod:`.options` (number
types, the model, observable, ensemble and backend argument groups, the model loader),
:mod:`.output` (output paths, JSON, text helpers), and one module per command.
"""

from .main import main, run

__all__ = ["main", "run"]
