"""``python -m compare.agree``: two runs agree on a headline speedup only when each one's
median lies inside the other's interval, with no widening."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from backends import PROCESS_BACKENDS
from compare.agree import agreement, headline_speedups
from compare.analyse.statistics import Interval

REFERENCE = Path(__file__).parent.parent / "docs" / "reference" / "results.json"


def agree(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "compare.agree", *map(str, paths)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_run_agrees_with_itself_on_every_headline_speedup():
    done = agree(REFERENCE, REFERENCE.parent)
    assert done.returncode == 0, done.stderr
    speedups = headline_speedups(REFERENCE)
    assert {role for _, role in speedups} >= {"threads", "best process"}
    assert done.stdout.rstrip().endswith(f"{len(speedups)} of {len(speedups)} speedups agree")


def test_processes_slower_in_one_run_disagree_and_threads_still_agree(tmp_path):
    document = json.loads(REFERENCE.read_text(encoding="utf-8"))
    for cell in document["cells"]:
        if cell["backend"] in PROCESS_BACKENDS:
            for sample in cell["samples"]:
                sample["wall"] *= 1.5  # slower: twice as fast would be suspect, and dropped
    slower = tmp_path / "results.json"
    slower.write_text(json.dumps(document), encoding="utf-8")

    done = agree(REFERENCE, slower)
    assert done.returncode == 1, done.stderr
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ")]
    verdicts = {(job.strip(), role.strip()): row[-1].strip() for job, role, *row in rows[1:]}
    assert {role for _, role in verdicts} == {"threads", "best process"}, done.stdout
    for (_, role), verdict in verdicts.items():
        assert verdict == ("NO" if role == "best process" else "yes"), (role, done.stdout)


def test_a_median_just_outside_the_other_interval_disagrees():
    first = {("pi", "best process"): ("pool x2", Interval(1.50, 1.40, 1.60))}
    inside = {("pi", "best process"): ("pool x2", Interval(1.58, 1.45, 1.70))}
    outside = {("pi", "best process"): ("pool x2", Interval(1.62, 1.45, 1.70))}
    assert agreement(first, inside).rows[0][-3:] == ["yes", "yes", "yes"]
    assert agreement(first, outside).rows[0][-3:] == ["NO", "yes", "NO"]  # 1.62 > 1.60


def test_a_missing_run_is_one_line_and_status_2(tmp_path):
    done = agree(REFERENCE, tmp_path / "nothing.json")
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
    assert "nothing.json" in done.stderr
