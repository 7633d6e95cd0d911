"""``mapreduce explain``: the paper's Figure 1, traced with real data.

On a few lines of input, every step of a run is printed with the data it
handles: the splits and their records, each map task's pairs, what the
combiner made of them, the reduce partition of each key and why (CRC-32 of
the key's bytes, mod R), what each reduce task received, sorted and grouped,
each reducer's output, and the merged output.  A multi-step job is shown
step by step.  The engine's own functions do the work, one task at a time,
in this process: what is shown is what a run does.
"""

from __future__ import annotations

import functools
import itertools
import os
import reprlib
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import backends
from mapreduce import driver
from mapreduce.job import Job, Pair
from mapreduce.output import format_lines
from mapreduce.partition import key_bytes
from mapreduce.shuffle import merged
from mapreduce.sorting import sort_in_memory
from mapreduce.splits import check_input, split_pairs
from mapreduce.tasks import combined_pairs, grouped, partitioned, sorted_output

WIDTH = 80
SHOWN = 12
"""Pairs shown in one list before the rest are counted."""

brief = reprlib.Repr()
brief.maxstring, brief.maxother, brief.maxlist, brief.maxtuple = 40, 40, 6, 6


def first_lines(paths: Sequence[str], count: int, out: str) -> None:
    """Write the first ``count`` lines of the ``paths`` (in turn) to ``out``."""
    with open(out, "wb") as sample:
        left = count
        for path in paths:
            with open(path, "rb") as file:
                for line in itertools.islice(file, left):
                    sample.write(line if line.endswith(b"\n") else line + b"\n")
                    left -= 1
            if not left:
                return


def pair_text(pair: Pair) -> str:
    return f"({brief.repr(pair[0])}, {brief.repr(pair[1])})"


def shown(pairs: Sequence[Pair], indent: str) -> list[str]:
    """The first ``SHOWN`` pairs, one per line, and how many more there are."""
    lines = [f"{indent}{pair_text(pair)}"[:WIDTH] for pair in pairs[:SHOWN]]
    if len(pairs) > SHOWN:
        lines.append(f"{indent}... and {len(pairs) - SHOWN} more")
    return lines


def where(key: Any) -> str:
    """A record's key as a person reads it: ``notes.txt byte 12`` for a line of text."""
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str):
        return f"{os.path.basename(key[0])} byte {key[1]}"
    return brief.repr(key)


def why(job: Job, key: Any, reducers: int, partition: int) -> str:
    """Why ``key`` went to ``partition``: the CRC-32 sum, or the job's own partitioner."""
    if type(job).partition is not Job.partition:
        return f"partition {partition} (the job's own partition())"
    crc = zlib.crc32(key_bytes(key))
    return f"crc32 {crc} mod {reducers} = {partition}"


def explain_step(
    step: Job, splits: Sequence[Any], reducers: int, number: int, total: int, out: TextIO
) -> list[list[Pair]]:
    """Print one step's map, combine, partition and reduce; return its reduce outputs."""
    say = functools.partial(print, file=out)
    if total > 1:
        say(f"=== step {number} of {total}: {step.name} ===")
        say()
    say(f"SPLIT: {len(splits)} map task(s)")
    for index, split in enumerate(splits):
        records = list(step.records(split))
        say(f"  map task {index}: {split} ({len(records)} record(s))")
        for key, value in records[:SHOWN]:
            say(f"    {where(key)}: {brief.repr(value)}"[:WIDTH])
    say()
    per_record = type(step).mapper is not Job.mapper
    buckets_by_task = []
    for index, split in enumerate(splits):
        if per_record:  # the paper's view, even where the job combines inside map_split
            say(f"MAP task {index}: the mapper, record by record")
            pairs = []
            for key, value in step.records(split):
                produced = list(step.mapper(key, value))
                pairs += produced
                result = ", ".join(map(pair_text, produced)) or "nothing"
                say(f"    {brief.repr(value)} -> {result}"[:WIDTH])
        else:
            say(f"MAP task {index}: the job maps the whole split at once")
            pairs = list(step.map_split(split, Counter()))
            for line in shown(pairs, "    "):
                say(line)
        say(f"  {len(pairs)} pair(s)")
        if step.combiner is not None:
            combined = combined_pairs(step, pairs, Counter())
            say(f"  COMBINE: {len(pairs)} pair(s) -> {len(combined)}")
            for line in shown(combined, "    "):
                say(line)
            pairs = combined
        buckets = partitioned(step, pairs, reducers)
        say(f"  PARTITION into {reducers} reduce task(s):")
        for partition, bucket in enumerate(buckets):
            keys = list(dict.fromkeys(key for key, _ in bucket))
            for key in keys[:SHOWN]:
                say(f"    {brief.repr(key)} -> {why(step, key, reducers, partition)}"[:WIDTH])
            if len(keys) > SHOWN:
                say(f"    ... and {len(keys) - SHOWN} more key(s) -> partition {partition}")
        buckets_by_task.append(buckets)
        say()
    outputs = []
    for partition in range(reducers):
        received = [pair for buckets in buckets_by_task for pair in buckets[partition]]
        sort_in_memory(received)  # the reduce task's own sort: a key's values keep map order
        say(f"REDUCE task {partition}: received {len(received)} pair(s), sorted and grouped:")
        output: list[Pair] = []
        for shown_groups, (key, group) in enumerate(grouped(received, Counter())):
            values = list(group)
            produced = list(step.reducer(key, iter(values)))
            output += produced
            if shown_groups < SHOWN:
                result = ", ".join(map(pair_text, produced))
                say(f"    {brief.repr(key)}: {brief.repr(values)} -> {result}"[:WIDTH])
        outputs.append(sorted_output(output))
        say(f"  output: {len(output)} pair(s)")
        say()
    return outputs


def explain(job: Job, inputs: Sequence[str], reducers: int, split_count: int, out: TextIO) -> None:
    """Trace ``job`` on the ``inputs`` (already cut to a few lines) step by step."""
    with backends.create("sequential") as backend:
        plan = driver.plan(job, inputs, backend, reducers=reducers, split_count=split_count)
    steps = job.steps()
    step_splits: list[Any] = plan.splits
    for number, step in enumerate(steps, start=1):
        step.prepare(step_splits, reducers)
        outputs = explain_step(step, step_splits, reducers, number, len(steps), out)
        if number < len(steps):
            step_splits = split_pairs(list(merged(outputs)), split_count, number)
    print("MERGE: the reduce outputs, merged in key order, as 'run' prints them:", file=out)
    for line in format_lines(merged(outputs), job.format_line):
        print(f"  {line}", end="" if line.endswith("\n") else "\n", file=out)


def sample_inputs(job_class: type[Job], inputs: Iterable[str], lines: int, folder: str) -> str:
    """A file of the first ``lines`` lines of ``inputs``, or of the job's generated input,
    named as the first of them, so that the splits shown name the file a reader gave."""
    paths = list(inputs)
    for path in paths:
        check_input(path)
    if not paths:
        generated = os.path.join(folder, "generated.txt")
        job_class.generate_input(generated, 4096, 1)
        paths = [generated]
    sample = os.path.join(folder, "sample", os.path.basename(paths[0]))
    os.makedirs(os.path.dirname(sample))
    first_lines(paths, lines, sample)
    return sample
