"""Every task in turn, in this process: the baseline, and the one to debug with."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from backends.base import Backend, R, T


class SequentialBackend(Backend):
    """Runs tasks one after another in the calling process.

    No pickling, no threads: an exception stops in the real frame, so a
    debugger (``python -m pdb``) lands where the job failed.
    """

    name = "sequential"

    def __init__(self, workers: int = 1) -> None:
        super().__init__(workers)
        self.workers = 1

    def run(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        for index, task in enumerate(tasks):
            yield index, fn(task)
