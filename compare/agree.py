"""Whether two runs of the study agree on the headline: ``python -m compare.agree A B``.

``A`` and ``B`` are ``results.json`` files (or the folders that hold them).
For each headline speedup (per job: the threads, best process and, where
both runs have it, interpreters cell), each run's median must lie inside the
other run's interval, as the report prints it, with no widening.  Run it on
your own run and the reference run before citing a figure from your machine:
a speedup that does not agree differs between the two machines (or runs) by
more than either run's interval says.

Prints a table, one row per speedup; exits 0 if every row agrees, 1 if not.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from compare.analyse.analysis import Analysis
from compare.analyse.headline import headline_cells
from compare.analyse.statistics import Interval, speedup_text
from compare.measure.results import read_json
from compare.render.tables import Table

Key = tuple[str, str]
"""A headline speedup: the job and the role of its cell (``best process``, ...)."""


def headline_speedups(path: Path) -> dict[Key, tuple[str, Interval]]:
    """A run's headline speedups: each with its cell's name and its interval."""
    file = path / "results.json" if path.is_dir() else path
    header, cells = read_json(file)
    machine = header.get("environment", {})  # the run's cores decide what is suspect
    analysis = Analysis(cells, machine.get("usable_cores") or machine.get("logical_cores"))
    speedups = {}
    for _, job, role, cell in headline_cells(analysis):
        interval = analysis.interval(cell)
        if role != "sequential" and interval is not None:
            speedups[job, role] = (f"{cell.backend} x{cell.workers}", interval)
    return speedups


def agreement(
    first: dict[Key, tuple[str, Interval]], second: dict[Key, tuple[str, Interval]]
) -> Table:
    """One row per speedup both runs have: whether each median lies in the other's interval."""
    rows = []
    for key in (key for key in first if key in second):
        (first_cell, a), (second_cell, b) = first[key], second[key]
        b_in_a, a_in_b = a.holds(b.median), b.holds(a.median)
        rows.append(
            [
                *key,
                f"{first_cell}: {speedup_text(a)}",
                f"{second_cell}: {speedup_text(b)}",
                yes(b_in_a),
                yes(a_in_b),
                yes(b_in_a and a_in_b),
            ]
        )
    headers = ["job", "cell", "first run", "second run", "second's median in first's interval",
               "first's median in second's interval", "agree"]  # fmt: skip
    return Table("Agreement of two runs' headline speedups", headers, rows)


def yes(value: bool) -> str:
    return "yes" if value else "NO"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compare.agree",
        description="Whether two runs of the study agree on every headline speedup.",
    )
    parser.add_argument("first", type=Path, help="a results.json, or the folder holding it")
    parser.add_argument("second", type=Path, help="another run's")
    args = parser.parse_args(argv)
    try:
        first, second = headline_speedups(args.first), headline_speedups(args.second)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"compare.agree: error: {exc}", file=sys.stderr)
        return 2
    table = agreement(first, second)
    if not table.rows:
        print("compare.agree: error: the two runs have no headline speedup in common",
              file=sys.stderr)  # fmt: skip
        return 2
    print(table.render("github"))
    disagreeing = [row for row in table.rows if row[-1] != "yes"]
    print(f"\n{len(table.rows) - len(disagreeing)} of {len(table.rows)} speedups agree")
    return 1 if disagreeing else 0


if __name__ == "__main__":
    raise SystemExit(main())
