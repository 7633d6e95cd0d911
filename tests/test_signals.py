"""Ctrl-C, SIGTERM and SIGHUP: a run stops within two seconds on every backend, in one line,
leaving no worker, output or shuffle folder, whenever the signal comes."""

from __future__ import annotations

import contextlib
import gc
import os
import random
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future

import psutil
import pytest

from jobs.pi import Pi
from tests.campaign import cut_start_up
from tests.cli_runs import STOPPED_WITHIN, busy_run, stop
from tests.conftest import EVERY_NAME, PROCESS_NAMES, installed, signal_state
from tests.helpers import alive, start_cli, wait_for


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signalled_run_stops_in_two_seconds_and_leaves_nothing(name, signum, tmp_path):
    status, err, took = stop(busy_run(tmp_path, name), signum)
    assert (status, err) == (128 + signum, "mapreduce: interrupted\n")
    assert took < STOPPED_WITHIN, f"stopped {took:.1f} s after the signal"


@pytest.mark.parametrize("name", PROCESS_NAMES)
@pytest.mark.parametrize("fault", ["frozen", "ignores-sigterm"])
def test_ctrl_c_stops_in_two_seconds_whatever_the_workers_do(name, fault, tmp_path):
    job = "tests.helpers:IgnoresSigterm" if fault == "ignores-sigterm" else "fetch"
    run = busy_run(tmp_path, name, job)
    if fault == "frozen":
        run.workers[0].suspend()  # SIGSTOP
    status, err, took = stop(run, signal.SIGINT)
    assert (status, err) == (130, "mapreduce: interrupted\n")
    assert took < STOPPED_WITHIN, f"stopped {took:.1f} s after Ctrl-C"


@pytest.mark.parametrize("name", EVERY_NAME)
def test_ctrl_c_to_the_whole_terminal_group_prints_one_line(name, tmp_path):
    run = busy_run(tmp_path, name, start_new_session=True)
    status, err, _ = stop(run, signal.SIGINT, group=True)
    assert (status, err) == (130, "mapreduce: interrupted\n")


def stderr_within(cli: subprocess.Popen, seconds: float) -> str:
    """What ``cli`` printed to standard error by its end; killed if not ended in ``seconds``
    (what it printed until then: a Ctrl-C in Python's start-up can be printed and ignored)."""
    try:
        return cli.communicate(timeout=seconds)[1]
    except subprocess.TimeoutExpired as late:
        os.killpg(cli.pid, signal.SIGKILL)
        cli.communicate()
        printed = late.stderr or b""
        printed = printed.decode(errors="replace") if isinstance(printed, bytes) else printed
        return f"{printed}(still running after {seconds} s)"


MOMENTS = 3
"""Random moments per backend at which a Ctrl-C cuts a run that is starting."""
DRAWS = 5
"""Moments drawn at most for one of them, while they fall in Python's own start-up."""


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("seed", range(MOMENTS))
def test_ctrl_c_to_the_group_at_any_moment_of_the_start_prints_one_line(name, seed, tmp_path):
    """Within its first 1.5 s a run imports, plans, and starts and imports its workers.  A
    moment that falls in Python's own start-up, before any of the project's code, is drawn
    again: Python answers a Ctrl-C there with its own traceback."""
    points = tmp_path / "pi.txt"
    Pi.generate_input(str(points), 16_000_000_000, seed=1)  # a billion points: minutes of work
    start_method = ["--start-method", "spawn"] if name in ("pool", "futures") else []
    splits = ["--splits", "500"]  # short tasks, which the threads backend lets finish
    rng = random.Random(f"{name} {seed}")
    for _ in range(DRAWS):
        cli = start_cli(
            ["run", "pi", str(points), "-b", name, "-w", "2", *start_method, *splits],
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.05, 1.5))
        assert cli.poll() is None, "the run ended before the Ctrl-C: give it more work"
        os.killpg(cli.pid, signal.SIGINT)
        err = stderr_within(cli, 20)
        if not cut_start_up(err):
            break
    assert (cli.returncode, err) == (130, "mapreduce: interrupted\n")


SLOW_WORKER = "import time\ntime.sleep(60)\n"  # a worker this slow to start holds its cluster


@pytest.mark.parametrize("seed", range(MOMENTS))
@installed("dask")
def test_a_signal_while_a_dask_cluster_starts_abandons_the_start(seed, tmp_path):
    """A local cluster cannot be stopped half started: the start is abandoned, its processes
    killed, and the run stops within the promise, not once the cluster is up."""
    rng = random.Random(f"dask start {seed}")
    signum = rng.choice([signal.SIGINT, signal.SIGTERM])
    (tmp_path / "slow.py").write_text(SLOW_WORKER)
    (tmp_path / "in.txt").write_text("a b a\n" * 100)
    scratch, output = tmp_path / "tmp", tmp_path / "out.txt"
    scratch.mkdir()
    preload = f'["{tmp_path / "slow.py"}"]'
    cli = start_cli(
        ["run", "wordcount", str(tmp_path / "in.txt"), "-b", "dask", "-w", "2", "-o", str(output)],
        {**os.environ, "TMPDIR": str(scratch), "DASK_DISTRIBUTED__WORKER__PRELOAD": preload},
    )
    run = psutil.Process(cli.pid)
    wait_for(lambda: len(run.children(recursive=True)) >= 3 or cli.poll() is not None,
             "the cluster's processes")  # fmt: skip
    time.sleep(rng.uniform(0, 1))
    assert cli.poll() is None, cli.communicate()
    started = run.children(recursive=True)
    cli.send_signal(signum)
    sent = time.monotonic()
    _, err = cli.communicate(timeout=20)
    took = time.monotonic() - sent
    assert (cli.returncode, err) == (128 + signum, "mapreduce: interrupted\n")
    assert took < STOPPED_WITHIN, f"stopped {took:.1f} s after the signal"
    _, left = psutil.wait_procs(started, timeout=STOPPED_WITHIN)
    assert not [p.pid for p in left if alive(p.pid)], "processes left after the run ended"
    assert not output.exists()
    assert list(scratch.iterdir()) == []


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


