"""Errors a user can act on: each prints as one line naming what failed and why."""

from __future__ import annotations

from backends.errors import one_line


class MapReduceError(Exception):
    """Base of the engine's errors; ``str()`` is a single line for the user."""


class InputError(MapReduceError):
    """An input cannot be used: missing, a directory, unreadable."""


class JobError(MapReduceError):
    """A job cannot be found, built or sent to the workers, or its output cannot be used."""


class OutputError(MapReduceError):
    """The output cannot be written: a missing or read-only folder, a full disk, a closed pipe."""


class TaskError(MapReduceError):
    """A map or reduce task raised; the run stops.

    Raised inside the worker, pickled back to the parent, and kept one line:
    ``wordcount: map task 3 of 8 (corpus.txt bytes 0-67108864) failed: KeyError: 'x'``.
    ``details`` holds the worker's traceback for ``--verbose``.
    """

    def __init__(
        self,
        job: str,
        phase: str,
        index: int,
        total: int,
        where: str,
        cause: str,
        details: str = "",
        attempts: int = 1,
    ) -> None:
        super().__init__(job, phase, index, total, where, cause, details, attempts)
        self.job, self.phase, self.index, self.total = job, phase, index, total
        self.where, self.cause, self.details = where, cause, details
        self.attempts = attempts

    def __str__(self) -> str:
        tries = f" {self.attempts} times" if self.attempts > 1 else ""
        title = task_title(self.phase, self.index, self.total)
        return f"{self.job}: {title} ({self.where}) failed{tries}: {self.cause}"


def task_title(phase: str, index: int, total: int) -> str:
    """``map task 0 of 4``: tasks are numbered from 0 in every message, as in the trace
    (``map 0``), the timeline and ``explain``."""
    return f"{phase} task {index} of {total}"


__all__ = [
    "InputError",
    "JobError",
    "MapReduceError",
    "OutputError",
    "TaskError",
    "one_line",
    "task_title",
]
