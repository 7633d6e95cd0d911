"""The run driver: map, combine, partition, shuffle, sort, reduce, merge.

``plan`` checks everything that can be checked before a worker starts (the
inputs, the reducer count, that the job pickles for a process backend) and
cuts the splits; ``execute`` runs a plan on an open backend; ``run`` does both
around opening and closing the backend.  The study calls ``plan`` and
``execute`` itself so that starting the pool is timed apart from the work.
"""

from __future__ import annotations

import os
import pickle
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import backends
from backends import Backend
from mapreduce.errors import JobError, MapReduceError, one_line
from mapreduce.interrupts import ctrl_c_interrupting
from mapreduce.job import Job, Pair
from mapreduce.output import digest, format_lines, format_pair
from mapreduce.phase import MEMORY_HINT, Ledger, Progress, Slice, run_phase
from mapreduce.shuffle import MODES, Spilled, choose, make_folder, merged
from mapreduce.splits import MAX_RECORD, RECORD_LIMIT, FileSplit, split_pairs
from mapreduce.tasks import (
    DEFAULT_MAX_ATTEMPTS,
    FaultPolicy,
    MapTask,
    ReduceTask,
    Stress,
    TaskOutput,
    run_map_task,
    run_reduce_task,
)

SPLITS_PER_WORKER = 4
"""Default map tasks per worker: enough to even out uneven splits, few enough to stay cheap."""

MAX_REDUCERS = 10_000
"""Each map task keeps a bucket per reducer: more than this is a mistake that eats memory."""

MAX_SPLITS = 100_000
"""More map tasks than this costs more in descriptors and round trips than it could save."""


@dataclass(frozen=True)
class Plan:
    """A job, its first step's splits and its reducer count, checked and ready to run."""

    job: Job
    splits: list[Any]
    reducers: int
    split_count: int
    """How many splits to cut each later step's input into."""
    shuffle: str = "memory"
    """``memory`` or ``disk``: how intermediate pairs and the output travel."""
    policy: FaultPolicy = field(default_factory=FaultPolicy)
    """Retries and bad-record skipping; ``max_attempts`` also bounds lost-worker restarts."""
    stress: Stress = field(default_factory=Stress)
    """What ``mapreduce check`` changes (off: the defaults)."""


MAX_TASK_TIMEOUT = 7 * 24 * 3600
"""A week: a longer task time-out is a typing mistake (and would overflow a timer)."""

PHASES = ("map", "shuffle", "reduce", "merge")
"""The phases of a run, in order; ``RunResult.seconds`` times each."""


@dataclass
class RunResult:
    """The output of a run, with its digest, counters and timings.

    With the disk shuffle the output stays in files until read; ``close`` (or
    leaving a ``with`` block) removes them.
    """

    job: str
    backend: str
    workers: int
    partitions: list[Spilled] = field(repr=False)
    """Each reduce task's key-sorted output, in memory or in a file."""
    digest: str
    counters: Counter[str]
    """Summed over the steps; a later step's also appear as ``step2.<name>``."""
    seconds: dict[str, float]
    """Wall seconds per phase (map, shuffle, reduce, merge, over all steps) and in total.

    ``shuffle`` is the cost of moving intermediate data: the driver's hand-off
    between the phases, plus the share of the map and reduce phases that
    their tasks spent partitioning and sending (map), or receiving and
    sorting (reduce) the pairs.  What the pipes themselves take stays in
    the map and reduce phases."""
    format_line: Callable[[Any, Any], str] = field(repr=False, default=format_pair)
    worker_pids: set[int] = field(default_factory=set)
    timeline: list[Slice] = field(default_factory=list)
    """Every execution of every task: which worker ran it, when, and what became of it."""
    started: float = 0.0
    """When the run began, on the timeline's clock (``time.monotonic``)."""
    spill_folder: str | None = None
    skipped: list[str] = field(default_factory=list)
    """Where the first few skipped bad records were, and why (``--skip-bad-records``)."""

    @property
    def partial(self) -> bool:
        """True when bad records were skipped: the output leaves some input out."""
        return self.counters["skipped_records"] > 0

    def pairs(self) -> Iterator[Pair]:
        """The output pairs in key order, read lazily."""
        return merged(self.partitions)

    @property
    def output(self) -> list[Pair]:
        """The output pairs in key order, all in memory."""
        return list(self.pairs())

    def lines(self) -> Iterator[str]:
        """The output as text lines, exactly as the CLI writes them."""
        return format_lines(self.pairs(), self.format_line)

    def close(self) -> None:
        """Remove the disk shuffle's files, if any."""
        if self.spill_folder:
            shutil.rmtree(self.spill_folder, ignore_errors=True)
            self.spill_folder = None

    def __enter__(self) -> RunResult:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_picklable(job: Job, backend: Backend) -> None:
    """Fail before any worker starts if a backend that pickles its tasks could not send ``job``."""
    if not backend.pickles:
        return
    try:
        pickle.dumps(job.steps())
    except Exception as exc:
        raise JobError(
            f"job {job.name!r} cannot be sent to {backend.name} worker processes "
            f"({one_line(exc)}); define the job class and everything it holds at module "
            "level, with no lambdas or local functions, or use the threads backend"
        ) from exc


