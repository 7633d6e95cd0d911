"""Term vector per host: each host's most frequent words (paper, 2.3)."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from jobs.corpus import ZipfText, write_up_to
from jobs.words import count_words
from mapreduce import Job
from mapreduce.params import Param, at_least


class TermVector(Job):
    """Maps a document to (host, its word counts); adds them per host and keeps the top terms."""

    name = "termvector"
    description = "for each host, its most frequent words with their counts"
    params = {"top": Param(10, "how many words to keep per host", int, at_least(1))}
    default_size = 10_000_000

    def mapper(self, key: object, line: str) -> Iterator[tuple[str, Counter[str]]]:
        url, tab, text = line.partition("\t")
        host = urlsplit(url).hostname
        if not tab or not host:
            raise ValueError(f"expected 'URL<TAB>text', got {line[:60]!r}")
        yield host, count_words(text)

    def combiner(
        self, host: str, vectors: Iterable[Counter[str]]
    ) -> Iterator[tuple[str, Counter[str]]]:
        total: Counter[str] = Counter()
        for vector in vectors:
            total.update(vector)
        yield host, total

    def reducer(self, host: str, vectors: Iterable[Counter[str]]) -> Iterator[tuple[str, list]]:
        for _, total in self.combiner(host, vectors):
            ranked = sorted(total.items(), key=lambda item: (-item[1], item[0]))
            yield host, ranked[: self.top]

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_up_to(path, size, tagged_documents(seed, "http://host{}.example/doc{}.html"))


def tagged_documents(seed: int, id_format: str) -> Iterator[str]:
    """Endless ``id<TAB>text`` lines; ``id_format`` gets a host number and a document number."""
    text, rng = ZipfText(seed), random.Random(seed)
    for number in itertools.count():
        document = id_format.format(rng.randrange(40), number)
        yield f"{document}\t{text.sentence(rng.randint(20, 300))}\n"
