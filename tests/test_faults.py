"""Faults injected on purpose: raising tasks, bad records, killed workers, interruption.

Each test checks the whole outcome: the error or the correct output, the
counters, and that no worker process, output file or temporary file is left.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.util
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

import backends
from backends import Backend
from backends.base import START_ATTEMPTS
from jobs.wordcount import WordCount
from mapreduce import JobError, MapReduceError, TaskError, driver, run
from tests.cli_runs import busy_run
from tests.conftest import EVERY_NAME, PROCESS_NAMES
from tests.helpers import (
    LINES,
    Exits,
    FailingReducer,
    FlakyWordCount,
    ForgetsItsFirstWorkers,
    HoldsALambda,
    KillsItsWorker,
    LosesWorkersAtStart,
    PausesOnce,
    PoisonedWordCount,
    StallsOnce,
    alive,
    children,
    expected,
    mapreduce_cli,
    wait_for,
    worker_pid,
    workers_of,
)


@pytest.mark.parametrize("name", EVERY_NAME)
def test_a_flaky_task_is_run_again_and_the_retries_counted(name, corpus, tmp_path):
    result = run(FlakyWordCount(str(tmp_path)), [str(corpus)], name, workers=2, split_count=4)
    assert "".join(result.lines()) == expected(LINES)
    assert result.counters["task_retries"] == len(list(tmp_path.glob("[0-9]*"))) == 4


@pytest.mark.parametrize("name", EVERY_NAME)
def test_a_raising_reducer_fails_the_run_naming_its_partition(name, corpus):
    before = children()
    with pytest.raises(
        TaskError,
        match=r"^failingreducer: reduce task \d of 3 \(partition \d\) failed 2 times: "
        r"KeyError: 'gamma'$",
    ):
        run(FailingReducer("gamma"), [str(corpus)], name, workers=2, reducers=3, max_attempts=2)
    assert children() <= before


@pytest.mark.parametrize("name", EVERY_NAME)
def test_bad_records_are_skipped_counted_and_located(name, tmp_path):
    lines = [f"POISON {i}" if i % 1000 == 7 else line for i, line in enumerate(LINES)]
    path = tmp_path / "poisoned.txt"
    path.write_text("\n".join(lines) + "\n")
    good = [line for line in lines if "POISON" not in line]
    offsets = [sum(len(x) + 1 for x in lines[:i]) for i, x in enumerate(lines) if "POISON" in x]

    result = run(PoisonedWordCount(), [str(path)], name, workers=2, skip_bad_records=True)

    assert "".join(result.lines()) == expected(good)
    assert result.partial
    assert result.counters["skipped_records"] == len(offsets) == 3
    assert sorted(result.skipped) == sorted(
        f"{path} byte {offset}: ValueError: poisoned record" for offset in offsets
    )


@pytest.mark.parametrize("name", EVERY_NAME)
def test_without_skipping_a_bad_record_fails_the_run(name, tmp_path):
    path = tmp_path / "poisoned.txt"
    path.write_text("fine words\nPOISON here\n")
    with pytest.raises(TaskError, match=r"poisoned: map task 0 of 1 .* ValueError: poisoned"):
        run(PoisonedWordCount(), [str(path)], name, workers=2, split_count=1)


def test_a_worker_lost_while_the_pool_starts_is_replaced_by_starting_again(corpus):
    backend = LosesWorkersAtStart(workers=2, losses=2)
    result = run(WordCount(), [str(corpus)], backend, split_count=4)
    assert "".join(result.lines()) == expected(LINES)
    assert backend.losses == 0 and len(result.worker_pids) == 2


@pytest.mark.timeout(60)
def test_workers_lost_and_replaced_before_the_pool_could_list_them_are_still_lost(corpus):
    result = run(WordCount(), [str(corpus)], ForgetsItsFirstWorkers(workers=2), reducers=2)
    assert "".join(result.lines()) == expected(LINES)


def test_a_pool_that_loses_a_worker_each_time_it_starts_fails_in_one_line(corpus):
    before = children()
    with pytest.raises(
        backends.BackendError,
        match=r"^cannot start the loses-workers-at-start backend with 2 worker\(s\): a worker "
        r"was lost each of the 3 times they started; last: loses-workers-at-start worker \d+ "
        r"killed by SIGKILL$",
    ):
        run(WordCount(), [str(corpus)], LosesWorkersAtStart(workers=2, losses=3))
    assert children() <= before


class KillsNewProcesses:
    """SIGKILLs each of the first ``count`` processes that ``forkserver`` or ``spawn`` makes,
    the moment it exists: before it read what it is to run, which the driver is about to
    write it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.killed: list[int] = []

    def kill(self, pid: int) -> None:
        """Kill ``pid`` and wait until it is dead, its end of the pipe closed."""
        if len(self.killed) < self.count:
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not alive(pid), f"process {pid} to die")
            self.killed.append(pid)

    def spawned(self, real: Callable[..., int]) -> Callable[..., int]:
        def spawn(path: bytes, args: list[bytes], fds: object) -> int:
            pid = real(path, args, fds)
            if any("spawn_main" in os.fsdecode(arg) for arg in args):  # not a helper
                self.kill(pid)
            return pid

        return spawn

    def forked(self, real: Callable[..., tuple[int, int]]) -> Callable[..., tuple[int, int]]:
        def connect(fds: object) -> tuple[int, int]:
            multiprocessing.forkserver.ensure_running()
            server = psutil.Process(multiprocessing.forkserver._forkserver._forkserver_pid)
            before = {child.pid for child in server.children()}
            pipes = real(fds)
            new: list[int] = []
            wait_for(lambda: new.extend({c.pid for c in server.children()} - before) or new,
                     "the forkserver's new process")  # fmt: skip
            self.kill(new[0])
            return pipes

        return connect