def require_count(name: str, value: object, maximum: int) -> None:
    """Fail unless ``value`` is a whole number from 1 to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MapReduceError(f"{name} must be a whole number of at least 1, not {value!r}")
    if value > maximum:
        raise MapReduceError(f"{name} must be at most {maximum:,}, not {value:,}")


def default_splits(workers: int) -> int:
    """How many splits a run on ``workers`` workers cuts its input into, unless told."""
    return min(SPLITS_PER_WORKER * workers, MAX_SPLITS)


def plan(
    job: Job,
    inputs: Sequence[str],
    backend: Backend,
    *,
    reducers: int = 1,
    splits: int | None = None,
    shuffle: str = "auto",
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    skip_bad_records: bool = False,
    max_record: int = MAX_RECORD,
    task_timeout: float | None = None,
    backup_tasks: bool = False,
    stress: Stress = Stress(),  # noqa: B008 (frozen: one shared default is safe)
) -> Plan:
    """Check the run and cut the input into splits, before any worker starts.

    ``max_record`` is the longest line accepted, in bytes: one longer is an
    error naming its file and offset, rather than a record held whole in memory.
    ``task_timeout`` (seconds) and ``backup_tasks`` make the driver watch every
    execution of a task (see ``mapreduce.phase``).
    """
    require_count("reducers", reducers, MAX_REDUCERS)
    check_watch(backend, task_timeout, backup_tasks)
    require_count("max attempts", max_attempts, 100)
    require_count("max record", max_record, 1 << 40)
    if splits is not None:
        require_count("splits", splits, MAX_SPLITS)
    if shuffle not in MODES:
        raise MapReduceError(f"shuffle must be one of {', '.join(MODES)}, not {shuffle!r}")
    if skip_bad_records and any(type(step).mapper is Job.mapper for step in job.steps()):
        raise JobError(f"job {job.name!r} has no per-record mapper, so it cannot skip bad records")
    check_picklable(job, backend)
    count = splits or default_splits(backend.workers)
    limit = RECORD_LIMIT.set(max_record)
    try:
        first = job.steps()[0].splits(list(inputs), count)
    finally:
        RECORD_LIMIT.reset(limit)
    input_bytes = sum(split.end - split.start for split in first if isinstance(split, FileSplit))
    policy = FaultPolicy(max_attempts, skip_bad_records, task_timeout, backup_tasks)
    mode = shuffle_mode(shuffle, input_bytes, backend)
    return Plan(job, first, reducers, count, mode, policy, stress)


def check_watch(backend: Backend, task_timeout: float | None, backup_tasks: bool) -> None:
    """Fail unless the time-out is a positive number of seconds and the backend can watch."""
    if task_timeout is not None and (
        isinstance(task_timeout, bool)
        or not isinstance(task_timeout, int | float)
        or not 0 < task_timeout <= MAX_TASK_TIMEOUT
    ):
        raise MapReduceError(
            f"task time-out must be a number of seconds above 0 and at most "
            f"{MAX_TASK_TIMEOUT:,}, not {task_timeout!r}"
        )
    if (task_timeout is not None or backup_tasks) and not backend.runs_apart:
        wanted = "time a task out" if task_timeout is not None else "back a task up"
        raise MapReduceError(
            f"the {backend.name} backend with {backend.workers} worker(s) cannot {wanted}: it "
            "runs its tasks in this process, or cannot start them one at a time (it has no "
            "submit); use threads or a process backend"
        )


def shuffle_mode(shuffle: str, input_bytes: int, backend: Backend) -> str:
    """The shuffle to use: through temporary files only if every worker can read them."""
    if backend.shares_local_files:
        return choose(shuffle, input_bytes)
    if shuffle == "disk":
        raise MapReduceError(
            f"the disk shuffle needs workers on this machine, and {backend!r} has its own; "
            "use --shuffle memory (or auto): intermediate data then travels through the backend"
        )
    return "memory"


@dataclass
class StepResult:
    partitions: list[Spilled]
    task_outputs: list[TaskOutput]
    seconds: dict[str, float]


def run_step(
    step: Job,
    splits: list[Any],
    reducers: int,
    backend: Backend,
    ledger: Ledger,
    folder: str | None,
    policy: FaultPolicy,
    stress: Stress,
) -> StepResult:
    """Map, shuffle and reduce one step of a job; its output stays partitioned."""
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    try:
        step.prepare(splits, reducers)
    except MapReduceError:
        raise
    except Exception as exc:
        raise JobError(f"{step.name}: prepare failed: {one_line(exc)}") from exc
    total, pack = len(splits), backend.pickles and folder is None
    map_tasks = [
        MapTask(step, i, total, split, reducers, folder, policy, pack, stress)
        for i, split in enumerate(splits)
    ]
    map_outputs = run_phase(backend, run_map_task, map_tasks, "map", ledger)
    seconds["map"] = time.perf_counter() - start

    start = time.perf_counter()
    reduce_tasks = [
        ReduceTask(
            step,
            r,
            reducers,
            [output.pairs[r] for output in map_outputs],
            folder,
            policy,
            pack,
            stress,
        )
        for r in range(reducers)
    ]
    seconds["shuffle"] = time.perf_counter() - start

    start = time.perf_counter()
    reduce_outputs = run_phase(backend, run_reduce_task, reduce_tasks, "reduce", ledger)
    for task in reduce_tasks:  # the map outputs are read: free the disk early
        for spilled in task.inputs:
            if isinstance(spilled, str):
                os.remove(spilled)
    seconds["reduce"] = time.perf_counter() - start
    for phase, outputs in (("map", map_outputs), ("reduce", reduce_outputs)):
        moving = seconds[phase] * shuffle_share(outputs)
        seconds[phase] -= moving
        seconds["shuffle"] += moving
    partitions = [output.pairs for output in reduce_outputs]
    return StepResult(partitions, map_outputs + reduce_outputs, seconds)


def shuffle_share(outputs: list[TaskOutput]) -> float:
    """The share of the tasks' time they spent moving intermediate data."""
    total = sum(output.seconds for output in outputs)
    return sum(output.shuffle_seconds for output in outputs) / total if total else 0.0


