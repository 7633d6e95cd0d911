"""Where intermediate pairs travel between map and reduce: through files, or in memory.

Through files (the disk shuffle), each map task writes one file per
partition into the run's folder and sends back only the paths; each reduce
task reads its own files, as the paper's reducers fetch their partitions
from the mappers' local disks.  The driver passes paths, never the data.
That is the shuffle of every process backend whose workers share this
machine's disk.  In memory, each map task sends its buckets back to the
driver, which hands bucket r of every map task to reduce task r: the shuffle
of the sequential and threads backends (nothing is pickled; the pairs are
handed over as they are), and of dask on a remote cluster, where no shared
disk can be assumed (each bucket is pickled once, by its map task).  A run
of the sequential or threads backend on a large input shuffles through
files too, to keep the driver's memory bounded.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import io
import itertools
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

from backends.folders import run_folder
from mapreduce.errors import MapReduceError
from mapreduce.partition import mixed_keys

Pair = tuple[Any, Any]
Spilled = list[Pair] | bytes | str
"""A partition's pairs: as they are, pickled, or the path of a file holding them."""

MODES = ("auto", "memory", "disk")
DISK_ABOVE = 64_000_000
"""``auto`` shuffles a run whose backend pickles nothing through files from this many bytes."""
CHUNK = 2_000
"""Pairs pickled together in a file: a merge of many files holds one chunk of each."""


FOLDER_PREFIX = "mapreduce-run-"
"""A run's folder (its shuffle files, sort runs and output parts) is
``FOLDER_PREFIX<pid of the run>-<random>`` under TMPDIR."""


def make_folder() -> str:
    """A new folder for a run's files, after removing those left by runs that died."""
    return run_folder(FOLDER_PREFIX)


def choose(mode: str, input_bytes: int, pickles: bool) -> str:
    """``memory`` or ``disk`` for a run of ``input_bytes``, given the requested mode and
    whether the backend's workers are other processes (``pickles``)."""
    if mode not in MODES:
        raise ValueError(f"shuffle must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "auto":
        return "disk" if pickles or input_bytes >= DISK_ABOVE else "memory"
    return mode


FULL = (errno.ENOSPC, errno.EDQUOT)
"""The errors of a disk with no room left."""


@contextlib.contextmanager
def writing(path: str) -> Iterator[None]:
    """Turn a failed open or write of one of the run's files (a full disk, too few open
    files) into one line; not retried, as it would fail the same way."""
    try:
        yield
    except OSError as exc:
        advice = ""
        if exc.errno in FULL:
            advice = (
                f"; the run writes under TMPDIR ({tempfile.gettempdir()}): make room there, "
                "or set TMPDIR to a folder that has it"
            )
        raise MapReduceError(
            f"cannot write the run's file {path}: {exc.strerror}{advice}"
        ) from None


@contextlib.contextmanager
def reading(path: str) -> Iterator[None]:
    """Turn a failed open of one of the run's files (too few open files) into one line."""
    try:
        yield
    except OSError as exc:
        raise MapReduceError(f"cannot read the run's file {path}: {exc.strerror}") from None


def packed(pairs: list[Pair]) -> bytes:
    """``pairs`` pickled without pickle's memo: pairs are written once and read once, so
    the memo (which keeps every object's id, to write an object met twice as a reference)
    costs most of the time it takes and saves nothing.  An object met twice is written
    twice; pairs that hold a cycle, which cannot be written so, are pickled as usual."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    try:
        pickler.dump(pairs)
    except ValueError:  # "fast mode: can't pickle cyclic objects"
        return pickle.dumps(pairs, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def write_pairs(path: str, pairs: Iterable[Pair]) -> None:
    """Write ``pairs`` to ``path`` in pickled chunks."""
    remaining = iter(pairs)
    with open(path, "wb") as file:
        while chunk := list(itertools.islice(remaining, CHUNK)):
            file.write(packed(chunk))


def read_pairs(spilled: Spilled) -> Iterator[Pair]:
    """The pairs of a partition held in memory or written by ``write_pairs``."""
    if isinstance(spilled, bytes):
        yield from pickle.loads(spilled)
        return
    if not isinstance(spilled, str):
        yield from spilled
        return
    for chunk in read_chunks(spilled):
        yield from chunk


def read_chunks(path: str) -> Iterator[list[Pair]]:
    """The chunks of pairs ``write_pairs`` wrote to ``path``."""
    with reading(path):
        file = open(path, "rb")  # noqa: SIM115 (closed by the block below)
    with file:
        while True:
            try:
                yield pickle.load(file)
            except EOFError:
                return


def spill(pairs: list[Pair], folder: str | None, name: str, pack: bool = False) -> Spilled:
    """``pairs`` as they are or pickled (``pack``) for the memory shuffle, or written to
    ``folder/name`` for the disk shuffle."""
    if folder is None:
        return packed(pairs) if pack else pairs
    path = os.path.join(folder, name)
    with writing(path):
        write_pairs(path, pairs)
    return path


def size_of(spilled: Spilled) -> int:
    """Bytes a partition takes on its way: pickled or in its file (0 if kept as objects)."""
    if isinstance(spilled, bytes):
        return len(spilled)
    return os.path.getsize(spilled) if isinstance(spilled, str) else 0


def merged(partitions: Iterable[Spilled]) -> Iterator[Pair]:
    """The pairs of key-sorted partitions merged into one key-sorted stream."""
    return merged_streams(read_pairs(p) for p in partitions)


def merged_streams(streams: Iterable[Iterable[tuple[Any, Any]]]) -> Iterator[tuple[Any, Any]]:
    """Streams of (key, item) sorted by key, merged stably by key (ties in stream order);
    keys that cannot be compared in one line."""
    try:
        yield from heapq.merge(*streams, key=itemgetter(0))
    except TypeError as exc:
        raise mixed_keys(exc) from None
