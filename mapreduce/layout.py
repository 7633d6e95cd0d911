"""``--output-dir``: the output as Hadoop lays it out, one part per reduce task and ``_SUCCESS``.

The folder holds ``part-00000``, ``part-00001``, ... (reduce task r's lines,
key-sorted) and an empty ``_SUCCESS``.  It appears whole or not at all: the
parts are gathered in a hidden folder beside it (``.NAME.mapreduce-PID-*.partial``,
on the same file system), ``_SUCCESS`` is written last, and the folder is then
renamed into place.  A run that fails, or is killed, leaves no ``_SUCCESS`` and no
part under the name; the next run into the same parent removes a dead run's
hidden folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence

from backends.folders import remove_dead
from mapreduce.errors import OutputError
from mapreduce.output import current_umask, write_errors
from mapreduce.parts import Part

SUCCESS = "_SUCCESS"
"""The empty file that marks a complete output folder (Hadoop's marker)."""


def part_name(index: int) -> str:
    return f"part-{index:05d}"


def staging_prefix(target: str) -> str:
    return f".{os.path.basename(target)}.mapreduce-"


def check_folder(path: str) -> str:
    """The output folder's absolute path, refused in one line (before any worker starts)
    unless it is new or empty and its parent is a folder this process can write."""
    target = os.path.abspath(path)
    if os.path.lexists(target):
        if not os.path.isdir(target):
            raise OutputError(f"--output-dir {path} is not a folder")
        if os.listdir(target):
            raise OutputError(
                f"--output-dir {path} is not empty: name a new folder, or empty this one"
            )
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        raise OutputError(f"--output-dir {path}: its parent folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"--output-dir {path}: its parent folder {parent} is not writable")
    return target


def remove_dead_stagings(target: str) -> None:
    """Remove the hidden folders that runs into ``target`` left when they were killed."""
    pattern = re.compile(re.escape(staging_prefix(target)) + r"(\d+)-.*\.partial$")
    remove_dead(os.path.dirname(target), pattern)


@contextlib.contextmanager
def staging(target: str) -> Iterator[str]:
    """A hidden folder beside ``target`` to gather the parts in; removed unless published."""
    remove_dead_stagings(target)
    with write_errors(f"--output-dir {target}"):
        folder = tempfile.mkdtemp(
            dir=os.path.dirname(target),
            prefix=f"{staging_prefix(target)}{os.getpid()}-",
            suffix=".partial",
        )
        os.chmod(folder, 0o777 & ~current_umask())  # a folder, as mkdir would make it
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def publish(folder: str, parts: Sequence[Part], target: str) -> None:
    """Move ``parts`` into ``folder`` as ``part-NNNNN``, write ``_SUCCESS``, and rename the
    folder to ``target``."""
    with write_errors(f"--output-dir {target}"):
        for part in parts:
            destination = os.path.join(folder, part_name(part.index))
            if part.path is not None:
                shutil.move(part.path, destination)
            else:
                with open(destination, "wb") as file:
                    file.write(part.data or b"")
        with open(os.path.join(folder, SUCCESS), "wb"):
            pass
        if os.path.isdir(target):
            os.rmdir(target)  # checked empty before the run: refused if it filled since
        os.rename(folder, target)
