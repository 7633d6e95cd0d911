"""Distributed sort of fixed-width records with a sampled range partitioner (paper, 2.3; TeraSort).

Hash partitioning would scatter neighbouring keys over every reducer, so each
reducer's output would be sorted but their concatenation would not.  Instead
the driver samples keys before the map phase and cuts the key space at the
sample's quantiles: reducer r gets the r-th range, and the partitions in
order are the whole input in order.
"""

from __future__ import annotations

import bisect
import random
import string
from collections.abc import Iterable, Iterator, Sequence

from jobs.corpus import write_up_to
from mapreduce import Job
from mapreduce.params import Param, between
from mapreduce.splits import FileSplit, sample_lines

KEY_LENGTH = 10
PAYLOAD_LENGTH = 90
KEY_CHARACTERS = string.ascii_letters + string.digits + string.punctuation
MAX_SAMPLES = 1_000_000
"""More keys than the driver should hold to cut ranges: a million place a cut within a
millionth of the input."""


class Sort(Job):
    """Maps a record to (its 10-character key, the record); each reducer sorts its key range."""

    name = "sort"
    description = "sorts 100-byte records (10-byte key, 90-byte payload), output as the records"
    params = {
        "samples": Param(1000, "keys sampled to choose the ranges", int, between(1, MAX_SAMPLES))
    }
    default_size = 20_200_000
    ordered_partitions = True  # the cut points are sorted: partition r holds the r-th range
    cut_points: Sequence[str] = ()

    def prepare(self, splits: Sequence[FileSplit], reducers: int) -> None:
        # keys as the mapper cuts them: the first 10 characters, not bytes
        sample = sorted(line[:KEY_LENGTH] for line in sample_lines(splits, self.samples))
        self.cut_points = (
            [sample[len(sample) * r // reducers] for r in range(1, reducers)] if sample else []
        )

    def partition(self, key: str, reducers: int) -> int:
        return bisect.bisect_right(self.cut_points, key)

    def mapper(self, key: object, record: str) -> Iterator[tuple[str, str]]:
        yield record[:KEY_LENGTH], record

    def reducer(self, key: str, records: Iterable[str]) -> Iterator[tuple[str, str]]:
        for record in sorted(records):
            yield key, record

    def format_line(self, key: str, record: str) -> str:
        return record + "\n"

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_up_to(path, size, records(seed))


def records(seed: int) -> Iterator[str]:
    """Endless teragen-like records: a random printable key, then the row number and filler."""
    rng = random.Random(seed)
    row = 0
    while True:
        key = "".join(rng.choices(KEY_CHARACTERS, k=KEY_LENGTH))
        filler = rng.choice(string.ascii_uppercase) * (PAYLOAD_LENGTH - 34)
        yield f"{key}  {row:032X}{filler}\n"
        row += 1
