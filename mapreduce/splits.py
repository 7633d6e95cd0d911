"""Input splits: byte ranges of files, cut at line ends, read by the workers.

A split is a descriptor, never the data: the planner in the parent only seeks
near each boundary to find the next line end, and the worker that gets the
split opens the file and reads its own bytes, as the paper sends computation
to the data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import os
import socket
import stat
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple

from mapreduce.errors import InputError
from mapreduce.sizes import format_size

READ_BLOCK = 1 << 20

MAX_RECORD = 64 << 20
"""The longest record (line) accepted by default, in bytes: a file with no line
ends is not cut into records, and would otherwise be held whole in memory."""

CUT_BY_LINES: ContextVar[bool] = ContextVar("CUT_BY_LINES", default=False)
"""Whether the run being planned cuts each file into splits of equally many lines, not bytes
(``check`` does: a small file whose bytes sit in one long line still gives several splits)."""

RECORD_LIMIT: ContextVar[int] = ContextVar("RECORD_LIMIT", default=MAX_RECORD)
"""The record limit of the run being planned (``driver.plan`` sets it): the
planner reads no further than it looks for a line end, and every split it
makes carries it to the worker that reads the split."""


class Stamp(NamedTuple):
    """What says a file is unchanged: its size and modification time."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        return cls(info.st_size, info.st_mtime_ns)


@dataclass(frozen=True)
class FileSplit:
    """The whole lines of ``path`` from byte ``start`` up to byte ``end``.

    ``first_line`` is the number (from 1) of the split's first line in its
    file, when the job asked for line numbers; counting them costs the planner
    a pass over the input.  ``stamp`` is the file as the planner saw it: a
    worker that finds it changed (truncated, rewritten) fails rather than
    read a different file.
    """

    path: str
    start: int
    end: int
    first_line: int | None = None
    stamp: Stamp | None = None
    max_record: int = field(default_factory=RECORD_LIMIT.get)

    def __str__(self) -> str:
        return f"{os.path.basename(self.path)} bytes {self.start}-{self.end}"

    def open(self) -> BinaryIO:
        """The file, opened in the worker; an ``InputError`` naming the worker if it cannot be."""
        try:
            file = open(self.path, "rb")  # noqa: SIM115 (returned open, for the caller's with)
        except OSError as exc:
            raise InputError(
                f"cannot open {self.path} on worker {socket.gethostname()} "
                f"(pid {os.getpid()}): {exc.strerror}; on a cluster every worker "
                "must see the inputs at the same path"
            ) from exc
        try:
            self.check_unchanged(file)
        except InputError:
            file.close()
            raise
        return file

    def check_unchanged(self, file: BinaryIO) -> None:
        """An ``InputError`` if the open ``file`` is no longer as the planner saw it."""
        now = Stamp.of(os.fstat(file.fileno()))
        if self.stamp is not None and now != self.stamp:
            raise InputError(
                f"{self.path} changed during the run ({self.stamp.size} bytes when the run "
                f"started, {now.size} now); rerun once it is no longer being written"
            )

    @contextlib.contextmanager
    def reading(self) -> Iterator[BinaryIO]:
        """The file, positioned at the split's start; checked unchanged once read."""
        with self.open() as file:
            file.seek(self.start)
            yield file
            self.check_unchanged(file)

    def ended_early(self, offset: int) -> InputError:
        """The error for a file that ends at ``offset``, before the split does."""
        return InputError(
            f"{self.path} changed during the run: it ends at byte {offset}, "
            f"before byte {self.end} where this split ends"
        )

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
        with self.reading() as file:
            offset = self.start
            while offset < self.end:
                raw = read_line(file, self.path, offset, self.max_record)
                if not raw:
                    raise self.ended_early(offset)
                yield offset, strip_line_ending(raw)
                offset += len(raw)

    def text_blocks(self, size: int = READ_BLOCK) -> Iterator[str]:
        """The split's text in blocks of about ``size`` bytes that end at line ends.

        For jobs that process a whole split at once: far fewer Python-level
        steps than a record at a time.  Line endings are kept.
        """
        with self.reading() as file:
            offset = self.start
            while offset < self.end:
                data = file.read(min(size, self.end - offset))
                if not data:
                    raise self.ended_early(offset)
                if offset + len(data) < self.end and not data.endswith(b"\n"):
                    # finish the last line; it began after the block's last line end
                    line_start = offset + data.rfind(b"\n") + 1
                    read = offset + len(data) - line_start
                    data += read_line(file, self.path, line_start, self.max_record, read)
                yield decode(data, self.path, offset)
                offset += len(data)


def read_line(file: BinaryIO, path: str, at: int, limit: int, read: int = 0) -> bytes:
    """The rest of the line at ``file``'s position, line end included.

    A line longer than ``limit`` bytes (``read`` of them read already) is an
    ``InputError`` naming ``path`` and a byte ``at`` in the line.
    """
    raw = file.readline(max(0, limit - read) + 1)
    if read + len(raw) > limit and not raw.endswith(b"\n"):
        raise InputError(
            f"{path}: a line longer than {format_size(limit)}, the limit, at byte {at}; "
            "is it a text file with line ends? (--max-record-size raises the limit)"
        )
    return raw


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


