"""The reducers' output parts, and the run's output built from them without unpickling.

Each reduce task formats its own lines and writes them, as bytes, to its own
part (a file beside the shuffle's, or bytes in memory where the workers share
no disk), as the paper's reducers write their own output files.  The driver
then builds the output from the parts: by concatenation when the partitions
are ordered ranges of keys (a job says so with ``Job.ordered_partitions``,
and the boundary keys are checked), otherwise by a k-way merge on keys that
copies each line's bytes.  For that merge a part carries its keys beside it:
a key and a line length per line, in pickled chunks.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import itertools
import os
import pickle
import reprlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from mapreduce.errors import JobError
from mapreduce.output import BLOCK, Sink, encode, gathered
from mapreduce.partition import mixed_keys
from mapreduce.shuffle import merged_streams, reading, writing

KEYS_CHUNK = 10_000
"""Lines whose keys are pickled together in a part's keys."""


@dataclass(frozen=True)
class Part:
    """One reduce task's output: where its bytes are, how many, and their keys."""

    index: int
    lines: int
    size: int
    digest: str
    """SHA-256 (hex) of the part's bytes."""
    path: str | None = None
    """The file holding the part; ``None`` when it is ``data``."""
    data: bytes | None = None
    keys: str | bytes | None = None
    """The keys of the lines, for a merge: a file, bytes, or ``None`` if not kept."""
    first: Any = None
    last: Any = None
    """The first and last keys (``None`` when the part is empty)."""

    def open(self) -> BinaryIO:
        if self.path is None:
            return io.BytesIO(self.data or b"")
        with reading(self.path):
            return open(self.path, "rb")

    @staticmethod
    def open_keys(keys: str | bytes) -> BinaryIO:
        if isinstance(keys, bytes):
            return io.BytesIO(keys)
        with reading(keys):
            return open(keys, "rb")

    def blocks(self) -> Iterator[bytes]:
        """The part's bytes, a block at a time."""
        with self.open() as file:
            while block := file.read(BLOCK):
                yield block

    def keyed_lines(self) -> Iterator[tuple[Any, bytes]]:
        """Each line's key and bytes."""
        if self.keys is None:
            raise ValueError(f"part {self.index} was written without its keys")
        with self.open_keys(self.keys) as keys, self.open() as file:
            while True:
                try:
                    chunk_keys, lengths = pickle.load(keys)
                except EOFError:
                    return
                data, at = file.read(sum(lengths)), 0
                for key, length in zip(chunk_keys, lengths, strict=True):
                    yield key, data[at : at + length]
                    at += length


class PartWriter:
    """Writes one reduce task's lines to its part, counting and hashing them as it goes."""

    def __init__(self, index: int, path: str | None, with_keys: bool) -> None:
        self.index, self.path = index, path
        self.sha = hashlib.sha256()
        self.lines = self.size = 0
        self.first = self.last = None
        # the writer holds its files open from one ``add`` to the next, until ``close``
        with writing(path or "the output part"):
            self.file: BinaryIO = open(path, "wb") if path is not None else io.BytesIO()  # noqa: SIM115
            self.keys: BinaryIO | None = None
            if with_keys:
                self.keys = open(f"{path}.keys", "wb") if path is not None else io.BytesIO()  # noqa: SIM115
        self.buffer: list[bytes] = []
        self.buffered = 0
        self.chunk_keys: list[Any] = []
        self.lengths: list[int] = []

    def add(self, key: Any, line: str) -> None:
        """Append ``line``, the formatted pair whose key is ``key``."""
        data = encode(line)
        if self.lines == 0:
            self.first = key
        self.last = key
        self.lines += 1
        self.buffer.append(data)
        self.buffered += len(data)
        if self.keys is not None:
            self.chunk_keys.append(key)
            self.lengths.append(len(data))
            if len(self.lengths) >= KEYS_CHUNK:
                self.flush_keys()
        if self.buffered >= BLOCK:
            self.flush()

    def flush(self) -> None:
        block = b"".join(self.buffer)
        self.sha.update(block)
        self.size += len(block)
        with writing(self.path or "the output part"):
            self.file.write(block)
        self.buffer, self.buffered = [], 0

    def flush_keys(self) -> None:
        if self.keys is not None and self.lengths:
            with writing(f"{self.path}.keys"):
                pickle.dump((self.chunk_keys, self.lengths), self.keys, pickle.HIGHEST_PROTOCOL)
            self.chunk_keys, self.lengths = [], []

    def close(self) -> Part:
        """The finished part."""
        self.flush()
        self.flush_keys()
        data = self.file.getvalue() if isinstance(self.file, io.BytesIO) else None
        keys: str | bytes | None = None
        if isinstance(self.keys, io.BytesIO):
            keys = self.keys.getvalue()
        elif self.keys is not None:
            keys = f"{self.path}.keys"
        self.discard(remove=False)
        return Part(
            self.index, self.lines, self.size, self.sha.hexdigest(),
            self.path, data, keys, self.first, self.last,
        )  # fmt: skip

    def discard(self, remove: bool = True) -> None:
        """Close the part's files; ``remove`` them too (a task that starts the part again)."""
        with writing(self.path or "the output part"):
            self.file.close()
            if self.keys is not None:
                self.keys.close()
        if remove and self.path is not None:
            for path in (self.path, f"{self.path}.keys"):
                if os.path.exists(path):
                    os.remove(path)


