"""Chunks and sweep blocks on a Dask cluster (optional ``[distributed]`` extra)."""

from __future__ import annotations

from .. import _signals
from .base import Backend, BackendUnavailableError, _counting, _default_threads, _identity
from .progress import tqdm

CONNECT_TIMEOUT = 10
"""Seconds to wait for a Dask scheduler given by address."""


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