FILE_KINDS = {
    stat.S_IFIFO: "pipe",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
}


def check_input(path: str) -> Stamp:
    """Input file ``path`` as it is now, or an ``InputError`` saying why it cannot be read.

    Only regular files: a pipe or a device cannot be cut into byte ranges
    that workers read on their own (and reading one would consume it).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"input not found: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read input {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"input is a directory, not a file: {path}")
    if not stat.S_ISREG(info.st_mode):
        kind = FILE_KINDS.get(stat.S_IFMT(info.st_mode), "special file")
        raise InputError(
            f"input {path} is a {kind}, not a regular file: splits are byte ranges that "
            "workers read on their own; save it to a file first (e.g. cat > input.txt)"
        )
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot read input {path}: {exc.strerror}") from exc
    return Stamp.of(info)


def next_line_start(file: BinaryIO, path: str, position: int) -> int:
    """The offset of the first line that starts at or after ``position``."""
    file.seek(position - 1)
    read_line(file, path, position, RECORD_LIMIT.get())
    return file.tell()


def split_file(path: str, stamp: Stamp, count: int) -> list[FileSplit]:
    """Cut one file into about ``count`` splits whose edges fall at line ends.

    A line longer than a split stays whole in one split, so a file may give
    fewer splits than asked for; an empty file gives none.
    """
    size = stamp.size
    if size == 0:
        return []
    step = size / count
    edges = [0]
    with open(path, "rb") as file:
        for i in range(1, count):
            edge = next_line_start(file, path, round(i * step))
            if edges[-1] < edge < size:
                edges.append(edge)
    edges.append(size)
    return [FileSplit(path, a, b, stamp=stamp) for a, b in itertools.pairwise(edges)]


def split_lines(path: str, stamp: Stamp, count: int) -> list[FileSplit]:
    """Cut one file into about ``count`` splits of equally many lines (two passes over it)."""
    if stamp.size == 0:
        return []
    with open(path, "rb") as file:
        lines = sum(block.count(b"\n") for block in iter(lambda: file.read(READ_BLOCK), b""))
        file.seek(-1, os.SEEK_END)
        lines += file.read(1) != b"\n"  # a last line without its line end
        per_split = max(1, math.ceil(lines / count))
        edges, seen, offset = [0], 0, 0
        file.seek(0)
        for block in iter(lambda: file.read(READ_BLOCK), b""):
            end = block.find(b"\n")
            while end >= 0:
                seen += 1
                if seen % per_split == 0 and offset + end + 1 < stamp.size:
                    edges.append(offset + end + 1)
                end = block.find(b"\n", end + 1)
            offset += len(block)
    edges.append(stamp.size)
    return [FileSplit(path, a, b, stamp=stamp) for a, b in itertools.pairwise(edges) if b > a]


def plan_splits(paths: Sequence[str], count: int) -> list[FileSplit]:
    """Cut the input files into about ``count`` splits of similar size (in bytes, or in
    lines with ``CUT_BY_LINES``), in input order."""
    stamps = [check_input(path) for path in paths]
    total = sum(stamp.size for stamp in stamps)
    target = max(1, math.ceil(total / max(1, count)))
    cut = split_lines if CUT_BY_LINES.get() else split_file
    splits: list[FileSplit] = []
    for path, stamp in zip(paths, stamps, strict=True):
        splits.extend(cut(path, stamp, max(1, math.ceil(stamp.size / target))))
    return splits


def number_lines(splits: Sequence[FileSplit]) -> list[FileSplit]:
    """The same splits, each knowing the line number its first line has in its file.

    A file named twice is read twice, as ``cat f f`` reads it, each copy numbered from 1:
    a split that starts before the last one of its file did begins the next copy.
    """
    numbered = []
    lines_before: dict[str, int] = {}
    position: dict[str, int] = {}
    for split in splits:
        if split.start < position.get(split.path, 0):
            lines_before[split.path], position[split.path] = 0, 0
        with open(split.path, "rb") as file:
            file.seek(position.get(split.path, 0))
            count = lines_before.get(split.path, 0)
            remaining = split.start - file.tell()
            while remaining > 0:
                block = file.read(min(READ_BLOCK, remaining))
                count += block.count(b"\n")
                remaining -= len(block)
        lines_before[split.path], position[split.path] = count, split.start
        numbered.append(dataclasses.replace(split, first_line=count + 1))
    return numbered


def sample_lines(splits: Sequence[FileSplit], count: int) -> list[str]:
    """About ``count`` whole lines read at evenly spaced places across the splits (at most
    one a byte: a split has no more lines than that)."""
    wanted = max(1, math.ceil(count / max(1, len(splits))))
    sample = []
    for split in splits:
        per_split = min(wanted, max(1, split.end - split.start))
        with open(split.path, "rb") as file:
            step = (split.end - split.start) / per_split
            for i in range(per_split):
                at = split.start + round(i * step)
                file.seek(at if at == split.start else next_line_start(file, split.path, at))
                start = file.tell()
                if start < split.end:
                    raw = read_line(file, split.path, start, split.max_record)
                    sample.append(decode(strip_line_ending(raw), split.path, start))
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