def check_ordered(job: str, parts: Sequence[Part]) -> None:
    """Fail unless each non-empty part's keys all come before the next one's: a job that says
    its partitions are ordered ranges must partition so."""
    filled = [part for part in parts if part.lines]
    for before, after in itertools.pairwise(filled):
        try:
            behind = after.first < before.last
        except TypeError as exc:
            raise mixed_keys(exc) from None
        if behind:
            raise JobError(
                f"{job}: says its partitions are ordered ranges, but partition "
                f"{after.index} starts with key {reprlib.repr(after.first)}, before partition "
                f"{before.index}'s last key {reprlib.repr(before.last)}"
            )


def build(parts: Sequence[Part], ordered: bool, sink: Sink | None) -> str:
    """Write the run's output to ``sink`` (if given) and return its digest (SHA-256, hex).

    Parts that are concatenated are copied by the kernel where it can, and
    hashed meanwhile in another thread (both leave the GIL free), so the
    driver's share of a large sort is a copy, not a read, a hash and a write.
    """
    filled = [part for part in parts if part.lines]
    concatenated = ordered or len(filled) <= 1
    if sink is None or not concatenated or any(part.path is None for part in filled):
        return written(assemble(parts, ordered), sink)
    hasher = concurrent.futures.ThreadPoolExecutor(1, "digest")
    try:
        try:
            digest = hasher.submit(digest_of, filled)
        except RuntimeError:  # no thread to be had (a memory limit): hash while writing
            return written(assemble(parts, ordered), sink)
        for part in filled:
            if not sink.copy(part.path, part.size):
                for block in part.blocks():
                    sink.write(block)
        return digest.result()
    finally:
        hasher.shutdown()


def written(blocks: Iterable[bytes], sink: Sink | None) -> str:
    """Write ``blocks`` to ``sink`` (if given); the digest of their bytes."""
    sha = hashlib.sha256()
    for block in blocks:
        sha.update(block)
        if sink is not None:
            sink.write(block)
    return sha.hexdigest()


def digest_of(parts: Iterable[Part]) -> str:
    """SHA-256 (hex) of the parts' bytes, one after the other."""
    sha = hashlib.sha256()
    for part in parts:
        for block in part.blocks():
            sha.update(block)
    return sha.hexdigest()


def assemble(parts: Sequence[Part], ordered: bool) -> Iterator[bytes]:
    """The run's output, in blocks: the parts concatenated if ``ordered`` (or only one has
    lines), else their lines merged by key (stable: ties in part order)."""
    filled = [part for part in parts if part.lines]
    if ordered or len(filled) <= 1:
        for part in filled:
            yield from part.blocks()
        return
    yield from gathered(merged_lines(filled))


def lines(parts: Sequence[Part], ordered: bool) -> Iterator[bytes]:
    """The run's output, a line at a time (see ``assemble``)."""
    filled = [part for part in parts if part.lines]
    if ordered or len(filled) <= 1:
        for part in filled:
            with part.open() as file:
                yield from file
        return
    yield from merged_lines(filled)


def merged_lines(parts: Iterable[Part]) -> Iterator[bytes]:
    for _, line in merged_streams(part.keyed_lines() for part in parts):
        yield line
