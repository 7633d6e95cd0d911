"""A run's timeline in the Trace Event Format, for Perfetto (ui.perfetto.dev) or chrome://tracing.

One track per worker (a process, and in it a thread), one slice per task
named by its phase and number (``map 3``, ``reduce 0``; ``step 2 map 3`` in
a later step).  Times are microseconds from the first task's start, taken
from ``time.monotonic``, which on Linux is one clock for every process of
the machine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mapreduce.driver import Slice


def trace_events(timeline: Sequence[Slice], job: str, backend: str) -> dict[str, Any]:
    """The ``{"traceEvents": [...]}`` document for a run's timeline."""
    origin = min((s.start for s in timeline), default=0.0)
    threads: dict[tuple[int, str], int] = {}
    events: list[dict[str, Any]] = []
    for piece in sorted(timeline, key=lambda s: s.start):
        key = (piece.pid, piece.thread)
        if key not in threads:
            threads[key] = len(threads) + 1
            events.append(
                {"ph": "M", "name": "thread_name", "pid": piece.pid, "tid": threads[key],
                 "args": {"name": f"{backend} worker {piece.pid} {piece.thread}"}}
            )  # fmt: skip
        step = f"step {piece.step} " if piece.step > 1 else ""
        events.append(
            {
                "name": f"{step}{piece.phase} {piece.index}",
                "cat": piece.phase,
                "ph": "X",
                "ts": round((piece.start - origin) * 1e6),
                "dur": round((piece.end - piece.start) * 1e6),
                "pid": piece.pid,
                "tid": threads[key],
                "args": {"job": job, "task": piece.index, "attempt": piece.attempt},
            }
        )
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def trace_text(timeline: Sequence[Slice], job: str, backend: str) -> str:
    return json.dumps(trace_events(timeline, job, backend), indent=1) + "\n"
