"""Distributed grep: the lines that match a pattern, with file and line number (paper, 2.3)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from jobs.corpus import write_zipf_text
from mapreduce import Job
from mapreduce.params import Param, valid_regex

Position = tuple[str, int]


class Grep(Job):
    """Emits each matching line under its (file, line number); the reducer passes it through."""

    name = "grep"
    description = "lines matching a regular expression, as file:line:text, in file and line order"
    params = {
        "pattern": Param("qua(zel)+", "a Python regular expression", check=valid_regex),
    }
    line_numbers = True

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.regex = re.compile(self.pattern)

    def mapper(self, position: Position, line: str) -> Iterator[tuple[Position, str]]:
        if self.regex.search(line):
            yield position, line

    def reducer(self, position: Position, lines: Iterable[str]) -> Iterator[tuple[Position, str]]:
        for line in lines:
            yield position, line

    def format_line(self, position: Position, line: str) -> str:
        path, number = position
        return f"{path}:{number}:{line}\n"

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_zipf_text(path, size, seed)
