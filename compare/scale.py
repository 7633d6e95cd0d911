"""``python -m compare.scale``: how a job's time and memory grow with its input.

Each run is a whole ``python -m mapreduce run`` in a child process, timed from
the parent (interpreter start-up included) and by the run itself (its
``--counters`` total: the engine's work, without the interpreter's start-up
and imports), with the resident memory of its
process tree sampled every 0.1 s; runs alternate between backends and sizes
in every round, so a slow minute on a shared machine slows all of them.  The
first table gives each run's median seconds, MB/s, seconds per GB and peak
memory over all processes; the second, for each job and backend, how far its
seconds per MB moved across the sizes (1.00 is perfectly linear).  Every
backend's output must have the same digest at each size.

    python -m compare.scale sort --sizes 500MB,1GB,2GB,5GB --backends sequential,pool
    python -m compare.scale --factors 1,4,16          # every job, x1 to x16 its default
"""

from __future__ import annotations

import hashlib
import itertools
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from tabulate import tabulate

from compare.design.datasets import generated
from compare.measure.memory import MemorySampler
from mapreduce.arguments import OneLineParser, positive_int, size
from mapreduce.catalog import catalog, find_job
from mapreduce.sizes import format_size

BLOCK = 1 << 20
T = TypeVar("T")


@dataclass
class Runs:
    """One job on one input on one backend: every round's seconds and the largest peak."""

    label: str
    """The input's size as asked for (a generated input is a few bytes short of it)."""
    input_bytes: int
    seconds: list[float] = field(default_factory=list)
    """Each round's whole process, from the parent."""
    peak_total: int = 0
    digests: set[str] = field(default_factory=set)
    run_seconds: list[float] = field(default_factory=list)
    """Each round's run, as the run timed itself (``--counters``)."""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def seconds_per_mb(self) -> float:
        return self.median / (self.input_bytes / 1e6)

    @property
    def run_seconds_per_mb(self) -> float:
        return statistics.median(self.run_seconds) / (self.input_bytes / 1e6)


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    hashed = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(BLOCK):
            hashed.update(block)
    return hashed.hexdigest()


def run_once(job: str, path: str, backend: str, workers: int, runs: Runs, folder: str) -> None:
    """Time one ``mapreduce run`` of ``job`` on ``path`` and add it to ``runs``."""
    output = Path(folder) / "output"
    command = [
        sys.executable, "-m", "mapreduce", "run", job, path, "--backend", backend,
        "--workers", str(workers), "--output", str(output), "--no-progress", "--counters",
    ]  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    sampler = MemorySampler(child.pid)
    sampler.start()
    _, error = child.communicate()
    seconds = time.perf_counter() - started
    sampler.stop()
    if child.returncode != 0:
        raise SystemExit(f"compare.scale: error: {job} on {backend}: {error.strip()}")
    runs.seconds.append(seconds)
    runs.run_seconds.append(float(RUN_TOTAL.search(error).group(1)))
    runs.peak_total = max(runs.peak_total, sampler.peak_total)
    print(f"    {seconds:.2f} s, peak {sampler.peak_total / 2**20:.0f} MiB over all processes",
          file=sys.stderr, flush=True)  # fmt: skip
    runs.digests.add(file_digest(output))
    output.unlink()


RUN_TOTAL = re.compile(r"^  total=([0-9.]+)$", re.MULTILINE)
"""The run's own time in what ``--counters`` prints (``mapreduce.summary``)."""

Key = tuple[str, int, str]
"""A job, an input size and a backend."""


def disagreements(results: dict[Key, Runs]) -> set[tuple[str, int]]:
    """The (job, input size) pairs whose runs, over backends and rounds, gave different outputs."""
    digests: dict[tuple[str, int], set[str]] = {}
    for (job, input_bytes, _), runs in results.items():
        digests.setdefault((job, input_bytes), set()).update(runs.digests)
    return {key for key, found in digests.items() if len(found) > 1}


