"""Five jobs that pass every normal run here and are wrong anyway: try ``mapreduce check``.

Each is word count (or close to it) with one classic mistake, and each
docstring says which configuration of ``check`` exposes it:

    python -m mapreduce check examples.broken:HashPartition
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator

from mapreduce import Job
from mapreduce.job import Pair


class Words(Job):
    """Word count on the teaching path: ``(word, 1)`` per word, summed."""

    name = "words"

    def mapper(self, key: object, line: str) -> Iterator[Pair]:
        for word in line.lower().split():
            yield word, 1

    def combiner(self, word: str, counts: Iterable[int]) -> Iterator[Pair]:
        yield word, sum(counts)

    reducer = combiner

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        from jobs.wordcount import WordCount

        WordCount.generate_input(path, size, seed)


class HashPartition(Words):
    """Partitions by Python's ``hash()``, salted per process: under ``spawn`` a word reaches
    two reducers and is counted twice, in two halves."""

    name = "hashpartition"

    def partition(self, key: str, reducers: int) -> int:
        return hash(key) % reducers


class FirstValue(Words):
    """Says where each word first appears by taking the first value it gets: the order of a
    reducer's values is not promised, so reversed values give another answer."""

    name = "firstvalue"

    def mapper(self, key: tuple[str, int], line: str) -> Iterator[Pair]:
        for word in line.lower().split():
            yield word, key[1]

    combiner = None

    def reducer(self, word: str, offsets: Iterable[int]) -> Iterator[Pair]:
        yield word, next(iter(offsets))


class MeanOfMeans(Words):
    """The mean word length per first letter, with a combiner that averages: run once it
    gives a mean of means; run zero times or twice, other answers."""

    name = "meanofmeans"

    def mapper(self, key: object, line: str) -> Iterator[Pair]:
        for word in line.lower().split():
            yield word[0], float(len(word))

    def combiner(self, letter: str, lengths: Iterable[float]) -> Iterator[Pair]:
        values = list(lengths)
        yield letter, sum(values) / len(values)

    reducer = combiner


class Sampled(Words):
    """Keeps a random word per line, with an unseeded generator: not deterministic."""

    name = "sampled"

    def mapper(self, key: object, line: str) -> Iterator[Pair]:
        words = line.lower().split()
        if words:
            yield random.choice(words), 1


class FloatTotal(Words):
    """Adds a tenth per word into one float total: the sum's last digits depend on how the
    input was split (a warning, unless ``--strict``)."""

    name = "floattotal"

    def mapper(self, key: object, line: str) -> Iterator[Pair]:
        for _ in line.split():
            yield "total", 0.1

    def combiner(self, key: str, values: Iterable[float]) -> Iterator[Pair]:
        total = 0.0
        for value in values:  # one by one, as most languages add (sum() compensates from 3.12)
            total += value
        yield key, total

    reducer = combiner
