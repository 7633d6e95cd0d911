"""The comparison checks every backend's output against sequential's and says which differs."""

from __future__ import annotations

import pytest

import backends
from compare.__main__ import main


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPREDUCE_STUDY_DATA", str(tmp_path))


def test_compare_passes_when_every_backend_agrees(capsys):
    status = main(
        ["--size", "100KB", "--repeat", "1", "--backends", "threads,pool", "--workers", "2"]
    )
    out = capsys.readouterr().out
    assert status == 0
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    assert [row.split("|")[1].strip() for row in rows] == ["sequential", "threads", "pool"]
    assert all(row.split("|")[-2].strip() == "yes" for row in rows)


def test_compare_fails_and_names_a_wrong_backend(capsys, monkeypatch):
    monkeypatch.setitem(
        backends.REGISTRY,
        "loses-a-task",
        backends.Entry("tests.helpers", "LosesATaskBackend", "broken on purpose"),
    )
    status = main(
        [
            "--size",
            "100KB",
            "--repeat",
            "1",
            "--backends",
            "loses-a-task,threads",
            "--workers",
            "2",
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    errors = [line for line in captured.err.splitlines() if line.startswith("compare: error")]
    assert errors == [
        "compare: error: backend loses-a-task with 1 worker(s) gave different output "
        "from sequential"
    ]
    assert "NO (" in captured.out
