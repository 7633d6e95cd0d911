"""``python -m compare``: word count on every backend, outputs checked, times tabulated."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence

import backends
from compare.matrix import run_matrix
from compare.report import mismatches, table
from jobs.wordcount import WordCount
from mapreduce.cli import OneLineParser, positive_int, size
from mapreduce.datasets import default_input
from mapreduce.sizes import format_size, parse_size


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="compare", description=__doc__.splitlines()[0].strip("`"))
    parser.add_argument("--size", type=size, default=parse_size("4MB"), help="corpus size")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed")
    parser.add_argument("--repeat", type=positive_int, default=3, help="timed runs per cell")
    parser.add_argument(
        "--backends", type=comma_list, help="comma-separated backends (default: every installed)"
    )
    parser.add_argument(
        "--workers",
        type=lambda text: [positive_int(part) for part in comma_list(text)],
        default=[1, 2],
        help="comma-separated worker counts (default: 1,2)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = args.backends or [name for name in backends.names() if backends.is_available(name)]
    unknown = sorted(set(names) - set(backends.names()))
    if unknown:
        print(f"compare: error: unknown backend(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    corpus = default_input(WordCount, args.size, args.seed)
    print(
        f"word count on {corpus} ({format_size(args.size)}, seed {args.seed}); "
        f"Python {platform.python_version()}, {os.cpu_count()} cores; "
        f"median of {args.repeat} runs after one warm-up",
        flush=True,
    )

    def announce(message: str) -> None:
        print(f"  measuring {message}", file=sys.stderr, flush=True)

    cells = run_matrix(WordCount(), [str(corpus)], names, args.workers, args.repeat, announce)
    reference = cells[0]
    print(table(cells, reference))
    wrong = mismatches(cells, reference)
    for cell in wrong:
        print(
            f"compare: error: backend {cell.backend} with {cell.workers} worker(s) gave "
            f"different output from sequential",
            file=sys.stderr,
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
