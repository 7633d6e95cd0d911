"""Finding a job by name: the project's catalog, or any ``module:Class`` of your own.

The engine knows no particular job: it imports the ``jobs`` package only when
a name is looked up, and a user's job needs no registration at all
(``python -m mapreduce run mypackage.myjob:MyJob input.txt``).
"""

from __future__ import annotations

import importlib
import traceback

from mapreduce.errors import JobError, one_line
from mapreduce.job import Job

CATALOG_MODULE = "jobs"


def catalog() -> dict[str, type[Job]]:
    """Every job in the project's catalog, by name."""
    return dict(importlib.import_module(CATALOG_MODULE).CATALOG)


def where_it_failed(exc: BaseException) -> str:
    """``file line N: Error: message``: where a module's own code raised as it loaded (the
    innermost frame outside Python's import machinery), or where its syntax is wrong."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename} line {exc.lineno}: {type(exc).__name__}: {exc.msg}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename]
    if not frames:
        return one_line(exc)
    return f"{frames[-1].filename} line {frames[-1].lineno}: {one_line(exc)}"


def find_job(name: str) -> type[Job]:
    """The job class called ``name`` in the catalog, or at ``module:Class``."""
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise JobError(f"cannot load job {name!r}: {exc}") from exc
        except (Exception, SystemExit) as exc:  # the module's own code failed as it loaded
            raise JobError(f"cannot load job {name!r}: {where_it_failed(exc)}") from exc
        try:
            job = getattr(module, class_name)
        except AttributeError as exc:
            raise JobError(f"cannot load job {name!r}: {exc}") from exc
        if not (isinstance(job, type) and issubclass(job, Job)):
            raise JobError(f"{name!r} is not a mapreduce.Job subclass")
        return job
    jobs = catalog()
    if name not in jobs:
        raise JobError(f"unknown job {name!r}; choose from: {', '.join(sorted(jobs))}")
    return jobs[name]
