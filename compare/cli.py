"""``python -m compare``: the study.  Every job on every backend, outputs checked, timed, reported.

Writes ``report.md``, ``results.json`` and ``results.csv`` (every sample), the
tables in LaTeX, and PNG plots into ``results/<timestamp>/``; exits 1 if any
cell's output differs from the sequential backend's or a cell failed (after
writing the report), 2 on a usage error.  ``python -m compare merge`` puts
several runs (say, one per Python version) side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import random
import shlex
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import backends
from backends.signals import STOPPING_SIGNALS
from compare.analyse.analysis import Analysis
from compare.analyse.checks import check_copies
from compare.analyse.findings import findings
from compare.analyse.headline import fastest, headline_cells
from compare.cells import Cell, Experiment
from compare.design import experiments
from compare.design.datasets import Dataset, given
from compare.design.presets import PRESETS, Preset
from compare.measure import calibration
from compare.measure.calibration import Scale
from compare.measure.environment import collect_environment
from compare.measure.invocations import measure_apart
from compare.measure.progress import StudyProgress
from compare.measure.results import read_json, write_csv, write_json
from compare.measure.rounds import batches, measure, measure_wide, too_wide
from compare.measure.stragglers import measure_stragglers
from compare.render import plots
from compare.render.report import render
from compare.render.tables import all_tables, render_tables
from mapreduce.arguments import OneLineParser, count, factor, positive_int
from mapreduce.catalog import catalog, find_job
from mapreduce.datasets import data_dir
from mapreduce.errors import MapReduceError
from mapreduce.interrupts import Interrupted, interrupting

INCOMPLETE = "INCOMPLETE"
"""A file in a report folder whose study has not finished (interrupted, or still running)."""

INCOMPLETE_TEXT = (
    "This folder's study did not finish: it was interrupted, or is still running.\n"
    "Nothing here is its result; the report, once complete, replaces this file.\n"
)

TABLE_SUFFIX = {"latex": "tex", "latex_booktabs": "tex", "latex_raw": "tex", "html": "html"}

ORDER_SEED = 20261125
"""Seeds the shuffled order of the cells in each round, so that a study can be run again."""


def study_files() -> list[str]:
    """Every file a study can write into its report folder."""
    tables = {f"tables.{suffix}" for suffix in [*TABLE_SUFFIX.values(), "txt"]}
    return ["report.md", "results.json", "results.csv", *sorted(tables), *plots.FILES]


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="compare", description=__doc__.splitlines()[0].strip("`"))
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default="default", help="how much to measure"
    )
    parser.add_argument(
        "--jobs", type=comma_list, help="comma-separated jobs (default: the preset's)"
    )
    parser.add_argument(
        "--backends", type=comma_list, help="comma-separated backends (default: every installed)"
    )
    parser.add_argument(
        "--workers",
        type=lambda text: [positive_int(part) for part in comma_list(text)],
        help="comma-separated worker counts for the matrix (default: 1, 2, cores, 2x cores)",
    )
    parser.add_argument(
        "--repeat", type=positive_int, help="timed runs per cell (default: the preset's)"
    )
    parser.add_argument(
        "--invocations",
        type=count,
        help="fresh processes the headline's cells are measured in again (default: the "
        "preset's; 0: none)",
    )
    parser.add_argument(
        "--invocation-rounds",
        type=positive_int,
        help="rounds in each of those processes (default: the preset's)",
    )
    parser.add_argument(
        "--input",
        nargs="+",
        metavar="FILE",
        help="your own input files for every job of --jobs (default: generated inputs)",
    )
    parser.add_argument("--output", type=Path, help="report folder (default: results/<timestamp>)")
    parser.add_argument(
        "--format",
        default="latex_booktabs",
        help="tabulate format for tables.* (default: latex_booktabs)",
    )
    parser.add_argument(
        "--scale",
        type=factor,
        help="scale the processor-bound inputs by this factor, from "
        f"{calibration.LIMITS[0]:g} to {calibration.LIMITS[1]:g} (default: measured first "
        "on the default and full presets, 1 on the rest)",
    )
    parser.add_argument("--no-sweeps", action="store_true", help="only the matrix")
    parser.add_argument(
        "--no-real-text", action="store_true", help="leave out Shakespeare and the stdlib"
    )
    return parser


def usage_error(message: str) -> int:
    print(f"compare: error: {message}", file=sys.stderr)
    return 2


def plan_cells(
    args: argparse.Namespace, preset: Preset
) -> tuple[list[Cell], list[Dataset], list[str]]:
    """The cells to measure, the real-text datasets, and notes on what was left out."""
    names = experiments.available(args.backends or backends.names())
    jobs = args.jobs or list(preset.sizes)
    own = given(args.input) if args.input else None
    cells = experiments.matrix(preset, jobs, names, args.workers, args.backends or (), own)
    notes: list[str] = []
    wanted = not args.jobs or "wordcount" in args.jobs
    if preset.baseline_size and not args.no_sweeps and wanted:
        cells += experiments.baselines(preset)
    if not args.no_sweeps:
        for sweep, build in (
            (preset.granularity, experiments.granularity),
            (preset.input_size, experiments.input_size),
            (preset.start_method, experiments.start_method),
        ):
            if sweep and (not args.jobs or sweep.job in args.jobs):
                cells += build(preset, names)
        cells += experiments.stragglers(preset, names, jobs)
    real: list[Dataset] = []
    if preset.shakespeare_copies and not args.no_real_text and not args.jobs:
        try:
            real_cells, real = experiments.real_text(preset, names)
            cells += real_cells
        except Exception as exc:  # offline: the generated corpora still make a study
            notes.append(f"real text left out: {exc}")
    return cells, real, notes


def run_study(cells: Sequence[Cell], preset: Preset, repeat: int) -> None:
    """Measure every batch of cells in plan order (the matrix first), then the straggler
    experiment, then the preset's extra rounds where ranges are wide, then the headline's
    cells again in fresh processes, with progress."""
    straggling = [c for c in cells if c.experiment == Experiment.STRAGGLERS]
    planned = batches([c for c in cells if c.experiment != Experiment.STRAGGLERS])
    progress = StudyProgress(planned, repeat, later=len(straggling) * repeat)
    rng = random.Random(ORDER_SEED)
    for batch in planned:
        if any(cell.backend == experiments.BEST_PROCESS for cell in batch.cells):
            experiments.choose_best_process(cells, functools.partial(fastest, Analysis(cells)))
        progress(batch)
        measure(batch, repeat, rng)
    measure_stragglers(straggling, repeat, rng, progress.say)
    wide = [c for batch in planned for c in batch.cells if not c.error and too_wide(c)]
    if preset.extra_rounds and wide:
        progress.say(f"extra rounds for the {len(wide)} cells whose range is over 10% wide")
        measure_wide(planned, preset.extra_rounds, rng)
    if preset.invocations:
        headline = [cell for *_, cell in headline_cells(Analysis(cells)) if not cell.error]
        rounds = preset.invocation_rounds
        measure_apart(batches(headline), preset.invocations, rounds, ORDER_SEED, progress.say)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["merge"]:
        from compare.render.merge import main as merge_main

        return merge_main(argv[1:])
    if argv[:1] == ["render"]:
        return render_again(argv[1:])
    args = build_parser().parse_args(argv)
    preset = PRESETS[args.preset]
    unknown = sorted(
        job for job in args.jobs or [] if ":" not in job and job not in catalog()
    ) + sorted(set(args.backends or []) - set(backends.names()))
    if unknown:
        return usage_error(f"unknown job or backend: {', '.join(unknown)}")
    try:
        for job in args.jobs or []:
            find_job(job)
        if args.input:
            given(args.input)
    except MapReduceError as exc:
        return usage_error(str(exc))
    if args.scale is not None and not calibration.LIMITS[0] <= args.scale <= calibration.LIMITS[1]:
        low, high = calibration.LIMITS
        return usage_error(f"--scale must lie from {low:g} to {high:g}, not {args.scale:g}")
    missing = [job for job in args.jobs or [] if job not in preset.sizes]
    if missing and not args.input:
        return usage_error(
            f"preset {preset.name} has no input for {', '.join(missing)}: "
            "give it with --input FILE..."
        )
    repeat = args.repeat or preset.repeat
    if args.invocations is not None or args.invocation_rounds:
        preset = dataclasses.replace(
            preset,
            invocations=preset.invocations if args.invocations is None else args.invocations,
            invocation_rounds=args.invocation_rounds or preset.invocation_rounds,
        )
    folder = args.output or Path("results") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:  # before the study runs, not after: both folders must be writable
        for writable in (folder, data_dir()):
            writable.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=writable).close()
    except OSError as exc:
        print(
            f"compare: error: cannot write to {exc.filename or writable}: {exc.strerror}; "
            "run from a folder you can write to, or choose them with --output and "
            "MAPREDUCE_STUDY_DATA",
            file=sys.stderr,
        )
        return 1
    for name in study_files():  # another study's files are never taken for this one's
        (folder / name).unlink(missing_ok=True)
    marker = folder / INCOMPLETE
    marker.write_text(INCOMPLETE_TEXT, encoding="utf-8")
    try:
        with interrupting(*STOPPING_SIGNALS):
            status = study(args, argv, preset, repeat, folder)
    except KeyboardInterrupt as exc:
        print(f"compare: interrupted; {folder} is incomplete (see {INCOMPLETE})", file=sys.stderr)
        return exc.status if isinstance(exc, Interrupted) else 128 + signal.SIGINT
    marker.unlink()
    return status


def write_report(
    folder: Path, header: dict[str, Any], cells: Sequence[Cell], table_format: str
) -> None:
    """Write the study's files into ``folder``: its results, tables, plots and report."""
    analysis = Analysis(cells)
    tables = all_tables(analysis)
    write_json(folder / "results.json", header, cells)
    write_csv(folder / "results.csv", cells)
    suffix = TABLE_SUFFIX.get(table_format, "txt")
    (folder / f"tables.{suffix}").write_text(render_tables(tables, table_format), encoding="utf-8")
    drawn = plots.draw(analysis, folder)
    load = header["environment"]["cpu"]["load_average_1m"]
    report = render(header, analysis, tables, findings(analysis, load), drawn)
    (folder / "report.md").write_text(report, encoding="utf-8")


