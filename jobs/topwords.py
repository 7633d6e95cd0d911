"""The N most frequent words: two steps, word count then ranking, as mrjob chains steps."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from jobs.corpus import write_zipf_text
from jobs.wordcount import WordCount
from mapreduce import Job
from mapreduce.params import Param, at_least

Ranked = tuple[int, str]  # (-count, word): smallest first is most frequent, then alphabetical


class RankByCount(Job):
    """Step 2: every (word, count) to one key; the combiner and reducer keep the top N."""

    name = "rankbycount"
    description = "the N words with the highest counts, from (word, count) pairs"
    params = {"top": Param(10, "how many words to keep", int, at_least(1))}

    def mapper(self, word: str, count: int) -> Iterator[tuple[str, Ranked]]:
        yield "top", (-count, word)

    def combiner(self, key: str, ranked: Iterable[Ranked]) -> Iterator[tuple[str, Ranked]]:
        for entry in heapq.nsmallest(self.top, ranked):
            yield key, entry

    def reducer(self, key: str, ranked: Iterable[Ranked]) -> Iterator[tuple[int, tuple[str, int]]]:
        for rank, (negative_count, word) in enumerate(heapq.nsmallest(self.top, ranked), start=1):
            yield rank, (word, -negative_count)


class TopWords(Job):
    """Word count, then rank by count; ties go to the alphabetically first word."""

    name = "topwords"
    description = "the N most frequent words with their counts, ranked (two steps)"
    params = RankByCount.params

    def steps(self) -> list[Job]:
        return [WordCount(), RankByCount(top=self.top)]

    def format_line(self, rank: int, entry: tuple[str, int]) -> str:
        word, count = entry
        return f"{rank}\t{word}\t{count}\n"

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_zipf_text(path, size, seed)
