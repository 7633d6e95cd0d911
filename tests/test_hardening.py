"""The faults a hostile user finds, one class a section, on every backend it applies to.

Each test checks the whole outcome: the exit status and the one line, how
long stopping took where it is about stopping, and that no worker process,
shuffle folder or partial output is left and no device or symlink replaced.
Devices are private nodes made with ``mknod`` in a temporary folder, never
the machine's own.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

import psutil
import pytest

import backends
from backends.base import Backend
from jobs.fetch import Fetch
from jobs.pi import Pi
from jobs.sort import Sort
from jobs.wordcount import WordCount
from mapreduce import JobError, TaskError, driver, run
from tests.conftest import EVERY_NAME, PROCESS_NAMES, by_name
from tests.helpers import (
    LINES,
    Exits,
    HoldsALambda,
    KeysFromLines,
    PausesOnce,
    TruncatesItsInput,
    TruncatesItsInputPerLine,
    alive,
    children,
    exit_status,
    expected,
    mapreduce_cli,
    start_cli,
    wait_for,
    worker_pid,
    workers_of,
)
from tests.oracle import oracle_sort

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mknod and mount need root")


def one_error_line(stderr: str, pattern: str) -> None:
    """``stderr`` is exactly one line, ``mapreduce: error: ...`` matching ``pattern``."""
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("mapreduce: error: "), stderr
    assert re.search(pattern, stderr), stderr


def private_device(folder: Path, name: str, major: int, minor: int) -> Path:
    """A character device node of our own (1,3 is null, 1,7 full, 1,5 zero)."""
    path = folder / name
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    return path


@contextlib.contextmanager
def small_filesystem(folder: Path, size: str = "64k", options: str = "") -> Path:
    """A tmpfs of ``size`` mounted at ``folder``: a disk that fills, or one read-only."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}{options}", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fetch_run(tmp_path: Path, name: str, job: str = "fetch", **popen) -> subprocess.Popen:
    """A run of ~8 s (400 URLs at 20 ms) on 2 workers, with its own TMPDIR, started."""
    urls = tmp_path / "urls.txt"
    Fetch.generate_input(str(urls), 20_000, seed=1)
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch)}
    output = tmp_path / "out" / "result.txt"
    output.parent.mkdir(exist_ok=True)
    args = ["run", job, str(urls), "-p", "latency_ms=20", "-b", name, "-w", "2"]
    args += ["--shuffle", "disk", "--splits", "16", "-o", str(output)]
    return start_cli(args, env, **popen)


def started(tmp_path: Path, cli: subprocess.Popen) -> list[psutil.Process]:
    """Wait until the run's shuffle folder exists and its workers are busy; return the workers."""
    wait_for(lambda: list((tmp_path / "tmp").glob("mapreduce-run-*")), "the run's start")
    time.sleep(0.5)
    assert cli.poll() is None, cli.communicate()
    return workers_of(cli.pid)


def nothing_left(tmp_path: Path, processes: list[psutil.Process], by: float) -> None:
    """No process of ``processes`` alive at ``by``, no output and no shuffle folder left."""
    _, left = psutil.wait_procs(processes, timeout=max(0.0, by - time.monotonic()))
    assert not [p.pid for p in left if alive(p.pid)]
    assert list((tmp_path / "out").iterdir()) == []
    assert list((tmp_path / "tmp").iterdir()) == []


# -- 1. pool: a worker killed while idle -----------------------------------------------


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
        result = run(PausesOnce(str(pid_file)), [str(corpus)], name, workers=2, splits=1)
    finally:
        killer.join()
    assert "".join(result.lines()) == expected(LINES)
    assert len(killed) == 1 and not alive(killed[0])
    assert result.counters["worker_restarts"] == 1
    assert children() <= before


# -- 2. closing escalates: frozen workers, workers that ignore SIGTERM ---------------


@pytest.mark.parametrize("name", PROCESS_NAMES)
@pytest.mark.parametrize("fault", ["frozen", "ignores-sigterm"])
def test_ctrl_c_stops_in_two_seconds_whatever_the_workers_do(name, fault, tmp_path):
    job = "tests.helpers:IgnoresSigterm" if fault == "ignores-sigterm" else "fetch"
    cli = fetch_run(tmp_path, name, job)
    workers = started(tmp_path, cli)
    if fault == "frozen":
        workers[0].suspend()  # SIGSTOP
    cli.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = cli.communicate(timeout=20)
    took = time.monotonic() - sent
    assert cli.returncode == 130, err
    assert err == "mapreduce: interrupted\n"
    assert took < 2, f"stopped {took:.1f} s after Ctrl-C"
    nothing_left(tmp_path, workers, sent + 2)