@pytest.fixture
def killer(monkeypatch) -> KillsNewProcesses:
    """Kills the next ``killer.count`` workers that ``forkserver`` or ``spawn`` makes."""
    found = KillsNewProcesses(count=0)
    forkserver, util = multiprocessing.forkserver, multiprocessing.util
    monkeypatch.setattr(
        forkserver, "connect_to_new_process", found.forked(forkserver.connect_to_new_process)
    )
    monkeypatch.setattr(util, "spawnv_passfds", found.spawned(util.spawnv_passfds))
    return found


NEW_PROCESS_METHODS = [
    m for m in ("forkserver", "spawn") if m in multiprocessing.get_all_start_methods()
]
"""The start methods whose workers the driver writes what to run, once they exist."""


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", ["pool", "futures"])
@pytest.mark.parametrize("start_method", NEW_PROCESS_METHODS)
def test_workers_killed_before_they_read_their_start_are_lost_and_replaced(
    name, start_method, corpus, killer
):
    """Every process a start or a restart makes may die before it reads a byte: the driver's
    write to it breaks, or the pool's pipes close under it; either is a lost worker."""
    killer.count = START_ATTEMPTS - 1
    before = children()
    result = run(
        WordCount(), [str(corpus)], name, workers=2, split_count=4, start_method=start_method
    )
    assert "".join(result.lines()) == expected(LINES)
    assert len(killer.killed) == killer.count
    assert children() <= before


@pytest.mark.timeout(60)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize("start_method", NEW_PROCESS_METHODS)
def test_a_worker_pool_starts_for_a_dead_one_may_die_before_it_reads_its_start(
    start_method, killer
):
    """``Pool`` replaces a dead worker from a thread of its own; that start may fail too (the
    thread dies of it, which pytest reports in place of the backend's hook), and the pool
    still stops, and starts again."""
    before = children()
    with backends.create("pool", 2, start_method=start_method) as backend:
        killer.count = 1
        os.kill(next(iter(backend.worker_pids)), signal.SIGKILL)
        wait_for(lambda: killer.killed, "the pool's replacement worker")
        with contextlib.suppress(backends.WorkerLost):  # none if no task was on the dead one
            list(backend.run(abs, range(4)))
        backend.restart()
        assert sorted(result for _, result in backend.run(abs, range(-2, 2))) == [0, 1, 1, 2]
    assert children() <= before


def kill_when_written(pid_file: Path, killed: list[int]) -> None:
    """Wait for a worker to write its pid, then SIGKILL it, as the OOM killer would."""
    wait_for(pid_file.exists, "a worker writing its pid")
    pid = int(pid_file.read_text())
    os.kill(pid, signal.SIGKILL)
    killed.append(pid)


@pytest.mark.parametrize("name", PROCESS_NAMES)
@pytest.mark.parametrize("start_method", [None, "spawn"])
def test_a_killed_worker_is_replaced_and_its_tasks_run_again(name, start_method, corpus, tmp_path):
    pid_file, killed = tmp_path / "stalled.pid", []
    killer = threading.Thread(target=kill_when_written, args=(pid_file, killed))
    killer.start()
    before = children()
    try:
        result = run(
            StallsOnce(str(pid_file)),
            [str(corpus)],
            name,
            workers=2,
            split_count=6,
            start_method=start_method,
        )
    finally:
        killer.join()

    assert len(killed) == 1 and not alive(killed[0])
    assert "".join(result.lines()) == expected(LINES)
    assert result.counters["worker_restarts"] == 1
    assert killed[0] not in result.worker_pids
    assert children() <= before


