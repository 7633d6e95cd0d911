"""One timed word count, run in a child process by ``compare.bench``: prints seconds and digest.

``python -m compare.candidate NAME WORKERS PATH...`` where NAME is a baseline
(``handwritten``, ``naive``, ...) or ``engine-BACKEND`` (``engine-pool``).
Running each candidate in a fresh process keeps its memory its own.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

from compare.design.baselines import BASELINES
from jobs.wordcount import WordCount
from mapreduce import driver
from mapreduce.output import digest, format_lines


def run_candidate(name: str, workers: int, paths: list[str], shuffle: str) -> tuple[float, str]:
    """Seconds taken and output digest of candidate ``name`` on ``paths``."""
    started = time.perf_counter()
    if name.startswith("engine-"):
        backend = name.removeprefix("engine-")
        with driver.run(
            WordCount(), paths, backend, workers=workers, reducers=workers, shuffle=shuffle
        ) as result:
            seconds, output_digest = time.perf_counter() - started, result.digest
    else:
        counts: Counter[str] = BASELINES[name](paths, workers)
        seconds = time.perf_counter() - started
        output_digest = digest(format_lines(sorted(counts.items())))
    return seconds, output_digest


def main(argv: list[str]) -> int:
    name, workers, shuffle, *paths = argv
    seconds, output_digest = run_candidate(name, int(workers), paths, shuffle)
    print(json.dumps({"seconds": seconds, "digest": output_digest}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
