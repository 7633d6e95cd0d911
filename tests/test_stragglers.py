"""Watched runs (the paper's 3.6): task time-outs and backup tasks, on every backend.

A watched run must give exactly the output of a plain one whatever becomes
of its executions: a backup that wins, a loser left running, a worker frozen
and timed out, a thread abandoned.  Each test checks the output against the
oracle, the counters, the timeline, and that no worker is left behind.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections import Counter

import psutil
import pytest

import backends
from compare.measure.throttle import Throttle
from jobs.wordcount import WordCount
from mapreduce import MapReduceError, driver, run
from tests.conftest import PROCESS_NAMES, by_name
from tests.helpers import (
    LINES,
    FlakyWordCount,
    PausesOnce,
    SlowFirstSplit,
    StallsOnce,
    alive,
    children,
    expected,
    mapreduce_cli,
    start_cli,
    wait_for,
)
from tests.oracle import oracle_output, oracle_word_counts

WATCHED_NAMES = by_name([n for n in backends.names() if n != "sequential"])
"""Backends whose tasks run apart from the caller: every one but sequential."""


def one_winner_per_task(result: driver.RunResult, maps: int, reduces: int) -> None:
    """Exactly one won execution per task; no worker runs two at once; map before reduce."""
    won = [s for s in result.timeline if s.outcome == "won"]
    assert sorted(s.index for s in won if s.phase == "map") == list(range(maps))
    assert sorted(s.index for s in won if s.phase == "reduce") == list(range(reduces))
    assert max(s.end for s in won if s.phase == "map") <= min(
        s.start for s in won if s.phase == "reduce"
    )
    by_worker: dict[tuple[int, str], list] = {}
    for piece in result.timeline:
        if piece.pid:  # executions given up have no known worker
            by_worker.setdefault((piece.pid, piece.thread), []).append(piece)
    for pieces in by_worker.values():
        pieces.sort(key=lambda s: s.start)
        for before, after in itertools.pairwise(pieces):
            assert before.end <= after.start, (before, after)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", WATCHED_NAMES)
def test_a_watched_run_retries_and_times_every_try(name, corpus, tmp_path):
    # no backups: a backup of a retrying task may win without a retry, and a run counts
    # only the winning execution's counters (the paper's 4.9: no double counting)
    job = FlakyWordCount(str(tmp_path))
    result = run(job, [str(corpus)], name, workers=2, split_count=4, task_timeout=60)
    assert "".join(result.lines()) == expected(LINES)
    assert result.counters["task_retries"] == 4
    failed = [s for s in result.timeline if s.outcome == "failed"]
    assert sorted(s.index for s in failed) == [0, 1, 2, 3]
    assert all(s.phase == "map" and s.attempt == 1 for s in failed)
    one_winner_per_task(result, 4, 1)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", WATCHED_NAMES)
def test_a_slow_task_is_backed_up_and_the_backup_wins(name, corpus, tmp_path):
    pause = 6.0
    job = PausesOnce(str(tmp_path / "paused.pid"), pause)
    result = run(job, [str(corpus)], name, workers=2, split_count=4, reducers=2, backup_tasks=True)
    assert "".join(result.lines()) == expected(LINES)
    assert result.counters["backup_tasks"] >= 1
    assert result.seconds["total"] < pause - 1  # the run did not wait for the paused execution
    plain = run(WordCount(), [str(corpus)], name, workers=2, split_count=4, reducers=2)
    engine = {k: v for k, v in result.counters.items() if not k.startswith("backup_")}
    assert engine == plain.counters  # the loser's counts are not added
    # two executions of split 0: the one that paused lost. Usually the first pauses and
    # the backup wins; where a pool queues the first behind the backup (loky), the
    # backup may start first, pause, and lose.
    first = [s for s in result.timeline if (s.phase, s.index) == ("map", 0)]
    assert sorted((s.execution, s.outcome) for s in first) in (
        [(1, "lost"), (2, "won")],
        [(1, "won"), (2, "lost")],
    )
    (won,) = [s for s in first if s.outcome == "won"]
    assert won.seconds < pause - 1
    backups_won = sum(1 for s in result.timeline if s.outcome == "won" and s.execution > 1)
    assert result.counters["backup_wins"] == backups_won  # the counter is what the timeline shows
    one_winner_per_task(result, 4, 2)


def test_without_backups_the_run_waits_for_the_slow_task(corpus, tmp_path):
    pause = 2.0
    job = PausesOnce(str(tmp_path / "paused.pid"), pause)
    result = run(job, [str(corpus)], "threads", workers=2, split_count=4, task_timeout=60)
    assert result.seconds["total"] >= pause
    assert result.counters["backup_tasks"] == 0
    assert "".join(result.lines()) == expected(LINES)


def paused_job(corpus, pid_file, seconds: float) -> list[str]:
    """The command line's job and input: ``PausesOnce`` on the corpus."""
    pid, pause = f"pid_file={pid_file}", f"seconds={seconds}"
    return ["tests.helpers:PausesOnce", str(corpus), "-p", pid, "-p", pause]


def stop_when_written(pid_file, stopped: list[int]) -> None:
    """Freeze (SIGSTOP) the worker that writes ``pid_file``, as a swapped-out machine is."""
    wait_for(pid_file.exists, "a worker writing its pid")
    pid = int(pid_file.read_text())
    psutil.Process(pid).suspend()
    stopped.append(pid)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", [*PROCESS_NAMES, *by_name(["dask"])])
