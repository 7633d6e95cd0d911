"""The output format, its digest, and writing it without harm to what the path names.

By default one line per pair, ``key<TAB>value``: strings as they are, anything
else (numbers, lists, dicts) as JSON; a job may format its own lines.  Lines
are UTF-8 (a file name that is not, kept by Python as surrogate escapes, is
written as its original bytes).  The digest is SHA-256 of exactly the bytes
written, so two runs have the same digest exactly when their outputs are
byte-identical.

``destination`` opens where the output goes before the run starts, so that a
missing or read-only folder is reported before any worker starts, and writes
it as ``sort -o`` and ``cp`` would: a regular file through a temporary file
renamed over it only once complete (a symlink is followed, the file's mode
kept, a new file's mode from the umask); a device, a pipe or a terminal
(``/dev/null``, ``/dev/stdout``) written in place, never replaced.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import reprlib
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mapreduce.errors import JobError, OutputError, one_line

BLOCK = 1 << 20
"""Bytes gathered before each write, and read at a time."""

IN_PLACE_PREFIXES = ("/dev/", "/proc/")
"""Paths written in place even when they lead to a regular file: ``/dev/stdout``
redirected to a file is the shell's open file, not one to replace."""


def format_field(value: Any) -> str:
    """A key or value as output text: a string unchanged, anything else as JSON."""
    if isinstance(value, str):
        return value
    if type(value) is int:  # what json.dumps gives, without its overhead
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def format_pair(key: Any, value: Any) -> str:
    """One pair as a ``key<TAB>value`` line, newline included."""
    return f"{format_field(key)}\t{format_field(value)}\n"


def format_one(format_line: Callable[[Any, Any], str], key: Any, value: Any) -> str:
    """One pair as a line of output text; a ``JobError`` naming its key if it cannot be."""
    try:
        return format_line(key, value)
    except (TypeError, ValueError) as exc:
        raise JobError(
            f"the output pair with key {reprlib.repr(key)} cannot be written: {one_line(exc)}"
        ) from exc


def format_lines(
    pairs: Iterable[tuple[Any, Any]], format_line: Callable[[Any, Any], str] = format_pair
) -> Iterator[str]:
    """Each pair as a line of output text (see ``format_one``)."""
    for key, value in pairs:
        yield format_one(format_line, key, value)


def encode(line: str) -> bytes:
    """A line as UTF-8 bytes, file names that are not UTF-8 as their own bytes."""
    try:
        return line.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise JobError(
            f"the output line {reprlib.repr(line)} cannot be written as UTF-8: {one_line(exc)}"
        ) from exc


def encoded(lines: Iterable[str]) -> Iterator[bytes]:
    """Each line as bytes (see ``encode``)."""
    return map(encode, lines)


def digest(lines: Iterable[str]) -> str:
    """SHA-256 (hex) of the output text made of ``lines``."""
    sha = hashlib.sha256()
    for data in encoded(lines):
        sha.update(data)
    return sha.hexdigest()


def write_all(fd: int, lines: Iterable[str]) -> None:
    """Write ``lines`` to the open file descriptor ``fd``, in blocks."""
    for block in gathered(encoded(lines)):
        write_bytes(fd, block)


def gathered(lines: Iterable[bytes]) -> Iterator[bytes]:
    """``lines`` joined into blocks of about ``BLOCK`` bytes."""
    block: list[bytes] = []
    size = 0
    for line in lines:
        block.append(line)
        size += len(line)
        if size >= BLOCK:
            yield b"".join(block)
            block, size = [], 0
    if block:
        yield b"".join(block)


