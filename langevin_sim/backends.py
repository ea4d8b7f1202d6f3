"""Where chunks run. A backend maps chunk tasks to moments; nothing above it knows which.

:class:`LocalBackend` uses threads on this machine (the numba kernel releases the GIL).
:class:`DaskBackend` (optional ``[distributed]`` extra) sends the same chunk tasks to a Dask
cluster. Both return ``{chunk index: Moments}``; the caller pools them in index order.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait

from ._progress import tqdm

CONNECT_TIMEOUT = 10
"""Seconds to wait for a Dask scheduler given by address."""


class BackendUnavailableError(ImportError):
    """A backend's optional dependency is not installed."""


class Backend:
    """Interface: ``run_chunks(plan, sizes, seeds, progress, sink) -> {index: Moments}``.

    Chunk ``i`` must be run with ``seeds[i]``; a backend may return fewer chunks than asked
    for only when interrupted (Ctrl-C), and then returns every chunk that did finish. With a
    ``sink``, each finished chunk is handed to ``sink(i, moments)`` as it arrives and not kept
    (memory independent of the number of chunks); the return value is then empty.
    """

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Release resources (clusters, clients); a no-op for local threads."""

    def run_chunks(self, plan, sizes, seeds, progress=False, sink=None) -> dict:
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

    def run_chunks(self, plan, sizes, seeds, progress=False, sink=None) -> dict:
        from .ensemble import run_chunk

        done: dict = {}
        take = sink if sink is not None else done.__setitem__
        bar = tqdm(total=len(sizes), disable=not progress, unit="chunk", desc="ensemble")
        pool = ThreadPoolExecutor(self.n_threads)
        # submitted a window at a time, and each result handed on and dropped at once: memory
        # does not grow with the number of chunks
        jobs = iter(enumerate(zip(sizes, seeds)))
        futures: dict = {}

        def submit(k):
            for i, (n, s) in jobs:
                futures[pool.submit(run_chunk, plan, int(n), s)] = i
                k -= 1
                if k == 0:
                    break

        submit(4 * self.n_threads)
        try:
            while futures:
                finished, _ = wait(set(futures), timeout=0.2, return_when=FIRST_COMPLETED)
                for f in finished:
                    take(futures.pop(f), f.result())
                    bar.update(1)
                submit(len(finished))
        except KeyboardInterrupt:
            # queued chunks are dropped; chunks already inside the kernel cannot be stopped,
            # so wait for them and keep them
            pool.shutdown(wait=True, cancel_futures=True)
            for f, i in list(futures.items()):
                if f.done() and not f.cancelled() and f.exception() is None:
                    take(i, f.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
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
    chunk_runner : callable, optional
        Replaces :func:`~langevin_sim.ensemble.run_chunk` (same signature); for
        instrumentation and fault-injection tests.
    """

    def __init__(self, address: str | None = None, n_workers: int | None = None, *,
                 client=None, retries: int = 2, chunk_runner=None):
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
                self._cluster = distributed.LocalCluster(
                    n_workers=n_workers or _default_threads(), threads_per_worker=1,
                    processes=True, dashboard_address=":0")
                client = distributed.Client(self._cluster)
            else:
                try:
                    client = distributed.Client(address, timeout=f"{CONNECT_TIMEOUT}s")
                except (OSError, TimeoutError) as exc:
                    raise BackendUnavailableError(
                        f"cannot reach the Dask scheduler at {address!r} within "
                        f"{CONNECT_TIMEOUT} s ({type(exc).__name__})") from None
        self.client = client
        self.retries = retries
        self.chunk_runner = chunk_runner

    def describe(self) -> str:
        n = len(self.client.scheduler_info().get("workers", {}))
        return f"dask({self.client.scheduler.address}, {n} workers)"

    def close(self) -> None:
        if self._own:
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()

    def run_chunks(self, plan, sizes, seeds, progress=False, sink=None) -> dict:
        import uuid

        from .ensemble import run_chunk

        runner = self.chunk_runner or run_chunk
        run_id = uuid.uuid4().hex[:12]
        plan_future = self.client.scatter(plan, broadcast=True)
        futures = {
            self.client.submit(runner, plan_future, int(n), s, key=f"chunk-{run_id}-{i}",
                               retries=self.retries, pure=False): i
            for i, (n, s) in enumerate(zip(sizes, seeds))}
        done: dict = {}
        take = sink if sink is not None else done.__setitem__
        bar = tqdm(total=len(futures), disable=not progress, unit="chunk", desc="ensemble")
        try:
            for fut in self._distributed.as_completed(list(futures)):
                i = futures.pop(fut)
                take(i, fut.result())
                fut.release()
                bar.update(1)
        except KeyboardInterrupt:
            for fut, i in list(futures.items()):  # those not handed on yet
                if fut.status == "finished":
                    take(i, fut.result())
            self.client.cancel([f for f in futures if f.status != "finished"])
        finally:
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
