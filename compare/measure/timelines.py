"""Keeping a cell's timeline: every task execution of its median run, for the report's plots."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compare.cells import Cell
from mapreduce.driver import RunResult
from mapreduce.phase import Slice

GIVEN_UP = -1
"""The row of executions given up before they came back (their worker is unknown)."""


def compact(timeline: Sequence[Slice], origin: float) -> list[dict[str, Any]]:
    """A run's timeline as plain records: workers numbered from 0 in the order they first
    started a task, times in seconds from ``origin`` (the run's start)."""
    rows: dict[tuple[int, str], int] = {}
    records = []
    for piece in sorted(timeline, key=lambda s: s.start):
        worker = (piece.pid, piece.thread)
        if piece.pid and worker not in rows:
            rows[worker] = len(rows)
        records.append(
            {
                "worker": rows[worker] if piece.pid else GIVEN_UP,
                "step": piece.step,
                "phase": piece.phase,
                "index": piece.index,
                "execution": piece.execution,
                "outcome": piece.outcome,
                "start": round(piece.start - origin, 4),
                "end": round(piece.end - origin, 4),
            }
        )
    return records


class MedianRun:
    """Gives ``cell.timeline`` the timeline of its run whose wall time is the median so far."""

    def __init__(self, cell: Cell) -> None:
        self.cell = cell
        self.runs: list[tuple[float, list[dict[str, Any]]]] = []

    def add(self, wall: float, result: RunResult) -> None:
        self.runs.append((wall, compact(result.timeline, result.started)))
        self.runs.sort(key=lambda run: run[0])
        self.cell.timeline = self.runs[(len(self.runs) - 1) // 2][1]
