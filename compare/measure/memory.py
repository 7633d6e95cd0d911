"""Peak resident memory of a process and its descendants, sampled while it runs.

The sampler is a thread of the measuring process, and it must not take a core
from what it measures: it samples every 0.1 s (a walk of the process table
costs a few milliseconds) at the lowest priority (Linux gives each thread its
own nice value), so on a machine whose cores are all busy it waits its turn.
"""

from __future__ import annotations

import contextlib
import os
import threading

import psutil

SAMPLE_SECONDS = 0.1
LOWEST_PRIORITY = 19


class MemorySampler(threading.Thread):
    """Samples the RSS of process ``pid`` and its descendants every 0.1 s until stopped.

    ``peak_process`` is the most any one process held, ``peak_total`` the most
    the whole tree held at one sample.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_process = self.peak_total = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        with contextlib.suppress(OSError):  # this thread only: the children keep theirs
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)
        while not self.stopped.wait(SAMPLE_SECONDS):
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            sizes = []
            for process in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    sizes.append(process.memory_info().rss)
            if sizes:
                self.peak_process = max(self.peak_process, *sizes)
                self.peak_total = max(self.peak_total, sum(sizes))

    def stop(self) -> None:
        """Stop sampling and wait for the last sample."""
        self.stopped.set()
        self.join()
