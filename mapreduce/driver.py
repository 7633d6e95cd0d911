"""The run driver: map, combine, partition, shuffle, sort, reduce, merge.

``plan`` checks everything that can be checked before a worker starts (the
inputs, the reducer count, that the job pickles for a process backend) and
cuts the splits; ``execute`` runs a plan on an open backend; ``run`` does both
around opening and closing the backend.  The study calls ``plan`` and
``execute`` itself so that starting the pool is timed apart from the work.

The driver schedules tasks and passes descriptors; the data goes from worker
to worker (``mapreduce.shuffle``), and each reduce task writes its own part of
the output (``mapreduce.parts``), from which the driver builds the output
without unpickling anything.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import stat
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import backends
from backends import Backend
from mapreduce.errors import JobError, MapReduceError, one_line
from mapreduce.interrupts import ctrl_c_interrupting
from mapreduce.job import Job, Pair
from mapreduce.options import MAX_SPLITS, Options
from mapreduce.output import Sink, format_pair
from mapreduce.parts import Part, build, check_ordered, lines
from mapreduce.phase import MEMORY_HINT, AfterTask, Ledger, Slice, run_phase
from mapreduce.shuffle import Spilled, choose, make_folder, merged
from mapreduce.splits import CUT_BY_LINES, RECORD_LIMIT, FileSplit, split_pairs
from mapreduce.summary import counters_text, markdown
from mapreduce.tasks import (
    MapTask,
    ReduceTask,
    TaskOutput,
    run_map_task,
    run_reduce_task,
)

SPLITS_PER_WORKER = 4
"""Default map tasks per worker: enough to even out uneven splits, few enough to stay cheap."""

SPLIT_SIZE = 32_000_000
"""Most input bytes a map task gets by default (the paper's 16 to 64 MB): the number of map
tasks grows with the input, and a map task's memory does not."""


@dataclass(frozen=True)
class Plan:
    """A job, its first step's splits and its options, checked and ready to run."""

    job: Job
    splits: list[Any]
    options: Options
    split_count: int
    """How many splits to cut each later step's input into."""
    shuffle: str = "memory"
    """``memory`` or ``disk``: how intermediate pairs travel (``auto`` decided)."""


PHASES = ("map", "shuffle", "reduce", "merge")
"""The phases of a run, in order; ``RunResult.seconds`` times each."""


@dataclass
class RunResult:
    """The output of a run, with its digest, counters and timings.

    The output stays in the reduce tasks' parts, in the run's folder, until
    read; ``close`` (or leaving a ``with`` block, or dropping the result)
    removes them.
    """

    job: str
    backend: str
    workers: int
    parts: list[Part] = field(repr=False)
    """Each reduce task's output part, in partition order."""
    ordered: bool
    """Whether the output is the parts concatenated (else their lines merged by key)."""
    digest: str
    counters: Counter[str]
    """Summed over the steps; a later step's also appear as ``step2.<name>``."""
    seconds: dict[str, float]
    """Wall seconds per phase (map, shuffle, reduce, merge, over all steps) and in total.

    ``shuffle`` is the cost of moving intermediate data: the driver's hand-off
    between the phases, plus the share of the map and reduce phases that
    their tasks spent partitioning and sending (map), or receiving and
    sorting (reduce) the pairs.  What the pipes themselves take stays in
    the map and reduce phases.  ``merge`` is the driver building the output
    from the parts (and writing it, when it is given somewhere to write)."""
    partitions: list[Spilled] | None = field(default=None, repr=False)
    """Each reduce task's key-sorted output pairs, if the plan kept them (``keep_pairs``)."""
    format_line: Callable[[Any, Any], str] = field(repr=False, default=format_pair)
    worker_pids: set[int] = field(default_factory=set)
    timeline: list[Slice] = field(default_factory=list)
    """Every execution of every task: which worker ran it, when, and what became of it."""
    started: float = 0.0
    """When the run began, on the timeline's clock (``time.monotonic``)."""
    folder: str | None = None
    """The run's folder: its parts, and the kept pairs of a disk shuffle."""
    skipped: list[str] = field(default_factory=list)
    """Where the first few skipped bad records were, and why (``--skip-bad-records``)."""

    def __post_init__(self) -> None:
        self._remove = weakref.finalize(self, remove_folder, self.folder)

    @property
    def partial(self) -> bool:
        """True when bad records were skipped: the output leaves some input out."""
        return self.counters["skipped_records"] > 0

    def pairs(self) -> Iterator[Pair]:
        """The output pairs in key order, read lazily (if the run kept them)."""
        if self.partitions is None:
            raise MapReduceError(
                f"the {self.job} run kept its output as lines only: read lines(), or run it "
                "with keep_pairs=True"
            )
        return merged(self.partitions)

    @property
    def output(self) -> list[Pair]:
        """The output pairs in key order, all in memory."""
        return list(self.pairs())

    def lines(self) -> Iterator[str]:
        """The output as text lines, exactly as the CLI writes them."""
        for line in lines(self.parts, self.ordered):
            yield line.decode("utf-8", "surrogateescape")

    def __repr__(self) -> str:
        records = self.counters["output_records"]
        return f"<RunResult {self.title}: {records} output records, digest {self.digest[:12]}>"

    @property
    def title(self) -> str:
        return f"{self.job} on {self.backend} x{self.workers}"

    @property
    def phase_seconds(self) -> dict[str, float]:
        """``seconds`` in the order the phases run, then the total."""
        return {phase: self.seconds[phase] for phase in (*PHASES, "total")}

    def summary(self) -> str:
        """The counters and phase times, as ``mapreduce run --counters`` prints them."""
        return counters_text(self.title, self.counters, self.phase_seconds)

    def _repr_markdown_(self) -> str:
        """How a notebook shows the result: its first lines, counters and phase times."""
        lines = self.lines() if self._remove.alive else ["(closed: its output is removed)\n"]
        return markdown(self.title, self.counters, self.phase_seconds, lines)

    def close(self) -> None:
        """Remove the run's folder, and the parts in it."""
        self._remove()

    def __enter__(self) -> RunResult:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def remove_folder(folder: str | None) -> None:
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def check_picklable(job: Job, backend: Backend) -> None:
    """Fail before any worker starts if a backend that pickles its tasks could not send ``job``."""
    if not backend.pickles:
        return
    try:
        pickle.dumps(job.steps())
    except Exception as exc:
        raise JobError(
            f"job {job.name!r} cannot be sent to {backend.name} worker processes "
            f"({one_line(exc)}): everything a job holds must pickle (no open files or locks; "
            "no lambdas in a job defined in a module), or use the threads backend"
        ) from exc


def default_split_count(workers: int, input_bytes: int = 0) -> int:
    """How many splits a run on ``workers`` workers cuts ``input_bytes`` of input into,
    unless told: enough to keep every worker busy, and none above ``SPLIT_SIZE``."""
    return min(max(SPLITS_PER_WORKER * workers, math.ceil(input_bytes / SPLIT_SIZE)), MAX_SPLITS)


def input_size(inputs: Sequence[str]) -> int:
    """Bytes in the regular files among ``inputs`` (the rest are refused later, in one line)."""
    total = 0
    for path in inputs:
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(info.st_mode):
            total += info.st_size
    return total


def plan(
    job: Job,
    inputs: Sequence[str],
    backend: Backend,
    options: Options | None = None,
    /,
    **fields: Any,
) -> Plan:
    """Check the run and cut the input into splits, before any worker starts.

    ``options`` (or, with ``fields``, the defaults with those fields changed)
    say how: see ``mapreduce.options.Options``.
    """
    options = replace(options or Options(), **fields)
    check_watch(backend, options)
    if options.skip_bad_records and any(type(step).mapper is Job.mapper for step in job.steps()):
        raise JobError(f"job {job.name!r} has no per-record mapper, so it cannot skip bad records")
    check_picklable(job, backend)
    count = options.split_count or default_split_count(backend.workers, input_size(inputs))
    limit = RECORD_LIMIT.set(options.max_record)
    cut = CUT_BY_LINES.set(options.cut_by_lines)
    try:
        first = job.steps()[0].splits(list(inputs), count)
    finally:
        CUT_BY_LINES.reset(cut)
        RECORD_LIMIT.reset(limit)
    input_bytes = sum(split.end - split.start for split in first if isinstance(split, FileSplit))
    mode = shuffle_mode(options.shuffle, input_bytes, backend)
    return Plan(job, first, options, count, mode)


def check_watch(backend: Backend, options: Options) -> None:
    """Fail unless the backend can watch its tasks, if the options ask it to."""
    if (options.task_timeout is not None or options.backup_tasks) and not backend.runs_apart:
        wanted = "time a task out" if options.task_timeout is not None else "back a task up"
        raise MapReduceError(
            f"the {backend.name} backend with {backend.workers} worker(s) cannot {wanted}: it "
            "runs its tasks in this process, or cannot start them one at a time (it has no "
            "submit); use threads or a process backend"
        )


def shuffle_mode(shuffle: str, input_bytes: int, backend: Backend) -> str:
    """The shuffle to use: through temporary files only if every worker can read them."""
    if backend.shares_local_files:
        return choose(shuffle, input_bytes, backend.pickles)
    if shuffle == "disk":
        raise MapReduceError(
            f"the disk shuffle needs workers on this machine, and {backend!r} has its own; "
            "use --shuffle memory (or auto): intermediate data then travels through the backend"
        )
    return "memory"


@dataclass
class StepResult:
    partitions: list[Spilled]
    parts: list[Part | None]
    task_outputs: list[TaskOutput]
    seconds: dict[str, float]


def run_step(
    step: Job,
    splits: list[Any],
    plan: Plan,
    backend: Backend,
    ledger: Ledger,
    folder: str | None,
    last: bool,
) -> StepResult:
    """Map, shuffle and reduce one step of a job; its output stays partitioned.

    The ``last`` step's reduce tasks write the output's parts into ``folder``
    (the run's folder; ``None``: in memory); the others give back their pairs.
    """
    seconds: dict[str, float] = {}
    options = plan.options
    reducers = options.reducers
    shuffled = folder if plan.shuffle == "disk" else None

    start = time.perf_counter()
    try:
        step.prepare(splits, reducers)
    except MapReduceError:
        raise
    except Exception as exc:
        raise JobError(f"{step.name}: prepare failed: {one_line(exc)}") from exc
    pack = backend.pickles and shuffled is None
    common = {
        "job": step, "total": len(splits), "policy": options.policy, "stress": options.stress,
        "spill_folder": shuffled, "pack": pack,
    }  # fmt: skip
    map_tasks = [
        MapTask(index=i, split=split, reducers=reducers, **common)
        for i, split in enumerate(splits)
    ]
    map_outputs = run_phase(backend, run_map_task, map_tasks, "map", ledger)
    seconds["map"] = time.perf_counter() - start

    start = time.perf_counter()
    common["total"] = reducers
    reduce_tasks = [
        ReduceTask(
            index=r,
            inputs=[output.pairs[r] for output in map_outputs],
            folder=folder,
            part=last,
            format_line=plan.job.format_line,
            keys=last and reducers > 1 and not step.ordered_partitions,
            keep=not last or options.keep_pairs,
            sort_buffer=options.sort_buffer,
            **common,
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
    parts = [output.part for output in reduce_outputs]
    return StepResult(partitions, parts, map_outputs + reduce_outputs, seconds)


def shuffle_share(outputs: list[TaskOutput]) -> float:
    """The share of the tasks' time they spent moving intermediate data."""
    total = sum(output.seconds for output in outputs)
    return sum(output.shuffle_seconds for output in outputs) / total if total else 0.0


def execute(
    plan: Plan, backend: Backend, after_task: AfterTask | None = None, sink: Sink | None = None
) -> RunResult:
    """Run a checked plan on an open backend, step after step; write the output to ``sink``
    as it is built, if given."""
    folder = make_folder() if backend.shares_local_files else None
    try:
        with ctrl_c_interrupting():
            return execute_steps(plan, backend, after_task, folder, sink)
    except BaseException:
        if folder:
            # Stop the tasks first: a thread still running would find its
            # folder gone, fail, and be retried into the void.  A signal held
            # back while the workers stop is raised as the close ends: the
            # folder goes all the same.
            try:
                backend.close()
            finally:
                remove_folder(folder)
        raise


def execute_steps(
    plan: Plan,
    backend: Backend,
    after_task: AfterTask | None,
    folder: str | None,
    sink: Sink | None,
) -> RunResult:
    job = plan.job
    seconds: Counter[str] = Counter()
    counters: Counter[str] = Counter()
    task_outputs: list[TaskOutput] = []
    ledger = Ledger(after_task=after_task)
    started = time.monotonic()
    splits, steps = plan.splits, job.steps()
    for number, step in enumerate(steps, start=1):
        ledger.step, ledger.counters = number, Counter()  # the driver's own: restarts, backups
        last = number == len(steps)
        result = run_step(step, splits, plan, backend, ledger, folder, last)
        seconds.update(result.seconds)
        task_outputs += result.task_outputs
        for step_counters in [ledger.counters] + [o.counters for o in result.task_outputs]:
            counters.update(step_counters)
            if number > 1:
                counters.update({f"step{number}.{k}": v for k, v in step_counters.items()})
        if not last:
            splits = split_pairs(list(merged(result.partitions)), plan.split_count, number)

    start = time.perf_counter()
    parts = [part for part in result.parts if part is not None]
    ordered = steps[-1].ordered_partitions
    if ordered:
        check_ordered(job.name, parts)
    try:
        result_digest = build(parts, ordered, sink)
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
        parts=parts,
        ordered=ordered,
        digest=result_digest,
        counters=counters,
        seconds=dict(seconds),
        partitions=result.partitions if plan.options.keep_pairs else None,
        format_line=job.format_line,
        worker_pids={o.pid for o in task_outputs},
        timeline=ledger.timeline,
        started=started,
        folder=folder,
        skipped=[where for output in task_outputs for where in output.skipped],
    )


def run(
    job: Job,
    inputs: Sequence[str],
    backend: str | Backend = "sequential",
    *,
    workers: int = 1,
    start_method: str | None = None,
    options: Options | None = None,
    after_task: AfterTask | None = None,
    sink: Sink | None = None,
    **fields: Any,
) -> RunResult:
    """Run ``job`` over the files ``inputs`` on a backend, opened and closed here (see
    ``plan`` and ``execute``); ``fields`` change fields of ``options``.  Unless told
    otherwise, the result keeps its output pairs (``keep_pairs``)."""
    if isinstance(backend, str):
        backend = backends.create(backend, workers, start_method)
    checked = plan(job, inputs, backend, options or Options(keep_pairs=True), **fields)
    with backend:
        return execute(checked, backend, after_task, sink)
