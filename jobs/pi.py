"""Monte Carlo estimate of pi, as in Hadoop's examples: pure-Python, CPU-bound work.

Each input line is ``seed points``: a map task draws that many points in the
unit square from its own seeded generator and counts those inside the quarter
circle, so the estimate is the same on every backend.  The input's size counts
16 bytes per point, as if the points (two 64-bit floats) were read from disk.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator

from jobs.common import add_up_columns
from mapreduce import Job

POINTS_PER_LINE = 50_000
BYTES_PER_POINT = 16
MIN_LINES = 8
"""Lines of the smallest inputs, so that they can still be cut into several map tasks."""


class Pi(Job):
    """Maps ``seed points`` to ("pi", (inside, points)); the reducer turns the sums into pi."""

    name = "pi"
    description = "Monte Carlo estimate of pi (pure-Python, CPU-bound)"
    default_size = 2_000_000 * BYTES_PER_POINT

    def mapper(self, key: object, line: str) -> Iterator[tuple[str, tuple[int, int]]]:
        seed, points = (int(field) for field in line.split())
        draw = random.Random(seed).random
        inside = 0
        for _ in range(points):
            x, y = draw(), draw()
            if x * x + y * y <= 1.0:
                inside += 1
        yield "pi", (inside, points)

    combiner = add_up_columns

    @classmethod
    def input_label(cls, size: int) -> str:
        return f"{size // BYTES_PER_POINT:,} points"

    def reducer(self, key: str, counts: Iterable[tuple[int, int]]) -> Iterator[tuple[str, float]]:
        for _, (inside, points) in add_up_columns(self, key, counts):
            yield "inside", inside
            yield "pi", 4 * inside / points
            yield "points", points

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        points = max(1, size // BYTES_PER_POINT)
        per_line = min(POINTS_PER_LINE, max(1, points // MIN_LINES))  # a small input: 8 lines
        rng = random.Random(seed)
        with open(path, "w", encoding="utf-8") as out:
            while points > 0:
                out.write(f"{rng.randrange(2**32)} {min(points, per_line)}\n")
                points -= per_line
