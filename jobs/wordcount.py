"""Word count: how many times each word occurs, the paper's first example."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from jobs.corpus import write_zipf_text
from jobs.words import words
from mapreduce import Job


class WordCount(Job):
    """For each word (a run of letters, lowercased), the number of times it occurs."""

    name = "wordcount"
    description = "how many times each word occurs"

    def mapper(self, key: object, line: str) -> Iterator[tuple[str, int]]:
        for word in words(line):
            yield word, 1

    def combiner(self, word: str, counts: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield word, sum(counts)

    reducer = combiner

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_zipf_text(path, size, seed)
