"""Devices and small filesystems of a test's own: never the machine's.

A device is a node made with ``mknod`` in the test's temporary folder; a
full or read-only disk is a tmpfs mounted there and unmounted after.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_runs import one_error_line
from tests.helpers import mapreduce_cli

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mknod and mount need root")


def private_device(folder: Path, name: str, major: int, minor: int) -> Path:
    """A character device node of our own (1,3 is null, 1,7 full, 1,5 zero)."""
    path = folder / name
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    return path


@contextlib.contextmanager
def small_filesystem(folder: Path, size: str = "64k", options: str = "") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``folder``: a disk that fills, or one read-only."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}{options}", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fails_on_a_full_tmpdir(tmp_path: Path, size: str, *args: str) -> None:
    """``mapreduce ARGS`` with a ``TMPDIR`` of ``size`` fails in one line naming the file it
    could not write there, and leaves nothing in it."""
    with small_filesystem(tmp_path / "small", size=size) as small:
        done = mapreduce_cli(*args, env={**os.environ, "TMPDIR": str(small)})
        assert list(small.iterdir()) == []
    assert done.returncode == 1
    one_error_line(
        done.stderr,
        rf"failed: MapReduceError: cannot write the run.s file {re.escape(str(small))}/"
        r"mapreduce-run-\d+-\w+/.*: No space left on device; .*TMPDIR",
    )
