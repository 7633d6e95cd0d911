"""CPU seconds of this process and all its descendants, for CPU utilization.

Utilization is CPU seconds over wall seconds: a thread pool stuck behind the
GIL shows about 100% however many threads it has, two busy processes about
200%.  Pool workers live through a whole cell, so they are read while alive
(per pid, before and after each run); a child that has exited and been reaped
is counted in its parent's ``children_*`` times.
"""

from __future__ import annotations

import psutil


def tree_cpu_seconds() -> dict[int, float]:
    """CPU seconds (user + system) of this process and of each live descendant, by pid."""
    me = psutil.Process()
    seconds = {}
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        seconds[process.pid] = (
            times.user + times.system + times.children_user + times.children_system
        )
    return seconds


def cpu_seconds_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings, by processes alive at the second."""
    return sum(max(0.0, total - before.get(pid, 0.0)) for pid, total in after.items())
