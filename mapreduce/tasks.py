"""Map and reduce tasks: the descriptors sent to workers and the code they run.

Each task is a small picklable record; ``run_map_task`` and ``run_reduce_task``
are module-level so that every backend, thread or process, can run them.  A
task that raises is run again, up to its policy's ``max_attempts``, as the
paper's master re-executes failed tasks; past that, the exception comes back
as a one-line ``TaskError`` that names the job, the phase, the task and its
split.  With ``skip_bad_records`` a map task skips the records its mapper
raises on, counts them and notes where the first few were (the paper's 4.6).
"""

from __future__ import annotations

import functools
import itertools
import os
import random
import reprlib
import secrets
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, TypeVar

from mapreduce.errors import MapReduceError, TaskError, one_line
from mapreduce.interrupts import Interrupted
from mapreduce.job import Job, Pair
from mapreduce.output import format_one, format_pair
from mapreduce.partition import check_key, mixed_keys
from mapreduce.parts import Part, PartWriter
from mapreduce.shuffle import Spilled, size_of, spill
from mapreduce.sorting import SORT_BUFFER, Sorter, sort_in_memory
from mapreduce.splits import FileSplit

COMBINE_EVERY = 200_000
"""Buffered map output values after which the combiner runs, bounding memory."""

DEFAULT_MAX_ATTEMPTS = 3
"""Tries before the run fails (``FaultPolicy.max_attempts``): a flaky task gets two more
chances."""

SKIPPED_SHOWN = 5
"""Skipped records described per task (all are counted)."""


@dataclass(frozen=True)
class FaultPolicy:
    """What a task does when the job's code raises, or runs too long."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    """Tries before the run fails, one limit for each way a task's execution can end badly:
    runs of a task whose code raises (here), time-outs of one task, and starts of a phase's
    pool after lost workers (``mapreduce.phase``)."""
    skip_bad_records: bool = False
    """Skip (and count) records whose mapper raises, instead of failing the task."""
    task_timeout: float | None = None
    """Seconds an execution may run before it is declared lost and run again (None: no limit)."""
    backup_tasks: bool = False
    """Near a phase's end, run a second execution of the slowest task still running."""

    @property
    def watched(self) -> bool:
        """Whether the driver watches each execution (a time-out or backup tasks)."""
        return self.task_timeout is not None or self.backup_tasks


@dataclass(frozen=True)
class Stress:
    """What ``mapreduce check`` changes to expose a job that is right only by luck.

    Off (the defaults) in every normal run: the engine then runs the combiner
    once per map task and hands each reducer a key's values in map task order.
    """

    combines: int = 1
    """Times the combiner runs over a map task's output: 0, 1, or 2 (again on its output)."""
    values: str = "in order"
    """A key's values as its reducer gets them: ``in order``, ``reversed`` or ``shuffled``."""


first = itemgetter(0)
second = itemgetter(1)


@dataclass(frozen=True, kw_only=True)
class Task:
    """What every task carries: its job, which task it is, and how it behaves."""

    job: Job
    index: int
    total: int
    policy: FaultPolicy = field(default_factory=FaultPolicy)
    stress: Stress = field(default_factory=Stress)
    spill_folder: str | None = None
    """Where to write the pairs the task gives on (disk shuffle); None keeps them in memory."""
    pack: bool = False
    """Pickle the pairs kept in memory (they travel to another process anyway)."""
    execution: int = 1
    """Which execution of the task this is: a backup, or a run after a time-out, is 2 or more."""


@dataclass(frozen=True, kw_only=True)
class MapTask(Task):
    split: Any
    reducers: int

    def __str__(self) -> str:
        return str(self.split)


@dataclass(frozen=True, kw_only=True)
class ReduceTask(Task):
    inputs: list[Spilled]
    """Bucket ``index`` of every map task, in map task order (pairs, pickled or in a file)."""
    folder: str | None = None
    """The run's folder, for the sort's runs and the output part; None where the workers
    share no disk with the driver (the runs go under the worker's TMPDIR, the part in memory)."""
    part: bool = False
    """Write the formatted output lines to a part (the job's last step)."""
    format_line: Callable[[Any, Any], str] = format_pair
    """How the part's lines are formatted: the job's own (not its last step's)."""
    keys: bool = False
    """Write the part's keys beside it, for the driver's merge."""
    keep: bool = True
    """Give back the output pairs (a step whose output the next step reads, or a caller who
    asked for them)."""
    sort_buffer: int = SORT_BUFFER
    """Bytes of pairs the task sorts in memory before it sorts on disk."""

    def __str__(self) -> str:
        return f"partition {self.index}"


