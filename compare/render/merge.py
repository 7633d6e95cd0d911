"""``python -m compare merge A/results.json B/results.json ...``: runs side by side.

One table per job: the median time and speedup of each backend and worker
count in each run, labelled by Python version and build (a free-threaded
build says so), so the same study on 3.10 to 3.13 reads as one comparison.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tabulate import tabulate

from compare.analyse.analysis import Analysis
from compare.cells import Experiment
from compare.measure.environment import python_label
from compare.measure.results import read_json
from compare.render.tables import vs_sequential
from mapreduce.arguments import OneLineParser


def merged_report(runs: list[tuple[str, Analysis]]) -> str:
    lines = ["# mapreduce-study: runs side by side", ""]
    lines += [f"- {label}" for label, _ in runs]
    keys = dict.fromkeys(
        (c.job, c.backend, c.workers)
        for _, a in runs
        for c in a.cells
        if c.experiment == Experiment.MATRIX
    )
    for job in dict.fromkeys(job for job, _, _ in keys):
        rows = []
        for _, backend, workers in (k for k in keys if k[0] == job):
            row = [backend, workers]
            for _, analysis in runs:
                found = analysis.select(
                    Experiment.MATRIX, job=job, backend=backend, workers=workers
                )
                cell = found[0] if found and found[0].samples else None
                shown = f"{cell.median:.3f} s, {vs_sequential(analysis, cell)}" if cell else "-"
                row.append(shown)
            rows.append(row)
        headers = ["backend", "workers", *(label for label, _ in runs)]
        lines += [
            "",
            f"## {job}",
            "",
            tabulate(rows, headers, tablefmt="github", disable_numparse=True),
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    parser = OneLineParser(prog="compare merge", description="put several study runs side by side")
    parser.add_argument("results", nargs="+", type=Path, help="results.json files")
    parser.add_argument(
        "--output", type=Path, default=Path("results/merged.md"), help="Markdown file to write"
    )
    args: argparse.Namespace = parser.parse_args(argv)
    runs = []
    for path in args.results:
        try:
            header, cells = read_json(path)
        except (OSError, ValueError) as exc:
            print(f"compare merge: error: {path}: {exc}", file=sys.stderr)
            return 1
        runs.append((python_label(header["environment"]), Analysis(cells)))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(merged_report(runs), encoding="utf-8")
    print(f"merged: {args.output}")
    return 0
