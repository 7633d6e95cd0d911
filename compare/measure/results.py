"""The results files: every sample, in JSON (versioned) and CSV.

``results.json`` is ``{"version": 6, "environment": ..., "preset": ...,
"datasets": [...], "cells": [...]}`` with every sample of every cell, so any
median in the report can be recomputed from it.  Version 5 called a cell's
``split_count`` ``splits``; version 4 had no
invocations (every sample was the study's own process's); version 3 had no straggler
scenarios and no timelines; version 2 had no shuffle
counts and timed ``shuffle`` as the hand-off alone; version 1 called the
paired sequential time ``baseline``.  All are still read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from compare.cells import FAULTS, Cell, Sample
from mapreduce.driver import PHASES

VERSION = 6
SHUFFLED = ("tasks", "pairs", "bytes")
"""What a run's map tasks sent to the reducers: how many tasks, pairs and pickled bytes."""


def write_json(path: Path, header: dict[str, Any], cells: Sequence[Cell]) -> None:
    document = {"version": VERSION, **header, "cells": [cell.to_dict() for cell in cells]}
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: Path) -> tuple[dict[str, Any], list[Cell]]:
    """The header and the cells of a results file."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    version = document.get("version")
    if version not in (1, 2, 3, 4, 5, VERSION):
        raise ValueError(f"{path}: results version {version}, expected {VERSION}")
    cells = []
    for raw in document.pop("cells"):
        if version == 1:  # version 1 called the paired sequential time "baseline"
            for sample in raw["samples"]:
                sample["paired_sequential"] = sample.pop("baseline")
        if version < 3:  # before the study chose it, the engine's default
            raw["shuffle"] = "auto"
        if version < 6:
            raw["split_count"] = raw.pop("splits")
        samples = [Sample(**sample) for sample in raw.pop("samples")]
        cells.append(Cell(samples=samples, **raw))
    return document, cells


def write_csv(path: Path, cells: Sequence[Cell]) -> None:
    """One row per sample, with its cell's configuration."""
    columns = [
        "cell", "experiment", "job", "dataset", "input_bytes", "backend", "workers",
        "start_method", "split_count", "shuffle", "scenario", "startup_seconds", "sample",
        "invocation",
        "wall_seconds", "cpu_seconds", "paired_sequential_seconds",
        *(f"{phase}_seconds" for phase in PHASES), *(f"shuffled_{count}" for count in SHUFFLED),
        *FAULTS, "digest", "error",
    ]  # fmt: skip
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for number, cell in enumerate(cells):
            config = [
                number, cell.experiment, cell.job, cell.dataset, cell.input_bytes, cell.backend,
                cell.workers, cell.start_method, cell.split_count, cell.shuffle, cell.scenario,
                cell.startup_seconds,
            ]  # fmt: skip
            if not cell.samples:
                writer.writerow([*config, *([""] * (len(columns) - len(config) - 1)), cell.error])
            for index, sample in enumerate(cell.samples):
                phases = [sample.phases.get(phase, 0.0) for phase in PHASES]
                shuffled = [sample.shuffled.get(count, "") for count in SHUFFLED]
                faults = [sample.faults.get(name, "") for name in FAULTS]
                measured = [
                    index, sample.invocation, sample.wall, sample.cpu, sample.paired_sequential,
                    *phases,
                ]  # fmt: skip
                row = [*config, *measured, *shuffled, *faults, sample.digest, cell.error]
                writer.writerow(row)