CUT_IN_IMPORT = """
import signal, time, weakref

class Referent:
    pass

referent = Referent()
reference = weakref.ref(referent, lambda _: signal.raise_signal(signal.SIGINT))
del referent  # as when a Ctrl-C cuts an import in the callback that drops its module lock
time.sleep(5)

def main():
    return 0
"""


CUT_IN_SET_NAME = """
import signal, time

class Cuts:
    def __set_name__(self, owner, name):
        signal.raise_signal(signal.SIGINT)  # Python 3.11 raises a RuntimeError from it

class Loaded:
    field = Cuts()

time.sleep(5)

def main():
    return 0
"""


@pytest.mark.parametrize(
    "module", [CUT_IN_IMPORT, CUT_IN_SET_NAME], ids=["swallowed", "wrapped in __set_name__"]
)
def test_a_ctrl_c_python_swallows_or_wraps_while_the_command_loads_still_stops_it(
    module, tmp_path
):
    (tmp_path / "cut.py").write_text(module)
    launch = "from mapreduce.__main__ import launch; raise SystemExit(launch('cut', 'cut'))"
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", launch],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])},
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    assert (run.returncode, run.stderr) == (130, "cut: interrupted\n")
    assert time.monotonic() - started < 4  # not after the import's sleep


def held_here(locks: list) -> list:
    """Those of ``locks`` that another thread cannot take at once: held by this one."""
    held: list = []

    def probe() -> None:
        for lock in locks:
            if lock.acquire(blocking=False):
                lock.release()
            else:
                held.append(lock)

    prober = threading.Thread(target=probe)
    prober.start()
    prober.join()
    return held


def stop_at_random(kind: str, moment: float, body: Callable[[], object]) -> None:
    """Run ``body`` until a Ctrl-C, or a deadline, stops it ``moment`` seconds after the
    stop is armed (the moment may come before ``body`` starts, as under load)."""
    from mapreduce.deadline import Overtime, deadline
    from mapreduce.interrupts import Interrupted, interrupting

    if kind == "deadline":
        with contextlib.suppress(Overtime), deadline(moment):
            body()
        return
    with contextlib.suppress(Interrupted), interrupting(signal.SIGINT):
        ctrl_c = threading.Timer(moment, os.kill, (os.getpid(), signal.SIGINT))
        try:
            ctrl_c.start()  # once the handler is in place: Python's own would stop the tests
            body()
        finally:
            ctrl_c.cancel()
            ctrl_c.join()


@pytest.mark.parametrize("kind", ["ctrl-c", "deadline"])
@pytest.mark.parametrize("seed", range(2))
def test_a_stop_while_the_driver_waits_leaves_no_futures_lock_held(kind, seed):
    """Stopped at 100 random moments while it waits on 300 futures as the driver does: no
    future's lock stays held, which the executor's thread would wait on forever."""
    from backends.signals import first_done

    futures = [Future() for _ in range(300)]
    locks = [future._condition for future in futures]  # each future's lock (CPython's own)
    rng = random.Random(seed)

    def waiting() -> None:
        until = time.monotonic() + 5
        while time.monotonic() < until:
            first_done(futures, 0)

    before = signal_state()
    for _ in range(100):
        stop_at_random(kind, rng.uniform(0.0005, 0.005), waiting)
        assert not held_here(locks), "a stop left a future's lock held"
        assert signal_state() == before, "a stop left a signal's handler changed"


@pytest.mark.parametrize("kind", ["ctrl-c", "deadline"])
@pytest.mark.parametrize("seed", range(2))
def test_a_stop_at_any_moment_of_holding_signals_back_leaves_them_as_they_were(kind, seed):
    """Stopped at 100 random moments of blocks that hold the signals back and block
    Ctrl-C, as a pool's start does: every handler and the mask are put back."""
    from backends.signals import CUTTING_SIGNALS, held_back

    rng = random.Random(seed)

    def holding() -> None:
        until = time.monotonic() + 5
        while time.monotonic() < until:
            with held_back(*CUTTING_SIGNALS):
                pass

    before = signal_state()
    for _ in range(100):
        stop_at_random(kind, rng.uniform(0.0005, 0.005), holding)
        assert signal_state() == before, "a stop left a signal's handler or block changed"
