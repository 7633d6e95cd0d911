"""Word count without the framework: what the engine is measured against.

- ``handwritten``: what an expert writes for one core: big blocks, one regular
  expression, ``collections.Counter``.
- ``handwritten-parallel``: the same over newline-aligned byte ranges on a
  ``multiprocessing.Pool``, merging the Counters.
- ``naive``: the classic coursework version: ``Pool.map`` over the lines sent
  through the pipe, ``(word, 1)`` pairs back, grouped in a dict in the parent,
  then a reduce ``Pool.map``.  Shipping data through pipes and skipping the
  combiner are its two lessons.
- ``dask-bag``: ``dask.bag.read_text(...).frequencies()`` on the processes
  scheduler, when dask is installed.

Each takes the input paths and the number of workers and returns a Counter.
They use this project's word definition (a run of letters, lowercased) so
their output can be checked against the engine's; on text whose letters all
lowercase to letters (the generated corpus) ``WORD.findall(text.lower())`` is
that definition.

The two on ``multiprocessing.Pool`` start it as the engine's process backends
start theirs (``default_start_method``: ``fork`` on Python 3.11, ``forkserver``
from 3.12, which deprecated forking a process that runs threads, as the
study's process does while an engine pool is open beside them).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator

from backends.environment import environment_kept
from backends.process import default_start_method
from backends.teardown import stop_pool
from backends.workers import worker_initializer

WORD = re.compile(r"[^\W\d_]+")
BLOCK = 1 << 20


def blocks(path: str, start: int = 0, end: int | None = None) -> Iterator[str]:
    """Text of ``path`` between two line starts, in blocks of about 1 MB cut at line ends."""
    end = os.path.getsize(path) if end is None else end
    with open(path, "rb") as file:
        file.seek(start)
        while file.tell() < end:
            data = file.read(min(BLOCK, end - file.tell()))
            if file.tell() < end:
                data += file.readline()
            yield data.decode("utf-8")


def count_range(task: tuple[str, int, int]) -> Counter[str]:
    path, start, end = task
    counts: Counter[str] = Counter()
    for text in blocks(path, start, end):
        counts.update(WORD.findall(text.lower()))
    return counts


def handwritten(paths: list[str], workers: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in paths:
        counts += count_range((path, 0, os.path.getsize(path)))
    return counts


def line_ranges(path: str, count: int) -> list[tuple[str, int, int]]:
    """``count`` byte ranges of ``path`` whose edges are line starts."""
    size = os.path.getsize(path)
    edges = [0]
    with open(path, "rb") as file:
        for i in range(1, count):
            file.seek(size * i // count)
            file.readline()
            edges.append(max(edges[-1], min(file.tell(), size)))
    edges.append(size)
    return [(path, a, b) for a, b in itertools.pairwise(edges) if b > a]


@contextlib.contextmanager
def process_pool(workers: int) -> Iterator[multiprocessing.pool.Pool]:
    """A ``multiprocessing.Pool`` started by the engine's default start method, whose workers
    leave signals to the study (the engine's worker initializer), stopped at the end as the
    engine stops its pools (``Pool.terminate`` joins workers that may never end).

    A worker forked from the study, a process with threads, inherits the
    study's own SIGTERM handler and whatever locks those threads held; asked
    to stop, it would run Python code that may wait on such a lock forever.
    """
    pool = multiprocessing.get_context(default_start_method()).Pool(
        workers, initializer=worker_initializer()
    )
    try:
        yield pool
    finally:
        stop_pool(pool, pool._pool)


def handwritten_parallel(paths: list[str], workers: int) -> Counter[str]:
    tasks = [r for path in paths for r in line_ranges(path, 4 * workers)]
    total: Counter[str] = Counter()
    with process_pool(workers) as pool:
        for counts in pool.imap_unordered(count_range, tasks):
            total.update(counts)
    return total


def map_line(line: str) -> list[tuple[str, int]]:
    return [(word, 1) for word in WORD.findall(line.lower())]


def reduce_word(item: tuple[str, list[int]]) -> tuple[str, int]:
    word, ones = item
    return word, sum(ones)


def naive(paths: list[str], workers: int) -> Counter[str]:
    with process_pool(workers) as pool:
        groups: dict[str, list[int]] = {}
        for path in paths:
            with open(path, encoding="utf-8") as file:
                for pairs in pool.map(map_line, file.readlines()):
                    for word, one in pairs:
                        groups.setdefault(word, []).append(one)
        return Counter(dict(pool.map(reduce_word, groups.items())))


def dask_bag(paths: list[str], workers: int) -> Counter[str]:
    import dask.bag

    bag = dask.bag.read_text(paths, blocksize=BLOCK).map(str.lower).map(WORD.findall).flatten()
    with environment_kept():  # dask's process scheduler sets PYTHONHASHSEED for good
        frequencies = bag.frequencies().compute(scheduler="processes", num_workers=workers)
    return Counter(dict(frequencies))


def dask_available() -> bool:
    try:
        import dask.bag  # noqa: F401
    except ImportError:
        return False
    return True


BASELINES: dict[str, Callable[[list[str], int], Counter[str]]] = {
    "handwritten": handwritten,
    "handwritten-parallel": handwritten_parallel,
    "naive": naive,
    "dask-bag": dask_bag,
}