@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_a_task_that_keeps_killing_its_worker_fails_the_run(name, corpus):
    before = children()
    with pytest.raises(
        MapReduceError,
        match=r"^killsitsworker: map phase lost a worker 2 times, the limit \(max attempts 2\)",
    ):
        run(KillsItsWorker(), [str(corpus)], name, workers=2, split_count=4, max_attempts=2)
    assert children() <= before


@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_a_job_that_cannot_be_pickled_is_refused_before_any_worker(name, corpus, monkeypatch):
    opened = []
    monkeypatch.setattr(Backend, "open", lambda self: opened.append(self))
    with pytest.raises(JobError, match=rf"job 'holdsalambda' cannot be sent to {name} worker .*"):
        run(HoldsALambda(), [str(corpus)], name, workers=2)
    assert opened == []


def test_the_cli_says_the_output_is_partial_and_where_records_were_skipped(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("one two\nPOISON\nthree\n")
    done = mapreduce_cli(
        "run", "tests.helpers:PoisonedWordCount", str(path), "-b", "pool", "--skip-bad-records"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(["one two", "three"])
    assert done.stderr.splitlines() == [
        "mapreduce: warning: the output is partial: 1 bad record(s) skipped "
        "(--skip-bad-records); the first 1:",
        f"  {path} byte 8: ValueError: poisoned record",
    ]


def test_a_bad_record_without_skipping_is_one_line_and_verbose_adds_the_traceback(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("one two\nPOISON\n")
    args = ["run", "tests.helpers:PoisonedWordCount", str(path), "-b", "futures", "--splits", "1"]
    plain, verbose = mapreduce_cli(*args), mapreduce_cli(*args, "--verbose")
    assert plain.returncode == verbose.returncode == 1
    assert plain.stdout == verbose.stdout == ""
    assert plain.stderr == (
        "mapreduce: error: poisoned: map task 0 of 1 (in.txt bytes 0-15) failed 3 times: "
        "ValueError: poisoned record\n"
    )
    assert verbose.stderr.startswith(plain.stderr)
    assert "Traceback (most recent call last)" in verbose.stderr
    assert 'raise ValueError("poisoned record")' in verbose.stderr


def test_max_attempts_must_be_at_least_one(tmp_path):
    done = mapreduce_cli("run", "wordcount", str(tmp_path), "--max-attempts", "0")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--max-attempts: must be at least 1" in done.stderr


@pytest.mark.parametrize("name", EVERY_NAME)
def test_an_empty_input_gives_an_empty_output(name, tmp_path):
    empty, output = tmp_path / "empty.txt", tmp_path / "out.txt"
    empty.write_bytes(b"")
    done = mapreduce_cli("run", "wordcount", str(empty), "-b", name, "-w", "2", "-o", str(output))
    assert done.returncode == 0, done.stderr
    assert output.read_bytes() == b""


@pytest.mark.parametrize("name", EVERY_NAME)
def test_a_split_its_worker_cannot_open_names_the_worker_and_the_path(name, corpus):
    backend = backends.create(name, 2)
    checked = driver.plan(WordCount(), [str(corpus)], backend)
    corpus.unlink()  # gone between planning and the workers reading it
    with backend, pytest.raises(TaskError) as failure:
        driver.execute(checked, backend)
    assert re.search(
        rf"failed: InputError: cannot open {re.escape(str(corpus))} on worker \S+ \(pid \d+\): "
        "No such file or directory; on a cluster every worker must see the inputs",
        str(failure.value),
    )
    assert failure.value.attempts == 1


def kill_an_idle_worker(pid_file: Path, killed: list[int]) -> None:
    """Once the busy worker has written its pid, SIGKILL another worker: an idle one."""
    wait_for(pid_file.exists, "a worker writing its pid")
    busy = int(pid_file.read_text())
    idle = [p for p in workers_of(psutil.Process(busy).ppid()) if p.pid != busy]
    idle[0].kill()
    killed.append(idle[0].pid)


@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_a_worker_killed_while_idle_is_replaced_and_the_run_completes(name, corpus, tmp_path):
    pid_file, killed = tmp_path / "busy.pid", []
    killer = threading.Thread(target=kill_an_idle_worker, args=(pid_file, killed))
    killer.start()
    before = children()
    try:
        result = run(PausesOnce(str(pid_file)), [str(corpus)], name, workers=2, split_count=1)
    finally:
        killer.join()
    assert "".join(result.lines()) == expected(LINES)
    assert len(killed) == 1 and not alive(killed[0])
    assert result.counters["worker_restarts"] == 1
    assert children() <= before


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize(
    ("how", "cause"), [("exit", "SystemExit: 3"), ("ctrl-c", "KeyboardInterrupt")]
)
def test_job_code_that_exits_fails_its_task(name, how, cause, corpus):
    with pytest.raises(
        TaskError, match=rf"exits: map task \d+ of \d+ .* failed 2 times: {cause}$"
    ):
        run(Exits(how), [str(corpus)], name, workers=2, max_attempts=2)


@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_workers_die_with_a_killed_parent_and_the_next_run_cleans_its_folder(name, tmp_path):
    run = busy_run(tmp_path, name)
    cli, workers = run.cli, run.workers
    helpers = [p for p in run.descendants if p not in workers]
    cli.kill()
    cli.communicate(timeout=10)
    killed = time.monotonic()
    _, left = psutil.wait_procs(workers + helpers, timeout=5)
    assert not [p.pid for p in left if alive(p.pid)], f"{time.monotonic() - killed:.1f} s"
    if os.path.isdir("/dev/shm"):  # loky-PID-* semaphores, joblib_memmapping_folder_PID_*

        def semaphores_of_the_run() -> list[str]:
            mark = re.compile(rf"[-_]{cli.pid}[-_]")
            return [name for name in os.listdir("/dev/shm") if mark.search(name)]

        wait_for(lambda: not semaphores_of_the_run(), "/dev/shm cleaned", 5)
    stale = list((tmp_path / "tmp").glob("mapreduce-run-*"))
    assert stale, "the killed run's folder is there until the next run"
    done = mapreduce_cli(
        "run", "wordcount", str(tmp_path / "urls.txt"), "--shuffle", "disk",
        env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    left = [p.name for p in (tmp_path / "tmp").iterdir()]
    # CPython's own forkserver folder (its socket), which its exit handler removes and a
    # SIGKILL skips; the run cannot know it is a dead run's, so it leaves it
    assert [n for n in left if not (n.startswith("pymp-") and forkserver(name))] == []


def forkserver(name: str) -> bool:
    """Whether the backend ``name`` starts its workers by forkserver by default here."""
    return backends.create(name, 2).start_method == "forkserver"


@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_a_worker_lost_between_phases_is_replaced(name, corpus):
    backend = backends.create(name, 2)
    killed: list[int] = []

    def kill_after_the_map_phase(phase: str, done: int, total: int) -> None:
        if phase == "map" and done == total and not killed:
            victim = min(pids)
            os.kill(victim, signal.SIGKILL)
            # not psutil's wait(): it would reap the pool's child, which then never sees it die
            wait_for(lambda: not alive(victim), "the worker's death")
            killed.append(victim)
            if name == "pool":  # Pool starts a worker in its place by itself
                started = backend.processes
                wait_for(lambda: len(started()) > len(pids), "Pool starting another worker")
            elif name == "futures":  # its forkserver tells a worker's exit once it reaped it
                wait_for(lambda: backend.ended() is not None, "the executor seeing the death")

    checked = driver.plan(WordCount(), [str(corpus)], backend, reducers=2)
    with backend:
        pids = {pid for _, pid in backend.run(worker_pid, range(8))}  # this pool's own workers
        result = driver.execute(checked, backend, kill_after_the_map_phase)
    assert killed
    assert "".join(result.lines()) == expected(LINES)
    # Pool replaced the worker that died idle (above), losing no task; a check of the
    # workers it started (the dead one among them) may still restart it.  The others'
    # executors break, and must restart.
    restarts = {0, 1} if name == "pool" else {1}
    assert result.counters["worker_restarts"] in restarts


def test_only_the_executor_managers_cancelled_future_error_is_hidden():
    from concurrent.futures import InvalidStateError

    from backends.futures import quiet_cancelled_broken

    class _ExecutorManagerThread(threading.Thread):  # CPython's name for the manager
        pass

    passed = []

    def hook(thread, exc):
        args = threading.ExceptHookArgs([type(exc), exc, None, thread])
        quiet_cancelled_broken(args, previous=passed.append)

    hook(_ExecutorManagerThread(), InvalidStateError("CANCELLED: <Future>"))
    assert passed == []
    hook(_ExecutorManagerThread(), ValueError("a real failure"))
    hook(threading.Thread(), InvalidStateError("someone else's"))
    assert [type(args.exc_value) for args in passed] == [ValueError, InvalidStateError]
