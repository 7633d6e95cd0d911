"""No worker process of a run outlives it, whether the run succeeds or fails."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from jobs.wordcount import WordCount
from mapreduce import TaskError, run
from tests.helpers import FailingMapper, alive

PROCESS_BACKENDS = ["pool", "futures", "joblib"]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("alpha beta gamma\n" * 2000 + "BOOM here\n" + "delta\n" * 2000)
    return str(path)


@pytest.mark.parametrize("name", PROCESS_BACKENDS)
@pytest.mark.parametrize("start_method", [None, "spawn"])
def test_no_worker_alive_after_a_run(name, start_method, corpus):
    result = run(WordCount(), [corpus], name, workers=2, splits=6, start_method=start_method)
    workers = result.worker_pids - {psutil.Process().pid}
    assert len(workers) >= 1
    assert not [pid for pid in workers if alive(pid)]


@pytest.mark.parametrize("name", PROCESS_BACKENDS)
def test_no_worker_alive_after_a_failed_run(name, corpus, tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    with pytest.raises(
        TaskError, match=r"failingmapper: map task \d+ of 6 .* failed 3 times: ValueError"
    ):
        run(FailingMapper(str(pid_dir)), [corpus], name, workers=2, splits=6)
    workers = {int(p.name) for p in pid_dir.iterdir()} - {psutil.Process().pid}
    assert workers
    assert not [pid for pid in workers if alive(pid)]


CUT_BUFFER = """
import gc, io, sys
if sys.argv[1] == "quiet":
    import backends.teardown
class Holder:
    pass
holder = Holder()
holder.file = io.BytesIO(b"half a message")
holder.view = holder.file.getbuffer()  # a read cut short still holds the buffer
holder.cycle = holder
del holder
gc.collect()
"""


def test_a_buffer_freed_while_a_cut_read_holds_it_is_not_reported():
    def stderr_of(mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", CUT_BUFFER, mode], capture_output=True, text=True, timeout=60
        )
        return done.stderr

    assert stderr_of("quiet") == ""
    if sys.version_info >= (3, 14):  # what is hidden: Python 3.14 reports it
        assert "BufferError" in stderr_of("loud")