# -- 3. an input that changes under the run ------------------------------------------


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("job", [TruncatesItsInput, TruncatesItsInputPerLine])
def test_an_input_truncated_during_the_run_is_an_error_naming_it(name, job, tmp_path):
    path = tmp_path / "shrinks.txt"
    path.write_text("\n".join(LINES * 4) + "\n")
    with pytest.raises(TaskError, match=rf"changed during the run.*|{re.escape(str(path))}") as e:
        run(job(), [str(path)], name, workers=2, splits=1)
    assert str(path) in str(e.value) and "changed during the run" in str(e.value)
    assert e.value.attempts == 1


@pytest.mark.parametrize("name", EVERY_NAME)
def test_an_input_rewritten_after_planning_is_an_error_naming_it(name, corpus):
    backend = backends.create(name, 2)
    checked = driver.plan(WordCount(), [str(corpus)], backend)
    corpus.write_text("other words entirely\n")
    with backend, pytest.raises(TaskError, match="changed during the run") as failure:
        driver.execute(checked, backend)
    assert str(corpus) in str(failure.value)


# -- 4. pipes, FIFOs and devices as inputs -------------------------------------------


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_in_one_line_without_reading_it(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done = mapreduce_cli("run", "wordcount", str(fifo), "-b", "pool", "-w", "2")
    assert done.returncode == 1 and done.stdout == ""
    one_error_line(done.stderr, rf"input {re.escape(str(fifo))} is a pipe, not a regular file")


@pytest.mark.timeout(20)
def test_standard_input_from_a_pipe_is_refused_and_from_a_file_is_read(corpus):
    args = [sys.executable, "-m", "mapreduce", "run", "wordcount", "/dev/stdin", "-b", "futures"]
    piped = subprocess.run(args, input=corpus.read_text(), capture_output=True, text=True)
    assert piped.returncode == 1 and piped.stdout == ""
    one_error_line(piped.stderr, r"input /dev/stdin is a pipe, not a regular file")
    with corpus.open() as stdin:
        redirected = subprocess.run(args, stdin=stdin, capture_output=True, text=True)
    assert redirected.returncode == 0, redirected.stderr
    assert redirected.stdout == expected(LINES)


@needs_root
@pytest.mark.timeout(20)
def test_a_device_is_refused_as_input(tmp_path):
    zero = private_device(tmp_path, "zero", 1, 5)
    done = mapreduce_cli("run", "wordcount", str(zero), "-b", "threads")
    assert done.returncode == 1
    one_error_line(done.stderr, r"is a character device, not a regular file")


# -- 5. --output: devices, symlinks, modes ---------------------------------------------


@needs_root
@pytest.mark.parametrize("name", by_name(["sequential", "pool"]))
def test_output_to_a_device_writes_to_it_and_leaves_it_a_device(name, corpus, tmp_path):
    null = private_device(tmp_path, "null", 1, 3)
    done = mapreduce_cli("run", "wordcount", str(corpus), "-b", name, "-o", str(null))
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(null.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".mapreduce-")] == []


def test_output_to_dev_stdout_goes_to_standard_output(corpus):
    done = mapreduce_cli("run", "wordcount", str(corpus), "-o", "/dev/stdout")
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(LINES)


