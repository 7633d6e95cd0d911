"""Larger checks of single jobs: sort at 50 MB, pi's accuracy, parameters, chained steps."""

from __future__ import annotations

import math

import pytest

import backends
from jobs.pi import Pi
from jobs.sort import Sort
from jobs.topwords import TopWords
from jobs.urlcount import UrlCount
from mapreduce import JobError, TaskError, driver, run
from mapreduce.datasets import default_input
from tests.helpers import mapreduce_cli
from tests.oracle import file_lines


def test_sort_50mb_with_4_reducers_on_processes(tmp_path):
    path = tmp_path / "records.txt"
    Sort.generate_input(str(path), 50_000_000, seed=5)
    result = run(Sort(), [str(path)], "futures", workers=2, reducers=4)

    output = "".join(result.lines()).encode("utf-8").split(b"\n")[:-1]
    records = path.read_bytes().split(b"\n")[:-1]
    assert len(records) == 495_049
    assert output == sorted(records)  # byte order of the whole line
    assert result.counters["reduce_input_groups"] > 400_000


def test_sort_partitions_are_key_ranges(tmp_path):
    path = tmp_path / "records.txt"
    Sort.generate_input(str(path), 2_000_000, seed=6)
    job = Sort()
    checked = driver.plan(job, [str(path)], backends.create("sequential"), reducers=4)
    job.prepare(checked.splits, 4)
    assert len(job.cut_points) == 3 and job.cut_points == sorted(job.cut_points)
    keys = [line[:10] for line in file_lines(str(path))]
    sizes = [sum(job.partition(key, 4) == r for key in keys) for r in range(4)]
    assert min(sizes) > len(keys) / 4 * 0.7, f"sampled ranges should be balanced: {sizes}"


def test_pi_default_input_is_close_and_identical_everywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPREDUCE_STUDY_DATA", str(tmp_path))
    path = str(default_input(Pi))
    digests = {}
    for name in backends.names():
        if backends.is_available(name):
            result = run(Pi(), [path], name, workers=2, reducers=2)
            digests[name] = result.digest
            estimate = dict(result.output)["pi"]
    assert abs(estimate - math.pi) < 0.01
    assert dict(result.output)["points"] == 2_000_000
    assert len(set(digests.values())) == 1, digests


def test_parameters_are_typed_and_checked():
    assert TopWords(top="3").top == 3
    with pytest.raises(JobError, match=r"topwords: parameter 'top'=0: must be at least 1"):
        TopWords(top="0")
    with pytest.raises(JobError, match=r"topwords: parameter 'top': invalid literal"):
        TopWords(top="many")
    with pytest.raises(JobError, match=r"topwords has no parameter 'count'; it takes: top"):
        TopWords(count=3)


def test_topwords_runs_two_steps_and_counts_both(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("a b b c c c\n" * 10)
    result = run(TopWords(top="2"), [str(path)], "threads", workers=2, reducers=2)
    assert "".join(result.lines()) == "1\tc\t30\n2\tb\t20\n"
    assert result.counters["step2.input_records"] == 3
    assert result.counters["step2.output_records"] == 2


def test_a_malformed_record_names_the_job_and_split(tmp_path):
    path = tmp_path / "access.log"
    path.write_text('1.2.3.4 - - [x] "GET /a HTTP/1.1" 200 1\nnot a log line\n')
    with pytest.raises(
        TaskError,
        match=r"urlcount: map task 0 of 1 \(access.log bytes 0-55\) failed 3 times: "
        r"ValueError: not a Common Log Format line: 'not a log line'",
    ):
        run(UrlCount(), [str(path)], "pool", workers=2, split_count=1)


def test_cli_runs_a_job_on_its_default_input(tmp_path):
    import os

    env = {**os.environ, "MAPREDUCE_STUDY_DATA": str(tmp_path)}
    done = mapreduce_cli(
        "run", "fetch", "-b", "threads", "-w", "8", "--param", "latency_ms=1", env=env
    )
    assert done.returncode == 0, done.stderr
    assert "no input given; using" in done.stderr
    generated = next(tmp_path.iterdir())
    from tests.oracle import oracle_fetch

    assert done.stdout == oracle_fetch([str(generated)])


def test_cli_param_errors_are_one_line(tmp_path):
    text = tmp_path / "in.txt"
    text.write_text("error here\n")
    bad_regex = mapreduce_cli("run", "grep", str(text), "--param", "pattern=err(or")
    assert bad_regex.returncode == 1
    assert bad_regex.stderr.startswith(
        "mapreduce: error: grep: parameter 'pattern'='err(or': not a valid regular expression"
    )
    assert bad_regex.stderr.count("\n") == 1
    no_equals = mapreduce_cli("run", "grep", str(text), "--param", "pattern")
    assert no_equals.stderr == "mapreduce: error: --param takes NAME=VALUE, not 'pattern'\n"
    good = mapreduce_cli("run", "grep", str(text), "--param", "pattern=err(or)?")
    assert good.stdout == f"{text}:1:error here\n"


def test_cli_lists_every_job_with_its_parameters():
    from jobs import CATALOG

    lines = mapreduce_cli("jobs").stdout.splitlines()
    assert [line.split()[0] for line in lines] == sorted(CATALOG)
    grep_line = next(line for line in lines if line.startswith("grep "))
    assert "pattern=" in grep_line
