"""The dask backend on a real cluster: a scheduler and two workers, each its own process.

Started with dask's own commands on 127.0.0.1, as a student would start them
on several machines; the job reaches it only through ``--scheduler``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="dask is not installed (pip install '.[dask]')")

import backends
from mapreduce import run
from tests.helpers import StallsOnce, wait_for
from tests.oracle import oracle_output, oracle_word_counts

ROOT = Path(__file__).resolve().parent.parent
LINES = [f"the {i % 13} quick brown fox {'jumps' * (i % 3)} over" for i in range(20_000)]


def dask_command(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def connected_workers(address: str) -> dict[str, dict]:
    from distributed import Client

    with Client(address, timeout=10) as client:
        return client.scheduler_info()["workers"]


def scheduler_address(path: Path) -> str | None:
    """The address in the scheduler's file, once the file is written whole (it exists, empty,
    for a moment first)."""
    try:
        return json.loads(path.read_text())["address"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two nanny-less workers (a killed one stays dead); stopped afterwards."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_TEMPORARY_DIRECTORY": str(tmp_path)}
    scheduler_file = tmp_path / "scheduler.json"
    common = ["--host", "127.0.0.1", "--no-dashboard"]
    processes = [
        dask_command(
            "scheduler", *common, "--port", "0", "--scheduler-file", str(scheduler_file), env=env
        )
    ]
    try:
        wait_for(lambda: scheduler_address(scheduler_file), "the scheduler's start")
        address = scheduler_address(scheduler_file)
        for _ in range(2):
            processes.append(
                dask_command("worker", address, *common, "--nthreads", "1", "--no-nanny", env=env)
            )
        wait_for(lambda: len(connected_workers(address)) == 2, "two workers joining")
        yield address, processes[1:]
    finally:
        for process in reversed(processes):  # the workers, then the scheduler
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_word_count_runs_on_a_cluster_through_the_cli(cluster, tmp_path):
    address, _ = cluster
    corpus, output = tmp_path / "corpus.txt", tmp_path / "counts.tsv"
    corpus.write_text("\n".join(LINES) + "\n")
    args = ["wordcount", str(corpus), "--backend", "dask", "--scheduler", address]
    done = subprocess.run(
        [sys.executable, "-m", "mapreduce", "run", *args, "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert output.read_text() == oracle_output(oracle_word_counts(LINES))
    assert len(connected_workers(address)) == 2, "the cluster is left running"


def test_a_run_survives_a_worker_killed_mid_run(cluster, tmp_path):
    address, workers = cluster
    corpus, pid_file = tmp_path / "corpus.txt", tmp_path / "stalled.pid"
    corpus.write_text("\n".join(LINES) + "\n")
    killed: list[int] = []

    def kill_the_stalled_worker() -> None:
        wait_for(pid_file.exists, "a task to stall")
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_the_stalled_worker)
    killer.start()
    try:
        backend = backends.create("dask", scheduler=address)
        result = run(StallsOnce(str(pid_file)), [str(corpus)], backend, split_count=6, reducers=2)
    finally:
        killer.join()

    assert killed and killed[0] in {worker.pid for worker in workers}
    assert "".join(result.lines()) == oracle_output(oracle_word_counts(LINES))
    assert killed[0] not in result.worker_pids
    assert len(connected_workers(address)) == 1
