"""Hostile inputs and settings: each gives its one line and a non-zero status, or its right
output, and touches nothing outside the run's own output."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

import backends
from mapreduce import run
from mapreduce.catalog import find_job
from tests.campaign import live, session_processes
from tests.conftest import EVERY_NAME, PROCESS_NAMES, installed
from tests.helpers import children, exit_status, mapreduce_cli, start_cli, wait_for

installed_dask = installed("dask")

ROOT = Path(__file__).resolve().parents[1]

BROKEN_MODULES = {
    "syntax": ("x = (\n", r"line 1: SyntaxError: '\(' was never closed"),
    "raises": ("import os\n\n1 / 0\n", r"line 3: ZeroDivisionError: division by zero"),
    "exits": ("import sys\nsys.exit(3)\n", r"line 2: SystemExit: 3"),
}
"""A job module that fails as it loads: its text, and what the one line says of it."""

COMMANDS = {
    "run": (["mapreduce", "run"], "mapreduce", 1),
    "explain": (["mapreduce", "explain"], "mapreduce", 1),
    "check": (["mapreduce", "check"], "mapreduce", 1),
    "compare": (["compare", "--preset", "smoke", "--input"], "compare", 2),
}
"""Each command that loads a job by ``module:Class``: its words, its name in errors, its
status for a job it cannot load."""


@pytest.mark.parametrize("kind", BROKEN_MODULES)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_job_module_that_fails_as_it_loads_is_one_line_naming_file_and_line(
    kind, command, tmp_path
):
    text, says = BROKEN_MODULES[kind]
    (tmp_path / f"broken_{kind}.py").write_text(text)
    data = tmp_path / "in.txt"
    data.write_text("alpha beta\n")
    words, program, status = COMMANDS[command]
    job = f"broken_{kind}:Job"
    args = [*words, str(data), "--jobs", job] if program == "compare" else [*words, job, str(data)]
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MAPREDUCE_STUDY_DATA": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == status
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    file = tmp_path / f"broken_{kind}.py"
    assert lines[0].startswith(f"{program}: error: cannot load job '{job}': {file} ")
    assert re.search(says + "$", lines[0])


HOSTILE_VALUES = ["", "nan", "-1", "1e999", "99999999999999999999", "a{4294967296}", "(", "\x00"]
"""Parameter values that a parser or a check may choke on."""


def catalog_params() -> list:
    from mapreduce.catalog import catalog

    return [
        pytest.param(job, name, id=f"{job}-{name}")
        for job, cls in sorted(catalog().items())
        for name in sorted(cls.params)
    ]


@pytest.mark.parametrize(("job", "name"), catalog_params())
def test_a_hostile_parameter_value_is_refused_in_one_line_or_runs(job, name, tmp_path, capsys):
    data = tmp_path / "in.txt"
    assert exit_status(["generate", job, "--size", "2KB", "--output", str(data)]) == 0
    capsys.readouterr()
    for value in HOSTILE_VALUES:
        status = exit_status(
            ["run", job, str(data), "-p", f"{name}={value}", "--max-attempts", "1"]
        )
        err = capsys.readouterr().err.splitlines()
        assert status in (0, 1), (value, err)
        if status == 1:
            assert len(err) == 1 and err[0].startswith(f"mapreduce: error: {job}"), (value, err)


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("split_count", [1, 3, 7])
def test_a_file_named_twice_is_read_twice_each_copy_numbered_from_one(name, split_count, tmp_path):
    lines = [f"{'match' if n % 3 == 0 else 'other'} line {n}" for n in range(40)]
    path = tmp_path / "g1.txt"
    path.write_text("\n".join(lines) + "\n")
    job = find_job("grep")(pattern="match")
    result = run(job, [str(path), str(path), str(path)], name, workers=2, split_count=split_count)
    copy = [f"{path}:{n}:{line}\n" for n, line in enumerate(lines, 1) if "match" in line]
    assert sorted(result.lines()) == sorted(copy * 3)


def symlink(path: Path) -> str:
    (path.parent / "link").symlink_to(path)
    return str(path.parent / "link")


def hard_link(path: Path) -> str:
    os.link(path, path.parent / "hard")
    return str(path.parent / "hard")


WAYS_TO_NAME = {
    "the same path": str,
    "another spelling": lambda path: str(path.parent / "." / path.name),
    "a symlink": symlink,
    "a hard link": hard_link,
}
"""Ways to name a file again: each gives the path that names it."""


@pytest.mark.parametrize("way", WAYS_TO_NAME)
@pytest.mark.parametrize("option", ["--output", "--trace"])
def test_an_output_or_trace_that_is_an_input_is_refused_before_any_worker(
    option, way, tmp_path, capsys
):
    data = tmp_path / "in.txt"
    data.write_text("alpha beta\n")
    before = (data.read_bytes(), data.stat().st_ino, data.stat().st_mtime_ns)
    workers = children()
    status = exit_status(
        ["run", "wordcount", str(data), "-b", "pool", option, WAYS_TO_NAME[way](data)]
    )
    err = capsys.readouterr().err.splitlines()
    assert status == 1
    assert len(err) == 1 and err[0].startswith(f"mapreduce: error: {option} ")
    assert err[0].endswith(f" is the input {data}: the run would replace it")
    assert (data.read_bytes(), data.stat().st_ino, data.stat().st_mtime_ns) == before
    assert children() <= workers
    assert sorted(
        p.name for p in tmp_path.iterdir() if not p.name.startswith(("link", "hard"))
    ) == ["in.txt"]


@pytest.mark.parametrize("way", ["the same path", "another spelling"])
def test_an_output_that_is_the_trace_is_refused(way, tmp_path, capsys):
    data, out = tmp_path / "in.txt", tmp_path / "out.txt"
    data.write_text("alpha beta\n")
    again = WAYS_TO_NAME[way](out)
    status = exit_status(["run", "wordcount", str(data), "--output", str(out), "--trace", again])
    assert status == 1
    assert capsys.readouterr().err == (
        f"mapreduce: error: --output {out} and --trace {again} are the same file\n"
    )
    assert not out.exists()


def test_runs_that_want_the_same_missing_input_at_once_make_it_once(tmp_path):
    env = {**os.environ, "MAPREDUCE_STUDY_DATA": str(tmp_path / "data")}
    runs = [start_cli(["run", "invertedindex", "-b", "sequential"], env=env) for _ in range(3)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert outputs[0][0] and outputs[0][0] == outputs[1][0] == outputs[2][0]
    assert [p.name for p in (tmp_path / "data").iterdir()] == [
        f"invertedindex-{find_job('invertedindex').default_size}-seed1.txt"
    ]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_while_it_makes_its_input_leaves_no_partial_file(signum, tmp_path):
    data = tmp_path / "data"
    run = start_cli(["run", "sort"], env={**os.environ, "MAPREDUCE_STUDY_DATA": str(data)})
    try:
        wait_for(lambda: list(data.glob(".*.partial")), "the input being made", seconds=30)
        run.send_signal(signum)
        _, err = run.communicate(timeout=10)
    finally:
        run.kill()
        run.wait()
    assert run.returncode == 128 + signum
    assert err.splitlines()[-1] == "mapreduce: interrupted"
    assert list(data.iterdir()) == []


@dataclass
class Silent:
    """A port on this machine that accepts connections and never says a word, and the
    connections it has accepted."""

    port: int
    accepted: list[socket.socket]


@pytest.fixture
def silent():
    """A ``Silent`` scheduler, closed with every connection it took."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield Silent(server.getsockname()[1], accepted)
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def run_on_silent_scheduler(port: int, folder: Path) -> list[str]:
    """A word count's arguments, its backend a dask "scheduler" at ``port``."""
    data = folder / "in.txt"
    data.write_text("alpha beta\n")
    return ["run", "wordcount", str(data), "-b", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"]


@installed_dask
def test_a_scheduler_that_never_answers_is_one_line_within_the_connect_time(silent, tmp_path):
    from backends.dask import CONNECT_SECONDS

    started = time.monotonic()
    done = mapreduce_cli(*run_on_silent_scheduler(silent.port, tmp_path))
    assert time.monotonic() - started < CONNECT_SECONDS + 5
    assert done.returncode == 1
    assert done.stderr == (
        f"mapreduce: error: the dask scheduler at tcp://127.0.0.1:{silent.port} did not answer "
        f"within {CONNECT_SECONDS} s: is it a dask scheduler?\n"
    )


@installed_dask
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_connecting_to_a_scheduler_ends_the_run_within_two_seconds(
    signum, silent, tmp_path
):
    run = start_cli(run_on_silent_scheduler(silent.port, tmp_path))
    try:
        wait_for(lambda: silent.accepted, "the run connecting to the scheduler")
        sent = time.monotonic()
        run.send_signal(signum)
        _, err = run.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        run.kill()
        run.wait()
    assert took < 2
    assert run.returncode == 128 + signum
    assert err == "mapreduce: interrupted\n"


@installed_dask
def test_dask_keeps_its_large_graph_warning_to_itself(tmp_path):
    data = tmp_path / "sort.txt"
    assert exit_status(["generate", "sort", "--size", "24MB", "--output", str(data)]) == 0
    done = mapreduce_cli("run", "sort", str(data), "-b", "dask", "-w", "2", "--shuffle", "memory",
                         "-o", str(tmp_path / "out.txt"))  # fmt: skip
    assert done.returncode == 0
    assert done.stderr == ""


@pytest.mark.timeout(120)
def test_check_stops_a_configuration_that_never_ends_and_says_so(tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("".join(f"alpha beta {n}\n" for n in range(200)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = start_cli(
        ["check", "tests.helpers:HangsInWorkers", str(data), "--time-limit", "2"],
        env=env,
        start_new_session=True,
    )
    try:
        out, _ = run.communicate(timeout=100)
        wait_for(lambda: not live(session_processes(run.pid)), "the end of check's processes", 2)
    finally:
        run.kill()
        run.wait()
    lines = out.splitlines()
    assert run.returncode == 1
    assert lines[0].startswith("  reference  sequential (reference)")
    stopped = [line for line in lines if line.startswith("  TIMED OUT  ")]
    assert stopped and all(
        line.endswith(": ran longer than 2 s and was stopped") for line in stopped
    )
    assert any(line.startswith("  matches    threads") for line in lines)
    assert lines[-1] == (
        f"hangsinworkers: {len(stopped)} configuration(s) ran longer than 2 s, the limit: a "
        "mapper, combiner or reducer that never returns, or an input too large for check "
        "(--time-limit)"
    )


SHM_MOUNTS = {"/dev/shm full": "size=4k", "/dev/shm read-only": "ro"}
"""``/dev/shm`` as a private mount makes it: its tmpfs options."""


def with_private_shm(options: str, command: str) -> list[str]:
    """``command`` in a mount namespace of its own where ``/dev/shm`` is a fresh tmpfs.

    The namespace keeps the mounts' propagation (``unshare``'s default makes
    ``/`` private, which fails in a chroot, where ``/`` is no mount point) and
    makes only its copy of ``/dev/shm`` private before mounting over it, so
    nothing it mounts reaches the machine's own ``/dev/shm``.
    """
    private = "mount --make-private /dev/shm"
    mount = f"mount -t tmpfs -o {options} tmpfs /dev/shm" if options else "true"
    return ["unshare", "-m", "--propagation", "unchanged", "sh", "-c",
            f"{private} && {mount} && {command}"]  # fmt: skip


def can_mount_shm() -> bool:
    """Whether this process may make ``with_private_shm``'s namespace (root, unshare(1))."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(with_private_shm("", "true"), capture_output=True, timeout=30)
    return probe.returncode == 0


can_mount = pytest.mark.skipif(
    not can_mount_shm(), reason="needs root, unshare(1) and a /dev/shm mount of its own"
)


def start_failure(argv: list[str], **popen) -> subprocess.CompletedProcess:
    """A run that may fail as its backend starts, its output captured."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **popen)


@can_mount
@pytest.mark.parametrize("name", PROCESS_NAMES)
@pytest.mark.parametrize("shm", SHM_MOUNTS)
def test_a_dev_shm_that_cannot_hold_semaphores_is_one_line_at_once(name, shm, tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("alpha beta\n")
    run = shlex.join(
        [sys.executable, "-m", "mapreduce", "run", "wordcount", str(data), "-b", name, "-w", "2"]
    )
    started = time.monotonic()
    done = start_failure(with_private_shm(SHM_MOUNTS[shm], run))
    assert time.monotonic() - started < 10
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"mapreduce: error: cannot start the {name} backend with "
    ), done.stderr
    assert re.search(r"(No space left on device|Read-only file system)$", lines[0])


@pytest.mark.parametrize("name", PROCESS_NAMES)
@pytest.mark.parametrize("files", [10, 12, 14, 16, 20])
def test_too_few_open_files_end_right_or_in_one_line_at_once(name, files, tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("alpha beta\n")

    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    done = start_failure(
        [sys.executable, "-m", "mapreduce", "run", "wordcount", str(data), "-b", name, "-w", "2"],
        preexec_fn=few_files,
    )
    if done.returncode == 0:
        assert (done.stdout, done.stderr) == ("alpha\t1\nbeta\t1\n", "")
    else:
        assert done.returncode == 1
        lines = done.stderr.splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("mapreduce: error: "), lines[0]
        assert "Too many open files" in lines[0]
        assert "failed 2 times" not in lines[0] and "failed 3 times" not in lines[0]


FAILS_AS_IT_STARTS = """\
import os, sys

command = " ".join(sys.orig_argv)
if any(start in command for start in ("spawn_main", "popen_loky", "forkserver import main")):
    print("Traceback (most recent call last):\\nstarting, on standard output")
    print("Traceback (most recent call last):\\nstarting, on standard error", file=sys.stderr)
    sys.stdout.flush()
    os._exit(1)
"""
"""A ``sitecustomize`` that makes every process Python starts afresh for a pool (spawn,
forkserver, loky, a dask nanny) print a traceback on both streams and die as it starts."""

FRESH_STARTS = [
    pytest.param(name, method, marks=installed(name))
    for name, method in [
        ("pool", "spawn"),
        ("pool", "forkserver"),
        ("futures", "spawn"),
        ("futures", "forkserver"),
        ("joblib", "loky"),
        ("joblib", "forkserver"),
        ("dask", None),
    ]
]


def run_args(name: str, method: str | None) -> list[str]:
    """The options that run on ``name`` with two workers started by ``method``."""
    chosen = [] if method in (None, "loky") else ["--start-method", method]
    return ["-b", name, "-w", "2", *chosen]


def fresh_start_run(name: str, method: str | None, folder: Path, data: Path):
    """``mapreduce run wordcount`` on ``name`` with start method ``method``, its workers
    (and no other process) dying as they start."""
    site = folder / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(FAILS_AS_IT_STARTS)
    argv = [sys.executable, "-m", "mapreduce", "run", "wordcount", str(data)]
    return start_failure(
        [*argv, *run_args(name, method)],
        env={**os.environ, "PYTHONPATH": str(site)},
    )


@pytest.mark.parametrize(("name", "method"), FRESH_STARTS)
def test_workers_that_die_as_they_start_leave_the_one_line_alone(name, method, tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("alpha beta\n")
    done = fresh_start_run(name, method, tmp_path, data)
    assert (done.returncode, done.stdout) == (1, "")
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"mapreduce: error: cannot start the {name} backend with "), lines


@pytest.mark.parametrize(("name", "method"), FRESH_STARTS)
def test_what_workers_print_once_started_reaches_standard_error(name, method, tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("one two\nthree\n")
    done = mapreduce_cli("run", "tests.helpers:Prints", str(data), *run_args(name, method))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "one\t1\nthree\t1\ntwo\t1\n"
    printed = done.stderr  # each print is whole, but two workers' prints may interleave
    assert "DEBUG one two" in printed and "DEBUG three" in printed, printed
    assert not printed.replace("DEBUG one two", "").replace("DEBUG three", "").strip(), printed


@pytest.fixture(scope="module")
def big_sort(tmp_path_factory) -> tuple[Path, str]:
    """A 32 MB sort input and its right output, by the sequential backend."""
    folder = tmp_path_factory.mktemp("memory")
    data, out = folder / "sort.txt", folder / "sort.out"
    assert exit_status(["generate", "sort", "--size", "32MB", "--output", str(data)]) == 0
    assert exit_status(["run", "sort", str(data), "-o", str(out)]) == 0
    return data, out.read_text()


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", ["pool", "futures"])
@pytest.mark.parametrize("kilobytes", [250_000, 300_000, 400_000])
def test_a_run_short_of_memory_ends_right_or_in_one_line(name, kilobytes, big_sort, tmp_path):
    data, right = big_sort
    out = tmp_path / "out.txt"

    def little_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (kilobytes * 1024, kilobytes * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "mapreduce", "run", "sort", str(data), "-b", name, "-w", "2",
         "--shuffle", "memory", "-o", str(out)],
        capture_output=True, text=True, timeout=120, preexec_fn=little_memory,
    )  # fmt: skip
    if done.returncode == 0:
        assert out.read_text() == right
    else:
        assert done.returncode == 1
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert "out of memory" in done.stderr or "cannot start" in done.stderr, done.stderr
        assert not out.exists()


def raise_memory_error(_: int) -> None:
    raise MemoryError


def test_a_worker_out_of_memory_is_named_so_whatever_the_library_wraps_it_in():
    from concurrent.futures import ProcessPoolExecutor

    from backends.errors import BackendError
    from mapreduce.phase import MEMORY_HINT, failure

    with ProcessPoolExecutor(1) as pool:
        error = pool.submit(raise_memory_error, 0).exception(timeout=60)
    assert isinstance(error, MemoryError) and error.__cause__ is not None  # the remote traceback
    wrapped = BackendError("a task failed")
    wrapped.__cause__ = error
    for exc in (error, wrapped):
        message = str(failure("sort", "reduce", backends.create("futures", 1), exc))
        assert message.endswith(MEMORY_HINT), message


def test_a_result_the_driver_had_no_memory_to_take_in_is_out_of_memory_not_a_lost_worker():
    from joblib.externals.loky.process_executor import BrokenProcessPool, _RemoteTraceback

    from backends.base import broken_pool_is_worker_lost
    from mapreduce.phase import MEMORY_HINT, failure

    try:  # loky's shape: the pool broken, the driver's error carried as a traceback's text
        raise MemoryError
    except MemoryError as exc:
        text = "".join(traceback.format_exception(exc))
    broken = BrokenProcessPool("A result has failed to un-serialize.")
    broken.__cause__ = _RemoteTraceback(f"{text}when unpickling a result\n")
    joblib = backends.create("joblib", 1)
    with pytest.raises(BrokenProcessPool), broken_pool_is_worker_lost(joblib):
        raise broken
    message = str(failure("sort", "map", joblib, broken))
    assert message.endswith(f"un-serialize., from MemoryError; {MEMORY_HINT}"), message
    with pytest.raises(backends.WorkerLost), broken_pool_is_worker_lost(joblib):
        raise BrokenProcessPool("A process in the executor was terminated abruptly")


@pytest.mark.parametrize(
    "error", [OSError(9, "Bad file descriptor"), ValueError("bad value(s) in fds_to_keep")]
)
def test_a_start_that_fails_while_a_worker_has_died_is_a_lost_worker_and_else_itself(
    error, monkeypatch
):
    """A pool whose worker died under its start fails that start in the library's own words;
    the death is what the engine handles (a new pool), and the error alone is no death."""
    from backends.base import broken_pool_is_worker_lost

    futures = backends.create("futures", 2)
    monkeypatch.setattr(futures, "ended", lambda: None)
    with pytest.raises(type(error)), broken_pool_is_worker_lost(futures):
        raise error
    died = backends.WorkerLost("futures worker 4242 was killed by SIGKILL")
    monkeypatch.setattr(futures, "ended", lambda: died)
    with pytest.raises(backends.WorkerLost) as raised, broken_pool_is_worker_lost(futures):
        raise error
    assert raised.value is died and raised.value.__cause__ is error


def failing_handler(*_: object) -> None:
    """A queue's feeder thread's error handler that itself runs out of memory (under a
    memory limit, formatting the traceback does)."""
    raise MemoryError


@pytest.mark.timeout(60)
def test_a_library_thread_that_dies_at_once_ends_the_run_in_one_line(monkeypatch, capfd):
    """The executor's task queue feeder dies as it pickles the first task, before the
    backend ever looked at it: the run ends, in one line, with no traceback."""
    import concurrent.futures.process

    monkeypatch.setattr(
        concurrent.futures.process._SafeQueue, "_on_queue_feeder_error", failing_handler
    )
    monkeypatch.setattr(threading, "excepthook", backends.process.record_death)  # not pytest's
    broken = pytest.raises(backends.errors.PoolBroken, match="'QueueFeederThread' died: Memory")
    with backends.create("futures", 1) as backend, broken:
        list(backend.run(str, [threading.Lock()]))  # a task that cannot be pickled
    assert "Traceback" not in capfd.readouterr().err