def render_again(argv: Sequence[str]) -> int:
    """``python -m compare render FOLDER``: a study's tables, plots and report written again
    from its ``results.json``, by this version of the analysis."""
    parser = OneLineParser(prog="compare render", description=render_again.__doc__.split(":")[0])
    parser.add_argument("folder", type=Path, help="a study's folder, holding its results.json")
    parser.add_argument(
        "--format",
        default="latex_booktabs",
        help="tabulate format for tables.* (default: latex_booktabs)",
    )
    args = parser.parse_args(argv)
    try:
        header, cells = read_json(args.folder / "results.json")
    except (OSError, ValueError) as exc:
        return usage_error(f"cannot read {args.folder / 'results.json'}: {exc}")
    header.pop("version", None)
    write_report(args.folder, header, cells, args.format)
    print(f"report: {args.folder / 'report.md'}")
    return 0


def scale_for(args: argparse.Namespace, preset: Preset) -> Scale | None:
    """The factor for the preset's generated inputs: ``--scale``'s, or measured here if the
    preset calibrates (None: the sizes as they are, or the user's own inputs)."""
    if args.input:
        return None
    if args.scale is not None:
        return Scale(args.scale)
    if not preset.calibrate:
        return None
    seconds = calibration.probe_seconds()
    scale = Scale(calibration.factor_for(seconds), seconds)
    print(f"[...] inputs {scale.describe()}", file=sys.stderr, flush=True)
    return scale


