"""``python -m mapreduce``: output, listings, generation, and one-line errors."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import backends
from backends.base import Backend
from jobs.wordcount import WordCount
from mapreduce import JobError, run
from mapreduce.summary import FIRST_LINES
from tests.cli_runs import one_error_line
from tests.conftest import EVERY_NAME, by_name
from tests.helpers import (
    LINES,
    HoldsALambda,
    children,
    exit_status,
    expected,
    mapreduce_cli,
)
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
