"""Jobs and functions the tests send to workers; module-level so they pickle."""

from __future__ import annotations

import ast
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from backends.pool import PoolBackend
from backends.sequential import SequentialBackend
from jobs.fetch import Fetch
from jobs.invertedindex import InvertedIndex
from jobs.wordcount import WordCount
from mapreduce import Job
from mapreduce.partition import crc32_partition
from mapreduce.tasks import run_map_task, run_reduce_task

if TYPE_CHECKING:
    import psutil

# psutil is imported only where it is used: the interpreters backend imports
# this module in subinterpreters too, where psutil's C extension refuses to load.

LINES = [f"alpha beta {i % 7} gamma delta{'x' * (i % 5)}" for i in range(3000)]
"""The fault tests' corpus: small, repetitive, and quick to check against the oracle."""


def expected(lines: list[str]) -> str:
    """The word count output of ``lines``, from the oracle."""
    from tests.oracle import oracle_output, oracle_word_counts

    return oracle_output(oracle_word_counts(lines))


def exit_status(argv: list[str]) -> int:
    """``cli.main``'s status, whether it returns it or argparse exits with it."""
    from mapreduce import cli

    try:
        return cli.main(argv)
    except SystemExit as exit:
        return exit.code


def mapreduce_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m mapreduce ARGS`` in a child process, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "mapreduce", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, exited but not yet reaped, does not)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(condition: Callable[[], object], what: str, seconds: float = 20) -> None:
    """Poll ``condition`` until it holds; a ``TimeoutError`` naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {seconds} s")
        time.sleep(0.02)


def bucket_report(key: str) -> tuple[int, int, int]:
    """In a worker: its pid, Python's salted ``hash(key)``, and the engine's bucket."""
    time.sleep(0.05)  # long enough that every worker of the pool takes some keys
    return os.getpid(), hash(key), crc32_partition(key, 7)


def worker_pid(task: object) -> int:
    """In a worker: its process id."""
    time.sleep(0.01)  # long enough that every worker of the pool takes some tasks
    return os.getpid()


def crc_of(data: bytes) -> int:
    return zlib.crc32(data)


def raise_value_error(task: int) -> int:
    if task == 3:
        raise ValueError(f"task {task} is bad")
    return task


__all__ = ["run_map_task", "run_reduce_task"]


class LosesATaskBackend(SequentialBackend):
    """A broken backend for the study's own test: it runs the last task in place of the first.

    The kind of bug a hand-made pool has (an index off by one, a result kept
    twice), and one the comparison must catch by its output digest.
    """

    name = "loses-a-task"

    def run(self, fn, tasks):
        tasks = list(tasks)
        if len(tasks) > 1:
            tasks[0] = tasks[-1]
        return super().run(fn, tasks)


class TeachingWordCount(WordCount):
    """Word count on the per-record teaching path: ``mapper`` per line, then ``combiner``."""

    map_split = Job.map_split


class TeachingInvertedIndex(InvertedIndex):
    """The inverted index on the per-record teaching path."""

    map_split = Job.map_split


class FailingMapper(TeachingWordCount):
    """Word count whose mapper records its worker's pid, then raises on a marked line."""

    name = "failingmapper"

    def __init__(self, pid_dir: str, marker: str = "BOOM") -> None:
        self.pid_dir, self.marker = pid_dir, marker

    def mapper(self, key: object, line: str) -> Iterator[tuple[str, int]]:
        Path(self.pid_dir, str(os.getpid())).touch()
        if self.marker in line:
            raise ValueError(f"bad record {line[:20]!r}")
        yield from super().mapper(key, line)


def do_nothing(task: object) -> None:
    """A task with no work: what a backend's round trip costs on its own."""


def generate_inputs(directory: Path, sizes: dict[str, int], default: int, seed: int) -> dict:
    """Every catalog job's generated input in ``directory``: job name -> its path."""
    from jobs import CATALOG

    paths = {}
    for name, job in CATALOG.items():
        path = directory / f"{name}.txt"
        job.generate_input(str(path), sizes.get(name, default), seed=seed)
        paths[name] = str(path)
    return paths


