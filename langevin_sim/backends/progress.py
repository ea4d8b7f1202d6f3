"""Progress bars: notebook widgets inside Jupyter (``tqdm.auto``), plain text bars elsewhere
(``tqdm.std``, which does not import asyncio: 10–15 ms of every command's start-up)."""

import sys

if "ipykernel" in sys.modules:
    from tqdm.auto import tqdm
else:
    from tqdm.std import tqdm

__all__ = ["tqdm"]
