"""Runs of the ``mapreduce`` command that tests start, stop and read the one line of.

Signals are sent only to the run a test started (or its own process group),
and every run is waited for with a timeout.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from jobs.fetch import Fetch
from tests.helpers import alive, start_cli, wait_for, workers_of

STOPPED_WITHIN = 2.0
"""Seconds a run may take to stop after Ctrl-C or a termination signal: the promise."""


def one_error_line(stderr: str, pattern: str) -> None:
    """``stderr`` is exactly one line, ``mapreduce: error: ...`` matching ``pattern``."""
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("mapreduce: error: "), stderr
    assert re.search(pattern, stderr), stderr


@dataclass
class BusyRun:
    """A run of about 8 s (400 URLs fetched at 20 ms) on 2 workers with a ``TMPDIR`` and
    output folder of its own, and its workers, once they are at work."""

    cli: subprocess.Popen
    workers: list[psutil.Process]
    descendants: list[psutil.Process]
    """Every process under the run: its workers and the libraries' helpers."""
    scratch: Path
    output: Path


def busy_run(tmp_path: Path, name: str, job: str = "fetch", **popen) -> BusyRun:
    """Start the run; return once a map task has written its pairs to the run's folder."""
    urls = tmp_path / "urls.txt"
    Fetch.generate_input(str(urls), 20_000, seed=1)
    scratch, output = tmp_path / "tmp", tmp_path / "out"
    scratch.mkdir(exist_ok=True)
    output.mkdir(exist_ok=True)
    args = ["run", job, str(urls), "-p", "latency_ms=20", "-b", name, "-w", "2"]
    args += ["--shuffle", "disk", "--splits", "16", "-o", str(output / "result.txt")]
    cli = start_cli(args, {**os.environ, "TMPDIR": str(scratch)}, **popen)

    def written() -> bool:
        return any(path.is_file() for path in scratch.glob("mapreduce-run-*/**/*"))

    wait_for(lambda: written() or cli.poll() is not None, "a map task's pairs written")
    assert cli.poll() is None, cli.communicate()
    descendants = psutil.Process(cli.pid).children(recursive=True)
    return BusyRun(cli, workers_of(cli.pid), descendants, scratch, output)


def stop(run: BusyRun, signum: int, group: bool = False) -> tuple[int, str, float]:
    """Send ``signum`` to the run (to its process group with ``group``, as a terminal's
    Ctrl-C does); its exit status, its standard error, and the seconds it took to end.
    No worker, output or shuffle folder may be left ``STOPPED_WITHIN`` of the signal."""
    if group:
        os.killpg(run.cli.pid, signum)
    else:
        run.cli.send_signal(signum)
    sent = time.monotonic()
    _, err = run.cli.communicate(timeout=20)
    took = time.monotonic() - sent
    # helpers such as the resource trackers leave once their parent has gone: every
    # process under the run must be gone within the same seconds
    remaining = max(0.0, sent + STOPPED_WITHIN - time.monotonic())
    _, left = psutil.wait_procs(run.descendants, timeout=remaining)
    assert not [p.pid for p in left if alive(p.pid)], "processes left after the run ended"
    assert list(run.output.iterdir()) == []
    assert list(run.scratch.iterdir()) == []
    return run.cli.returncode, err, took