def execute(plan: Plan, backend: Backend, progress: Progress | None = None) -> RunResult:
    """Run a checked plan on an open backend, step after step."""
    folder = make_folder() if plan.shuffle == "disk" else None
    try:
        with ctrl_c_interrupting():
            return execute_steps(plan, backend, progress, folder)
    except BaseException:
        if folder:
            # Stop the tasks first: a thread still running would find its
            # folder gone, fail, and be retried into the void.
            backend.close()
            shutil.rmtree(folder, ignore_errors=True)
        raise


def execute_steps(
    plan: Plan, backend: Backend, progress: Progress | None, folder: str | None
) -> RunResult:
    job = plan.job
    seconds: Counter[str] = Counter()
    counters: Counter[str] = Counter()
    task_outputs: list[TaskOutput] = []
    ledger = Ledger(progress=progress)
    started = time.monotonic()
    splits, steps = plan.splits, job.steps()
    for number, step in enumerate(steps, start=1):
        ledger.step, ledger.counters = number, Counter()  # the driver's own: restarts, backups
        result = run_step(
            step, splits, plan.reducers, backend, ledger, folder, plan.policy, plan.stress
        )
        seconds.update(result.seconds)
        task_outputs += result.task_outputs
        for step_counters in [ledger.counters] + [o.counters for o in result.task_outputs]:
            counters.update(step_counters)
            if number > 1:
                counters.update({f"step{number}.{k}": v for k, v in step_counters.items()})
        if number < len(steps):
            splits = split_pairs(list(merged(result.partitions)), plan.split_count, number)

    start = time.perf_counter()
    try:
        result_digest = digest(format_lines(merged(result.partitions), job.format_line))
    except JobError as exc:
        raise JobError(f"{job.name}: {exc}") from exc
    except MemoryError:
        raise MapReduceError(f"{job.name}: merging the reducers' output: {MEMORY_HINT}") from None
    seconds["merge"] += time.perf_counter() - start
    seconds["total"] = sum(seconds.values())
    return RunResult(
        job=job.name,
        backend=backend.name,
        workers=backend.workers,
        partitions=result.partitions,
        digest=result_digest,
        counters=counters,
        seconds=dict(seconds),
        format_line=job.format_line,
        worker_pids={o.pid for o in task_outputs},
        timeline=ledger.timeline,
        started=started,
        spill_folder=folder,
        skipped=[where for output in task_outputs for where in output.skipped],
    )


def run(
    job: Job,
    inputs: Sequence[str],
    backend: str | Backend = "sequential",
    *,
    workers: int = 1,
    reducers: int = 1,
    splits: int | None = None,
    start_method: str | None = None,
    shuffle: str = "auto",
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    skip_bad_records: bool = False,
    max_record: int = MAX_RECORD,
    task_timeout: float | None = None,
    backup_tasks: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Run ``job`` over the files ``inputs`` on a backend, opened and closed here."""
    if isinstance(backend, str):
        backend = backends.create(backend, workers, start_method)
    checked = plan(
        job,
        inputs,
        backend,
        reducers=reducers,
        splits=splits,
        shuffle=shuffle,
        max_attempts=max_attempts,
        skip_bad_records=skip_bad_records,
        max_record=max_record,
        task_timeout=task_timeout,
        backup_tasks=backup_tasks,
    )
    with backend:
        return execute(checked, backend, progress)
