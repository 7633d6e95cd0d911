"""The Job interface: what a user writes, in the paper's vocabulary.

A job says how its input is cut into splits and read as records, and gives a
``mapper``, an optional ``combiner``, a ``reducer`` and a ``partition``
function.  Jobs are module-level classes so that they pickle by reference
under every start method.  A word count is a dozen lines::

    class WordCount(Job):
        def mapper(self, key, line):
            for word in WORD.findall(line):
                yield word.lower(), 1

        def combiner(self, word, counts):
            yield word, sum(counts)

        reducer = combiner
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

from mapreduce.errors import InputError, JobError
from mapreduce.partition import crc32_partition
from mapreduce.splits import FileSplit, plan_splits

Pair = tuple[Any, Any]


def decode_line(raw: bytes, split: FileSplit, offset: int) -> str:
    """``raw`` decoded as UTF-8, or an ``InputError`` naming the file and byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{split.path} byte {offset + exc.start} is not UTF-8 "
            f"(0x{raw[exc.start]:02x}); convert the file to UTF-8"
        ) from None


class Job:
    """A MapReduce program.  Subclass it and define ``mapper`` and ``reducer``."""

    name: ClassVar[str] = ""
    """The name the CLI and the study know the job by."""
    description: ClassVar[str] = ""
    """One line: what the job computes."""

    combiner: Callable[[Any, Iterable[Any]], Iterable[Pair]] | None = None
    """Runs on each map task's output before the shuffle, like a local reducer.

    It must give the same final answer whether it runs zero, one or several
    times: the engine may apply it to partial groups to bound memory.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.name:
            cls.name = cls.__name__.lower()

    # -- input -------------------------------------------------------------

    def splits(self, inputs: Sequence[str], count: int) -> list[Any]:
        """Cut ``inputs`` into about ``count`` splits (byte ranges of lines by default)."""
        return plan_splits(inputs, count)

    def records(self, split: FileSplit) -> Iterator[Pair]:
        """The split's records: ``((path, byte offset), line)`` for text input."""
        for offset, raw in split.lines():
            yield (split.path, offset), decode_line(raw, split, offset)

    def map_split(self, split: Any, counters: Counter[str]) -> Iterator[Pair]:
        """Apply the mapper to every record of ``split``.

        This is the teaching path: one ``mapper`` call per record.  A job may
        override it to aggregate a whole split at once (in-mapper combining),
        as long as the output stays the same.
        """
        for key, value in self.records(split):
            counters["input_records"] += 1
            yield from self.mapper(key, value)

    # -- the program -------------------------------------------------------

    def mapper(self, key: Any, value: Any) -> Iterable[Pair]:
        """Turn one input record into intermediate ``(key, value)`` pairs."""
        raise NotImplementedError(f"job {self.name!r} defines no mapper")

    def reducer(self, key: Any, values: Iterable[Any]) -> Iterable[Pair]:
        """Turn one key and all its intermediate values into output pairs."""
        raise NotImplementedError(f"job {self.name!r} defines no reducer")

    def partition(self, key: Any, reducers: int) -> int:
        """The reduce task, in ``range(reducers)``, that receives ``key``."""
        return crc32_partition(key, reducers)

    # -- default input -----------------------------------------------------

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        """Write about ``size`` bytes of this job's default input to ``path``."""
        raise JobError(f"job {cls.name!r} has no input generator")
