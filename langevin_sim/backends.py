"""Where chunks run. A backend maps chunk tasks to moments; nothing above it knows which.

:class:`LocalBackend` uses threads on this machine (the numba kernel releases the GIL).
:class:`DaskBackend` (optional ``[distributed]`` extra) sends the same chunk tasks to a Dask
cluster. Both return ``{chunk index: Moments}``; the caller pools them in index order.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait

from . import _signals
from ._progress import tqdm

CONNECT_TIMEOUT = 10
"""Seconds to wait for a Dask scheduler given by address."""


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
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


class LocalBackend(Backend):
    """Threads on this machine.

    Parameters
    ----------
    n_threads : int, optional
        Number of workers (default: every available core): threads for ensemble chunks (the
        numba kernel releases the GIL), processes for :meth:`map` (sweep blocks).
    """

    def __init__(self, n_threads: int | None = None):
        if n_threads is not None and (isinstance(n_threads, bool) or
                                      not isinstance(n_threads, int) or n_threads < 1):
            raise ValueError(f"n_threads must be an integer >= 1, got {n_threads!r}")
        self.n_threads = n_threads or _default_threads()

    def describe(self) -> str:
        return f"local({self.n_threads} threads)"

    def map_tasks(self, func, shared, args, sink=None, order=None, progress=False,
                  desc="tasks", unit="task") -> dict:
        done: dict = {}
        take = _counting(sink if sink is not None else done.__setitem__)
        bar = tqdm(total=len(args), disable=not progress, unit=unit, desc=desc)
        # submitted a window at a time, and each result handed on and dropped at once: memory
        # does not grow with the number of tasks
        jobs = iter(range(len(args)) if order is None else order)
        futures: dict = {}
        with _signals.deferred_interrupts(), ThreadPoolExecutor(self.n_threads) as pool:

            def submit(k):
                if k <= 0:
                    return
                for i in jobs:
                    futures[pool.submit(func, shared, *args[i])] = i
                    k -= 1
                    if k == 0:
                        break

            try:
                _signals.checkpoint("start")
                submit(0 if _signals.stop.is_set() else 4 * self.n_threads)
                while futures and not _signals.stop.is_set():
                    finished, _ = wait(set(futures), timeout=0.1, return_when=FIRST_COMPLETED)
                    for f in finished:
                        take(futures.pop(f), f.result())
                        bar.update(1)
                    if not _signals.stop.is_set():
                        submit(len(finished))
                if futures:  # interrupted: queued chunks dropped, running ones kept
                    for f in futures:
                        f.cancel()
                    wait(set(futures))
                    for f, i in sorted(futures.items(), key=lambda fi: fi[1]):
                        if not f.cancelled() and f.exception() is None:
                            take(i, f.result())
            finally:
                for f in futures:  # an error: nothing more starts; the pool waits for the rest
                    f.cancel()
                bar.close()
        return done

    def map(self, func, items, progress=False, desc=""):
        """Python-level tasks (sweep blocks) hold the GIL, so they run in worker processes,
        one per slot; with one slot they run here. ``fork`` is used where available, so user
        scripts need no ``if __name__ == "__main__"`` guard."""
        items = list(items)
        if self.n_threads == 1 or len(items) == 1:
            return [func(it) for it in tqdm(items, disable=not progress, desc=desc)]
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(min(self.n_threads, len(items)), mp_context=ctx) as pool:
            return list(tqdm(pool.map(func, items), total=len(items), disable=not progress,
                             desc=desc))


_MAX_HANDSHAKE_BYTES = 1 << 24
"""A Dask handshake frame is a few hundred bytes; a length header beyond this is not one."""


def _probe_scheduler(address: str, timeout: float) -> None:
    """Check, within ``timeout`` seconds in all, that a ``tcp://`` address answers as a Dask
    scheduler does: a scheduler writes its handshake (an 8-byte little-endian length, then a
    small frame) as soon as a connection is accepted, before reading anything. ``distributed``
    itself bounds only the connect, then waits without end for that handshake (a listener
    that never answers), or reads ``b"HTTP/1.1"`` from a web server as a length of 3.5e18
    bytes and tries to allocate it. Other schemes (``tls://``, ``ws://``) are left to
    ``distributed``. ``BackendUnavailableError`` (one line) otherwise.
    """
    import socket
    import time

    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme != "tcp":
            return
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise BackendUnavailableError(f"not a Dask scheduler address: {address!r} "
                                      f"({exc})") from None
    deadline = time.monotonic() + timeout
    head, connected = b"", False
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            connected = True
            while len(head) < 8:
                sock.settimeout(max(1e-3, deadline - time.monotonic()))
                part = sock.recv(8 - len(head))
                if not part:
                    raise ConnectionError("the connection was closed before any handshake")
                head += part
    except TimeoutError:
        what = "no Dask handshake" if connected else "no connection"
        raise BackendUnavailableError(
            f"cannot reach the Dask scheduler at {address!r} within {timeout} s ({what}: is "
            "it a scheduler's port, not a dashboard or another service?)") from None
    except OSError as exc:
        raise BackendUnavailableError(f"cannot reach the Dask scheduler at {address!r} "
                                      f"within {timeout} s ({type(exc).__name__})") from None
    if int.from_bytes(head, "little") > _MAX_HANDSHAKE_BYTES:
        kind = "an HTTP server" if head.startswith(b"HTTP") else "not a Dask scheduler"
        raise BackendUnavailableError(f"{address!r} answers, but as {kind} (first bytes "
                                      f"{head!r}): give the scheduler's port (8786 by default)")


def _ignore_sigint_plugin():
    from distributed import WorkerPlugin

    class IgnoreSigint(WorkerPlugin):
        """Run by each worker of a LocalCluster started here, in its main thread."""

        name = "langevin-sim-ignore-sigint"

        def setup(self, worker):
            import signal
            import threading

            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)

    return IgnoreSigint


class DaskBackend(Backend):
    """Chunks and sweep blocks on a Dask cluster (``pip install 'langevin_sim[distributed]'``).

    Each chunk is one task carrying its own ``SeedSequence`` child; workers return only the
    chunk's moments, and the client pools them in chunk order, so results are bit-identical to
    the local backend for the same seed, whatever the number of workers. A worker that dies
    has its tasks recomputed by the scheduler (same seed, same bits); tasks that raise are
    retried ``retries`` times.

    Parameters
    ----------
    address : str, optional
        Scheduler address (``tcp://host:8786``). Without it a ``distributed.LocalCluster``
        with worker processes is started on this machine (and closed by :meth:`close`).
    n_workers : int, optional
        Worker processes of that LocalCluster (default: every core), one thread each.
    client : distributed.Client, optional
        Use an existing client instead (not closed by :meth:`close`).
    retries : int
        Retries of a task that raised an exception.
    task_runner : callable, optional
        Replaces the ``func`` of every :meth:`map_tasks` (same signature); for
        instrumentation and fault-injection tests.
    """

    def __init__(self, address: str | None = None, n_workers: int | None = None, *,
                 client=None, retries: int = 2, task_runner=None):
        try:
            import distributed
        except ImportError:
            raise BackendUnavailableError(
                "the dask backend needs the optional dependency 'distributed': "
                "pip install 'langevin_sim[distributed]'") from None
        self._distributed = distributed
        self._own = client is None
        self._cluster = None
        if client is None:
            if address is None:
                # a terminal's Ctrl-C reaches the whole process group, these workers included:
                # the interrupt is the client's to handle (stop, keep the finished chunks,
                # close the cluster), so they ignore it, from their start (an inherited
                # disposition) and after a restart (a worker plugin)
                with _signals.sigint_ignored():
                    self._cluster = distributed.LocalCluster(
                        n_workers=n_workers or _default_threads(), threads_per_worker=1,
                        processes=True, dashboard_address=":0")
                client = distributed.Client(self._cluster)
                client.register_plugin(_ignore_sigint_plugin()())
            else:
                _probe_scheduler(address, CONNECT_TIMEOUT)
                try:
                    client = distributed.Client(address, timeout=f"{CONNECT_TIMEOUT}s")
                except (OSError, TimeoutError) as exc:
                    raise BackendUnavailableError(
                        f"cannot reach the Dask scheduler at {address!r} within "
                        f"{CONNECT_TIMEOUT} s ({type(exc).__name__})") from None
        self.client = client
        self.retries = retries
        self.task_runner = task_runner

    def describe(self) -> str:
        n = len(self.client.scheduler_info().get("workers", {}))
        return f"dask({self.client.scheduler.address}, {n} workers)"

    def close(self) -> None:
        if self._own:
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()

    def map_tasks(self, func, shared, args, sink=None, order=None, progress=False,
                  desc="tasks", unit="task") -> dict:
        import uuid
        import warnings

        runner = self.task_runner or func
        run_id = uuid.uuid4().hex[:12]
        done: dict = {}
        take = _counting(sink if sink is not None else done.__setitem__)
        bar = tqdm(total=len(args), disable=not progress, unit=unit, desc=desc)
        futures: dict = {}
        stop = _signals.stop
        with _signals.deferred_interrupts():
            try:
                # the plan travels inside a task of its own, not scattered: if the worker
                # holding it dies the scheduler recomputes it from the task, where scattered
                # data would be lost for good ("lost scattered data") with every chunk needing it
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*[Ll]arge.*")
                    plan_future = self.client.submit(_identity, shared, key=f"plan-{run_id}",
                                                     pure=False)
                _signals.checkpoint("start")
                todo = list(range(len(args)) if order is None else order)
                for a in range(0, len(todo), 256):  # in batches: fast, and stoppable between
                    if stop.is_set():
                        break
                    batch = todo[a:a + 256]
                    columns = list(zip(*(args[i] for i in batch)))
                    submitted = self.client.map(
                        runner, [plan_future] * len(batch), *columns,
                        key=[f"task-{run_id}-{i}" for i in batch], retries=self.retries,
                        pure=False)
                    futures.update(zip(submitted, batch))
                _signals.checkpoint("submitted")
                pending = self._distributed.as_completed(list(futures))
                while futures and not stop.is_set():
                    batch = pending.next_batch(block=False)
                    if not batch:
                        stop.wait(0.05)
                    for fut, moments in zip(batch, self.client.gather(batch)):  # one trip
                        take(futures.pop(fut), moments)
                        fut.release()
                        bar.update(1)
                if futures:  # interrupted: keep what finished, cancel the rest
                    pending.clear()
                    finished = sorted((i, fut) for fut, i in futures.items()
                                      if fut.status == "finished")
                    for (i, _), moments in zip(finished, self.client.gather(
                            [fut for _, fut in finished])):
                        take(i, moments)
            finally:
                if futures:
                    self.client.cancel(list(futures))
                if "plan_future" in locals():
                    plan_future.release()
                bar.close()
        return done

    def map(self, func, items, progress=False, desc=""):
        items = list(items)
        futures = self.client.map(func, items, retries=self.retries, pure=False)
        bar = tqdm(total=len(futures), disable=not progress, desc=desc)
        for _ in self._distributed.as_completed(futures):
            bar.update(1)
        bar.close()
        return self.client.gather(futures)