class FlakyWordCount(WordCount):
    """Word count whose every map task raises on its first attempt, then works.

    A file per split in ``marker_dir`` remembers the first attempt across processes.
    """

    name = "flakywordcount"

    def __init__(self, marker_dir: str) -> None:
        self.marker_dir = marker_dir

    def map_split(self, split, counters):
        if first_claim(os.path.join(self.marker_dir, f"{split.start}")):
            raise ConnectionError(f"flaky at byte {split.start}")
        return super().map_split(split, counters)


class FailingReducer(WordCount):
    """Word count whose reducer raises on one word, every time."""

    name = "failingreducer"

    def __init__(self, word: str) -> None:
        self.word = word

    def reducer(self, word, counts):
        if word == self.word:
            raise KeyError(word)
        yield from super().reducer(word, counts)


class PoisonedWordCount(TeachingWordCount):
    """Word count whose mapper raises on any line holding ``poison``: a bad record."""

    name = "poisoned"

    def __init__(self, poison: str = "POISON") -> None:
        self.poison = poison

    def mapper(self, key, line):
        if self.poison in line:
            raise ValueError("poisoned record")
        yield from super().mapper(key, line)


class KillsItsWorker(WordCount):
    """Word count whose first split kills the process running it, on every attempt."""

    name = "killsitsworker"

    def map_split(self, split, counters):
        if split.start == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().map_split(split, counters)


def first_claim(path: str) -> bool:
    """Whether this call is the first, in any process or thread, to claim ``path``: it
    creates the file, atomically, so that two executions of one task cannot both be first."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def write_pid(path: str) -> None:
    """Write this process's pid to ``path`` atomically, for a test waiting on it."""
    Path(f"{path}.tmp").write_text(str(os.getpid()))
    os.replace(f"{path}.tmp", path)


class HoldsALambda(WordCount):
    """A module-level job that still cannot be pickled: it holds a lambda."""

    name = "holdsalambda"

    def __init__(self) -> None:
        self.normalize = lambda word: word


def children() -> set[int]:
    """The live worker processes under this one (not the libraries' resource trackers)."""
    return {p.pid for p in workers_of(os.getpid()) if alive(p.pid)}


