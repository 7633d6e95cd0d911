"""Measuring cells again in fresh processes, where most of the variance between runs lies.

Two runs of the same benchmark differ most between process invocations
(memory layout, hash seed, where the kernel places the process, the state
the process is in), less between the rounds inside one: Kalibera and Jones,
"Rigorous benchmarking in reasonable time" (2013); pyperf runs 20 worker
processes by default for it.  The study's rounds all run in its one process,
so their spread says little of how far the next run of the study may land.

``measure_apart`` therefore measures batches again in ``count`` fresh
Pythons (``python -m compare.measure.invocations``), one after another: each
opens the batch's backends, warms them up and runs ``rounds`` interleaved
rounds, exactly as the study does (``rounds.measure``), and hands its
samples back, marked with its number.  A cell so measured takes one value
per invocation, the median of its paired ratios there (``Cell.values``),
and its interval is cut from those values.
"""

from __future__ import annotations

import dataclasses
import pickle
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from compare.cells import Cell
from compare.measure.rounds import Batch, measure

TIMEOUT_SECONDS = 600.0
"""An invocation still running after this long has hung: the study fails in one line."""


class InvocationError(RuntimeError):
    """A fresh process measuring cells failed: the last line it printed."""


def measure_apart(
    planned: Sequence[Batch],
    count: int,
    rounds: int,
    seed: int,
    say: Callable[[str], None] | None = None,
) -> None:
    """Measure every batch in each of ``count`` fresh processes, ``rounds`` rounds each;
    add their samples to the batches' cells, each marked with its invocation (1 on).  A
    failed invocation is every cell's error, and the study's failure."""
    for number in range(1, count + 1):
        if say is not None:
            say(f"invocation {number} of {count}: the headline's cells in a fresh process")
        try:
            answers = invoke(planned, rounds, seed + number)
        except InvocationError as exc:
            for batch in planned:
                for cell in members(batch):
                    cell.error = cell.error or f"invocation {number}: {exc}"
            return
        for batch, measured in zip(planned, answers, strict=True):
            for cell, fresh in zip(members(batch), measured, strict=True):
                for sample in fresh.samples:
                    sample.invocation = number
                cell.samples += fresh.samples
                cell.error = cell.error or fresh.error


def members(batch: Batch) -> list[Cell]:
    return [batch.reference, *batch.cells]


def invoke(planned: Sequence[Batch], rounds: int, seed: int) -> list[list[Cell]]:
    """Measure the batches in a new Python; each batch's cells as it measured them."""
    fresh = [Batch(blank(batch.reference), [blank(c) for c in batch.cells]) for batch in planned]
    with tempfile.TemporaryDirectory(prefix="compare-invocation-") as folder:
        request, answer = Path(folder) / "request.pickle", Path(folder) / "answer.pickle"
        request.write_bytes(pickle.dumps((fresh, rounds, seed)))
        command = [sys.executable, "-m", "compare.measure.invocations", str(request), str(answer)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise InvocationError(f"a fresh process measuring it hung ({exc.timeout} s)") from None
        if done.returncode != 0 or not answer.exists():
            last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            raise InvocationError(f"a fresh process measuring it failed: {last}")
        return pickle.loads(answer.read_bytes())


def blank(cell: Cell) -> Cell:
    """A copy of the cell with nothing measured yet."""
    return dataclasses.replace(cell, samples=[], error=None, timeline=[])


def main(argv: Sequence[str]) -> int:
    """In the fresh process: measure the batches of ``argv[0]``, write them to ``argv[1]``."""
    request, answer = argv
    planned, rounds, seed = pickle.loads(Path(request).read_bytes())
    rng = random.Random(seed)
    for batch in planned:
        measure(batch, rounds, rng)
    Path(answer).write_bytes(pickle.dumps([members(batch) for batch in planned]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
