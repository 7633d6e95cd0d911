"""Inputs that are not plain files, change under the run, or break the limits: refused or
failed in one line naming the file and the cause."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import backends
from jobs.wordcount import WordCount
from mapreduce import TaskError, driver, run
from tests.cli_runs import one_error_line
from tests.conftest import EVERY_NAME
from tests.devices import needs_root, private_device
from tests.helpers import (
    LINES,
    TruncatesItsInput,
    TruncatesItsInputPerLine,
    expected,
    mapreduce_cli,
)


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("job", [TruncatesItsInput, TruncatesItsInputPerLine])
def test_an_input_truncated_during_the_run_is_an_error_naming_it(name, job, tmp_path):
    path = tmp_path / "shrinks.txt"
    path.write_text("\n".join(LINES * 4) + "\n")
    with pytest.raises(TaskError, match=rf"changed during the run.*|{re.escape(str(path))}") as e:
        run(job(), [str(path)], name, workers=2, split_count=1)
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


def test_sort_reports_input_that_is_not_utf8_in_one_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 record\n".encode("latin-1") * 50)
    done = mapreduce_cli("run", "sort", str(path), "-b", "pool", "-w", "2")
    assert done.returncode == 1
    one_error_line(done.stderr, rf"{re.escape(str(path))} byte \d+ is not UTF-8 \(0xe9\)")


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("split_count", ["1", "4"])
def test_a_record_longer_than_the_limit_is_one_line_naming_file_and_offset(
    name, split_count, tmp_path
):
    path = tmp_path / "oneline.txt"
    path.write_bytes(b"short line\n" + b"x" * 3_000_000)
    done = mapreduce_cli(
        "run", "wordcount", str(path), "-b", name, "-w", "2", "--splits", split_count,
        "--max-record-size", "1MB",
    )  # fmt: skip
    assert done.returncode == 1
    limit = r"a line longer than 1.0 MB, the limit, at byte \d+"
    one_error_line(done.stderr, rf"{re.escape(str(path))}: {limit}")


def test_input_problems_are_named_by_their_cause(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    done = mapreduce_cli("run", "wordcount", str(loop))
    one_error_line(done.stderr, r"cannot read input .*loop: Too many levels of symbolic links")
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    done = mapreduce_cli("run", "wordcount", str(afile / "inside"))
    one_error_line(done.stderr, r"cannot read input .*afile/inside: Not a directory")