@pytest.mark.timeout(20)
def test_output_to_a_fifo_is_written_to_its_reader(corpus, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    read: list[str] = []
    reader = threading.Thread(target=lambda: read.append(fifo.read_text()))
    reader.start()
    done = mapreduce_cli("run", "wordcount", str(corpus), "-b", "threads", "-o", str(fifo))
    reader.join(10)
    assert done.returncode == 0, done.stderr
    assert read == [expected(LINES)]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_output_through_a_symlink_replaces_the_target_and_keeps_the_link(corpus, tmp_path):
    target, link = tmp_path / "target.tsv", tmp_path / "link.tsv"
    target.write_text("old\n")
    target.chmod(0o640)
    link.symlink_to(target)
    done = mapreduce_cli("run", "wordcount", str(corpus), "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text() == expected(LINES)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_output_file_takes_its_mode_from_the_umask(umask, corpus, tmp_path):
    out = tmp_path / "new.tsv"
    done = subprocess.run(
        [sys.executable, "-m", "mapreduce", "run", "wordcount", str(corpus), "-o", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(umask),
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


# -- 6. keys that are equal must group, whatever the reducer count ------------------


@pytest.mark.parametrize("name", EVERY_NAME)
def test_equal_keys_of_different_types_group_on_every_reducer_count(name, tmp_path):
    path = tmp_path / "keys.txt"
    numbers = ["1", "1.0", "True", "2", "2.0", "-0.0", "0", "2.5"]  # 1, 2, 0 and 2.5
    tuples = ["(1, 'a')", "(1.0, 'a')", "(True, 'b')", "(1, 'b')", "(2, 'a')"]  # three keys
    for literals, groups in [(numbers, [20, 40, 40, 60]), (tuples, [20, 40, 40])]:
        path.write_text("\n".join(literals * 20) + "\n")
        outputs = {
            reducers: "".join(run(KeysFromLines(), [str(path)], name, workers=2,
                                  reducers=reducers, splits=5).lines())
            for reducers in (1, 2, 3, 7)
        }  # fmt: skip
        assert len(set(outputs.values())) == 1
        counts = [int(line.rsplit("\t", 1)[1]) for line in outputs[1].splitlines()]
        assert sorted(counts) == groups


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("reducers", [1, 3])
@pytest.mark.parametrize(
    ("literal", "message"),
    [("nan", r"NaN, which equals no key"), ("None", r"key None is of type NoneType; a key is")],
)
def test_a_key_that_cannot_group_is_refused_in_one_line(
    name, reducers, literal, message, tmp_path
):
    path = tmp_path / "keys.txt"
    path.write_text(f"1\n{literal}\n{literal}\n")
    with pytest.raises(TaskError, match=message) as failure:
        run(KeysFromLines(), [str(path)], name, workers=2, reducers=reducers)
    assert failure.value.attempts == 1 and "\n" not in str(failure.value)


# -- 7. output problems, found before the run where they can be ------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing" / "out.tsv", r"No such file or directory"),
        (lambda d: d, r"is a directory; name a file in it"),
        (lambda d: d / "\ud800.tsv", r"is not a valid file name here"),
    ],
    ids=["missing-folder", "a-directory", "bad-name"],
)
def test_an_output_that_cannot_be_written_fails_before_any_worker(
    make, message, corpus, tmp_path, monkeypatch, capsys
):
    opened = []
    monkeypatch.setattr(Backend, "open", lambda self: opened.append(self))
    status = exit_status(
        ["run", "wordcount", str(corpus), "-b", "pool", "-o", str(make(tmp_path))]
    )
    assert status == 1
    one_error_line(capsys.readouterr().err, message)
    assert opened == []


@needs_root
def test_a_read_only_output_folder_fails_before_any_worker(corpus, tmp_path, monkeypatch, capsys):
    opened = []
    monkeypatch.setattr(Backend, "open", lambda self: opened.append(self))
    with small_filesystem(tmp_path / "ro", options=",ro") as folder:
        status = exit_status(["run", "wordcount", str(corpus), "-o", str(folder / "out.tsv")])
    assert status == 1
    one_error_line(capsys.readouterr().err, r"Read-only file system")
    assert opened == []


@needs_root
@pytest.mark.parametrize("where", ["full-disk", "dev-full"])
def test_a_full_disk_is_one_line_and_leaves_no_partial_output(where, tmp_path):
    big = tmp_path / "big.txt"
    WordCount.generate_input(str(big), 2_000_000, seed=1)  # about 300 KB of output
    with contextlib.ExitStack() as stack:
        if where == "dev-full":
            out = private_device(tmp_path, "full", 1, 7)
        else:
            out = stack.enter_context(small_filesystem(tmp_path / "small")) / "out.tsv"
        done = mapreduce_cli("run", "wordcount", str(big), "-b", "pool", "-o", str(out))
        if where == "full-disk":
            assert list(out.parent.iterdir()) == []
    assert done.returncode == 1
    one_error_line(done.stderr, r"cannot write output .*: No space left on device")


@pytest.mark.timeout(30)
def test_a_closed_pipe_on_standard_output_is_one_line(tmp_path):
    big = tmp_path / "big.txt"
    WordCount.generate_input(str(big), 2_000_000, seed=1)
    cli = start_cli(["run", "wordcount", str(big), "-b", "pool", "-w", "2"])
    cli.stdout.readline()
    cli.stdout.close()  # as `| head -1` does
    err = cli.stderr.read()
    assert cli.wait(20) == 1
    one_error_line(err, r"standard output was closed before the output was all written")


# -- 8. job output that cannot be written -------------------------------------------------


@pytest.mark.parametrize("name", EVERY_NAME)
def test_a_value_json_cannot_write_is_one_line_naming_the_key(name, corpus):
    done = mapreduce_cli("run", "tests.helpers:YieldsASet", str(corpus), "-b", name, "-w", "2")
    assert done.returncode == 1 and done.stdout == ""
    one_error_line(
        done.stderr,
        r"^mapreduce: error: yieldsaset: reduce task \d of 2 \(partition \d\) failed: JobError: "
        r"the output pair with key '\w+' cannot be written: "
        r"TypeError: Object of type set is not JSON serializable",
    )


@pytest.mark.parametrize("name", by_name(["pool", "futures", "joblib", "dask"]))
def test_a_value_that_cannot_be_pickled_is_one_line_naming_its_type(name, corpus):
    done = mapreduce_cli("run", "tests.helpers:YieldsALock", str(corpus), "-b", name, "-w", "2")
    assert done.returncode == 1 and done.stdout == ""
    one_error_line(done.stderr, r"^mapreduce: error: yieldsalock: reduce .*lock")


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("reducers", ["1", "3"])
def test_keys_that_do_not_sort_together_are_one_line(name, reducers, tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text("\n".join(["1", "'a'", "2", "'b'", "3", "'c'"] * 3) + "\n")
    job = "tests.helpers:KeysFromLines"
    done = mapreduce_cli("run", job, str(path), "-b", name, "-w", "2", "-r", reducers)
    assert done.returncode == 1 and done.stdout == ""
    one_error_line(done.stderr, r"keysfromlines: .*keys that cannot be sorted together .*'<'")


# -- 9. sort: multi-byte keys, and input that is not UTF-8 ----------------------------


@pytest.mark.parametrize("name", EVERY_NAME)
def test_sort_cuts_keys_by_characters_not_bytes(name, tmp_path):
    path = tmp_path / "records.txt"
    keys = ["éééééééééé", "aéaéaéaéaé", "zzzzzzzzzé", "ωωωωωωωωωω", "bbbbbbbbbb"] * 40
    path.write_text("".join(f"{k}  {i:032X}{'P' * 56}\n" for i, k in enumerate(keys)))
    result = run(Sort(samples=50), [str(path)], name, workers=2, reducers=3)
    assert "".join(result.lines()) == oracle_sort([str(path)])


def test_sort_reports_input_that_is_not_utf8_in_one_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 record\n".encode("latin-1") * 50)
    done = mapreduce_cli("run", "sort", str(path), "-b", "pool", "-w", "2")
    assert done.returncode == 1
    one_error_line(done.stderr, rf"{re.escape(str(path))} byte \d+ is not UTF-8 \(0xe9\)")


# -- 10. start-up failures and the libraries' own noise ---------------------------------


@pytest.mark.parametrize("name", by_name(["pool", "futures", "joblib", "dask"]))
def test_a_worker_that_cannot_start_is_one_line(name, corpus, monkeypatch, capsys):
    def refuse(self):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
    before = children()
    assert exit_status(["run", "wordcount", str(corpus), "-b", name, "-w", "2"]) == 1
    # dask's nanny reports its own failure in its own words
    cause = "RuntimeError: Nanny failed to start" if name == "dask" else "BlockingIOError"
    one_error_line(
        capsys.readouterr().err, rf"cannot start the {name} backend with 2 worker\(s\): {cause}"
    )
    assert children() <= before


@pytest.mark.parametrize("name", by_name(["dask"]))
def test_a_scheduler_address_that_does_not_parse_is_one_line(name, corpus):
    done = mapreduce_cli("run", "wordcount", str(corpus), "-b", name, "--scheduler", "notaurl")
    assert done.returncode == 1
    one_error_line(done.stderr, r"dask")


@pytest.mark.parametrize("name", by_name(["dask"]))
def test_a_job_dask_cannot_pickle_is_refused_before_the_cluster_starts(name, corpus, monkeypatch):
    opened = []
    monkeypatch.setattr(Backend, "open", lambda self: opened.append(self))
    with pytest.raises(JobError, match=r"job 'holdsalambda' cannot be sent to dask worker"):
        run(HoldsALambda(), [str(corpus)], name, workers=2)
    assert opened == []


@pytest.mark.parametrize("name", EVERY_NAME)
def test_a_failing_task_on_any_backend_prints_one_line_and_no_log(name, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("POISON\n")
    job = "tests.helpers:PoisonedWordCount"
    done = mapreduce_cli("run", job, str(path), "-b", name, "-w", "2", "--max-attempts", "1")
    assert done.returncode == 1
    one_error_line(done.stderr, r"poisoned: map task 0 of 1 .* ValueError: poisoned record")


@pytest.mark.parametrize("name", EVERY_NAME)
def test_ctrl_c_to_the_whole_terminal_group_prints_one_line(name, tmp_path):
    cli = fetch_run(tmp_path, name, start_new_session=True)
    workers = started(tmp_path, cli)
    os.killpg(cli.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    sent = time.monotonic()
    _, err = cli.communicate(timeout=20)
    assert cli.returncode == 130
    assert err == "mapreduce: interrupted\n"
    nothing_left(tmp_path, workers, sent + 2)


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("delay", [0.2, 0.5, 0.9])
def test_ctrl_c_to_the_group_while_workers_start_prints_one_line(name, delay, tmp_path):
    points = tmp_path / "pi.txt"
    Pi.generate_input(str(points), 16_000_000_000, seed=1)  # a billion points: minutes of work
    start_method = ["--start-method", "spawn"] if name in ("pool", "futures") else []
    splits = ["--splits", "500"]  # short tasks, which the threads backend lets finish
    cli = start_cli(
        ["run", "pi", str(points), "-b", name, "-w", "2", *start_method, *splits],
        start_new_session=True,
    )
    time.sleep(delay)  # imports, planning, or workers starting and importing
    assert cli.poll() is None, "the run ended before the Ctrl-C: give it more work"
    os.killpg(cli.pid, signal.SIGINT)
    _, err = cli.communicate(timeout=20)
    assert (cli.returncode, err) == (130, "mapreduce: interrupted\n")


# -- 11. job code that exits ------------------------------------------------------------


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize(
    ("how", "cause"), [("exit", "SystemExit: 3"), ("ctrl-c", "KeyboardInterrupt")]
)
def test_job_code_that_exits_fails_its_task(name, how, cause, corpus):
    with pytest.raises(
        TaskError, match=rf"exits: map task \d+ of \d+ .* failed 2 times: {cause}$"
    ):
        run(Exits(how), [str(corpus)], name, workers=2, max_attempts=2)


# -- 12. a parent that dies -------------------------------------------------------------


@pytest.mark.parametrize("name", PROCESS_NAMES)
def test_workers_die_with_a_killed_parent_and_the_next_run_cleans_its_folder(name, tmp_path):
    cli = fetch_run(tmp_path, name)
    workers = started(tmp_path, cli)
    helpers = [p for p in psutil.Process(cli.pid).children(recursive=True) if p not in workers]
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


@pytest.mark.parametrize("prefix", ["mapreduce-run-", "mapreduce-dask-"])
def test_a_folder_left_by_a_killed_run_is_removed_by_the_next(prefix, tmp_path, monkeypatch):
    from backends.base import run_folder

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f"{prefix}{ended.stdout.strip()}-left"
    living = tmp_path / f"{prefix}{os.getppid()}-busy"  # another run, still going
    for folder in (dead, living):
        folder.mkdir()
    made = Path(run_folder(prefix))
    assert not dead.exists() and living.is_dir() and made.is_dir()
    assert made.name.startswith(f"{prefix}{os.getpid()}-")


@pytest.mark.parametrize("name", EVERY_NAME)
def test_sighup_stops_a_run_like_sigterm(name, tmp_path):
    cli = fetch_run(tmp_path, name)
    workers = started(tmp_path, cli)
    cli.send_signal(signal.SIGHUP)
    sent = time.monotonic()
    _, err = cli.communicate(timeout=20)
    assert cli.returncode == 128 + signal.SIGHUP
    assert err == "mapreduce: interrupted\n"
    nothing_left(tmp_path, workers, sent + 2)


# -- 13. a worker lost between two phases ------------------------------------------------


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
            time.sleep(0.5)  # let the pool notice before the reduce phase starts

    checked = driver.plan(WordCount(), [str(corpus)], backend, reducers=2)
    with backend:
        pids = {pid for _, pid in backend.run(worker_pid, range(8))}  # this pool's own workers
        result = driver.execute(checked, backend, kill_after_the_map_phase)
    assert killed
    assert "".join(result.lines()) == expected(LINES)
    # Pool replaces a worker that dies idle by itself, losing no task (a later
    # check of its first workers may still restart it); the others must restart.
    restarts = {0, 1} if name == "pool" else {1}
    assert result.counters["worker_restarts"] in restarts


# -- 14. limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("splits", ["1", "4"])
def test_a_record_longer_than_the_limit_is_one_line_naming_file_and_offset(name, splits, tmp_path):
    path = tmp_path / "oneline.txt"
    path.write_bytes(b"short line\n" + b"x" * 3_000_000)
    done = mapreduce_cli(
        "run", "wordcount", str(path), "-b", name, "-w", "2", "--splits", splits,
        "--max-record-size", "1MB",
    )  # fmt: skip
    assert done.returncode == 1
    limit = r"a line longer than 1.0 MB, the limit, at byte \d+"
    one_error_line(done.stderr, rf"{re.escape(str(path))}: {limit}")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--reducers", "1000000", r"reducers must be at most 10,000"),
        ("--workers", str(10**20), r"workers must be at most 1024"),
        ("--splits", "10000000", r"splits must be at most 100,000"),
    ],
)
def test_counts_that_would_eat_the_machine_are_refused(option, value, message, corpus):
    done = mapreduce_cli("run", "wordcount", str(corpus), option, value)
    assert done.returncode == 1
    one_error_line(done.stderr, message)


# -- 15. messages ----------------------------------------------------------------------------


def test_input_problems_are_named_by_their_cause(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    done = mapreduce_cli("run", "wordcount", str(loop))
    one_error_line(done.stderr, r"cannot read input .*loop: Too many levels of symbolic links")
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    done = mapreduce_cli("run", "wordcount", str(afile / "inside"))
    one_error_line(done.stderr, r"cannot read input .*afile/inside: Not a directory")


def fails_on_a_full_tmpdir(tmp_path: Path, size: str, *args: str) -> None:
    """``mapreduce ARGS`` with a ``TMPDIR`` of ``size`` fails in one line naming the file it
    could not write there, and leaves nothing in it."""
    with small_filesystem(tmp_path / "small", size=size) as small:
        done = mapreduce_cli(*args, env={**os.environ, "TMPDIR": str(small)})
        assert list(small.iterdir()) == []
    assert done.returncode == 1
    one_error_line(
        done.stderr,
        rf"failed: MapReduceError: cannot write the run.s file {re.escape(str(small))}/"
        r"mapreduce-run-\d+-\w+/.*: No space left on device; .*TMPDIR",
    )


@needs_root
@pytest.mark.parametrize("name", by_name(["sequential", "threads", "pool", "futures", "joblib"]))
def test_a_full_disk_shuffle_names_the_folder_and_is_not_retried(name, corpus, tmp_path):
    fails_on_a_full_tmpdir(
        tmp_path,
        "16k",
        "run",
        "wordcount",
        str(corpus),
        "-b",
        name,
        "-w",
        "2",
        "--shuffle",
        "disk",
    )


def test_generate_refuses_a_size_of_zero(tmp_path):
    done = mapreduce_cli("generate", "wordcount", "--size", "0", "-o", str(tmp_path / "x.txt"))
    assert done.returncode == 2 and "must be at least 1 byte" in done.stderr
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize("name", by_name(["sequential", "threads", "dask"]))
def test_a_start_method_is_refused_where_there_are_no_processes_to_start(name, corpus):
    done = mapreduce_cli("run", "wordcount", str(corpus), "-b", name, "--start-method", "spawn")
    assert done.returncode == 1
    one_error_line(done.stderr, rf"backend '{name}' has no start method")


@pytest.mark.parametrize("name", EVERY_NAME)
def test_what_a_job_prints_goes_to_standard_error_not_into_the_results(name, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("one two\nthree\n")
    done = mapreduce_cli("run", "tests.helpers:Prints", str(path), "-b", name, "-w", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(["one two", "three"])
    assert "DEBUG one two" in done.stderr and "DEBUG three" in done.stderr


# -- 16. platforms with fewer start methods ---------------------------------------------------


def test_a_platform_with_only_spawn_offers_only_spawn(monkeypatch, corpus, capsys):
    from dataclasses import replace

    from compare.design.experiments import start_method
    from compare.design.presets import PRESETS, Sweep

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert exit_status(["run", "wordcount", str(corpus), "-b", "pool", "--start-method", "fork"])
    one_error_line(
        capsys.readouterr().err, r"cannot use start method 'fork' here; choose from: spawn$"
    )
    preset = replace(PRESETS["smoke"], start_method=Sweep("wordcount", 10_000))
    methods = {c.start_method for c in start_method(preset, ["pool", "futures", "joblib"])}
    assert methods - {None} == {"spawn", "loky"}  # None: the sequential reference


# -- 17. where files go, and running from any folder ----------------------------------------


def test_an_unwritable_data_folder_is_one_line(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where a folder should be\n")
    done = mapreduce_cli("run", "pi", env={**os.environ, "MAPREDUCE_STUDY_DATA": str(blocker)})
    assert done.returncode == 1
    one_error_line(
        done.stderr, r"cannot write pi's generated input to .*: (File exists|Not a directory); set"
    )


def test_the_study_checks_its_folders_before_it_runs(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("a file\n")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "compare", "--preset", "smoke", "--output", str(blocker / "x")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and time.monotonic() - start < 20
    assert done.stderr.count("\n") == 1 and "compare: error: cannot write to" in done.stderr


def test_the_console_scripts_work_from_a_folder_that_shadows_the_packages(corpus, tmp_path):
    script = Path(sys.executable).parent / "mapreduce"
    if not script.exists():
        pytest.skip("the package is not installed with its console scripts")
    for name in ("compare", "jobs", "backends", "mapreduce"):
        (tmp_path / f"{name}.py").write_text("raise SystemExit('the user file ran')\n")
    done = subprocess.run(
        [str(script), "run", "wordcount", str(corpus), "-b", "pool", "--start-method", "spawn"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(LINES)
    study = Path(sys.executable).parent / "mapreduce-study"
    assert (
        subprocess.run([str(study), "--help"], cwd=tmp_path, capture_output=True).returncode == 0
    )


def test_the_report_names_the_commit_whatever_the_output_folder(tmp_path):
    from compare.measure.environment import collect_commit

    inside = collect_commit("docs/reference")
    outside = collect_commit(str(tmp_path))
    git = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    if git.returncode != 0:
        pytest.skip("not a git checkout")
    assert outside is not None and outside.startswith(git.stdout.strip())
    assert inside is not None and inside.startswith(git.stdout.strip())


def test_the_package_carries_its_license():
    root = Path(__file__).resolve().parent.parent
    assert "MIT License" in (root / "LICENSE").read_text()
    assert 'requires = ["setuptools>=77"]' in (root / "pyproject.toml").read_text()


class RaisesInDel:
    def __del__(self) -> None:
        signal.raise_signal(signal.SIGINT)  # arrives inside __del__: would be lost


def raise_in_a_collection() -> None:
    """A garbage collection whose callback (dask's ``GCDiagnosis`` has one) the signal hits."""

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            signal.raise_signal(signal.SIGINT)

    gc.callbacks.append(callback)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)


def raise_in_a_weakref_callback() -> None:
    """A weakref's callback (a ``WeakSet`` has one) that the signal hits."""

    class Referent:
        pass

    referent = Referent()
    reference = weakref.ref(referent, lambda _: signal.raise_signal(signal.SIGINT))
    del referent
    assert reference() is None


@pytest.mark.parametrize(
    "where",
    [RaisesInDel, raise_in_a_collection, raise_in_a_weakref_callback],
    ids=["__del__", "a gc callback", "a weakref callback"],
)
def test_an_interruption_where_python_would_swallow_it_is_raised_a_moment_later(where):
    from mapreduce.interrupts import Interrupted, interrupting

    with pytest.raises(Interrupted), interrupting(signal.SIGINT):
        where()  # the handler runs where Python prints an exception and goes on
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.01)


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
