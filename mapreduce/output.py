"""The output format, its digest, and writing it without leaving half a file.

By default one line per pair, ``key<TAB>value``: strings as they are, anything
else (numbers, lists, dicts) as JSON; a job may format its own lines.  The
digest is SHA-256 of exactly those bytes, so two runs have the same digest
exactly when their output files are byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO


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


def format_lines(
    pairs: Iterable[tuple[Any, Any]], format_line: Callable[[Any, Any], str] = format_pair
) -> Iterator[str]:
    """Each pair as one line of output text."""
    for key, value in pairs:
        yield format_line(key, value)


def digest(lines: Iterable[str]) -> str:
    """SHA-256 (hex) of the output text made of ``lines``."""
    sha = hashlib.sha256()
    for line in lines:
        sha.update(line.encode("utf-8", "surrogatepass"))
    return sha.hexdigest()


def write_lines(lines: Iterable[str], stream: TextIO) -> None:
    """Write ``lines`` to an open text stream."""
    stream.writelines(lines)


def write_atomically(lines: Iterable[str], path: str) -> None:
    """Write ``lines`` to ``path`` through a temporary file and a rename.

    A run that fails or is interrupted part way leaves no file at ``path``
    that could pass for complete output.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".mapreduce-", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            write_lines(lines, stream)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