def test_a_frozen_worker_is_timed_out_killed_and_its_task_run_again(name, corpus, tmp_path):
    pid_file, stopped, timeout = tmp_path / "frozen.pid", [], 3
    freezer = threading.Thread(target=stop_when_written, args=(pid_file, stopped))
    freezer.start()
    job = paused_job(corpus, pid_file, 1)
    args = ["run", *job, "-b", name, "-w", "2", "--splits", "4"]
    started = time.monotonic()
    cli = start_cli([*args, "--task-timeout", str(timeout)])
    try:
        out, err = cli.communicate(timeout=60)
        took = time.monotonic() - started
    finally:
        cli.kill()
        freezer.join()
    assert cli.returncode == 0, err
    assert out == expected(LINES)
    assert took < timeout + 15, f"took {took:.1f} s"  # the time-out, the work, two starts
    wait_for(lambda: not alive(stopped[0]), "the frozen worker's end", 10)


def test_a_timed_out_thread_is_abandoned_and_the_cli_exits_without_it(corpus, tmp_path):
    pid_file = tmp_path / "stuck.pid"
    job = paused_job(corpus, pid_file, 60)
    args = ["run", *job, "-b", "threads", "-w", "2", "--task-timeout", "1"]
    started = time.monotonic()
    done = mapreduce_cli(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(LINES)
    assert "1 timed-out task thread(s) still running" in done.stderr
    assert time.monotonic() - started < 30


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["threads", *PROCESS_NAMES])
def test_a_task_that_always_times_out_fails_the_run_naming_it(name, corpus):
    before = children()
    with pytest.raises(
        MapReduceError,
        match=r"^slowfirstsplit: map task 0 of 4 \(.*corpus\.txt.*\) ran longer than the "
        r"0\.5 s time-out 2 times, the limit \(max attempts 2\)$",
    ):
        run(SlowFirstSplit(3), [str(corpus)], name, workers=2, split_count=4, task_timeout=0.5,
            max_attempts=2)  # fmt: skip
    assert children() <= before


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_a_killed_worker_in_a_watched_run_is_replaced(name, corpus, tmp_path):
    pid_file = tmp_path / "stalled.pid"
    before = children()

    def kill() -> None:
        wait_for(pid_file.exists, "a worker writing its pid")
        psutil.Process(int(pid_file.read_text())).kill()

    killer = threading.Thread(target=kill)
    killer.start()
    try:
        result = run(  # no backups: one would win before the kill is seen
            StallsOnce(str(pid_file)),
            [str(corpus)],
            name,
            workers=2,
            split_count=6,
            task_timeout=60,
        )
    finally:
        killer.join()
    assert "".join(result.lines()) == expected(LINES)
    assert result.counters["worker_restarts"] == 1
    assert children() <= before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-b", "sequential", "--task-timeout", "2"], "cannot time a task out"),
        (["-b", "sequential", "--backup-tasks"], "cannot back a task up"),
        (["-b", "joblib", "-w", "1", "--backup-tasks"], "runs its tasks in this process"),
        (["-b", "pool", "--task-timeout", "0"], "above 0"),
        (["-b", "pool", "--task-timeout", "-1"], "above 0"),
        (["-b", "pool", "--task-timeout", "nan"], "above 0"),
        (["-b", "pool", "--task-timeout", "inf"], "above 0"),
        (["-b", "pool", "--task-timeout", "soon"], "not a number of seconds"),
    ],
)
def test_a_task_timeout_or_backups_it_cannot_have_is_one_line(args, message, corpus):
    done = mapreduce_cli("run", "wordcount", str(corpus), *args)
    assert done.returncode in (1, 2) and done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


@pytest.mark.timeout(180)
def test_a_throttled_worker_is_backed_up_and_the_output_is_unchanged(tmp_path):
    """The study's straggler, smaller: 4 pool workers on 16 splits, the one that takes the
    first split running 10% of the time from then on, in 2 s cycles so that the others are
    surely done first.  Correctness only: the time is the study's to measure."""
    path, pid_file = tmp_path / "words.txt", tmp_path / "first.pid"
    WordCount.generate_input(str(path), 8_000_000, seed=3)
    lines = path.read_text().splitlines()
    job = PausesOnce(str(pid_file), 0)  # marks the worker of split 0, then maps it
    with backends.create("pool", 4) as backend:
        checked = driver.plan(job, [str(path)], backend, split_count=16, backup_tasks=True)
        marked = threading.Thread(target=wait_for, args=(pid_file.exists, "split 0's start"))
        marked.start()
        results: list[driver.RunResult] = []
        running = threading.Thread(target=lambda: results.append(driver.execute(checked, backend)))
        running.start()
        marked.join()
        straggler = int(pid_file.read_text())
        with Throttle(straggler, stopped=1.8, running=0.2):
            running.join(120)
        assert psutil.Process(straggler).status() != psutil.STATUS_STOPPED  # left running
    (result,) = results
    assert "".join(result.lines()) == oracle_output(oracle_word_counts(lines))
    assert result.counters["backup_tasks"] >= 1, (result.counters, result.timeline)
    assert result.counters["backup_wins"] >= 1, (result.counters, result.timeline)
    assert Counter(s.outcome for s in result.timeline)["won"] == 16 + 1


def test_the_throttle_leaves_its_process_running(tmp_path):
    sleeper = psutil.Popen(["sleep", "30"])
    try:
        with Throttle(sleeper.pid, stopped=0.05, running=0.05) as throttle:
            wait_for(lambda: sleeper.status() == psutil.STATUS_STOPPED, "a stop", 5)
        assert throttle.share == pytest.approx(0.5)
        assert sleeper.status() != psutil.STATUS_STOPPED
    finally:
        sleeper.send_signal(signal.SIGKILL)
        sleeper.wait()
