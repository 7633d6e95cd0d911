"""The Job interface: what a user writes, in the paper's vocabulary.

A job says how its input is cut into splits and read as records, and gives a
``mapper``, an optional ``combiner``, a ``reducer`` and a ``partition``
function.  A job whose class the workers can import (one defined in a module)
is sent to them by reference, as pickle sends classes; one they cannot (defined
in a notebook cell, at the REPL, in ``python -c`` or inside a function) is sent
by value, with cloudpickle, as joblib and dask send such functions.  A word
count is a dozen lines::

    class WordCount(Job):
        def mapper(self, key, line):
            for word in WORD.findall(line):
                yield word.lower(), 1

        def combiner(self, word, counts):
            yield word, sum(counts)

        reducer = combiner
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, SupportsIndex

import cloudpickle

from mapreduce.errors import JobError
from mapreduce.output import format_pair
from mapreduce.params import Param, resolve
from mapreduce.partition import crc32_partition
from mapreduce.sizes import format_size
from mapreduce.splits import number_lines, plan_splits

Pair = tuple[Any, Any]


class Job:
    """A MapReduce program.  Subclass it and define ``mapper`` and ``reducer``."""

    name: ClassVar[str] = ""
    """The name the CLI and the study know the job by."""
    description: ClassVar[str] = ""
    """One line: what the job computes."""
    params: ClassVar[dict[str, Param]] = {}
    """The job's parameters, given as ``--param NAME=VALUE``; each becomes an attribute."""
    line_numbers: ClassVar[bool] = False
    """Whether text records are keyed by ``(path, line number)`` instead of byte offset."""
    default_size: ClassVar[int] = 20_000_000
    """Bytes of generated input when none is given."""
    workload: ClassVar[str] = "cpu"
    """What limits the job: ``cpu`` (pure Python, holds the GIL), ``io`` (waits) or
    ``releases-gil`` (C code that drops the GIL); the study reads it."""
    ordered_partitions: ClassVar[bool] = False
    """Whether ``partition`` cuts the keys into ordered ranges (every key of partition r
    before every key of r + 1): the output is then the reduce tasks' parts concatenated,
    with no merge (the driver checks the boundary keys)."""

    combiner: Callable[[Any, Iterable[Any]], Iterable[Pair]] | None = None
    """Runs on each map task's output before the shuffle, like a local reducer.

    It must give the same final answer whether it runs zero, one or several
    times: the engine may apply it to partial groups to bound memory.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.name:
            cls.name = cls.__name__.lower()

    def __init__(self, **params: Any) -> None:
        for name, value in resolve(self.name, self.params, params).items():
            setattr(self, name, value)

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        """Pickled by reference if its class can be imported by name, else by value."""
        if importable(type(self)):
            return super().__reduce_ex__(protocol)
        state = cloudpickle.dumps((type(self), self.__dict__), protocol=protocol)
        return by_value, (state,)

    # -- input -------------------------------------------------------------

    def splits(self, inputs: Sequence[str], count: int) -> list[Any]:
        """Cut ``inputs`` into about ``count`` splits (byte ranges of lines by default)."""
        splits = plan_splits(inputs, count)
        return number_lines(splits) if self.line_numbers else splits

    def prepare(self, splits: Sequence[Any], reducers: int) -> None:
        """Called once in the driver, before any task, e.g. to sample the input."""

    def records(self, split: Any) -> Iterator[Pair]:
        """The split's records: ``((path, byte offset), line)`` for text input."""
        return split.records()

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

    def steps(self) -> list[Job]:
        """The jobs to run in turn, each one's output the next one's input."""
        return [self]

    # -- output ------------------------------------------------------------

    def format_line(self, key: Any, value: Any) -> str:
        """One output pair as a line of text: ``key<TAB>value`` by default."""
        return format_pair(key, value)

    # -- default input -----------------------------------------------------

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        """Write about ``size`` bytes of this job's default input to ``path``."""
        raise JobError(f"job {cls.name!r} has no input generator")

    @classmethod
    def input_label(cls, size: int) -> str:
        """How much input ``size`` bytes of generated input is, in the job's own terms."""
        return format_size(size)

    @classmethod
    def describe_params(cls) -> str:
        """The parameters as ``name=default: help``, for listings."""
        return "; ".join(param.describe(name) for name, param in cls.params.items())


def importable(cls: type) -> bool:
    """Whether a worker process can import ``cls`` by its module and name: not if it was
    defined in ``__main__`` (which a spawned worker does not have) or in a function."""
    return cls.__module__ != "__main__" and "<locals>" not in cls.__qualname__


def by_value(state: bytes) -> Job:
    """A job sent by value: its class, rebuilt by cloudpickle, and its attributes."""
    cls, attributes = pickle.loads(state)
    job = cls.__new__(cls)
    job.__dict__.update(attributes)
    return job
