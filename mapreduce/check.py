"""``mapreduce check``: does a job give the same answer however it is run?

This engine is deterministic on purpose: values reach a reducer in map task
order, the combiner runs once per map task, and workers forked from the
driver share its hash salt.  So a job that is right only under those
conditions passes every normal run here, and fails on Hadoop, Spark or dask,
or under ``spawn``.  ``check`` runs the job under configurations that take
those conditions away (every backend; other split and reducer counts;
``spawn``; every task with its own hash salt; the combiner run zero times
and twice; each reducer's values reversed and shuffled; the reference run
again), compares each output with a reference run on the sequential
backend, and says in plain words what the differences point to.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import backends
from backends import PROCESS_BACKENDS, SCALE_OUT_BACKENDS
from mapreduce import driver
from mapreduce.deadline import Overtime, deadline
from mapreduce.explain import brief
from mapreduce.job import Job
from mapreduce.salted import SaltedBackend
from mapreduce.tasks import Stress

SHOWN = 3
"""Differing keys shown per configuration."""

CHECK_FRACTION = 100
"""Without input, the job's generated input at this fraction of its default size."""

SPLITS = 4
"""Map tasks of every configuration that does not vary them: the input is cut by lines, so
that a small input, or one whose bytes sit in a long line, still gives several."""

MANY_SPLITS = 32

INCONCLUSIVE = 3
"""``check``'s exit status when every configuration matches but the input could not be cut
into two map tasks: no configuration could vary what it varies."""

NEED_TWO_TASKS = frozenset({"processes", "salt", "splits", "combiner"})
"""What a configuration varies that needs two map tasks to show: one task alone has no other
task to disagree with (another process, hash salt, split or combined value)."""

CONFIGURATION_SECONDS = 60.0
"""How long one configuration may run: ``check``'s inputs take about a second."""


@dataclass(frozen=True)
class Configuration:
    """One way to run the job; ``varies`` says what it changes from the reference."""

    name: str
    varies: str
    """``reference``, ``backend``, ``processes``, ``salt``, ``splits``, ``reducers``,
    ``combiner`` or ``order``."""
    backend: str = "sequential"
    workers: int = 1
    start_method: str | None = None
    split_count: int | None = None
    reducers: int = 1
    stress: Stress = field(default_factory=Stress)


def configurations(names: Sequence[str], cores: int) -> list[Configuration]:
    """The reference first, then everything ``check`` tries, on the installed ``names``."""
    many = max(2, cores)
    found = [Configuration("sequential (reference)", "reference")]
    found.append(Configuration("sequential again", "reference"))
    for name in names:
        if name == "sequential":
            continue
        varies = "processes" if name in (*PROCESS_BACKENDS, *SCALE_OUT_BACKENDS) else "backend"
        for workers in sorted({1, many}):
            found.append(
                Configuration(f"{name} x{workers}", varies, name, workers, None, None, workers)
            )
    for name in (n for n in PROCESS_BACKENDS if n in names):
        methods = backends.backend_class(name).available_start_methods()
        if "spawn" in methods:
            found.append(
                Configuration(
                    f"{name} x{many} (spawn)", "processes", name, many, "spawn", None, many
                )
            )
    found += [
        Configuration("every task its own hash salt", "salt", "salted", 1, None, 4, 3),
        Configuration("1 split", "splits", split_count=1),
        Configuration(f"{MANY_SPLITS} splits", "splits", split_count=MANY_SPLITS),
        Configuration("3 reducers", "reducers", reducers=3),
        Configuration("combiner 0 times", "combiner", stress=Stress(combines=0)),
        Configuration("combiner twice", "combiner", stress=Stress(combines=2)),
        Configuration("values reversed", "order", stress=Stress(values="reversed")),
        Configuration("values shuffled", "order", stress=Stress(values="shuffled")),
    ]
    return found


SPREAD_TRIES = 3
"""Runs of a configuration that varies processes until its map tasks ran in two of them: on
a small input one worker may take every task before another reaches the task queue."""


@dataclass(frozen=True)
class Ran:
    """What one configuration gave: the output pairs, and how many map tasks its first step
    ran in how many processes."""

    output: list[Any]
    tasks: int
    processes: int

    def spread(self, config: Configuration) -> bool:
        """Whether the run could vary what ``config`` varies, as far as processes go: a
        configuration of several worker processes needs its map tasks in two of them."""
        return (
            config.varies != "processes"
            or config.workers < 2
            or self.tasks < 2
            or self.processes > 1
        )


