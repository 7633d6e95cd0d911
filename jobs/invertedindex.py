"""Inverted index: for each word, the documents that contain it (paper, 2.3)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator

from jobs.corpus import write_up_to
from jobs.termvector import tagged_documents
from jobs.words import count_words, words
from mapreduce import Job
from mapreduce.splits import FileSplit


class InvertedIndex(Job):
    """Maps a document to (word, document id) once per distinct word; reduces to sorted ids.

    A line ``id<TAB>text`` is a document of its own; a line without a tab
    belongs to the document named after its file, so a folder of plain texts
    (plays, source files) is indexed by file.
    """

    name = "invertedindex"
    description = "for each word, the sorted list of documents that contain it"
    default_size = 5_000_000

    def mapper(self, position: tuple[str, int], line: str) -> Iterator[tuple[str, str]]:
        document, tab, text = line.partition("\t")
        if not tab:
            document, text = os.path.basename(position[0]), line
        for word in set(words(text)):
            yield word, document

    def map_split(self, split: FileSplit, counters: Counter[str]) -> Iterator[tuple[str, str]]:
        """In-mapper combining for plain text: a block with no tab is one document (its file),
        so its distinct words are found in one pass; other blocks go through ``mapper``."""
        document = os.path.basename(split.path)
        for text in split.text_blocks():
            counters["input_records"] += text.count("\n") + (not text.endswith("\n"))
            if "\t" in text:
                for line in text.split("\n"):
                    if line:
                        yield from self.mapper((split.path, 0), line.removesuffix("\r"))
            else:
                for word in count_words(text):
                    yield word, document

    def combiner(self, word: str, documents: Iterable[str]) -> Iterator[tuple[str, str]]:
        for document in sorted(set(documents)):
            yield word, document

    def reducer(self, word: str, documents: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
        yield word, sorted(set(documents))

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_up_to(path, size, tagged_documents(seed, "doc-{}-{:07d}"))
