"""Cells measured again in fresh processes: each invocation's samples, marked, and its failure."""

from __future__ import annotations

import pytest

from compare.analyse.analysis import Analysis
from compare.cells import Cell
from compare.design.datasets import generated
from compare.measure import invocations
from compare.measure.invocations import measure_apart
from compare.measure.rounds import batches


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MAPREDUCE_STUDY_DATA", str(tmp_path_factory.getbasetemp() / "data"))


def cells(*names: str) -> list[Cell]:
    """A word count's sequential cell and one cell per backend named, at 2 workers."""
    dataset = generated("wordcount", 40_000)
    made = [Cell("matrix", "wordcount", dataset.name, dataset.size, "sequential", 1)]
    made += [Cell("matrix", "wordcount", dataset.name, dataset.size, n, 2) for n in names]
    for cell in made:
        cell.source = dataset
    return made


def test_each_invocation_measures_the_batch_anew_and_marks_its_samples():
    reference, *others = measured = cells("threads", "pool")
    measure_apart(batches(measured), count=3, rounds=2, seed=5)
    for cell in measured:
        assert cell.error is None
        assert [s.invocation for s in cell.samples] == [1, 1, 2, 2, 3, 3]
    walls = [s.wall for s in reference.samples]
    for cell in others:
        assert [s.paired_sequential for s in cell.samples] == walls  # paired in its process
        assert cell.digest == reference.digest
        assert len(cell.invocation_values) == 3
    interval = Analysis(measured, cores=2).interval(others[0])
    assert interval.values == 3 and interval.label == "75%"


def test_an_invocation_that_hangs_fails_every_cell_it_measures_in_one_line(monkeypatch):
    monkeypatch.setattr(invocations, "TIMEOUT_SECONDS", 0.05)
    measured = cells("threads")
    measure_apart(batches(measured), count=2, rounds=1, seed=1)
    for cell in measured:
        assert cell.error == "invocation 1: a fresh process measuring it hung (0.05 s)"
        assert not cell.samples


@pytest.mark.parametrize(
    ("value", "cause"), [("-1", "must be at least 0, not -1"), ("x", "not a whole number")]
)
def test_an_invocation_count_that_is_not_one_is_one_line(value, cause, capsys):
    from compare.cli import main

    with pytest.raises(SystemExit) as ended:
        main(["--invocations", value])
    err = capsys.readouterr().err
    assert ended.value.code == 2 and err.count("\n") == 1
    assert f"argument --invocations: {cause}" in err
