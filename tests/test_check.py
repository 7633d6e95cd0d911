"""``mapreduce check``: each classic mistake is caught by the configuration that exposes it,
and named; every catalog job passes."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from jobs.wordcount import WordCount
from mapreduce import check as check_module
from mapreduce.catalog import catalog, find_job
from mapreduce.check import INCONCLUSIVE, SPREAD_TRIES, check, default_size
from mapreduce.tasks import Stress

ROOT = Path(__file__).resolve().parent.parent


def check_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m mapreduce check ARGS`` from the project's root (where ``examples`` is)."""
    return subprocess.run(
        [sys.executable, "-m", "mapreduce", "check", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def differing(stdout: str) -> set[str]:
    return {
        line.split("DIFFERS", 1)[1].strip().split(":")[0]
        for line in stdout.splitlines()
        if "DIFFERS" in line
    }


BROKEN = {
    # job: (configurations that must differ, words the diagnosis must use)
    "HashPartition": (
        {"every task its own hash salt", "pool x2 (spawn)"},
        ["hash()", "partition"],
    ),
    "FirstValue": ({"values reversed", "values shuffled"}, ["order of its values"]),
    "MeanOfMeans": ({"combiner 0 times"}, ["combiner", "mean of means"]),  # twice: idempotent
    "Sampled": ({"sequential again"}, ["not deterministic"]),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_classic_mistake_is_exposed_and_named(name):
    done = check_cli(f"examples.broken:{name}")
    assert done.returncode == 1, done.stdout + done.stderr
    exposing, words = BROKEN[name]
    assert exposing <= differing(done.stdout), done.stdout
    verdict = done.stdout.splitlines()[-1]
    assert verdict.startswith(f"{name.lower()}: ")
    for word in words:
        assert word in verdict, verdict
    if name == "HashPartition":  # every run in one process passes: only others expose it
        same = {"sequential again", "threads x2", "1 split", "3 reducers", "values reversed"}
        assert not same & differing(done.stdout), done.stdout


@pytest.mark.timeout(120)
def test_float_rounding_is_a_warning_unless_strict():
    done = check_cli("examples.broken:FloatTotal")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning: floating-point rounding depends on how the input is split" in done.stdout
    assert "1 split" in differing(done.stdout)
    assert check_cli("examples.broken:FloatTotal", "--strict").returncode == 1


CHECKED_ON = ("sequential", "pool")
"""The backends of the checks run in this process.  The command's checks above use them all;
every job's output on every backend is ``test_catalog``'s, against an oracle.  These two
give ``check``'s stress on top: other processes (spawn) and hash salts, splits, reducers,
the combiner, the order of values."""


def check_here(name: str, path: Path) -> tuple[int, str]:
    """``check`` of the job ``name`` (as the command takes it) on ``path``, in this process,
    on ``CHECKED_ON``: its exit status and what it printed."""
    out = io.StringIO()
    status = check(find_job(name)(), [str(path)], out, names=CHECKED_ON)
    return status, out.getvalue()


VOCABULARY = ("ant", "apple", "avocado", "be", "bee", "banana", "cat", "cherry")
"""Words whose lengths differ under one first letter (a mean of means is then wrong)."""


def words(count: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCABULARY) for _ in range(count))


@pytest.fixture
def long_last_line(tmp_path) -> Path:
    """A small file whose bytes sit mostly in its last line: cut by bytes, one split."""
    path = tmp_path / "long.txt"
    lines = [words(8, seed) for seed in range(800)]
    path.write_text("\n".join([*lines, words(50_000, 800)]) + "\n")
    assert path.stat().st_size > 5 * len("\n".join(lines))
    return path


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["HashPartition", "MeanOfMeans"])
def test_a_small_input_with_one_long_line_is_cut_by_lines_and_the_mistake_named(
    name, long_last_line
):
    status, printed = check_here(f"examples.broken:{name}", long_last_line)
    assert status == 1, printed
    exposing, words_used = BROKEN[name]
    assert exposing <= differing(printed), printed
    verdict = printed.splitlines()[-1]
    for word in words_used:
        assert word in verdict, verdict


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["examples.broken:HashPartition", "wordcount"])
def test_an_input_of_one_line_is_inconclusive_not_a_match(name, tmp_path):
    path = tmp_path / "one.txt"
    path.write_text(words(20_000, 1) + "\n")
    status, printed = check_here(name, path)
    assert status == INCONCLUSIVE == 3, printed
    assert not differing(printed), printed
    verdict = printed.splitlines()[-1]
    assert ": inconclusive: every configuration matches, but the input gave one map task" in (
        verdict
    ), verdict


def test_a_process_configuration_whose_map_tasks_ran_in_one_process_runs_again(
    monkeypatch, tmp_path
):
    """A worker that took every map task shows no other process's hash salt: such a run is
    not one that varied processes, and is made again (SPREAD_TRIES in all)."""
    path = tmp_path / "in.txt"
    path.write_text("".join(f"alpha beta {n}\n" for n in range(400)))
    real, runs = check_module.run, []

    def one_process_first(job, inputs, config):
        ran = real(job, inputs, config)
        runs.append((config.name, ran.processes))
        first = sum(name == config.name for name, _ in runs) == 1
        return replace(ran, processes=1) if config.name == "pool x2" and first else ran

    monkeypatch.setattr(check_module, "run", one_process_first)
    assert check(WordCount(), [str(path)], io.StringIO(), names=["sequential", "pool"]) == 0
    pool = [processes for name, processes in runs if name == "pool x2"]
    assert 2 <= len(pool) <= SPREAD_TRIES  # run again, until its tasks ran in both workers
    assert pool[-1] == 2 or len(pool) == SPREAD_TRIES
    assert [name for name, _ in runs].count("pool x1") == 1  # one worker: nothing to spread


def test_the_stress_settings_are_off_in_a_normal_run():
    assert Stress() == Stress(combines=1, values="in order")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(catalog()))
def test_every_catalog_job_passes_check(name, tmp_path):
    job_class = catalog()[name]
    path = tmp_path / "input.txt"
    job_class.generate_input(str(path), default_size(job_class), 1)
    started = time.monotonic()
    status, printed = check_here(name, path)
    seconds = time.monotonic() - started
    assert status == 0, printed
    assert "every configuration matches" in printed
    assert "DIFFERS" not in printed
    print(f"check {name}: {seconds:.1f} s")  # the closing note quotes these (pytest -s)


def test_bad_usage_is_status_two_and_an_unknown_job_one_line(capsys):
    from tests.helpers import exit_status

    assert exit_status(["check"]) == 2
    assert exit_status(["check", "nosuchjob"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("mapreduce: error: unknown job 'nosuchjob'")
