"""``python -m mapreduce``: output, listings, generation, and one-line errors."""

from __future__ import annotations

import pytest

import backends
from backends.base import Backend
from tests.helpers import exit_status, mapreduce_cli
from tests.oracle import oracle_output, oracle_word_counts

TEXT = "The quick brown fox.\nJumps over the lazy dog; the END\r\nnaïve café\n"


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    return path


def test_run_writes_sorted_key_tab_value_lines_to_stdout(text_file):
    done = mapreduce_cli("run", "wordcount", str(text_file), "--backend", "pool", "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout == oracle_output(oracle_word_counts([TEXT]))


def test_run_writes_the_output_file(text_file, tmp_path):
    out = tmp_path / "out.tsv"
    done = mapreduce_cli(
        "run", "wordcount", str(text_file), str(text_file), "-b", "threads", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert out.read_text(encoding="utf-8") == oracle_output(oracle_word_counts([TEXT, TEXT]))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".mapreduce-")] == []


def test_jobs_and_backends_are_listed_one_a_line():
    jobs = mapreduce_cli("jobs").stdout.splitlines()
    assert any(line.split()[0] == "wordcount" and len(line.split()) > 1 for line in jobs)
    listed = [line.split()[0] for line in mapreduce_cli("backends").stdout.splitlines()]
    assert listed == backends.names()


def test_generate_is_seeded_and_sized(tmp_path):
    outputs = {}
    for name, seed in [("a", "7"), ("b", "7"), ("c", "8")]:
        path = tmp_path / f"{name}.txt"
        done = mapreduce_cli(
            "generate", "wordcount", "--size", "50KB", "--seed", seed, "-o", str(path)
        )
        assert done.returncode == 0, done.stderr
        outputs[name] = path.read_bytes()
    assert outputs["a"] == outputs["b"] != outputs["c"]
    assert 49_000 < len(outputs["a"]) <= 50_000
    assert outputs["a"].endswith(b"\n")
    outputs["a"].decode("utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "wordcount", "{missing}"], "input not found: {missing}"),
        (["run", "wordcount", "{dir}"], "input is a directory, not a file: {dir}"),
        (["run", "nosuchjob", "{file}"], "unknown job 'nosuchjob'; choose from: "),
        (
            ["run", "wordcount", "{file}", "-b", "thread"],
            "unknown backend 'thread'; choose from: ",
        ),
        (
            ["run", "wordcount", "{file}", "--workers", "0"],
            "--workers/-w: must be at least 1, not 0",
        ),
        (
            ["run", "wordcount", "{file}", "-b", "joblib", "--start-method", "fork"],
            "cannot use start method 'fork'",
        ),
    ],
)
def test_bad_input_gives_one_line_and_no_worker(
    args, message, text_file, tmp_path, monkeypatch, capsys
):
    names = {
        "missing": str(tmp_path / "missing.txt"),
        "dir": str(tmp_path),
        "file": str(text_file),
    }
    argv = [arg.format(**names) for arg in args]
    opened = []
    monkeypatch.setattr(Backend, "open", lambda self: opened.append(self))

    status = exit_status(argv)

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mapreduce")
    assert message.format(**names) in err
    assert status != 0
    assert opened == [], "no backend may start before the input is checked"


def test_bad_input_exits_non_zero_from_the_shell(tmp_path):
    done = mapreduce_cli("run", "wordcount", str(tmp_path / "missing.txt"))
    assert done.returncode == 1
    assert done.stderr == f"mapreduce: error: input not found: {tmp_path / 'missing.txt'}\n"


def test_a_failing_task_names_job_phase_task_and_split(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("ok line\ncaf\xe9\n".encode("latin-1"))
    done = mapreduce_cli("run", "wordcount", str(bad), "-b", "futures", "-w", "2", "--splits", "1")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "wordcount: map task 0 of 1 (latin1.txt bytes 0-13) failed: InputError:" in done.stderr
    assert "byte 11 is not UTF-8 (0xe9)" in done.stderr
