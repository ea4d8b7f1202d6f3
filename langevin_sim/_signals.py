"""Interrupts (Ctrl-C, SIGTERM) handled once, at safe points, and never half-handled.

* While chunks run (:func:`deferred_interrupts`), an interrupt only sets :data:`stop`; the
  backend sees it at its next poll, stops submitting, keeps the chunks that finish and returns
  them. A ``KeyboardInterrupt`` raised at an arbitrary point of the main thread could land
  inside ``concurrent.futures.wait`` with some futures' locks taken and never released, and
  the worker threads would then block for good in ``Future.set_result``.
* Under the command line (:func:`install_cli_handlers`) SIGTERM is an interrupt too; the first
  interrupt outside a run raises ``KeyboardInterrupt``, and every further one is ignored, so
  that the partial result is printed and written whole. (SIGKILL still ends the process; the
  atomic writes of :mod:`langevin_sim.io` then leave the previous file or none.)
* :func:`checkpoint` sends this process a signal at a named event when the environment variable
  ``LANGEVIN_SIM_TEST_SIGNALS`` asks for it (tests only: an interrupt after the k-th finished
  chunk, during a write, ...; never after a timer, so no outcome depends on the machine's
  speed).
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager

TEST_SIGNALS_ENV = "LANGEVIN_SIM_TEST_SIGNALS"
"""``"SIGINT@chunk:3,SIGTERM@write"``: send that signal to this process at that event. Events:
``start`` (a run about to start its chunks), ``chunk:K`` (the K-th chunk of a run handed on),
``submitted`` (a Dask run's tasks all submitted), ``measures`` (before a command's measures),
``write`` (a complete temporary file about to be renamed), ``startup`` (the command-line
handlers installed), ``chunks:K`` (the K-th chunk handed on by any run of the process, counted
from :func:`install_cli_handlers`)."""

stop = threading.Event()
"""Set by an interrupt while chunks run; backends poll it."""

_state = {"count": 0, "deferring": False}


def interrupts() -> int:
    """Interrupts received since the command line's handlers were installed."""
    return _state["count"]


def _cli_handler(signum, frame):
    _state["count"] += 1
    if _state["deferring"]:
        stop.set()
        return
    if _state["count"] > 1:
        return  # already stopping: what finished is being printed and written
    stop.set()
    raise KeyboardInterrupt


def install_cli_handlers():
    """SIGINT and SIGTERM as interrupts, for one command; returns what :func:`restore` needs
    (``None`` outside the main thread, where Python cannot handle signals)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    _state["count"] = 0
    _state["deferring"] = False
    _chunks_handed_on[0] = 0
    stop.clear()
    previous = (signal.signal(signal.SIGINT, _cli_handler),
                signal.signal(signal.SIGTERM, _cli_handler))
    return previous


def restore(previous) -> None:
    """Put back the handlers :func:`install_cli_handlers` replaced; the command is over."""
    _state["count"] = 0
    stop.clear()
    if previous is not None:
        for signum, handler in zip((signal.SIGINT, signal.SIGTERM), previous):
            # the command line's process ends right after: not "interrupted during start-up"
            signal.signal(signum, signal.SIG_IGN if getattr(handler, "startup", False)
                          else handler)


@contextmanager
def deferred_interrupts():
    """While the body runs, an interrupt sets :data:`stop` instead of raising.

    Under the command-line handlers the count of interrupts carries over (a command stopped
    once runs no further ensemble: :data:`stop` stays set). Elsewhere (the Python API, a
    notebook) SIGINT is deferred for the body only and :data:`stop` starts cleared.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGINT) is _cli_handler:
        _state["deferring"] = True
        try:
            yield
        finally:
            _state["deferring"] = False
        return
    stop.clear()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def sigint_ignored():
    """SIGINT ignored while the body runs (main thread only): processes started meanwhile
    inherit the ignored disposition, and Python keeps an inherited ignored SIGINT ignored, so a
    local Dask cluster's worker processes never see a terminal's Ctrl-C (which reaches the
    whole process group) while they start. A Ctrl-C to this process meanwhile is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


_chunks_handed_on = [0]


def count_chunk() -> int:
    """One more chunk handed on in this process; returns how many so far (the ``chunks:K``
    test event, across the runs of a command: e.g. the second spot check of ``figures``)."""
    _chunks_handed_on[0] += 1
    return _chunks_handed_on[0]


def checkpoint(event: str) -> None:
    """Tests only: send the signals that ``LANGEVIN_SIM_TEST_SIGNALS`` names for ``event``."""
    spec = os.environ.get(TEST_SIGNALS_ENV)
    if not spec:
        return
    for item in spec.split(","):
        name, _, at = item.strip().partition("@")
        if at == event:
            os.kill(os.getpid(), getattr(signal, name))


def startup_guard() -> None:
    """Until the command line's own handlers are installed, SIGINT and SIGTERM end the process
    at once with one line and status 130 (nothing has run, so nothing is lost). Installed by
    the package's ``__init__`` only when the process is the ``langevin-sim`` command."""

    def handler(signum, frame):
        os.write(2, b"langevin-sim: interrupted during start-up; nothing was run\n")
        os._exit(130)

    handler.startup = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    checkpoint("startup")


def is_command_line() -> bool:
    """Whether this process is the ``langevin-sim`` command (or ``python -m langevin_sim``).

    Decided from the interpreter's own command line (``sys.orig_argv``), which a worker
    process started by ``multiprocessing`` with "spawn" does not share, although it inherits
    ``sys.argv``: workers keep Python's own signal handling.
    """
    import sys

    argv = list(getattr(sys, "orig_argv", None) or [])
    if any(os.path.basename(a) == "langevin-sim" for a in argv[1:2]):
        return True
    return "-m" in argv and argv[argv.index("-m") + 1:argv.index("-m") + 2] == ["langevin_sim"]
