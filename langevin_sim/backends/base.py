"""The backend interface: a generic map of tasks, and what every backend shares (the
chunk counter of the test checkpoints, the error for a missing optional dependency)."""

from __future__ import annotations

import os

from .. import _signals


def _identity(x):
    return x


def _counting(take):
    """``take(i, moments)``, then the test checkpoints ``chunk:K`` (K chunks of this run
    handed on) and ``chunks:K`` (K chunks of every run of the process)."""
    n = [0]

    def counted(i, moments):
        take(i, moments)
        n[0] += 1
        _signals.checkpoint(f"chunk:{n[0]}")
        _signals.checkpoint(f"chunks:{_signals.count_chunk()}")

    return counted


class BackendUnavailableError(ImportError):
    """A backend's optional dependency is not installed."""


class Backend:
    """A generic map: it runs tasks and hands their results on, and knows nothing of what they
    compute (it imports nothing of the engine).

    ``map_tasks(func, shared, args, sink, order, progress, desc, unit) -> {i: result}`` runs
    ``func(shared, *args[i])`` for every ``i < len(args)``; ``shared`` (an ensemble's plan) is
    sent to the workers once, ``args`` is any indexable sequence (a lazy one is never
    materialised), ``order`` (default: index order) is the order in which tasks start. A
    backend returns fewer results than asked for only when interrupted (Ctrl-C, or SIGTERM
    under the command line), and then returns every task that did finish: the interrupt only
    sets :data:`langevin_sim._signals.stop`, which the backend polls (no
    ``KeyboardInterrupt`` inside its waits, so nothing can hang). With a ``sink``, each
    result is handed to ``sink(i, result)`` as it arrives and not kept (memory independent of
    the number of tasks); the return value is then empty. ``map(func, items)`` is the plain
    form (sweep blocks), results in item order.
    """

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Release resources (clusters, clients); a no-op for local threads."""

    def map_tasks(self, func, shared, args, sink=None, order=None, progress=False,
                  desc="tasks", unit="task") -> dict:
        raise NotImplementedError

    def map(self, func, items, progress=False, desc="") -> list:
        """Apply ``func`` to each item, returning results in item order."""
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__


def _default_threads() -> int:
    try:  # the cores this process may use (Linux); all of them elsewhere
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()
