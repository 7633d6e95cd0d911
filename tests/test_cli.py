"""``python -m mapreduce``: output, listings, generation, and one-line errors."""

from __future__ import annotations

import re

import pytest

import backends
from backends.base import Backend
from jobs.wordcount import WordCount
from mapreduce import run
from mapreduce.summary import FIRST_LINES
from tests.conftest import EVERY_NAME
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


COUNTERS_LINE = r"  (\w+)=(\d+)"
SECONDS_LINE = r"  (map|shuffle|reduce|merge|total)=(\d+\.\d{3})"


def read_counters(stderr: str, heading: str) -> tuple[dict[str, int], dict[str, float]]:
    """The counters and phase times of ``--counters``, checked line by line against the
    documented format (``mapreduce.summary``)."""
    lines = stderr.splitlines()
    assert lines[0] == f"counters of {heading}:"
    at = lines.index("seconds:")
    counters = dict(re.fullmatch(COUNTERS_LINE, line).groups() for line in lines[1:at])
    phases = dict(re.fullmatch(SECONDS_LINE, line).groups() for line in lines[at + 1 :])
    assert list(counters) == sorted(counters)
    assert list(phases) == ["map", "shuffle", "reduce", "merge", "total"]
    return {k: int(v) for k, v in counters.items()}, {k: float(v) for k, v in phases.items()}


@pytest.mark.parametrize("name", EVERY_NAME)
def test_counters_are_printed_after_the_run_in_their_documented_format(name, text_file):
    done = mapreduce_cli("run", "wordcount", str(text_file), "-b", name, "-w", "2", "--counters")
    assert done.returncode == 0, done.stderr
    counts = oracle_word_counts([TEXT])
    assert done.stdout == oracle_output(counts)
    workers = 1 if name == "sequential" else 2
    counters, seconds = read_counters(done.stderr, f"wordcount on {name} x{workers}")
    assert counters["input_records"] == TEXT.count("\n")
    assert counters["combine_output_pairs"] == counters["reduce_input_pairs"]
    assert len(counts) <= counters["reduce_input_pairs"] <= counts.total()
    assert counters["output_records"] == counters["reduce_input_groups"] == len(counts)
    assert 0 <= seconds["map"] <= seconds["total"]


def test_a_result_shows_its_first_lines_counters_and_times_in_a_notebook(tmp_path):
    path = tmp_path / "in.txt"
    words = [f"{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(30)]  # aa, ab, ..., bd
    path.write_text(" ".join(words) + "\n")
    with run(WordCount(), [str(path)], "threads", workers=2) as result:
        shown = result._repr_markdown_()
    assert shown.startswith("**wordcount on threads x2**\n")
    block = shown.split("```")[1].strip("\n").splitlines()
    assert block == [f"{word}\t1" for word in words[:FIRST_LINES]] + ["..."]
    assert "| input_records | 1 |" in shown
    assert "| output_records | 30 |" in shown
    assert re.search(r"\| total \| \d+\.\d{3} \|", shown)
    assert "(closed: its output is removed)" in result._repr_markdown_()
