"""Where the output goes: devices, FIFOs, symlinks, modes, full disks and closed pipes, and
values the output cannot hold; never partial output left as if complete."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import threading

import pytest

from backends.base import Backend
from jobs.wordcount import WordCount
from tests.cli_runs import one_error_line
from tests.conftest import EVERY_NAME, by_name
from tests.devices import needs_root, private_device, small_filesystem
from tests.helpers import (
    LINES,
    exit_status,
    expected,
    mapreduce_cli,
    start_cli,
)


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
@pytest.mark.parametrize(
    "command", [["run", "-b", "pool", "-w", "2"], ["explain", "--lines", "5000"]]
)
def test_a_closed_pipe_on_standard_output_is_one_line(tmp_path, command):
    big = tmp_path / "big.txt"
    WordCount.generate_input(str(big), 2_000_000, seed=1)
    verb, *options = command
    cli = start_cli([verb, "wordcount", str(big), *options])
    cli.stdout.readline()
    cli.stdout.close()  # as `| head -1` does
    err = cli.stderr.read()
    assert cli.wait(20) == 1
    one_error_line(err, r"standard output was closed before the output was all written")


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
