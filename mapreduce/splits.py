"""Input splits: byte ranges of files, cut at line ends, read by the workers.

A split is a descriptor, never the data: the planner in the parent only seeks
near each boundary to find the next line end, and the worker that gets the
split opens the file and reads its own bytes, as the paper sends computation
to the data.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mapreduce.errors import InputError

READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileSplit:
    """The whole lines of ``path`` from byte ``start`` up to byte ``end``."""

    path: str
    start: int
    end: int

    def __str__(self) -> str:
        return f"{os.path.basename(self.path)} bytes {self.start}-{self.end}"

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Yield ``(byte offset, line without its line ending)`` for each line."""
        with open(self.path, "rb") as file:
            file.seek(self.start)
            offset = self.start
            for raw in file:
                if offset >= self.end:
                    break
                yield offset, strip_line_ending(raw)
                offset += len(raw)


def strip_line_ending(raw: bytes) -> bytes:
    """``raw`` without its ``\\n`` or ``\\r\\n``."""
    if raw.endswith(b"\r\n"):
        return raw[:-2]
    if raw.endswith(b"\n"):
        return raw[:-1]
    return raw


def check_input(path: str) -> int:
    """The size of input file ``path``, or an ``InputError`` saying why it cannot be read."""
    if not os.path.exists(path):
        raise InputError(f"input not found: {path}")
    if os.path.isdir(path):
        raise InputError(f"input is a directory, not a file: {path}")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot read input {path}: {exc.strerror}") from exc
    return os.path.getsize(path)


def next_line_start(file, position: int) -> int:
    """The offset of the first line that starts at or after ``position``."""
    file.seek(position - 1)
    file.readline()
    return file.tell()


def split_file(path: str, size: int, count: int) -> list[FileSplit]:
    """Cut one file into about ``count`` splits whose edges fall at line ends.

    A line longer than a split stays whole in one split, so a file may give
    fewer splits than asked for; an empty file gives none.
    """
    if size == 0:
        return []
    step = size / count
    edges = [0]
    with open(path, "rb") as file:
        for i in range(1, count):
            edge = next_line_start(file, round(i * step))
            if edges[-1] < edge < size:
                edges.append(edge)
    edges.append(size)
    return [FileSplit(path, a, b) for a, b in itertools.pairwise(edges)]


def plan_splits(paths: Sequence[str], count: int) -> list[FileSplit]:
    """Cut the input files into about ``count`` splits of similar size, in input order."""
    sizes = [check_input(path) for path in paths]
    total = sum(sizes)
    target = max(1, math.ceil(total / max(1, count)))
    splits: list[FileSplit] = []
    for path, size in zip(paths, sizes, strict=True):
        splits.extend(split_file(path, size, max(1, math.ceil(size / target))))
    return splits