@dataclass
class TaskOutput:
    """What a task sends back: its pairs (per partition for a map task) and its costs."""

    pairs: list[Any]
    counters: Counter[str]
    pid: int = field(default_factory=os.getpid)
    skipped: list[str] = field(default_factory=list)
    """Where the first few skipped bad records were, and why."""
    started: float = 0.0
    ended: float = 0.0
    """When the successful attempt ran, on ``time.monotonic`` (one clock for every process
    on a machine: Linux's CLOCK_MONOTONIC)."""
    thread: str = ""
    """The name of the thread that ran it."""
    attempt: int = 1
    """Which try within the execution succeeded (a raising task is tried again)."""
    execution: int = 1
    """Which execution of the task this came from (see ``MapTask.execution``)."""
    failures: list[tuple[float, float]] = field(default_factory=list)
    """When each try that raised ran (start, end), before the one that succeeded."""

    @property
    def seconds(self) -> float:
        """Wall seconds the successful attempt ran."""
        return self.ended - self.started

    shuffle_seconds: float = 0.0
    """Of those, the seconds spent moving intermediate data: partitioning and sending it
    (map), receiving and sorting it (reduce)."""
    part: Part | None = None
    """A reduce task's output part (``ReduceTask.part``)."""


AnyTask = TypeVar("AnyTask", MapTask, ReduceTask)


def thread_name() -> str:
    """The running thread's name; in a subinterpreter, whose ``threading`` names a thread it
    did not start ``Dummy-N`` anew each time, the operating system's number for it."""
    name = threading.current_thread().name
    return f"thread {threading.get_native_id()}" if name.startswith("Dummy-") else name


def guarded(
    phase: str,
) -> Callable[[Callable[[AnyTask], TaskOutput]], Callable[[AnyTask], TaskOutput]]:
    """Run a task again if it raises, and turn its last exception into a ``TaskError``.

    Every attempt starts afresh (new counters, new output), so a retried task
    gives exactly what a first-time success would; ``task_retries`` counts the
    extra attempts.  The engine's own diagnoses (``MapReduceError``: input
    that is not UTF-8, a key that cannot be grouped, a full disk) are not
    retried: they would fail the same way every time.  Job code that calls
    ``sys.exit`` or raises ``KeyboardInterrupt`` fails its task like any
    other exception; only a real Ctrl-C (``Interrupted``) stops the run.
    """

    def decorate(run: Callable[[AnyTask], TaskOutput]) -> Callable[[AnyTask], TaskOutput]:
        @functools.wraps(run)
        def wrapper(task: AnyTask) -> TaskOutput:
            attempts = task.policy.max_attempts
            failures: list[tuple[float, float]] = []
            for attempt in range(1, attempts + 1):
                started = time.monotonic()
                try:
                    output = run(task)
                    output.started, output.ended = started, time.monotonic()
                    output.thread, output.attempt = thread_name(), attempt
                    output.execution, output.failures = task.execution, failures
                    break
                except Interrupted:
                    raise
                except (Exception, SystemExit, KeyboardInterrupt) as exc:
                    failures.append((started, time.monotonic()))
                    if attempt == attempts or isinstance(exc, MapReduceError):
                        raise TaskError(
                            task.job.name,
                            phase,
                            task.index,
                            task.total,
                            str(task),
                            one_line(exc),
                            traceback.format_exc(),
                            attempt,
                        ) from exc
            if attempt > 1:
                output.counters["task_retries"] += attempt - 1
            return output

        return wrapper

    return decorate


def record_position(split: Any, key: Any) -> str:
    """Where a record is, for a person: ``corpus.txt line 12`` or ``corpus.txt byte 4096``."""
    if isinstance(split, FileSplit) and isinstance(key, tuple) and len(key) == 2:
        unit = "byte" if split.first_line is None else "line"
        return f"{key[0]} {unit} {key[1]}"
    return f"{split}, record {reprlib.repr(key)}"


