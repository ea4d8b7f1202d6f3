"""Files: every ``.npz`` and JSON the package writes or reads, whole or not at all.

Writing: every file the package writes (``.npz``, ``.json``, ``.png``) goes through
:func:`atomic_write` (below); results are ``.npz`` archives of arrays with their metadata as
JSON text (:func:`write_npz`), read back by :func:`read_npz` (one line naming the file and what
is wrong for anything that is not such an archive); JSON of results turns numpy arrays and
scalars into lists and numbers and non-finite numbers into null (:func:`dumps`).

Atomic writes: the bytes go to a temporary file in the target's own directory, which is
flushed, synced and then renamed over the target (``os.replace``, atomic on POSIX). A process
killed at any moment (SIGKILL, a full disk, a second Ctrl-C) leaves the previous file or none,
never a truncated file that looks valid; two runs writing the same file each write it
completely (the last rename wins). A run that writes several files into one ``--output``
directory holds an exclusive lock on it (:func:`lock_directory`), so a second run into the same
directory refuses with one line instead of mixing its files with the first one's.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from ._signals import checkpoint


class OutputError(OSError):
    """An output file could not be written (disk full, file too large, permissions). The
    message names the file and says that the previous file, if any, is kept."""


class OutputBusyError(OSError):
    """Another run holds the lock on an output directory."""


_written: list[str] = []
"""Files completed by this process since :func:`forget_written` (what an interrupted command
reports as saved)."""

_locks: dict[str, int] = {}
"""Output directories locked by this process: real path → open descriptor holding the flock."""


def atomic_write(path, write, binary: bool = True) -> str:
    """Write a file through a temporary sibling and a rename.

    Parameters
    ----------
    path : str or os.PathLike
        The file to (re)place.
    write : callable
        ``write(f)`` writes the whole content to the open file object ``f`` (binary, or text
        in UTF-8 with ``binary=False``).

    Returns
    -------
    str
        ``path``, once it holds the complete new content.

    Raises
    ------
    OutputError
        The file could not be written; the temporary file is removed and the previous file,
        if any, is untouched.
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{base}.", suffix=".part")
    except OSError as exc:
        raise OutputError(_message(path, exc)) from None
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else
                                                        {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the data reach the disk before the name does
        os.chmod(tmp, _file_mode(path))
        checkpoint("write")  # tests: a signal between the complete temporary file and the rename
        os.replace(tmp, path)
    except BaseException as exc:  # including KeyboardInterrupt: never leave the .part behind
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(_message(path, exc)) from None
        raise
    _written.append(path)
    return path


def write_text(path, text: str) -> str:
    """:func:`atomic_write` of a text (UTF-8)."""
    return atomic_write(path, lambda f: f.write(text), binary=False)


def save_npz(path, **arrays) -> str:
    """``numpy.savez_compressed`` through :func:`atomic_write`; like numpy, appends ``.npz``
    to a name without it. Returns the name written."""
    if not isinstance(path, (str, bytes, os.PathLike)):  # an open file: the caller owns it
        np.savez_compressed(path, **arrays)
        return path
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    return atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def write_npz(path, arrays: dict, metadata: dict) -> str:
    """A result's ``.npz``: its ``arrays`` and ``metadata`` (JSON text in an array named
    ``metadata``), written by :func:`save_npz`. Returns the name written."""
    return save_npz(path, metadata=np.array(dumps(metadata, indent=None)), **arrays)


def read_npz(path, required=(), expected: str = "") -> tuple[dict, dict | None]:
    """``(arrays, metadata)`` of an ``.npz`` archive: every array but ``metadata``, and the
    ``metadata`` JSON parsed (None if the archive has none).

    ``FileNotFoundError`` if there is no such file. ``ValueError`` in one line naming the file,
    what is wrong and then ``expected`` (what the caller expected), for anything else: not an
    archive (a text file, other data), a single ``.npy``, a corrupted archive, an array of
    ``required`` missing (a save that did not finish), an object array, metadata that is not
    JSON.
    """
    import zipfile

    def bad(what):
        return ValueError(f"{path}: {what}" + (f"; {expected}" if expected else ""))

    try:
        f = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except ValueError:  # neither a zip nor an .npy: numpy takes it for a pickle
        raise bad("not a readable .npz archive (a text file or other data)") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise bad(f"not a readable .npz archive: a corrupted .npz archive "
                  f"({type(exc).__name__})") from None
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise bad("a single .npy array, not an .npz archive")
    with f:
        missing = [k for k in required if k not in f]
        if missing:
            raise bad(f"no {', '.join(repr(k) for k in missing)} array(s)")
        try:
            arrays = {k: f[k] for k in f.files}
        except ValueError:  # numpy refuses an object array without pickle
            raise bad("holds an object array; its arrays must be arrays of numbers") from None
        except (OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise bad(f"a corrupted .npz archive ({type(exc).__name__})") from None
    metadata = None
    if "metadata" in arrays:
        try:
            metadata = json.loads(str(arrays.pop("metadata")))
        except ValueError as exc:
            raise bad(f"its metadata is not JSON ({type(exc).__name__})") from None
    return arrays, metadata


def read_json(path, expected: str = ""):
    """The JSON value of a text file; ``ValueError`` in one line naming the file (then
    ``expected``) if it cannot be read or is not JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON file ({type(exc).__name__})"
                         + (f"; {expected}" if expected else "")) from None


def save_figure(fig, path) -> str:
    """``fig.savefig`` through :func:`atomic_write`, in the format of the file's extension."""
    if not isinstance(path, (str, bytes, os.PathLike)):  # an open file: the caller owns it
        fig.savefig(path)
        return path
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lstrip(".").lower() or None
    return atomic_write(path, lambda f: fig.savefig(f, format=ext))


def written() -> list[str]:
    """Files completed since the last :func:`forget_written`, in order."""
    return list(_written)


def forget_written() -> None:
    _written.clear()


def lock_directory(path) -> None:
    """Hold an exclusive lock on an output directory until :func:`release_locks` (or the end
    of the process, however it ends: the kernel drops the lock of a killed process).

    Raises
    ------
    OutputBusyError
        Another process (or another command in this one) holds it.
    """
    import fcntl

    key = os.path.realpath(path)
    if key in _locks:
        return
    fd = os.open(key, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputBusyError(f"--output {os.fspath(path)!r} is being written by another "
                              "langevin-sim run; wait for it to finish or choose another "
                              "directory") from None
    except OSError:  # a file system without locks: atomic files still keep each one whole
        os.close(fd)
        return
    _locks[key] = fd


def release_locks() -> None:
    """Release every output-directory lock this process holds."""
    while _locks:
        _, fd = _locks.popitem()
        os.close(fd)  # closing the descriptor drops its flock


def _file_mode(path: str) -> int:
    """The mode the file would get if opened plainly: the existing file's, else 0666 minus
    the umask (mkstemp creates 0600)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _message(path: str, exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot write {path!r}: {reason} (nothing written; a previous file is kept)"


# JSON for results: numpy arrays and scalars as plain lists and numbers, non-finite as null.
def jsonable(obj):
    """A copy of ``obj`` made of dicts, lists, str, bool, int, float and None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    return obj


def dumps(obj, indent: int | None = 2) -> str:
    """``json.dumps`` of :func:`jsonable` (strict JSON: NaN and inf become null)."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def package_version() -> str:
    """The installed package's version (``importlib.metadata``, as ``pyproject.toml`` declares
    it), written into results and shown by ``langevin-sim --version``; ``"unknown"`` for a
    checkout that was never installed. Read when asked (it takes ~50 ms), not at import."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("langevin_sim")
    except PackageNotFoundError:
        return "unknown"
