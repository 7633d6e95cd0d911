"""A MapReduce engine whose tasks run on interchangeable backends.

Write a ``Job`` (mapper, optional combiner, reducer), then ``run`` it over
files on any backend in ``backends``; see ``mapreduce.driver`` for the flow.
"""

from mapreduce.driver import RunResult, execute, plan, run
from mapreduce.errors import InputError, JobError, MapReduceError, TaskError
from mapreduce.job import Job, Pair

__all__ = [
    "InputError",
    "Job",
    "JobError",
    "MapReduceError",
    "Pair",
    "RunResult",
    "TaskError",
    "execute",
    "plan",
    "run",
]