def map_skipping_bad_records(
    job: Job, split: Any, counters: Counter[str], skipped: list[str]
) -> Iterator[Pair]:
    """The teaching path, one ``mapper`` call per record, stepping over records that raise.

    A bad record's pairs are dropped whole: the mapper's output for one record
    is collected before any of it is passed on.
    """
    for key, value in job.records(split):
        counters["input_records"] += 1
        try:
            pairs = list(job.mapper(key, value))
        except Exception as exc:
            counters["skipped_records"] += 1
            if len(skipped) < SKIPPED_SHOWN:
                skipped.append(f"{record_position(split, key)}: {one_line(exc)}")
            continue
        yield from pairs


def combine(job: Job, groups: dict[Any, list[Any]]) -> dict[Any, list[Any]]:
    """Run the job's combiner over every group of buffered values."""
    combined: dict[Any, list[Any]] = {}
    for key, values in groups.items():
        for out_key, out_value in job.combiner(key, values):
            combined.setdefault(out_key, []).append(out_value)
    return combined


def combined_pairs(job: Job, pairs: Iterable[Pair], counters: Counter[str]) -> list[Pair]:
    """Group map output by key and run the combiner every ``COMBINE_EVERY`` buffered values.

    When a combine leaves the buffer more than half full (a combiner that cannot
    shrink it: an inverted index keeps every document), the combined groups are
    spilled to the task's output and the buffer starts empty, as Hadoop's map
    side spills its sort buffer: each value is then combined a bounded number
    of times and the cost stays linear in the pairs.  A key spilled more than
    once reaches its reducer as several combined values, which a combiner's
    contract allows.  When no key came twice (a job that combined in its
    mapper), the combiner has nothing to combine and is skipped: by its
    contract it may run zero times.
    """
    spilled: list[Pair] = []
    groups: dict[Any, list[Any]] = {}
    buffered = 0
    repeated = False
    for key, value in pairs:
        counters["map_output_pairs"] += 1
        group = groups.get(key)
        if group is None:
            groups[key] = [value]
        else:
            group.append(value)
            repeated = True
        buffered += 1
        if buffered >= COMBINE_EVERY:
            groups = combine(job, groups)
            buffered = sum(map(len, groups.values()))
            if buffered > COMBINE_EVERY // 2:
                spilled += flattened(groups)
                groups, buffered = {}, 0
                counters["combine_spills"] += 1
    if repeated:
        groups = combine(job, groups)
    return spilled + flattened(groups)


def flattened(groups: dict[Any, list[Any]]) -> list[Pair]:
    return [(key, value) for key, values in groups.items() for value in values]


def partitioned(job: Job, pairs: list[Pair], reducers: int) -> list[list[Pair]]:
    """Deal ``pairs`` into ``reducers`` buckets with the job's partitioner."""
    if reducers == 1:
        return [pairs]
    buckets: list[list[Pair]] = [[] for _ in range(reducers)]
    for pair in pairs:
        bucket = job.partition(pair[0], reducers)
        if not 0 <= bucket < reducers:
            raise ValueError(
                f"partition({pair[0]!r}, {reducers}) gave {bucket!r}, not in 0..{reducers - 1}"
            )
        buckets[bucket].append(pair)
    return buckets


@guarded("map")
def run_map_task(task: MapTask) -> TaskOutput:
    """Map one split, combine locally, and partition the pairs into R buckets."""
    job, counters, skipped = task.job, Counter(), []
    if task.policy.skip_bad_records:
        pairs = map_skipping_bad_records(job, task.split, counters, skipped)
    else:
        pairs = job.map_split(task.split, counters)
    if job.combiner is None or task.stress.combines == 0:
        pairs = list(pairs)
        counters["map_output_pairs"] += len(pairs)
    else:
        pairs = combined_pairs(job, pairs, counters)
        for _ in range(task.stress.combines - 1):  # a combiner may run any number of times
            pairs = combined_pairs(job, pairs, Counter())
    counters["combine_output_pairs"] += len(pairs)
    moving = time.monotonic()
    buckets = partitioned(job, pairs, task.reducers)
    for bucket in buckets:  # the reducers merge sorted runs (Hadoop's map side sorts too)
        sort_in_memory(bucket)
    folder = task.spill_folder
    names = [f"{attempt('map', task)}-part-{r:04d}.pickle" for r in range(task.reducers)]
    spilled = [spill(b, folder, n, task.pack) for n, b in zip(names, buckets, strict=True)]
    counters["shuffle_bytes"] += sum(map(size_of, spilled))
    moved = time.monotonic() - moving
    return TaskOutput(spilled, counters, skipped=skipped, shuffle_seconds=moved)


