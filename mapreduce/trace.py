"""A run's timeline in the Trace Event Format, for Perfetto (ui.perfetto.dev) or chrome://tracing.

One track per worker (a process, and in it a thread), one slice per
execution of a task, named by its phase and number (``map 3``, ``reduce 0``;
``step 2 map 3`` in a later step), and by what became of it unless it won
(``map 3 (lost)``: a backup race's loser; ``map 3 (failed)``: a try that
raised).  An execution given up before it came back has no known worker: it
goes on a track of its own, from when it was started to when it was given
up.  Times are microseconds from the run's start, taken
from ``time.monotonic``, which on Linux is one clock for every process of
the machine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mapreduce.phase import Slice

UNKNOWN = "executions given up (worker unknown)"


def trace_events(
    timeline: Sequence[Slice], job: str, backend: str, origin: float | None = None
) -> dict[str, Any]:
    """The ``{"traceEvents": [...]}`` document for a run's timeline, from ``origin`` (the
    run's start; by default its first task's)."""
    if origin is None:
        origin = min((s.start for s in timeline), default=0.0)
    threads: dict[tuple[int, str], int] = {}
    events: list[dict[str, Any]] = []
    for piece in sorted(timeline, key=lambda s: s.start):
        key = (piece.pid, piece.thread)
        if key not in threads:
            threads[key] = len(threads) + 1
            track = f"{backend} worker {piece.pid} {piece.thread}" if piece.pid else UNKNOWN
            events.append(
                {"ph": "M", "name": "thread_name", "pid": piece.pid, "tid": threads[key],
                 "args": {"name": track}}
            )  # fmt: skip
        step = f"step {piece.step} " if piece.step > 1 else ""
        outcome = f" ({piece.outcome})" if piece.outcome != "won" else ""
        events.append(
            {
                "name": f"{step}{piece.phase} {piece.index}{outcome}",
                "cat": piece.phase,
                "ph": "X",
                "ts": round((piece.start - origin) * 1e6),
                "dur": round((piece.end - piece.start) * 1e6),
                "pid": piece.pid,
                "tid": threads[key],
                "args": {
                    "job": job,
                    "task": piece.index,
                    "execution": piece.execution,
                    "attempt": piece.attempt,
                    "outcome": piece.outcome,
                },
            }
        )
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def trace_text(
    timeline: Sequence[Slice], job: str, backend: str, origin: float | None = None
) -> str:
    """The trace document as JSON text."""
    return json.dumps(trace_events(timeline, job, backend, origin), indent=1) + "\n"