def run(job: Job, inputs: Sequence[str], config: Configuration) -> Ran:
    """The job's output under ``config``."""
    backend = (
        SaltedBackend()
        if config.backend == "salted"
        else backends.create(config.backend, config.workers, config.start_method)
    )
    with backend:
        plan = driver.plan(
            job,
            inputs,
            backend,
            reducers=config.reducers,
            split_count=config.split_count or SPLITS,
            cut_by_lines=True,
            stress=config.stress,
            keep_pairs=True,
        )
        with driver.execute(plan, backend) as result:
            pids = {s.pid for s in result.timeline if (s.step, s.phase) == (1, "map")}
            return Ran(result.output, len(plan.splits), len(pids - {0}))


def run_spread(job: Job, inputs: Sequence[str], config: Configuration) -> Ran:
    """``run``, again (``SPREAD_TRIES`` in all) while its map tasks ran in one process."""
    for _ in range(SPREAD_TRIES):
        ran = run(job, inputs, config)
        if ran.spread(config):
            break
    return ran


@dataclass
class Difference:
    """How one output differs from the reference's."""

    keys: list[tuple[Any, Any, Any]]
    """Each differing key, with its reference value and this output's (``MISSING`` if none)."""
    rounding: float | None
    """If every difference is floating-point rounding, the largest relative one; else None."""


MISSING = "(missing)"


def grouped(pairs: list[tuple[Any, Any]]) -> dict[Any, list[Any]]:
    found: dict[Any, list[Any]] = {}
    for key, value in pairs:
        found.setdefault(key, []).append(value)
    return found


def relative(a: Any, b: Any) -> float | None:
    """The largest relative difference between two values that differ only in floats; else None."""
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, int | float) or not isinstance(b, int | float):
            return None
        if a == b:
            return 0.0
        largest = max(abs(a), abs(b))
        gap = abs(a - b) / largest
        return gap if gap < 1e-6 else None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b):
        gaps = [relative(x, y) for x, y in zip(a, b, strict=True)]
        return None if None in gaps else max(gaps, default=0.0)
    return 0.0 if a == b else None


def compare(reference: list[tuple[Any, Any]], output: list[tuple[Any, Any]]) -> Difference | None:
    """None if the outputs are the same pairs in the same order; else how they differ."""
    if output == reference:
        return None
    want, got = grouped(reference), grouped(output)
    keys = [
        (key, want.get(key, MISSING), got.get(key, MISSING))
        for key in [*want, *(k for k in got if k not in want)]
        if want.get(key) != got.get(key)
    ]
    gaps = [relative(a, b) for _, a, b in keys]
    rounding = None if not keys or None in gaps else max(gaps)
    return Difference(keys, rounding)


DIAGNOSES = {
    "reference": (
        "the job is not deterministic: the same run, twice, gave different output. Look for "
        "unseeded random numbers, the time, id(), or iterating over a set (its order follows "
        "hash(), salted per process)"
    ),
    "processes": (
        "the output changes when tasks run in other processes (spawn, or a hash salt of their "
        "own): the key or partition logic uses hash() or other per-process state. Python salts "
        "hash() of a str per process, so a key lands on different reducers and appears twice; "
        "partition by a stable hash such as zlib.crc32 of the key's bytes (the default "
        "partition() does), and keep no state between tasks"
    ),
    "order": (
        "the reducer depends on the order of its values, which no MapReduce system guarantees: "
        "sort the values first, or combine them with an operation whose result ignores order "
        "(sum, min, max, a Counter)"
    ),
    "combiner": (
        "the combiner is not safe to run zero, one or several times: Hadoop, Spark and dask "
        "may run it any number of times, so its output must be a valid input to itself and to "
        "the reducer, and combining must not change the answer. A mean of means is the classic "
        "case: send (sum, count) pairs, add them in the combiner, divide in the reducer"
    ),
    "split": (
        "the output depends on how the input is split or how many reducers there are: a "
        "mapper or reducer keeps state across records or keys, or a key's values are "
        "assumed to reach one reducer call from one map task"
    ),
}