def runs_table(results: dict[Key, Runs]) -> str:
    wrong = disagreements(results)
    rows = []
    for (job, input_bytes, backend), runs in results.items():
        rows.append([
            job, runs.label, backend, f"{runs.median:.2f}",
            f"{min(runs.seconds):.2f}-{max(runs.seconds):.2f}",
            f"{runs.input_bytes / runs.median / 1e6:.1f}", f"{runs.seconds_per_mb * 1000:.1f}",
            f"{runs.peak_total / 2**20:.0f}", "NO" if (job, input_bytes) in wrong else "yes",
        ])  # fmt: skip
    headers = [
        "job", "input", "backend", "median (s)", "min-max (s)", "MB/s", "s per GB",
        "peak MiB (all processes)", "outputs agree",
    ]  # fmt: skip
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def linearity_table(results: dict[Key, Runs]) -> str:
    """Per job and backend: seconds per GB at the smallest and largest input and their ratio,
    for the whole process and for the run alone (which leaves out the interpreter's
    start-up and the imports), and the cost of each step up in size (which leaves out
    every fixed cost, the pool's start too)."""
    series: dict[tuple[str, str], list[Runs]] = {}
    for (job, _, backend), runs in results.items():
        series.setdefault((job, backend), []).append(runs)
    rows = []
    for (job, backend), sizes in series.items():
        sizes.sort(key=lambda runs: runs.input_bytes)
        rates = [runs.seconds_per_mb for runs in sizes]
        run_rates = [runs.run_seconds_per_mb for runs in sizes]
        steps = [
            (later.median - earlier.median) / ((later.input_bytes - earlier.input_bytes) / 1e6)
            for earlier, later in itertools.pairwise(sizes)
        ]
        span = f"{sizes[0].label} to {sizes[-1].label}"
        rows.append([
            job, backend, span, f"{rates[0] * 1000:.1f}", f"{rates[-1] * 1000:.1f}",
            f"{max(rates) / min(rates):.2f}",
            f"{run_rates[0] * 1000:.1f}", f"{run_rates[-1] * 1000:.1f}",
            f"{max(run_rates) / min(run_rates):.2f}",
            ", ".join(f"{step * 1000:.1f}" for step in steps) or "-",
            f"{max(steps) / min(steps):.2f}" if steps and min(steps) > 0 else "-",
        ])  # fmt: skip
    headers = [
        "job", "backend", "inputs", "s per GB (smallest)", "s per GB (largest)",
        "largest / smallest", "run's s per GB (smallest)", "run's s per GB (largest)",
        "run's largest / smallest", "s per added GB, each step up", "largest / smallest step",
    ]  # fmt: skip
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def listed(item: Callable[[str], T]) -> Callable[[str], list[T]]:
    """An argument type for a comma-separated list of ``item``."""
    return lambda text: [item(part) for part in text.split(",")]


def sizes_of(job: str, sizes: list[int] | None, factors: list[int]) -> list[int]:
    return sizes or [find_job(job).default_size * factor for factor in factors]


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog="compare.scale", description=__doc__.splitlines()[0])
    parser.add_argument("jobs", nargs="*", help="job names (default: every job)")
    parser.add_argument(
        "--sizes", type=listed(size), help="input sizes, comma-separated (default: --factors)"
    )
    parser.add_argument(
        "--factors", type=listed(positive_int), default=[1, 4, 16],
        help="multiples of each job's default input size, comma-separated",
    )  # fmt: skip
    parser.add_argument("--backends", type=listed(str), default=["sequential"])
    parser.add_argument("--workers", type=positive_int, default=2, help="workers")
    parser.add_argument("--repeat", type=positive_int, default=1, help="rounds")
    args = parser.parse_args(argv)
    jobs = args.jobs or sorted(catalog())
    inputs = {
        job: [(s, generated(job, s).paths[0]) for s in sizes_of(job, args.sizes, args.factors)]
        for job in jobs
    }
    print(f"{', '.join(jobs)}: {', '.join(args.backends)}, {args.workers} workers, "
          f"{args.repeat} rounds", flush=True)  # fmt: skip
    results: dict[Key, Runs] = {}
    with tempfile.TemporaryDirectory(prefix="compare-scale-") as folder:
        for round_number in range(1, args.repeat + 1):
            for job, paths in inputs.items():
                for asked, path in paths:
                    label, input_bytes = format_size(asked), Path(path).stat().st_size
                    for backend in args.backends:
                        print(f"  round {round_number}: {job} {label} {backend}",
                              file=sys.stderr, flush=True)  # fmt: skip
                        runs = results.setdefault(
                            (job, input_bytes, backend), Runs(label, input_bytes)
                        )
                        run_once(job, path, backend, args.workers, runs, folder)
    print(runs_table(results))
    print()
    print(linearity_table(results))
    wrong = disagreements(results)
    for job, input_bytes in sorted(wrong):
        print(f"compare.scale: error: {job} on {format_size(input_bytes)} gave different "
              "outputs on different backends or rounds", file=sys.stderr)  # fmt: skip
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
