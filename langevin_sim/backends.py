"""Where chunks run. A backend maps chunk tasks to moments; nothing above it knows which.

:class:`LocalBackend` uses threads on this machine (the numba kernel releases the GIL).
:class:`DaskBackend` (optional ``[distributed]`` extra) sends the same chunk tasks to a Dask
cluster. Both return ``{chunk index: Moments}``; the caller pools them in index order.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait

from tqdm.auto import tqdm


class Backend:
    """Interface: ``run_chunks(plan, sizes, seeds, progress) -> {index: Moments}``."""

    def run_chunks(self, plan, sizes, seeds, progress=False) -> dict:
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

    def run_chunks(self, plan, sizes, seeds, progress=False) -> dict:
        from .ensemble import run_chunk

        done: dict = {}
        bar = tqdm(total=len(sizes), disable=not progress, unit="chunk", desc="ensemble")
        pool = ThreadPoolExecutor(self.n_threads)
        futures = {pool.submit(run_chunk, plan, int(n), s): i
                   for i, (n, s) in enumerate(zip(sizes, seeds))}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for f in finished:
                    done[futures[f]] = f.result()
                    bar.update(1)
        except KeyboardInterrupt:
            for f in pending:
                f.cancel()
            # chunks already inside the kernel finish quickly; keep what is complete
            for f in futures:
                if f.done() and not f.cancelled() and f.exception() is None:
                    done[futures[f]] = f.result()
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
