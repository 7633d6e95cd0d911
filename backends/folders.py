"""Temporary folders of runs, named by their process, and those of dead runs removed."""

from __future__ import annotations

import os
import re
import shutil
import tempfile

from backends.workers import process_exists

RUN_FOLDER = re.compile(r"^mapreduce-[a-z]+-(\d+)-")
"""A run's temporary folder (shuffle, dask, multiprocessing), named for the run's pid."""


def run_folder(prefix: str) -> str:
    """A new temporary folder ``<prefix><pid>-<random>`` (prefix ``mapreduce-<kind>-``), after
    removing every run folder whose process no longer exists (killed before it could clean
    up)."""
    remove_dead(tempfile.gettempdir(), RUN_FOLDER)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


def remove_dead(parent: str, pattern: re.Pattern[str]) -> None:
    """Remove the folders in ``parent`` whose names match ``pattern`` (its first group the
    pid of the run that made them) and whose runs no longer exist."""
    for name in os.listdir(parent):
        found = pattern.match(name)
        if found and not process_exists(int(found.group(1))):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
