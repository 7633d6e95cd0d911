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
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from mapreduce.errors import InputError

READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileSplit:
    """The whole lines of ``path`` from byte ``start`` up to byte ``end``.

    ``first_line`` is the number (from 1) of the split's first line in its
    file, when the job asked for line numbers; counting them costs the planner
    a pass over the input.
    """

    path: str
    start: int
    end: int
    first_line: int | None = None

    def __str__(self) -> str:
        return f"{os.path.basename(self.path)} bytes {self.start}-{self.end}"

    def open(self) -> BinaryIO:
        """The file, opened in the worker; an ``InputError`` naming the worker if it cannot be."""
        try:
            return open(self.path, "rb")
        except OSError as exc:
            raise InputError(
                f"cannot open {self.path} on worker {socket.gethostname()} "
                f"(pid {os.getpid()}): {exc.strerror}; on a cluster every worker "
                "must see the inputs at the same path"
            ) from exc

    def records(self) -> Iterator[tuple[tuple[str, int], str]]:
        """``((path, byte offset or line number), line)`` for each line, decoded as UTF-8."""
        number = self.first_line
        for offset, raw in self.lines():
            line = decode(raw, self.path, offset)
            if number is None:
                yield (self.path, offset), line
            else:
                yield (self.path, number), line
                number += 1

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Yield ``(byte offset, line without its line ending)`` for each line."""
        with self.open() as file:
            file.seek(self.start)
            offset = self.start
            for raw in file:
                if offset >= self.end:
                    break
                yield offset, strip_line_ending(raw)
                offset += len(raw)

    def text_blocks(self, size: int = READ_BLOCK) -> Iterator[str]:
        """The split's text in blocks of about ``size`` bytes that end at line ends.

        For jobs that process a whole split at once: far fewer Python-level
        steps than a record at a time.  Line endings are kept.
        """
        with self.open() as file:
            file.seek(self.start)
            offset = self.start
            while offset < self.end:
                data = file.read(min(size, self.end - offset))
                if offset + len(data) < self.end and not data.endswith(b"\n"):
                    data += file.readline()
                yield decode(data, self.path, offset)
                offset += len(data)


def decode(data: bytes, path: str, offset: int) -> str:
    """``data`` (read from ``path`` at ``offset``) as UTF-8, or an error naming the byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} byte {offset + exc.start} is not UTF-8 "
            f"(0x{data[exc.start]:02x}); convert the file to UTF-8"
        ) from None


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


def number_lines(splits: Sequence[FileSplit]) -> list[FileSplit]:
    """The same splits, each knowing the line number its first line has in its file."""
    numbered = []
    lines_before: dict[str, int] = {}
    position: dict[str, int] = {}
    for split in splits:
        with open(split.path, "rb") as file:
            file.seek(position.get(split.path, 0))
            count = lines_before.get(split.path, 0)
            remaining = split.start - file.tell()
            while remaining > 0:
                block = file.read(min(READ_BLOCK, remaining))
                count += block.count(b"\n")
                remaining -= len(block)
        lines_before[split.path], position[split.path] = count, split.start
        numbered.append(FileSplit(split.path, split.start, split.end, count + 1))
    return numbered


def sample_lines(splits: Sequence[FileSplit], count: int) -> list[bytes]:
    """About ``count`` whole lines read at evenly spaced places across the splits."""
    per_split = max(1, math.ceil(count / max(1, len(splits))))
    sample = []
    for split in splits:
        with open(split.path, "rb") as file:
            step = (split.end - split.start) / per_split
            for i in range(per_split):
                at = split.start + round(i * step)
                file.seek(at if at == split.start else next_line_start(file, at))
                if file.tell() < split.end:
                    sample.append(strip_line_ending(file.readline()))
    return sample


@dataclass(frozen=True)
class PairsSplit:
    """Part of an earlier step's output, fed to the next step of a chained job."""

    pairs: list[tuple[Any, Any]]
    first: int
    step: int

    def __str__(self) -> str:
        return f"step {self.step} output records {self.first}-{self.first + len(self.pairs)}"

    def records(self) -> Iterator[tuple[Any, Any]]:
        return iter(self.pairs)


def split_pairs(pairs: list[tuple[Any, Any]], count: int, step: int) -> list[PairsSplit]:
    """Cut a step's output into about ``count`` splits for the next step."""
    size = max(1, math.ceil(len(pairs) / max(1, count)))
    return [PairsSplit(pairs[at : at + size], at, step) for at in range(0, len(pairs), size)]
