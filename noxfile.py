"""Sessions for mapreduce-study; ``nox -l`` lists them, ``nox`` runs tests and lint."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
DEV_REQUIREMENTS = PYPROJECT["project"]["optional-dependencies"]["dev"]

DESCRIBE_INTERPRETER = """
import os, platform, sys
gil = getattr(sys, "_is_gil_enabled", lambda: True)()
print(f"{platform.python_implementation()} {platform.python_version()} "
      f"({platform.python_build()[0]}), GIL {'enabled' if gil else 'disabled'}, "
      f"{os.cpu_count()} cores")
"""


def describe_interpreter(session: nox.Session) -> None:
    """Print the interpreter, its build and whether the GIL is on, before any figure."""
    session.run("python", "-c", DESCRIBE_INTERPRETER)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite: every job on every backend, against independent oracles."""
    session.install("-e", ".[dev]")
    describe_interpreter(session)
    session.run("pytest", *session.posargs)


@nox.session
def compare(session: nox.Session) -> None:
    """Run the study on the built-in corpus: outputs checked, timings tabulated."""
    session.install("-e", ".")
    describe_interpreter(session)
    session.run("python", "-m", "compare", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check the code with ruff (lint rules and formatting)."""
    session.install(*(req for req in DEV_REQUIREMENTS if req.startswith("ruff")))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