def study(
    args: argparse.Namespace, argv: list[str], preset: Preset, repeat: int, folder: Path
) -> int:
    """Measure, analyse and write the report into ``folder``; the exit status."""
    environment = collect_environment(args.output)
    scale = scale_for(args, preset)
    if scale is not None:
        preset = calibration.scaled(preset, scale.factor)
    cells, real, notes = plan_cells(args, preset)
    run_study(cells, preset, repeat)

    analysis = Analysis(cells)
    described = {c.source.name: c.source.describe() for c in cells}
    header = {
        "command": shlex.join(["python", "-m", "compare", *argv]),
        "preset": preset.name,
        "preset_description": preset.description,
        "repeat": repeat,
        "extra_rounds": preset.extra_rounds,
        "invocations": preset.invocations,
        "invocation_rounds": preset.invocation_rounds,
        "environment": environment,
        "scale": dataclasses.asdict(scale) if scale else None,
        "datasets": list(described.values()),
        "checks": [check for dataset in real if (check := check_copies(analysis, dataset))],
        "notes": notes,
    }
    write_report(folder, header, cells, args.format)

    print(f"report: {folder / 'report.md'}")
    failures = analysis.failures()
    for cell in failures:
        reason = cell.error or "gave different output from sequential"
        where = f"backend {cell.backend} with {cell.workers} worker(s) on {cell.job}"
        print(f"compare: error: {where}: {reason}", file=sys.stderr)
    failed_checks = [check["name"] for check in header["checks"] if not check["passed"]]
    for name in failed_checks:
        print(f"compare: error: check failed: {name}", file=sys.stderr)
    return 1 if failures or failed_checks else 0
