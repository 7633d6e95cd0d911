"""``mapreduce check``: each classic mistake is caught by the configuration that exposes it,
and named; every catalog job passes."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mapreduce.catalog import catalog
from mapreduce.check import check, default_size
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


def test_a_hash_partitioner_passes_every_run_in_one_process():
    done = check_cli("examples.broken:HashPartition")
    same = {"sequential again", "threads x2", "1 split", "3 reducers", "values reversed"}
    assert not same & differing(done.stdout)  # only other processes expose it


@pytest.mark.timeout(120)
def test_float_rounding_is_a_warning_unless_strict():
    done = check_cli("examples.broken:FloatTotal")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning: floating-point rounding depends on how the input is split" in done.stdout
    assert "1 split" in differing(done.stdout)
    assert check_cli("examples.broken:FloatTotal", "--strict").returncode == 1


def test_the_stress_settings_are_off_in_a_normal_run():
    assert Stress() == Stress(combines=1, values="in order")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(catalog()))
def test_every_catalog_job_passes_check(name, tmp_path):
    job_class = catalog()[name]
    path = tmp_path / "input.txt"
    job_class.generate_input(str(path), default_size(job_class), 1)
    out = io.StringIO()
    started = time.monotonic()
    status = check(job_class(), [str(path)], out)
    seconds = time.monotonic() - started
    assert status == 0, out.getvalue()
    assert "every configuration matches" in out.getvalue()
    assert "DIFFERS" not in out.getvalue()
    print(f"check {name}: {seconds:.1f} s")  # the closing note quotes these (pytest -s)


def test_bad_usage_is_status_two_and_an_unknown_job_one_line(capsys):
    from tests.helpers import exit_status

    assert exit_status(["check"]) == 2
    assert exit_status(["check", "nosuchjob"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("mapreduce: error: unknown job 'nosuchjob'")
