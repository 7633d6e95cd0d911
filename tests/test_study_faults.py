"""The study cannot hang: a cell that never ends fails on its own, and a signal ends the study.

Both use a job that hangs in worker processes only, so that its sequential
cell, in the study's own process, runs as usual.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from compare.cli import INCOMPLETE, main
from compare.measure import guard
from tests.helpers import HANGING, alive, wait_for

JOB = "tests.helpers:HangsInWorkers"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "words.txt"
    path.write_text("".join(f"alpha beta {'gamma ' * (n % 5)}\n" for n in range(2000)))
    return path


def study_args(corpus: Path, output: Path, backends: str) -> list[str]:
    return ["--preset", "smoke", "--jobs", JOB, "--backends", backends, "--repeat", "1",
            "--input", str(corpus), "--output", str(output)]  # fmt: skip


@pytest.mark.timeout(60, method="thread")  # the guard's timer is SIGALRM's, as pytest's is
def test_the_guard_stops_a_run_past_its_limit_and_logs_every_thread(capsys):
    started = time.monotonic()
    with pytest.raises(guard.CellTimeout, match=r"^ran longer than 1 s"), guard.limited(1, "x"):
        time.sleep(30)
    assert time.monotonic() - started < 3
    err = capsys.readouterr().err
    assert err.startswith("compare: x ran longer than 1 s; its threads:\nThread MainThread:")
    first = err.split("\nThread ")[1]  # this thread's stack first
    assert first.startswith("MainThread:") and "time.sleep(30)" in first


@pytest.mark.timeout(180, method="thread")  # the guard's timer is SIGALRM's, as pytest's is
def test_a_cell_that_never_ends_fails_and_the_study_goes_on(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MAPREDUCE_STUDY_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(guard, "FLOOR_SECONDS", 3.0)
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    status = main(study_args(corpus, tmp_path / "out", "threads,pool"))

    assert status == 1
    report = (tmp_path / "out" / "report.md").read_text()
    assert "FAILED: CellTimeout: ran longer than 3 s" in report
    assert not (tmp_path / "out" / INCOMPLETE).exists()
    err = capsys.readouterr().err
    assert "ran longer than 3 s; its threads:" in err
    assert "compare: error: backend pool with 2 worker(s)" in err
    assert "compare: error: backend threads" not in err  # measured as usual
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not [pid for pid in left if alive(pid)]


def read_lines(stream, lines: list[str]) -> None:
    for line in stream:
        lines.append(line)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_a_stuck_study_within_two_seconds_marked_incomplete(
    signum, corpus, tmp_path
):
    output = tmp_path / "out"
    output.mkdir()
    (output / "report.md").write_text("an earlier study's report\n")
    (output / "notes.txt").write_text("the student's own notes\n")
    hanging = tmp_path / "hanging"
    hanging.mkdir()
    study = subprocess.Popen(
        [sys.executable, "-m", "compare", *study_args(corpus, output, "pool")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MAPREDUCE_STUDY_DATA": str(tmp_path / "data"), HANGING: str(hanging)},
    )
    lines: list[str] = []
    reader = threading.Thread(target=read_lines, args=(study.stderr, lines))
    reader.start()
    try:
        wait_for(lambda: any(hanging.iterdir()), "a pool worker hanging in the job", 60)
        workers = psutil.Process(study.pid).children(recursive=True)
        assert workers
        sent = time.monotonic()
        study.send_signal(signum)
        study.wait(10)
        took = time.monotonic() - sent
    finally:
        study.kill()
        study.wait()
        reader.join()
    assert took < 2.0
    assert study.returncode == 128 + signum
    assert lines[-1] == f"compare: interrupted; {output} is incomplete (see {INCOMPLETE})\n"
    assert sorted(p.name for p in output.iterdir()) == [INCOMPLETE, "notes.txt"]
    wait_for(lambda: not [p.pid for p in workers if alive(p.pid)], "the workers' end", 2)
