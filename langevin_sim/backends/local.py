"""Threads (ensemble chunks) and processes (sweep blocks) on this machine."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait

from .. import _signals
from .base import Backend, _counting, _default_threads
from .progress import tqdm


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
