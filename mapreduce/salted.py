"""Each task in a fresh interpreter with a hash salt of its own: ``mapreduce check``'s backend.

Python salts ``hash()`` of ``str`` and ``bytes`` per process (unless
PYTHONHASHSEED is set), so a job that partitions by ``hash(key)`` works on
fork (the workers inherit the parent's salt) and fails under ``spawn``, as on
macOS and Windows.  To expose it for certain, not merely when a fast worker
leaves some tasks to another, this backend runs every task in a new
interpreter with ``PYTHONHASHSEED`` set to the task's own number.

``python -m mapreduce.salted`` is the child: a pickled ``(fn, task)`` on
standard input, the pickled result (or exception) on standard output.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence

from backends.base import Backend, R, T
from backends.errors import BackendError

TIMEOUT = 300
"""Seconds one task may take."""


class SaltedBackend(Backend):
    """Runs each task in a new interpreter, task ``i`` with ``PYTHONHASHSEED=i+1``."""

    name = "salted"
    pickles = True

    def _warm_up(self) -> None:
        """Nothing to warm: every task starts its own interpreter."""

    def run(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        for index, task in enumerate(tasks):
            environment = {**os.environ, "PYTHONHASHSEED": str(index + 1)}
            done = subprocess.run(
                [sys.executable, "-m", "mapreduce.salted"],
                input=pickle.dumps((fn, task)),
                capture_output=True,
                env=environment,
                timeout=TIMEOUT,
            )
            if done.returncode != 0:
                said = done.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
                raise BackendError(f"a salted task's interpreter failed: {said[-1]}")
            failed, result = pickle.loads(done.stdout)
            if failed:
                raise result
            yield index, result


def main() -> None:
    fn, task = pickle.load(sys.stdin.buffer)
    out, sys.stdout = sys.stdout.buffer, sys.stderr  # what the job prints is not the result
    try:
        result = (False, fn(task))
    except Exception as exc:  # sent back, raised in the driver
        result = (True, exc)
    out.write(pickle.dumps(result))


if __name__ == "__main__":
    main()
