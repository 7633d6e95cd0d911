"""One numbering of tasks, from 0, in every place that names one: a failure, a time-out,
``explain``, the timeline and the trace all call the first split's task ``map 0``."""

from __future__ import annotations

import re

import pytest

from mapreduce import MapReduceError, TaskError, run
from mapreduce.trace import trace_events
from tests.helpers import PoisonedWordCount, SlowFirstSplit, mapreduce_cli

SPLITS = 4


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("POISON first line\n" + "alpha beta gamma\n" * 4000)
    return path


def first_split(text) -> str:
    return rf"\({re.escape(text.name)} bytes 0-\d+\)"


def test_a_failure_names_the_first_split_task_0(text):
    with pytest.raises(TaskError, match=rf"poisoned: map task 0 of {SPLITS} {first_split(text)}"):
        run(
            PoisonedWordCount(),
            [str(text)],
            "threads",
            workers=2,
            split_count=SPLITS,
            max_attempts=1,
        )


@pytest.mark.timeout(60)
def test_a_time_out_names_the_first_split_task_0(text):
    expected = rf"slowfirstsplit: map task 0 of {SPLITS} {first_split(text)} ran longer"
    with pytest.raises(MapReduceError, match=expected):
        run(SlowFirstSplit(3), [str(text)], "pool", workers=2, split_count=SPLITS,
            task_timeout=0.5, max_attempts=1)  # fmt: skip


def test_explain_names_the_first_split_task_0(text):
    done = mapreduce_cli("explain", "wordcount", str(text), "--lines", "8", "--splits", "2")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^  map task 0: \S+ bytes 0-", done.stdout, re.M), done.stdout
    assert "MAP task 0:" in done.stdout and "REDUCE task 0:" in done.stdout


def test_the_timeline_and_the_trace_call_the_first_split_map_0(text):
    """The first split's task is the slow one: its piece and its trace slice say 0."""
    result = run(SlowFirstSplit(1), [str(text)], "pool", workers=2, split_count=SPLITS)
    maps = [piece for piece in result.timeline if piece.phase == "map"]
    slowest = max(maps, key=lambda piece: piece.end - piece.start)
    assert slowest.index == 0 and sorted(p.index for p in maps) == list(range(SPLITS))
    events = trace_events(result.timeline, "slowfirstsplit", "pool")["traceEvents"]
    slices = [event for event in events if event.get("cat") == "map"]
    longest = max(slices, key=lambda event: event["dur"])
    assert longest["name"] == "map 0" and longest["args"]["task"] == 0
