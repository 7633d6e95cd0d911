"""Word count: how many times each word occurs, the paper's first example."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from jobs.corpus import write_zipf_text
from jobs.words import count_runs, words, words_of_runs
from mapreduce import Job
from mapreduce.splits import FileSplit


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

    def map_split(self, split: FileSplit, counters: Counter[str]) -> Iterable[tuple[str, int]]:
        """In-mapper combining (Lin and Dyer): count a whole split, then emit each word once.

        Gives exactly what ``mapper`` then ``combiner`` give, without a Python
        call per line and a pair per word: the fast path.  ``mapper`` above is
        the one to read first.
        """
        runs: Counter[str] = Counter()
        for text in split.text_blocks():
            counters["input_records"] += text.count("\n") + (not text.endswith("\n"))
            count_runs(text, runs)
        return words_of_runs(runs).items()

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_zipf_text(path, size, seed)
