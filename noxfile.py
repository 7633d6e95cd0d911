"""Sessions for mapreduce-study; ``nox -l`` lists them, ``nox`` runs tests and lint."""

from __future__ import annotations

import glob
import shutil

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_venv = "yes"  # a session's second run installs into the venv it has

PYPROJECT = nox.project.load_toml("pyproject.toml")
DEV_REQUIREMENTS = PYPROJECT["project"]["optional-dependencies"]["dev"]
PYTHONS = nox.project.python_versions(PYPROJECT)
FREE_THREADED = [f"{v}t" for v in PYTHONS if shutil.which(f"python{v}t")]
"""Free-threaded builds (3.13t and later) found on this machine, run and labelled as such."""

DESCRIBE_INTERPRETER = """
import os, platform, sys, sysconfig
gil = getattr(sys, "_is_gil_enabled", lambda: True)()
build = " free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
print(f"{platform.python_implementation()} {platform.python_version()}{build} "
      f"({platform.python_build()[0]}), GIL {'enabled' if gil else 'disabled'}, "
      f"{os.cpu_count()} cores")
"""


def describe_interpreter(session: nox.Session) -> None:
    """Print the interpreter, its build and whether the GIL is on, before any figure."""
    session.run("python", "-c", DESCRIBE_INTERPRETER)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite: every job on every backend, against independent oracles."""
    session.install("-e", ".[dev,dask,plots]")
    describe_interpreter(session)
    session.run("pytest", *session.posargs)


DEBIAN = "tools/debian-python.sh"
"""Runs a command on Debian unstable's Python 3.14 or 3.15, in a root it makes (as root; a few
minutes the first time, then reused)."""


def newer_python_sessions(version: str) -> None:
    """``tests-VERSION`` on a Python of your own, ``tests-VERSION-debian`` on Debian's."""

    def own(session: nox.Session) -> None:
        tests(session)

    def debian(session: nox.Session) -> None:
        session.run(DEBIAN, version, "python", "-c", DESCRIBE_INTERPRETER, external=True)
        session.run(DEBIAN, version, "python", "-m", "pytest", *session.posargs, external=True)

    own.__doc__ = f"The test suite on a Python {version} of your own (python.org, pyenv, ...)."
    debian.__doc__ = f"The test suite on Debian's Python {version}, in the root {DEBIAN} makes."
    nox.session(name=f"tests-{version}", python=version, default=False)(own)
    nox.session(name=f"tests-{version}-debian", python=False, default=False)(debian)


for newer in ("3.14", "3.15"):
    newer_python_sessions(newer)


@nox.session(default=False)
def faults(session: nox.Session) -> None:
    """The randomized fault campaign: about 1,000 runs, each with one fault at a random moment,
    judged (about 21 minutes on 2 cores; `-- --runs 5 --dask-runs 2` for a short one)."""
    session.install("-e", ".[dev,dask]", "py-spy")
    describe_interpreter(session)
    session.run("python", "-m", "tests.campaign", *session.posargs)


@nox.session
def compare(session: nox.Session) -> None:
    """Run the study (default preset, about 5 minutes); `-- --preset smoke` takes 30 s."""
    session.install("-e", ".[plots,dask]")
    describe_interpreter(session)
    session.run("python", "-m", "compare", *session.posargs)


@nox.session(default=False)
def tutorial(session: nox.Session) -> None:
    """Run docs/tutorial.ipynb top to bottom in a Jupyter kernel, its outputs written back
    (its files in docs/tutorial-work/); `-- --output FILE` writes them elsewhere."""
    session.install("-e", ".[dev,plots,dask]")
    output = session.posargs[1] if session.posargs[:1] == ["--output"] else TUTORIAL
    session.run("python", "-c", RUN_NOTEBOOK, TUTORIAL, output)


TUTORIAL = "docs/tutorial.ipynb"
RUN_NOTEBOOK = """
import sys, nbformat, nbclient
source, output = sys.argv[1:]
notebook = nbformat.read(source, as_version=4)
nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                        resources={"metadata": {"path": "docs"}}).execute()
nbformat.write(notebook, output)
print(f"ran {source}: every cell, outputs in {output}")
"""


@nox.session(python=PYTHONS + FREE_THREADED, default=False)
def compare_versions(session: nox.Session) -> None:
    """Run the study on each Python version into results/versions/; then compare_merge."""
    session.install(".[plots,dask]")
    describe_interpreter(session)
    output = f"results/versions/python{session.python}"
    session.run("python", "-m", "compare", "--output", output, *session.posargs)


REFERENCE_RUNS = ["docs/reference/results.json", "docs/reference/python3.14/results.json"]
"""The committed reference runs, 3.11 and 3.14: ``nox -s compare_merge -- reference``."""


@nox.session(default=False)
def compare_merge(session: nox.Session) -> None:
    """Put the per-version study runs side by side in results/versions/merged.md
    (`-- reference`: the committed 3.11 and 3.14 reference runs, in docs/reference/)."""
    session.install("-e", ".")
    if session.posargs == ["reference"]:
        runs, output = REFERENCE_RUNS, "docs/reference/merged.md"
    else:
        runs, output = (
            sorted(glob.glob("results/versions/*/results.json")),
            "results/versions/merged.md",
        )
    if not runs:
        session.error("no runs in results/versions/: run `nox -s compare_versions` first")
    session.run("python", "-m", "compare", "merge", *runs, "--output", output)


SCALE_SIZES = "500MB,1GB,2GB,5GB"
"""The sort job's inputs in the bench's scale table (about 40 minutes on 2 cores)."""


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Time the engine beside hand-written word counts (`-- --size 1GB`), sort from 0.5 to
    5 GB, every job from its default input to 16 times it, then pytest-benchmark."""
    session.install("-e", ".[dev,dask]")
    describe_interpreter(session)
    session.run("python", "-m", "compare.bench", *session.posargs)
    session.run(
        "python", "-m", "compare.scale", "sort", "--sizes", SCALE_SIZES,
        "--backends", "sequential,pool",
    )  # fmt: skip
    session.run("python", "-m", "compare.scale", "--factors", "1,4,16")
    session.run(
        "pytest", "tests/benchmarks", "-o", "addopts=", "--benchmark-only", "--benchmark-autosave"
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Check the code with ruff (lint rules and formatting)."""
    session.install(*(req for req in DEV_REQUIREMENTS if req.startswith("ruff")))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
