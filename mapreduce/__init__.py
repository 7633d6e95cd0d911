"""A MapReduce engine whose tasks run on interchangeable backends.

Write a ``Job`` (mapper, optional combiner, reducer), then ``run`` it over
files on any backend in ``backends``; see ``mapreduce.driver`` for the flow.

The names below are imported on first use, so that ``python -m mapreduce``
is ready for a Ctrl-C before the engine loads (``mapreduce.__main__``).
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False
"""True only for type checkers (as ``typing.TYPE_CHECKING``): ``python -m mapreduce`` runs this
module before it can answer a Ctrl-C, so it imports nothing it need not, ``typing`` included."""

if TYPE_CHECKING:  # what type checkers and editors see; loaded by __getattr__ when run
    from typing import Any

    from mapreduce.driver import RunResult, execute, plan, run  # noqa: F401
    from mapreduce.errors import InputError, JobError, MapReduceError, TaskError  # noqa: F401
    from mapreduce.job import Job, Pair  # noqa: F401

HOMES = {
    "RunResult": "mapreduce.driver",
    "execute": "mapreduce.driver",
    "plan": "mapreduce.driver",
    "run": "mapreduce.driver",
    "InputError": "mapreduce.errors",
    "JobError": "mapreduce.errors",
    "MapReduceError": "mapreduce.errors",
    "TaskError": "mapreduce.errors",
    "Job": "mapreduce.job",
    "Pair": "mapreduce.job",
}
"""Each public name and the module it lives in."""

__all__ = sorted(HOMES)


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in HOMES:
        raise AttributeError(f"module 'mapreduce' has no attribute {name!r}")
    value = getattr(importlib.import_module(HOMES[name]), name)
    globals()[name] = value
    return value
