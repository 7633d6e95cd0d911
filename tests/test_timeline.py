"""Every task on a timeline: one attempt per task, one task at a time per worker, phases in
order, and a trace that Perfetto opens."""

from __future__ import annotations

import itertools
import json

import pytest

from jobs.wordcount import WordCount
from mapreduce import driver
from mapreduce.trace import trace_events
from tests.conftest import EVERY_NAME
from tests.helpers import exit_status


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", EVERY_NAME)
def test_the_timeline_has_every_task_once_and_no_worker_runs_two_at_once(name, corpus):
    result = driver.run(WordCount(), [str(corpus)], name, workers=2, reducers=2, split_count=6)
    timeline = result.timeline
    assert sorted(s.index for s in timeline if s.phase == "map") == list(range(6))
    assert sorted(s.index for s in timeline if s.phase == "reduce") == [0, 1]
    assert all(s.attempt == 1 and s.start <= s.end for s in timeline)
    assert max(s.end for s in timeline if s.phase == "map") <= min(
        s.start for s in timeline if s.phase == "reduce"
    )  # the reduce phase starts when the map phase is over
    by_worker: dict[tuple[int, str], list] = {}
    for piece in timeline:
        by_worker.setdefault((piece.pid, piece.thread), []).append(piece)
    for pieces in by_worker.values():
        pieces.sort(key=lambda s: s.start)
        for before, after in itertools.pairwise(pieces):
            assert before.end <= after.start, (before, after)
    assert {pid for pid, _ in by_worker} <= result.worker_pids


def test_the_trace_is_the_trace_event_format_in_microseconds(corpus):
    result = driver.run(
        WordCount(), [str(corpus)], "threads", workers=2, reducers=2, split_count=4
    )
    document = json.loads(json.dumps(trace_events(result.timeline, "wordcount", "threads")))
    slices = [e for e in document["traceEvents"] if e["ph"] == "X"]
    assert len(slices) == len(result.timeline) == 6
    origin = min(s.start for s in result.timeline)
    for event, piece in zip(slices, sorted(result.timeline, key=lambda s: s.start), strict=True):
        assert event["ts"] == round((piece.start - origin) * 1e6)
        assert event["dur"] == round((piece.end - piece.start) * 1e6)
        assert event["name"] == f"{piece.phase} {piece.index}"
    names = [e["args"]["name"] for e in document["traceEvents"] if e["ph"] == "M"]
    assert len(names) == len({(s.pid, s.thread) for s in result.timeline})


def test_run_writes_the_trace_and_refuses_a_trace_path_before_the_run(corpus, tmp_path, capsys):
    trace = tmp_path / "trace.json"
    argv = ["run", "wordcount", str(corpus), "-b", "pool", "-w", "2", "-o", str(tmp_path / "o")]
    assert exit_status([*argv, "--trace", str(trace)]) == 0
    events = json.loads(trace.read_text())["traceEvents"]
    assert {e["cat"] for e in events if e["ph"] == "X"} == {"map", "reduce"}
    assert exit_status([*argv, "--trace", str(tmp_path / "no" / "trace.json")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and str(tmp_path / "no") in err[0]
