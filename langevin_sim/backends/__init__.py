"""Where chunks run. A backend maps chunk tasks to moments; nothing above it knows which.

:class:`LocalBackend` uses threads on this machine (the numba kernel releases the GIL).
:class:`DaskBackend` (optional ``[distributed]`` extra) sends the same chunk tasks to a Dask
cluster. Both return ``{chunk index: Moments}``; the caller pools them in index order.

Layout: :mod:`.base` (the interface), :mod:`.local`, :mod:`.dask`, :mod:`.progress` (progress
bars).
"""

from .base import Backend, BackendUnavailableError
from .dask import CONNECT_TIMEOUT, DaskBackend
from .local import LocalBackend

__all__ = ["CONNECT_TIMEOUT", "Backend", "BackendUnavailableError", "DaskBackend",
           "LocalBackend"]
