"""Finding a job by name: the project's catalog, or any ``module:Class`` of your own.

The engine knows no particular job: it imports the ``jobs`` package only when
a name is looked up, and a user's job needs no registration at all
(``python -m mapreduce run mypackage.myjob:MyJob input.txt``).
"""

from __future__ import annotations

import importlib

from mapreduce.errors import JobError
from mapreduce.job import Job

CATALOG_MODULE = "jobs"


def catalog() -> dict[str, type[Job]]:
    """Every job in the project's catalog, by name."""
    return dict(importlib.import_module(CATALOG_MODULE).CATALOG)


def find_job(name: str) -> type[Job]:
    """The job class called ``name`` in the catalog, or at ``module:Class``."""
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            job = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise JobError(f"cannot load job {name!r}: {exc}") from exc
        if not (isinstance(job, type) and issubclass(job, Job)):
            raise JobError(f"{name!r} is not a mapreduce.Job subclass")
        return job
    jobs = catalog()
    if name not in jobs:
        raise JobError(f"unknown job {name!r}; choose from: {', '.join(sorted(jobs))}")
    return jobs[name]
