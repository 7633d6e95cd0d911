"""A straggler made from outside: one worker process stopped and continued in a loop.

The paper's stragglers were machines with a bad disk, or busy with other
work: slow, not dead.  Stopping a process (SIGSTOP) for ``stopped`` seconds,
then letting it run (SIGCONT) for ``running`` seconds, makes it run that
share of the time, whatever it is doing, without touching the job or the
engine: the engine sees a worker that is merely slow.  On a machine with
fewer cores than workers this is also kind to the others: the stopped
worker's core goes to them, as a busy machine's would not.
"""

from __future__ import annotations

import os
import signal
import threading
from types import TracebackType

STOPPED_SECONDS = 0.45
RUNNING_SECONDS = 0.05
"""The straggler's duty cycle: the worker runs 10% of the time, as a machine with a bad disk
or a busy neighbour might."""


class Throttle:
    """Stops and continues process ``pid`` on a duty cycle while the block runs."""

    def __init__(
        self, pid: int, stopped: float = STOPPED_SECONDS, running: float = RUNNING_SECONDS
    ) -> None:
        self.pid, self.stopped, self.running = pid, stopped, running
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._cycle, name="throttle", daemon=True)

    @property
    def share(self) -> float:
        """The share of the time the process runs."""
        return self.running / (self.stopped + self.running)

    def _signal(self, signum: int) -> bool:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:  # the worker is gone (killed and replaced): nothing to slow
            return False
        return True

    def _cycle(self) -> None:
        while not self._done.is_set():
            if not self._signal(signal.SIGSTOP):
                return
            self._done.wait(self.stopped)
            if not self._signal(signal.SIGCONT):
                return
            self._done.wait(self.running)

    def __enter__(self) -> Throttle:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
        self._signal(signal.SIGCONT)  # never leave it stopped
