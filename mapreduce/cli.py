"""``python -m mapreduce``: run a job, list jobs and backends, generate inputs."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence

import backends
from backends.errors import BackendError
from backends.process import START_METHODS
from backends.signals import STOPPING_SIGNALS
from backends.threads import THREAD_PREFIX
from mapreduce import driver
from mapreduce.arguments import OneLineParser, positive_int, seconds, size
from mapreduce.catalog import catalog, find_job
from mapreduce.check import CONFIGURATION_SECONDS, INCONCLUSIVE, check
from mapreduce.check import default_size as check_size
from mapreduce.datasets import default_input
from mapreduce.errors import MapReduceError, OutputError, TaskError
from mapreduce.explain import explain, sample_inputs
from mapreduce.interrupts import Interrupted, interrupting
from mapreduce.job import Job
from mapreduce.layout import check_folder, publish, staging
from mapreduce.options import Options
from mapreduce.output import (
    Sink,
    check_apart,
    destination,
    same_file,
    standard_output,
    write_all,
    write_errors,
)
from mapreduce.params import parse_assignments
from mapreduce.phase import MEMORY_HINT
from mapreduce.progress import ProgressBar
from mapreduce.shuffle import MODES
from mapreduce.sizes import format_size
from mapreduce.sorting import SORT_BUFFER
from mapreduce.splits import MAX_RECORD
from mapreduce.tasks import DEFAULT_MAX_ATTEMPTS
from mapreduce.trace import trace_text

PROG = "mapreduce"


def add_job_arguments(command: argparse.ArgumentParser, default_input: str) -> None:
    """The job, its input files and its parameters: what every command that runs a job takes."""
    command.add_argument("job", help="a job name (see 'jobs') or module:Class")
    command.add_argument(
        "inputs", nargs="*", metavar="INPUT", help=f"input files (default: {default_input})"
    )
    command.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a job parameter (repeatable; see 'jobs')",
    )


def chosen_job(args: argparse.Namespace) -> Job:
    """The job the command line names, with its parameters."""
    return find_job(args.job)(**parse_assignments(args.param))


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description=__doc__.splitlines()[0].strip("`"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    run = commands.add_parser("run", help="run a job over input files")
    add_job_arguments(run, "the job's generated input")
    run.add_argument("--backend", "-b", default="sequential", help="backend name (see 'backends')")
    run.add_argument(
        "--workers", "-w", type=positive_int, help="workers (default: the number of cores)"
    )
    run.add_argument(
        "--reducers", "-r", type=positive_int, help="reduce tasks (default: the workers)"
    )
    run.add_argument(
        "--splits",
        dest="split_count",
        type=positive_int,
        help="map tasks (default: 4 per worker, and one per "
        f"{format_size(driver.SPLIT_SIZE)} of input when that is more)",
    )
    run.add_argument("--start-method", choices=(*START_METHODS, "loky"), help="process start")
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="dask backend: a running cluster's scheduler, tcp://HOST:8786 "
        "(default: $DASK_SCHEDULER_ADDRESS, else a local cluster)",
    )
    run.add_argument(
        "--dashboard",
        action="store_true",
        help="dask backend: serve the local cluster's dashboard on 127.0.0.1:8787",
    )
    run.add_argument(
        "--shuffle",
        choices=MODES,
        default="auto",
        help="intermediate data through temporary files or in memory (default: auto: files "
        "on process backends, and above 64 MB)",
    )
    run.add_argument(
        "--sort-buffer",
        type=size,
        default=SORT_BUFFER,
        metavar="SIZE",
        help="pairs a reduce task sorts in memory before it sorts on disk "
        f"(default: {format_size(SORT_BUFFER)})",
    )
    run.add_argument(
        "--max-attempts",
        type=positive_int,
        default=DEFAULT_MAX_ATTEMPTS,
        help="tries the run gives each thing that can go wrong before it fails: runs of a "
        "task that raises, time-outs of one task, and starts of a phase's pool after lost "
        f"workers (default: {DEFAULT_MAX_ATTEMPTS})",
    )
    run.add_argument(
        "--task-timeout",
        type=seconds,
        metavar="SECONDS",
        help="declare a task execution lost after this long and run it again on fresh "
        "workers (default: none, wait for every task however long)",
    )
    run.add_argument(
        "--backup-tasks",
        action="store_true",
        help="near each phase's end, run a second copy of the slowest task still running; "
        "the first to finish wins (the paper's backup tasks)",
    )
    run.add_argument(
        "--skip-bad-records",
        action="store_true",
        help="skip and count input records the mapper raises on (the output is then partial)",
    )
    run.add_argument(
        "--max-record-size",
        type=size,
        default=MAX_RECORD,
        metavar="SIZE",
        help=f"longest input line accepted (default: {format_size(MAX_RECORD)})",
    )
    written = run.add_mutually_exclusive_group()
    written.add_argument("--output", "-o", help="output file (default: standard output)")
    written.add_argument(
        "--output-dir",
        metavar="DIR",
        help="write the output as Hadoop does: a new folder DIR holding part-00000 (one part "
        "per reduce task, each key-sorted) and _SUCCESS",
    )
    run.add_argument(
        "--trace",
        metavar="FILE",
        help="write every task's timeline to FILE (Trace Event Format: open it in Perfetto)",
    )
    run.add_argument(
        "--counters",
        action="store_true",
        help="at the end, print the run's counters and phase times to standard error, one "
        "'  name=value' line each",
    )
    run.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="show a failed worker's traceback, and the libraries' own logs",
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        help="progress bar on standard error (default: when it is a terminal)",
    )

    explain = commands.add_parser(
        "explain", help="trace a job's map, combine, partition and reduce on a few lines"
    )
    add_job_arguments(explain, "a generated sample")
    explain.add_argument(
        "--lines", "-n", type=positive_int, default=4, help="input lines to trace (default: 4)"
    )
    explain.add_argument(
        "--splits", dest="split_count", type=positive_int, default=2, help="map tasks (default: 2)"
    )
    explain.add_argument(
        "--reducers", "-r", type=positive_int, default=2, help="reduce tasks (default: 2)"
    )

    check = commands.add_parser(
        "check",
        help="run a job many ways and say what a difference in its output points to",
        epilog="exit status: 0 every configuration matches, 1 one differs or never ended, "
        f"{INCONCLUSIVE} inconclusive (the input gave one map task)",
    )
    add_job_arguments(check, "a small generated input")
    check.add_argument(
        "--strict", action="store_true", help="floating-point rounding differences fail too"
    )
    check.add_argument(
        "--time-limit",
        type=seconds,
        default=CONFIGURATION_SECONDS,
        metavar="SECONDS",
        help=f"stop a configuration that runs longer (default: {CONFIGURATION_SECONDS:g})",
    )

    commands.add_parser("jobs", help="list the jobs")
    commands.add_parser("backends", help="list the backends")

    generate = commands.add_parser("generate", help="write a job's default input to a file")
    generate.add_argument("job", help="a job name (see 'jobs')")
    generate.add_argument("--size", type=size, help="about how big (default: the job's own)")
    generate.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    generate.add_argument("--output", "-o", required=True, help="file to write")
    return parser


def command_run(args: argparse.Namespace) -> int:
    job = chosen_job(args)
    inputs = args.inputs
    workers = args.workers or os.cpu_count() or 1
    settings = {"scheduler": args.scheduler} if args.scheduler else {}
    if args.dashboard:
        settings["dashboard"] = True
    backend = backends.create(args.backend, workers, args.start_method, **settings)
    options = Options(
        reducers=args.reducers or workers,
        split_count=args.split_count,
        shuffle=args.shuffle,
        max_attempts=args.max_attempts,
        skip_bad_records=args.skip_bad_records,
        max_record=args.max_record_size,
        task_timeout=args.task_timeout,
        backup_tasks=args.backup_tasks,
        sort_buffer=args.sort_buffer,
    )
    if not inputs:
        inputs = [str(default_input(type(job)))]
        print(f"{PROG}: no input given; using {inputs[0]}", file=sys.stderr)
    writes = {"--output": args.output, "--output-dir": args.output_dir, "--trace": args.trace}
    check_apart(inputs, {option: path for option, path in writes.items() if path})
    folder = check_folder(args.output_dir) if args.output_dir else None
    if folder and args.trace and same_file(os.path.dirname(os.path.abspath(args.trace)), folder):
        raise OutputError(f"--trace {args.trace} is inside --output-dir {args.output_dir}")
    progress = ProgressBar(force=bool(args.progress)) if args.progress is not False else None
    # The output (and the trace) are opened first, so that a path that cannot be
    # written fails before any worker starts; standard output is kept for the results.
    with contextlib.ExitStack() as files:
        if folder:
            staged = files.enter_context(staging(folder))
            sink = None
        else:
            output = files.enter_context(
                destination(args.output) if args.output else standard_output()
            )
            sink = Sink(output, f"output {args.output}" if args.output else "standard output")
        trace = files.enter_context(destination(args.trace)) if args.trace else None
        try:
            result = driver.run(
                job, inputs, backend, options=options, after_task=progress, sink=sink
            )
        finally:
            if progress:
                progress.finish()
        with result:
            if folder:
                publish(staged, result.parts, folder)
        if trace is not None:
            with write_errors(f"trace {args.trace}"):
                write_all(
                    trace, [trace_text(result.timeline, job.name, result.backend, result.started)]
                )
    if args.counters:
        print(result.summary(), end="", file=sys.stderr)
    if result.partial:
        report_skipped(result)
    return 0


def report_skipped(result: driver.RunResult) -> None:
    """Say on standard error that the output is partial, and where the skipped records were."""
    count = result.counters["skipped_records"]
    print(
        f"{PROG}: warning: the output is partial: {count} bad record(s) skipped "
        f"(--skip-bad-records); the first {len(result.skipped)}:",
        file=sys.stderr,
    )
    for where in result.skipped:
        print(f"  {where}", file=sys.stderr)


def command_explain(args: argparse.Namespace) -> int:
    job = chosen_job(args)
    with tempfile.TemporaryDirectory(prefix="mapreduce-explain-") as folder:
        sample = sample_inputs(type(job), args.inputs, args.lines, folder)
        explain(job, [sample], args.reducers, args.split_count, sys.stdout)
    return 0


def command_check(args: argparse.Namespace) -> int:
    job = chosen_job(args)
    with tempfile.TemporaryDirectory(prefix="mapreduce-check-") as folder:
        inputs = args.inputs
        if not inputs:
            inputs = [os.path.join(folder, "input.txt")]
            type(job).generate_input(inputs[0], check_size(type(job)), 1)
        print(f"checking {job.name} on {', '.join(inputs)}", file=sys.stderr)
        announce = (lambda text: print(text, file=sys.stderr)) if sys.stderr.isatty() else None
        return check(
            job, inputs, sys.stdout, strict=args.strict, announce=announce, seconds=args.time_limit
        )


def command_jobs(args: argparse.Namespace) -> int:
    for name, job in sorted(catalog().items()):
        params = f"  [{job.describe_params()}]" if job.params else ""
        print(f"{name:<14} {job.description}{params}")
    return 0


def command_backends(args: argparse.Namespace) -> int:
    for name in backends.names():
        entry = backends.REGISTRY[name]
        reason = backends.unavailable(name)
        missing = f"  [unavailable: {reason.removeprefix(f'backend {name!r} ')}]" if reason else ""
        print(f"{name:<13} {entry.description}{missing}")
    return 0


def command_generate(args: argparse.Namespace) -> int:
    job = find_job(args.job)
    with write_errors(f"output {args.output}"):
        job.generate_input(args.output, args.size or job.default_size, args.seed)
    return 0


COMMANDS = {
    "run": command_run,
    "jobs": command_jobs,
    "backends": command_backends,
    "generate": command_generate,
    "explain": command_explain,
    "check": command_check,
}


def leave_stuck_threads(status: int) -> int:
    """Exit now if a timed-out task's thread still runs: Python would wait for it at exit.

    The threads backend cannot stop a thread; ``--task-timeout`` leaves it
    running, its result unused, and the output is complete without it.
    """
    stuck = [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]
    if stuck:
        print(
            f"{PROG}: note: {len(stuck)} timed-out task thread(s) still running; "
            "exiting without waiting for them",
            file=sys.stderr,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the command, and turn known errors into one line and a status."""
    args = build_parser().parse_args(argv)
    verbose = getattr(args, "verbose", False)
    if verbose:
        logging.basicConfig(level=logging.INFO)  # the libraries' logs (dask's) are shown
    try:
        with interrupting(*STOPPING_SIGNALS):
            return leave_stuck_threads(COMMANDS[args.command](args))
    except (MapReduceError, BackendError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        if verbose and isinstance(exc, TaskError) and exc.details:
            print(exc.details, file=sys.stderr, end="")
        return 1
    except MemoryError:
        print(f"{PROG}: error: {MEMORY_HINT}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return exc.status if isinstance(exc, Interrupted) else 128 + signal.SIGINT