def start_cli(args: list[str], env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """``python -m mapreduce ARGS`` started in the background, its output captured as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "mapreduce", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **popen,
    )


def workers_of(pid: int) -> list[psutil.Process]:
    """The worker processes under ``pid``: its descendants but the libraries' helpers."""
    import psutil

    helpers = ("resource_tracker", "semaphore_tracker", "forkserver")
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            # a forkserver's workers are forked copies of it, its command line and all
            forked = "forkserver" in " ".join(child.parent().cmdline())
            if forked or not any(h in " ".join(child.cmdline()) for h in helpers):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


class PausesOnce(WordCount):
    """Word count whose first split, in the first execution to reach it, writes its pid and
    pauses ``seconds``.  Only one pauses even where a backup starts before it has written
    its pid: the split is claimed first, atomically."""

    name = "pausesonce"

    def __init__(self, pid_file: str, seconds: float | str = 3.0) -> None:
        self.pid_file, self.seconds = pid_file, float(seconds)  # a string from the command line

    def map_split(self, split, counters):
        if split.start == 0 and first_claim(f"{self.pid_file}.claimed"):
            write_pid(self.pid_file)
            time.sleep(self.seconds)
        return super().map_split(split, counters)


class StallsOnce(PausesOnce):
    """``PausesOnce`` for a minute: the test kills (or times out) the paused worker first."""

    name = "stallsonce"

    def __init__(self, pid_file: str) -> None:
        super().__init__(pid_file, 60)


class TruncatesItsInput(WordCount):
    """Word count that cuts its input file in half once it has read the first block."""

    name = "truncatesitsinput"

    def map_split(self, split, counters):
        runs = Counter()
        for number, text in enumerate(split.text_blocks(size=1024)):
            if number == 0 and split.start == 0:
                os.truncate(split.path, split.end // 2)
            runs.update(text.split())
        return runs.items()


class TruncatesItsInputPerLine(TeachingWordCount):
    """The teaching path of word count, cutting its input file in half at the first record."""

    name = "truncatesitsinputperline"

    def mapper(self, key, line):
        path, offset = key
        if offset == 0:
            os.truncate(path, os.path.getsize(path) // 2)
        yield from super().mapper(key, line)


class KeysFromLines(Job):
    """Each line is a Python literal (``1``, ``1.0``, ``True``, ``'a'``, ``nan``) used as a key."""

    name = "keysfromlines"

    def mapper(self, key, line):
        yield (float("nan") if line == "nan" else ast.literal_eval(line)), 1

    def reducer(self, key, counts):
        yield key, sum(counts)


class YieldsASet(WordCount):
    """Word count whose reducer yields a set, which JSON cannot write."""

    name = "yieldsaset"

    def reducer(self, word, counts):
        yield word, {sum(counts)}


class YieldsALock(WordCount):
    """Word count whose reducer yields a lock, which cannot be pickled."""

    name = "yieldsalock"

    def reducer(self, word, counts):
        yield word, threading.Lock()


class Exits(TeachingWordCount):
    """Word count whose mapper ends its process the way scripts do: ``sys.exit`` or Ctrl-C."""

    name = "exits"

    def __init__(self, how: str = "exit") -> None:
        self.how = how

    def mapper(self, key, line):
        if self.how == "exit":
            sys.exit(3)
        raise KeyboardInterrupt
        yield


class Prints(TeachingWordCount):
    """Word count whose mapper prints every line it reads, as a student debugging would."""

    name = "prints"

    def mapper(self, key, line):
        print(f"DEBUG {line}")
        yield from super().mapper(key, line)


class IgnoresSigterm(Fetch):
    """The fetch job, whose workers (process backends) ignore SIGTERM once they run a task."""

    name = "ignoressigterm"

    def mapper(self, key, url):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        yield from super().mapper(key, url)


class SlowFirstSplit(WordCount):
    """Word count whose first split sleeps ``seconds`` on every attempt: a task that always
    runs past a short time-out."""

    name = "slowfirstsplit"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def map_split(self, split, counters):
        if split.start == 0:
            time.sleep(self.seconds)
        return super().map_split(split, counters)


HANGING = "MAPREDUCE_TEST_HANGING"
"""A folder where ``HangsInWorkers`` marks each worker that has begun to hang (a file named by
its pid), if this environment variable names one."""


class HangsInWorkers(TeachingWordCount):
    """Word count whose mapper never returns in a worker process (a cell that hangs), but runs
    as usual in the calling process (the sequential cell it is paired with)."""

    name = "hangsinworkers"

    def mapper(self, key, line):
        if multiprocessing.parent_process() is not None:
            if HANGING in os.environ:
                Path(os.environ[HANGING], str(os.getpid())).touch()
            time.sleep(3600)
        yield from super().mapper(key, line)


class LosesWorkersAtStart(PoolBackend):
    """A pool one of whose workers is killed (SIGKILL) as it starts, the first ``losses``
    times it starts."""

    name = "loses-workers-at-start"

    def __init__(self, workers: int = 2, losses: int = 1) -> None:
        super().__init__(workers)
        self.losses = losses

    def _start(self) -> None:
        super()._start()
        if self.losses > 0:
            self.losses -= 1
            os.kill(self._pool.started[0].pid, signal.SIGKILL)


class ForgetsItsFirstWorkers(PoolBackend):
    """A pool whose first workers are all killed as it starts, and replaced, and forgotten,
    by ``Pool`` before its caller could list them; the replacements then wait forever on
    the task pipe's lock, which a dead worker held as it read."""

    name = "forgets-its-first-workers"

    def __init__(self, workers: int = 2) -> None:
        super().__init__(workers)
        self.losses = 1

    def _start(self) -> None:
        super()._start()
        if self.losses > 0:
            self.losses -= 1
            first = list(self._pool.started)
            for process in first:
                os.kill(process.pid, signal.SIGKILL)
            wait_for(lambda: not set(first) & set(self._pool._pool), "Pool's replacements")
