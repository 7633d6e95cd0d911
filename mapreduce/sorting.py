"""A reduce task's sort: in memory while its pairs fit a budget, on disk past it.

The paper's reducers sort their partition externally when it does not fit
in memory, and so do Hadoop's (``mapreduce.task.io.sort.mb``,
``io.sort.factor``).  Every map task sorts its buckets (``sort_in_memory``),
so a reduce task's inputs are sorted runs already, as in Hadoop, whose map
side sorts what it spills.  A reduce task reads its inputs in map task
order and holds their pairs; whenever those held pass the budget, it lets
them go: inputs that are files become runs as they are, and pairs that came
in memory are sorted and written out as a run.  From the first time it
passes the budget it holds no more files: each becomes a run unread.  At the
end the runs and what is still held are merged.  A merge of equal keys takes
them from the earlier run first, so a key's values still come in map task
order and the output is the same as an in-memory sort's.  No merge reads
more than ``MERGE_FACTOR`` runs at once: with more, the first few are merged
into one run first, just enough of them for the last merge to take the rest
(Hadoop's merge passes), so few pairs are merged twice.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

from mapreduce.partition import check_key, mixed_keys
from mapreduce.shuffle import (
    Spilled,
    merged_streams,
    read_chunks,
    read_pairs,
    write_pairs,
    writing,
)

Pair = tuple[Any, Any]

SORT_BUFFER = 256_000_000
"""Bytes of pairs (as Python objects, estimated) a reduce task sorts in memory."""

MERGE_FACTOR = 128
"""Sorted runs merged at once (each read a chunk of ``shuffle.CHUNK`` pairs at a time)."""

SAMPLE_EVERY = 256
"""Pairs held between two estimates of their size (each estimate measures one pair)."""

first = itemgetter(0)


def pair_size(pair: Pair) -> int:
    """About how many bytes a pair held in a list takes (the tuple, its two items, the slot)."""
    return sys.getsizeof(pair) + sys.getsizeof(pair[0]) + sys.getsizeof(pair[1]) + 8


def sort_in_memory(pairs: list[Pair]) -> None:
    """Sort ``pairs`` stably by key; a key of no allowed type, or keys that cannot be
    compared, in one line."""
    try:
        pairs.sort(key=first)
    except TypeError as exc:
        for key, _ in pairs:  # a key of no allowed type says more than the sort can
            check_key(key)
        raise mixed_keys(exc) from None


class Sorter:
    """Sorts inputs that are each sorted by key (pairs, pickled or in files) within a
    memory budget, writing the runs it must write under ``folder``."""

    def __init__(self, budget: int, folder: str | None, counters: Counter[str]) -> None:
        self.budget, self.folder, self.counters = budget, folder, counters
        self.held: list[Pair] = []
        self.held_files: list[str] = []
        """The inputs whose pairs are held that are files (each a sorted run as it is)."""
        self.held_memory = False
        """Whether some pairs held came in memory (they must be written to become a run)."""
        self.over = False
        """Whether the pairs held have passed the budget: from then on, files are runs unread."""
        self.count = 0
        """Pairs read so far (a file taken as a run unread is counted as the merge reads it)."""
        self.estimate = 0
        self.runs: list[str] = []
        self.written = 0
        """Runs this sorter wrote (under ``scratch``, removed when it closes)."""
        self.unread: set[str] = set()
        """The runs that are inputs taken as they are (the map tasks': this sorter keeps them)."""
        self.scratch: tempfile.TemporaryDirectory[str] | None = None

    def add(self, spilled: Spilled) -> None:
        """Take the next input, in map task order."""
        if isinstance(spilled, str) and self.over and not self.held:
            self.add_run(spilled, unread=True)
            return
        if isinstance(spilled, str):
            self.held_files.append(spilled)
        else:
            self.held_memory = True
        for pair in read_pairs(spilled):
            self.held.append(pair)
            self.count += 1
            if len(self.held) % SAMPLE_EVERY == 0:
                self.estimate += SAMPLE_EVERY * pair_size(pair)
                if self.estimate >= self.budget:
                    whole_files = not self.held_memory
                    self.let_go()
                    if whole_files and isinstance(spilled, str):
                        return  # this file is a run now: its other pairs are not read here
                    self.held_memory = True  # the rest of this input: a part of it, to write

    def let_go(self) -> None:
        """Make runs of what is held: its files as they are, or its pairs sorted and written."""
        self.over = True
        if self.held_memory:
            sort_in_memory(self.held)
            self.add_run(self.write(self.held))
        else:
            self.count -= len(self.held)  # read again, and counted, by the merge
            for path in self.held_files:
                self.add_run(path, unread=True)
        self.held, self.held_files, self.held_memory, self.estimate = [], [], False, 0

    def write(self, pairs: Iterable[Pair]) -> str:
        """Write ``pairs``, sorted, as a run of this sorter's own; its path."""
        if self.scratch is None:
            self.scratch = tempfile.TemporaryDirectory(prefix="sort-", dir=self.folder)
        path = os.path.join(self.scratch.name, f"run-{self.written:05d}.pickle")
        self.written += 1
        with writing(path):
            write_pairs(path, pairs)
        return path

    def add_run(self, path: str, unread: bool = False) -> None:
        if unread:
            self.unread.add(path)
        self.runs.append(path)
        self.counters["sort_runs"] += 1

    def merge_down(self) -> None:
        """Merge the first runs into one until the last merge reads at most ``MERGE_FACTOR``
        streams (the runs, and the pairs held): as few pairs as it takes are merged twice."""
        while (streams := len(self.runs) + bool(self.held)) > MERGE_FACTOR:
            count = min(MERGE_FACTOR, streams - MERGE_FACTOR + 1)
            runs, rest = self.runs[:count], self.runs[count:]
            self.runs = [self.write(self.merged(runs)), *rest]
            self.counters["sort_merges"] += 1
            for run in runs:
                if run not in self.unread:
                    os.remove(run)

    def merged(self, runs: list[str], last: list[Pair] | None = None) -> Iterator[Pair]:
        """The pairs of ``runs`` (and then ``last``) merged, stably, by key."""
        streams = [self.read(run) for run in runs]
        if last:
            streams.append(iter(last))
        return merged_streams(streams)

    def read(self, run: str) -> Iterator[Pair]:
        """A run's pairs; those of an input taken unread are counted as they come."""
        if run not in self.unread:
            return read_pairs(run)
        return counted(read_chunks(run), self)

    def sorted(self) -> Iterator[Pair]:
        """Every pair given, sorted stably by key (the runs written are removed once read)."""
        sort_in_memory(self.held)
        if not self.runs:
            yield from self.held
            return
        try:
            self.merge_down()
            yield from self.merged(self.runs, self.held)
        finally:
            self.close()

    def close(self) -> None:
        self.held = []
        if self.scratch is not None:
            self.scratch.cleanup()
            self.scratch = None


def counted(chunks: Iterator[list[Pair]], sorter: Sorter) -> Iterator[Pair]:
    """The pairs of ``chunks``, adding each chunk's length to ``sorter.count``."""
    for chunk in chunks:
        sorter.count += len(chunk)
        yield from chunk
