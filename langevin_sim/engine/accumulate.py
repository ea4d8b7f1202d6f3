"""Streaming accumulation of chunk moments into fixed groups (the jackknife's groups)."""

from __future__ import annotations

import numpy as np

from ..statistics import Moments
from .chunks import JACKKNIFE_GROUPS


class GroupAccumulator:
    """Merges chunk moments, as they arrive in any order, into fixed groups of consecutive
    chunks, each group strictly in chunk-index order (a chunk waits until its predecessor in
    the group has been merged), so the bits do not depend on the completion order.

    Groups are contiguous ranges of chunk indices (``n_groups`` of them, or one per chunk if
    there are fewer chunks); memory holds the groups plus the few chunks that arrived early.
    """

    def __init__(self, n_chunks: int, n_groups: int | None = JACKKNIFE_GROUPS):
        g = n_chunks if n_groups is None else min(int(n_groups), n_chunks)
        self.edges = np.linspace(0, n_chunks, g + 1).round().astype(np.int64)
        self.next = self.edges[:-1].copy()
        self.acc: list = [None] * g
        self.waiting: dict = {}
        self.n_done = 0

    def start_order(self) -> np.ndarray:
        """Chunk indices round-robin over the groups: the first chunk of each group, then the
        second of each, ... (within a group still in index order, so early chunks do not
        wait long for their predecessors)."""
        starts, lengths = self.edges[:-1], np.diff(self.edges)
        j = np.arange(int(lengths.max()) if lengths.size else 0)
        idx = starts[None, :] + j[:, None]  # (position in group, group)
        return idx[j[:, None] < lengths[None, :]]

    def add(self, index: int, moments: Moments) -> None:
        self.waiting[int(index)] = moments
        self.n_done += 1
        g = int(np.searchsorted(self.edges, index, side="right") - 1)
        while self.next[g] in self.waiting:
            self._merge(g, self.waiting.pop(int(self.next[g])))
            self.next[g] += 1

    def _merge(self, g, m):
        self.acc[g] = m if self.acc[g] is None else self.acc[g].merge(m)

    def groups(self) -> Moments:
        """The non-empty groups, stacked (an interrupted run's stragglers merged in index
        order into their groups)."""
        for i in sorted(self.waiting):
            self._merge(int(np.searchsorted(self.edges, i, side="right") - 1), self.waiting[i])
        self.waiting.clear()
        full = [m for m in self.acc if m is not None]
        return Moments(np.stack([m.count for m in full]), np.stack([m.mean for m in full]),
                       np.stack([m.m2 for m in full]))