def attempt(phase: str, task: MapTask | ReduceTask) -> str:
    """The name of this attempt's files: the task, its execution, and this process and a
    random tag.  A scheduler may run one execution again on its own (dask does when the
    worker holding a finished task's result dies), and the two must not share a file: one
    would truncate what the driver is reading of the other.  The tag comes from the system,
    not from ``random``, whose state a job may seed or read."""
    return f"{phase}-{task.index:05d}.{task.execution}.{os.getpid()}-{secrets.token_hex(4)}"


class OutOfOrder(Exception):
    """A reducer gave a key before one it had already given."""


@guarded("reduce")
def run_reduce_task(task: ReduceTask) -> TaskOutput:
    """Sort one partition's pairs by key and reduce each key's values, in key order.

    The output is written as it comes, in key order.  A reducer that gives
    its keys in another order (one that changes keys) makes the task start
    again, holding its output to sort it first.
    """
    try:
        return reduce_partition(task, hold=False)
    except OutOfOrder:
        return reduce_partition(task, hold=True)


def reduce_partition(task: ReduceTask, hold: bool) -> TaskOutput:
    started = time.monotonic()
    counters: Counter[str] = Counter()
    sorter = Sorter(task.sort_buffer, task.folder, counters)
    try:
        for spilled in task.inputs:
            sorter.add(spilled)
        pairs = sorter.sorted()
        sorted_at = time.monotonic()
        output = reduced(task, pairs, counters)
        if hold:
            output = sorted_output(list(output))
        part, kept = emit(task, output, counters)
        counters["reduce_input_pairs"] += sorter.count
    finally:
        sorter.close()
    return TaskOutput(kept, counters, shuffle_seconds=sorted_at - started, part=part)


def reduced(task: ReduceTask, pairs: Iterable[Pair], counters: Counter[str]) -> Iterator[Pair]:
    """The reducer's output over key-sorted ``pairs``, a key at a time."""
    for key, values in grouped(pairs, counters, task.stress.values, task.index):
        yield from task.job.reducer(key, values)


def grouped(
    pairs: Iterable[Pair], counters: Counter[str], order: str = "in order", seed: int = 0
) -> Iterator[tuple[Any, Iterable[Any]]]:
    """Each key of key-sorted ``pairs`` with its values, in map task order (``order``:
    ``reversed`` or ``shuffled``, seeded, for ``check``); a key of no allowed type fails."""
    reorder = random.Random(seed).shuffle  # seeded: a rerun of the check agrees
    for key, group in itertools.groupby(pairs, key=first):
        check_key(key)
        counters["reduce_input_groups"] += 1
        values: Iterable[Any] = map(second, group)
        if order != "in order":  # no MapReduce promises any order
            values = list(values)
            if order == "reversed":
                values.reverse()
            else:
                reorder(values)
        yield key, values


def sorted_output(output: list[Pair]) -> list[Pair]:
    try:
        output.sort(key=first)
    except TypeError as exc:
        raise mixed_keys(exc) from None
    return output


NO_KEY = object()
"""The key before a reducer's first."""


def emit(
    task: ReduceTask, output: Iterable[Pair], counters: Counter[str]
) -> tuple[Part | None, Spilled]:
    """Write ``output`` to the task's part and keep its pairs, as the task asks; raise
    ``OutOfOrder`` at a key that comes before the one given last."""
    name = attempt("reduce", task)
    writer = None
    if task.part:
        path = os.path.join(task.folder, f"{name}.part") if task.folder else None
        writer = PartWriter(task.index, path, task.keys)
    kept: list[Pair] = []
    last: Any = NO_KEY
    try:
        for key, value in output:
            try:
                if last is not NO_KEY and key < last:
                    raise OutOfOrder
            except TypeError as exc:
                raise mixed_keys(exc) from None
            last = key
            if writer is not None:
                writer.add(key, format_one(task.format_line, key, value))
            if task.keep:
                kept.append((key, value))
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    counters["output_records"] += writer.lines if writer is not None else len(kept)
    part = writer.close() if writer is not None else None
    spilled = spill(kept, task.spill_folder, f"{name}.pickle", task.pack) if task.keep else []
    return part, spilled
