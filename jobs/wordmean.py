"""Mean word length by first letter: a combiner that must carry (sum, count), not a mean.

A mean of means is wrong when the groups differ in size, so the combiner
cannot simply be the reducer: it adds up lengths and counts, and only the
reducer divides.  Hadoop's WordMean makes the same point.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from jobs.common import add_up_columns
from jobs.corpus import write_zipf_text
from jobs.words import words
from mapreduce import Job


class WordMean(Job):
    """Maps each word to (first letter, (length, 1)); sums them; the reducer divides."""

    name = "wordmean"
    description = "the mean length of the words that start with each letter"

    def mapper(self, key: object, line: str) -> Iterator[tuple[str, tuple[int, int]]]:
        for word in words(line):
            yield word[0], (len(word), 1)

    combiner = add_up_columns

    def reducer(self, letter: str, sums: Iterable[tuple[int, int]]) -> Iterator[tuple[str, float]]:
        for _, (length, count) in add_up_columns(self, letter, sums):
            yield letter, round(length / count, 6)

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_zipf_text(path, size, seed)
