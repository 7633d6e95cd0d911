"""A GIL-releasing job: zlib compression of large blocks, in C code that drops the GIL.

``zlib.compress`` releases the GIL while it works, so threads compress blocks
on every core at once, as processes do, without pickling the blocks.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterator

from jobs.common import add_up_columns
from jobs.corpus import ZipfText, write_up_to
from mapreduce import Job
from mapreduce.params import Param

BLOCK_WORDS = 9_000  # about 64 KB of text a line


def level(value: int) -> str | None:
    return None if 0 <= value <= 9 else "must be from 0 to 9"


class Compress(Job):
    """Maps each line (a block of text) to (file, (bytes, compressed bytes)); adds them up."""

    name = "compress"
    description = (
        "bytes before and after zlib compression of each file's blocks (releases the GIL)"
    )
    params = {"level": Param(6, "zlib compression level, 0 to 9", int, level)}
    default_size = 32_000_000
    workload = "releases-gil"

    def mapper(
        self, position: tuple[str, int], block: str
    ) -> Iterator[tuple[str, tuple[int, int]]]:
        data = block.encode("utf-8")
        yield position[0], (len(data), len(zlib.compress(data, self.level)))

    combiner = reducer = add_up_columns

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        text = ZipfText(seed)
        write_up_to(path, size, (text.sentence(BLOCK_WORDS) + "\n" for _ in itertools.count()))