def diagnose(differing: dict[str, list[Difference]]) -> list[str]:
    """Plain words for what the differences point to; ``differing``: what varied -> how.

    Differences that are only floating-point rounding (a sum taken in another
    order) are a warning; the others name a cause.
    """
    real = {kind for kind, found in differing.items() if any(d.rounding is None for d in found)}
    if not real:
        gaps = [d.rounding for found in differing.values() for d in found]
        return (
            [
                "warning: floating-point rounding depends on how the input is split (largest "
                f"relative difference {max(gaps):.1e}): sums of floats taken in another order "
                "differ in their last digits. Round the output, or add with math.fsum; --strict "
                "makes this a failure"
            ]
            if gaps
            else []
        )
    if "reference" in real:
        return [DIAGNOSES["reference"]]
    said = []
    if real & {"processes", "salt"} and "backend" not in real:
        said.append(DIAGNOSES["processes"])
    said += [DIAGNOSES[kind] for kind in ("order", "combiner") if kind in real]
    return said or [DIAGNOSES["split"]]


def check(
    job: Job,
    inputs: Sequence[str],
    out: TextIO,
    strict: bool = False,
    names: Sequence[str] | None = None,
    announce: Callable[[str], None] | None = None,
    seconds: float = CONFIGURATION_SECONDS,
) -> int:
    """Run every configuration, print one line each and the diagnosis; the exit status:
    0 every configuration matches, 1 a difference (or a configuration that never ended),
    ``INCONCLUSIVE`` (3) when the input could not be cut into two map tasks.

    A configuration that runs longer than ``seconds`` is stopped and reported as such.
    """
    names = [n for n in names or backends.names() if backends.is_available(n)]
    configs = configurations(names, os.cpu_count() or 1)
    reference = None
    differing: dict[str, list[Difference]] = {}
    timed_out: list[str] = []
    most_tasks = 0  # of a configuration that needs two map tasks to vary what it varies
    started = time.monotonic()
    for number, config in enumerate(configs, start=1):
        if announce:
            announce(f"[{number}/{len(configs)}] {config.name}")
        try:
            with deadline(seconds):
                ran = run_spread(job, inputs, config)
        except Overtime as exc:
            print(f"  TIMED OUT  {config.name}: {exc}", file=out)
            timed_out.append(config.name)
            if reference is None:
                break  # nothing to compare the others with
            continue
        if config.varies in NEED_TWO_TASKS:
            most_tasks = max(most_tasks, ran.tasks)
        if reference is None:
            reference = ran.output
            print(f"  reference  {config.name}: {len(ran.output)} output pairs", file=out)
            continue
        difference = compare(reference, ran.output)
        if difference is None:
            print(f"  matches    {config.name}", file=out)
            continue
        differing.setdefault(config.varies, []).append(difference)
        print(f"  DIFFERS    {config.name}: {len(difference.keys)} key(s)", file=out)
        for key, want, got in difference.keys[:SHOWN]:
            print(
                f"    {brief.repr(key)}: reference {brief.repr(want)}, here {brief.repr(got)}",
                file=out,
            )
    took = time.monotonic() - started
    if timed_out:
        print(
            f"{job.name}: {len(timed_out)} configuration(s) ran longer than {seconds:g} s, the "
            "limit: a mapper, combiner or reducer that never returns, or an input too large "
            "for check (--time-limit)",
            file=out,
        )
        return 1
    verdict = diagnose(differing)
    if not verdict and most_tasks < 2:
        print(
            f"{job.name}: inconclusive: every configuration matches, but the input gave one "
            "map task in each, so no other process, hash salt, split or combining could "
            "disagree with it: give check an input of more lines",
            file=out,
        )
        return INCONCLUSIVE
    if not verdict:
        print(
            f"{job.name}: every configuration matches ({len(configs)} runs, {took:.1f} s)",
            file=out,
        )
        return 0
    for line in verdict:
        print(f"{job.name}: {line}", file=out)
    warned_only = all(line.startswith("warning:") for line in verdict)
    return 1 if strict or not warned_only else 0


def default_size(job_class: type[Job]) -> int:
    """Bytes of generated input ``check`` uses when given none."""
    return max(1, job_class.default_size // CHECK_FRACTION)