def write_bytes(fd: int, data: bytes) -> None:
    """All of ``data`` to ``fd`` (``os.write`` may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


KERNEL_CANNOT_COPY = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF}
"""What ``copy_file_range`` says when it cannot copy between two descriptors (a pipe, a
terminal, another file system on some kernels)."""


@dataclass(frozen=True)
class Sink:
    """Where a run's output goes: a file descriptor, and what to call it in an error."""

    fd: int
    where: str

    def write(self, data: bytes) -> None:
        with write_errors(self.where):
            write_bytes(self.fd, data)

    def copy(self, path: str, size: int) -> bool:
        """Append the ``size`` bytes of file ``path`` without reading them into Python
        (``copy_file_range``); False, having copied nothing, where the kernel cannot."""
        with open(path, "rb") as source, write_errors(self.where):
            copied = 0
            while copied < size:
                try:
                    done = os.copy_file_range(source.fileno(), self.fd, size - copied)
                except OSError as exc:
                    if copied == 0 and exc.errno in KERNEL_CANNOT_COPY:
                        return False
                    raise
                if done == 0:
                    raise OSError(errno.EIO, f"{path} ended {size - copied} bytes early")
                copied += done
        return True


def same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: through links, or, for a path that does not exist
    yet, where it would be made."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one does not exist yet, or is no file name here
        pass
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except ValueError:  # a name this file system cannot hold: refused later, in one line
        return os.path.abspath(a) == os.path.abspath(b)


def check_apart(inputs: Iterable[str], writes: dict[str, str]) -> None:
    """Refuse, before any worker starts, a file the run writes (``{"--output": path}``) that
    is one of its inputs, or that another option writes too: the run would replace it."""
    named = list(writes.items())
    for number, (option, path) in enumerate(named):
        for source in inputs:
            if same_file(path, source):
                raise OutputError(
                    f"{option} {path} is the input {source}: the run would replace it"
                )
        for other, other_path in named[number + 1 :]:
            if same_file(path, other_path):
                raise OutputError(f"{option} {path} and {other} {other_path} are the same file")


def current_umask() -> int:
    """The process's umask (reading it means setting it, then putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def writes_in_place(path: str) -> bool:
    """Whether ``path`` is written where it is (a device, pipe, terminal) rather than replaced."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"output {path} is a directory; name a file in it")
    absolute = os.path.abspath(path)
    return not stat.S_ISREG(info.st_mode) or absolute.startswith(IN_PLACE_PREFIXES)


@contextlib.contextmanager
def write_errors(where: str) -> Iterator[None]:
    """Turn a failed open or write (a missing folder, a full disk, a closed pipe) into one line."""
    try:
        yield
    except BrokenPipeError:
        raise OutputError(f"{where} was closed before the output was all written") from None
    except OSError as exc:
        raise OutputError(f"cannot write {where}: {exc.strerror}") from None


@contextlib.contextmanager
def destination(path: str) -> Iterator[int]:
    """A file descriptor for the output at ``path``; the output is whole once the block ends.

    Opened at once, so that a bad path is an ``OutputError`` before the run.
    A regular file is written to a temporary file in its folder and renamed
    over it when the block ends without error, removed otherwise.
    """
    try:
        os.fsencode(path)
    except UnicodeEncodeError:
        raise OutputError(f"output {path!r} is not a valid file name here") from None
    temporary = target = None
    with write_errors(f"output {path}"):
        if writes_in_place(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        else:
            target = os.path.realpath(path)
            fd, temporary = tempfile.mkstemp(
                dir=os.path.dirname(target), prefix=".mapreduce-", suffix=".partial"
            )
            keep_or_set_mode(fd, target)
    try:
        yield fd
    except BaseException:
        os.close(fd)
        if temporary:
            os.unlink(temporary)
        raise
    with write_errors(f"output {path}"):
        os.close(fd)
        if temporary:
            os.replace(temporary, target)


def keep_or_set_mode(fd: int, target: str) -> None:
    """Give the new file ``target``'s mode and owner if it exists, else the umask's mode."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        os.fchmod(fd, 0o666 & ~current_umask())
        return
    os.fchmod(fd, stat.S_IMODE(info.st_mode))
    with contextlib.suppress(PermissionError):
        os.fchown(fd, info.st_uid, info.st_gid)


@contextlib.contextmanager
def standard_output() -> Iterator[int]:
    """Standard output kept for the results, while anything else printed goes to standard error.

    A job's ``print()`` (in this process, or a worker, which inherits file
    descriptor 1) would otherwise land in the middle of the results.
    """
    sys.stdout.flush()
    results = os.dup(1)
    os.dup2(2, 1)
    try:
        yield results
    finally:
        sys.stdout.flush()
        os.dup2(results, 1)
        os.close(results)
