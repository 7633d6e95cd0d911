"""``python -m compare.bench``: the engine beside hand-written word counts, alternating.

Every candidate runs in its own child process, once per round, in turn, for
``--repeat`` rounds (so a slow minute on a shared machine slows all of them);
the resident memory of the child's process tree is sampled every 0.1 s.  The
table gives the median seconds, MB/s, the ratio to ``handwritten`` and the
peak memory of the largest process and of all of them together; every
candidate's output digest must match.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from tabulate import tabulate

from compare.analyse.statistics import ratio_text
from compare.design.baselines import dask_available
from compare.design.datasets import generated
from compare.measure.memory import MemorySampler
from mapreduce.arguments import OneLineParser, positive_int, size
from mapreduce.sizes import parse_size

CANDIDATES = [
    "handwritten", "handwritten-parallel", "engine-sequential", "engine-pool",
    "engine-futures", "engine-joblib", "naive", "dask-bag",
]  # fmt: skip


@dataclass
class Runs:
    seconds: list[float] = field(default_factory=list)
    peak_process: int = 0
    peak_total: int = 0
    digests: set[str] = field(default_factory=set)


def run_once(name: str, workers: int, paths: list[str], shuffle: str, runs: Runs) -> None:
    command = [sys.executable, "-m", "compare.candidate", name, str(workers), shuffle, *paths]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    sampler = MemorySampler(child.pid)
    sampler.start()
    out, _ = child.communicate()
    sampler.stop()
    if child.returncode != 0:
        raise RuntimeError(f"{name} failed with status {child.returncode}")
    measured = json.loads(out)
    runs.seconds.append(measured["seconds"])
    runs.digests.add(measured["digest"])
    runs.peak_process = max(runs.peak_process, sampler.peak_process)
    runs.peak_total = max(runs.peak_total, sampler.peak_total)


def table(results: dict[str, Runs], input_bytes: int) -> str:
    reference = results["handwritten"]
    expected = next(iter(reference.digests))
    rows = []
    for name, runs in results.items():
        median = statistics.median(runs.seconds)
        rows.append([
            name, f"{median:.2f}", f"{min(runs.seconds):.2f}-{max(runs.seconds):.2f}",
            f"{input_bytes / median / 1e6:.1f}",
            ratio_text(statistics.median(reference.seconds) / median),
            f"{runs.peak_process / 2**20:.0f}", f"{runs.peak_total / 2**20:.0f}",
            "yes" if runs.digests == {expected} else "NO",
        ])  # fmt: skip
    headers = [
        "candidate", "median (s)", "min-max (s)", "MB/s", "vs handwritten",
        "peak MiB (largest process)", "peak MiB (all processes)", "output matches",
    ]  # fmt: skip
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog="compare.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=size, default=parse_size("200MB"), help="corpus size")
    parser.add_argument("--repeat", type=positive_int, default=3, help="rounds")
    parser.add_argument("--workers", type=positive_int, default=2, help="workers")
    parser.add_argument("--shuffle", choices=("auto", "memory", "disk"), default="auto")
    parser.add_argument("--candidates", type=lambda t: t.split(","), help="comma-separated")
    args = parser.parse_args(argv)
    names = args.candidates or [n for n in CANDIDATES if n != "dask-bag" or dask_available()]
    dataset = generated("wordcount", args.size)
    print(
        f"word count on {dataset.name}, {args.workers} workers, {args.repeat} rounds", flush=True
    )
    results = {name: Runs() for name in ["handwritten", *(n for n in names if n != "handwritten")]}
    for round_number in range(1, args.repeat + 1):
        for name, runs in results.items():
            print(f"  round {round_number}: {name}", file=sys.stderr, flush=True)
            run_once(name, args.workers, dataset.paths, args.shuffle, runs)
    print(table(results, dataset.size))
    expected = results["handwritten"].digests
    wrong = [name for name, runs in results.items() if runs.digests != expected]
    for name in wrong:
        print(f"compare.bench: error: {name} gave different output", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
