"""The data plane: map tasks' combining stays linear, splits grow with the input, reduce
tasks sort on disk past their budget and write their own parts, the driver builds the
output from them (concatenated or merged), and ``--output-dir`` lays them out as Hadoop
does, whole or not at all."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from jobs import CATALOG
from mapreduce import Job, JobError, driver, tasks
from mapreduce.layout import SUCCESS
from tests.cli_runs import one_error_line
from tests.conftest import by_name
from tests.devices import fails_on_a_full_tmpdir, needs_root
from tests.helpers import mapreduce_cli
from tests.oracle import ORACLES

BACKENDS = by_name(["sequential", "threads", "pool", "futures", "joblib", "dask"])


class KeepsEveryValue(Job):
    """A combiner that cannot shrink its buffer: it gives back every value it gets."""

    name = "keepseveryvalue"
    combined = 0
    """Values the combiner was given, over the process (sequential runs only)."""

    def mapper(self, key, line):
        for word in line.split():
            yield word, len(word)

    def combiner(self, word, lengths):
        for length in lengths:
            KeepsEveryValue.combined += 1
            yield word, length

    def reducer(self, word, lengths):
        yield word, sum(lengths)


def test_a_combiner_that_cannot_shrink_is_run_a_linear_number_of_times(monkeypatch, tmp_path):
    monkeypatch.setattr(tasks, "COMBINE_EVERY", 100)
    words = [f"w{i % 997}" for i in range(20_000)]
    path = tmp_path / "words.txt"
    path.write_text("\n".join(" ".join(words[i : i + 10]) for i in range(0, len(words), 10)))
    KeepsEveryValue.combined = 0

    result = driver.run(KeepsEveryValue(), [str(path)], split_count=1)

    # re-combining the whole buffer at every 100th value would pass it ~2 million values
    assert KeepsEveryValue.combined <= 3 * len(words)
    assert result.counters["combine_spills"] > 0
    totals: Counter[str] = Counter()
    for word in words:
        totals[word] += len(word)
    assert dict(result.output) == dict(totals)


def test_splits_grow_with_the_input(monkeypatch, tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("".join(f"line {i}\n" for i in range(4000)))  # 36 KB
    monkeypatch.setattr(driver, "SPLIT_SIZE", 1000)
    backend = driver.backends.create("sequential")
    checked = driver.plan(CATALOG["wordcount"](), [str(path)], backend)
    assert len(checked.splits) >= path.stat().st_size // 1000
    assert driver.default_split_count(2) == 2 * driver.SPLITS_PER_WORKER


class ClaimsOrder(Job):
    """Says its partitions are ordered ranges, but partitions by hash."""

    name = "claimsorder"
    ordered_partitions = True

    def mapper(self, key, line):
        for word in line.split():
            yield word, 1

    def reducer(self, word, ones):
        yield word, sum(ones)


def test_a_job_whose_partitions_are_not_the_ranges_it_claims_fails_in_one_line(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("".join(f"word{i} other{i}\n" for i in range(200)))
    with pytest.raises(JobError, match=r"claimsorder: says its partitions are ordered ranges"):
        driver.run(ClaimsOrder(), [str(path)], reducers=3)


class Reranks(Job):
    """A reducer that gives keys in another order than it gets them: by descending count."""

    name = "reranks"

    def mapper(self, key, line):
        for word in line.split():
            yield word, 1

    def reducer(self, word, ones):
        yield f"{1000 - sum(ones):04d}", word


@pytest.mark.parametrize("name", by_name(["sequential", "pool"]))
def test_a_reducer_that_changes_the_key_order_still_gives_sorted_output(name, tmp_path):
    path = tmp_path / "words.txt"
    words = [f"w{i % 37}" for i in range(3000)] + [f"w{i}" for i in range(40)]
    path.write_text(" ".join(words) + "\n")
    counts = Counter(words)
    ranked = [(f"{1000 - n:04d}", w) for w, n in sorted(counts.items())]
    expected = [f"{k}\t{v}\n" for k, v in sorted(ranked, key=lambda pair: pair[0])]

    one = driver.run(Reranks(), [str(path)], name, workers=2, reducers=1, split_count=3)
    assert list(one.lines()) == expected  # a stable sort of the reducer's output
    two = driver.run(Reranks(), [str(path)], name, workers=2, reducers=2, split_count=3)
    lines = list(two.lines())
    assert [key_of(line) for line in lines] == sorted(key_of(line) for line in lines)
    assert sorted(lines) == sorted(expected)


# ---------------------------------------------------------------- --output-dir


def generated(job: str, folder: Path, size: str = "300KB") -> Path:
    path = folder / f"{job}.txt"
    done = mapreduce_cli("generate", job, "--size", size, "-o", str(path))
    assert done.returncode == 0, done.stderr
    return path


def key_of(line: str) -> str:
    return line.split("\t", 1)[0]


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("job", ["sort", "wordcount", "reverselinks"])
def test_output_dir_holds_one_part_per_reducer_and_success(name, job, tmp_path):
    path = generated(job, tmp_path)
    parts = tmp_path / "parts"
    done = mapreduce_cli("run", job, str(path), "-b", name, "-w", "2", "-r", "3",
                         "--output-dir", str(parts))  # fmt: skip
    assert done.returncode == 0, done.stderr

    names = sorted(p.name for p in parts.iterdir())
    assert names == [SUCCESS, "part-00000", "part-00001", "part-00002"]
    assert (parts / SUCCESS).read_bytes() == b""
    texts = [(parts / f"part-{r:05d}").read_text() for r in range(3)]
    expected = ORACLES[job]([str(path)])
    if job == "sort":  # ordered ranges: the parts, in order, are the output
        assert "".join(texts) == expected
    else:  # each part key-sorted; together, the output's lines
        for text in texts:
            keys = [key_of(line) for line in text.splitlines()]
            assert keys == sorted(keys)
        assert sorted("".join(texts).splitlines()) == sorted(expected.splitlines())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_output_dir_must_be_new_or_empty(tmp_path):
    path = generated("wordcount", tmp_path, "20KB")
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "old.txt").write_text("an earlier run's\n")
    done = mapreduce_cli("run", "wordcount", str(path), "--output-dir", str(parts))
    assert done.returncode == 1
    one_error_line(done.stderr, r"--output-dir .*parts is not empty")
    assert sorted(p.name for p in parts.iterdir()) == ["old.txt"]
    afile = tmp_path / "afile"
    afile.write_text("x\n")
    done = mapreduce_cli("run", "wordcount", str(path), "--output-dir", str(afile))
    one_error_line(done.stderr, r"--output-dir .*afile is not a folder")
    done = mapreduce_cli("run", "wordcount", str(path), "--output-dir", str(path))
    one_error_line(done.stderr, r"--output-dir .*wordcount.txt is the input")
    done = mapreduce_cli("run", "wordcount", str(path), "--output-dir", str(parts), "-o", "x")
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


@pytest.mark.parametrize("name", by_name(["sequential", "pool"]))
def test_a_failed_run_leaves_no_output_dir(name, tmp_path):
    path = tmp_path / "bad.log"
    path.write_text("not a log line\n")
    parts = tmp_path / "parts"
    done = mapreduce_cli("run", "urlcount", str(path), "-b", name, "--output-dir", str(parts))
    assert done.returncode == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.log"]


def test_the_next_run_removes_a_killed_runs_hidden_folder(tmp_path):
    path = generated("wordcount", tmp_path, "20KB")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    left = tmp_path / f".parts.mapreduce-{dead.stdout.strip()}-abc.partial"
    left.mkdir()
    (left / "part-00000").write_text("half\n")
    done = mapreduce_cli("run", "wordcount", str(path), "--output-dir", str(tmp_path / "parts"))
    assert done.returncode == 0, done.stderr
    assert not left.exists()
    assert (tmp_path / "parts" / SUCCESS).exists()


# ---------------------------------------------------------------- a full disk


@needs_root
@pytest.mark.parametrize("name", by_name(["sequential", "pool"]))
def test_a_full_disk_while_a_reduce_task_sorts_names_the_folder(name, tmp_path):
    path = generated("wordcount", tmp_path, "2MB")
    out = tmp_path / "out.txt"
    fails_on_a_full_tmpdir(
        tmp_path, "64k", "run", "wordcount", str(path), "-b", name, "-w", "2",
        "--shuffle", "memory", "--sort-buffer", "64KB", "-o", str(out),
    )  # fmt: skip
    assert not out.exists()


@needs_root
@pytest.mark.parametrize("name", by_name(["sequential", "threads", "pool", "futures", "joblib"]))
def test_a_full_disk_shuffle_names_the_folder_and_is_not_retried(name, corpus, tmp_path):
    fails_on_a_full_tmpdir(
        tmp_path,
        "16k",
        "run",
        "wordcount",
        str(corpus),
        "-b",
        name,
        "-w",
        "2",
        "--shuffle",
        "disk",
    )


def test_two_attempts_at_one_execution_write_files_of_their_own():
    """dask runs a finished execution again when the worker holding its result dies: the
    second attempt must not truncate the file the driver reads of the first."""
    from types import SimpleNamespace

    from mapreduce.tasks import attempt

    task = SimpleNamespace(index=3, execution=1)
    first, second = attempt("reduce", task), attempt("reduce", task)
    assert first != second
    assert first.startswith(f"reduce-00003.1.{os.getpid()}-")
    assert second.startswith(f"reduce-00003.1.{os.getpid()}-")
