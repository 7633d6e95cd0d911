"""The study's straggler experiment and timelines: every scenario gives the sequential output,
the slowdowns are the rounds' ratios, and the report and plots show them."""

from __future__ import annotations

import json
import statistics
from collections import Counter

import pytest

from compare.analyse.analysis import Analysis
from compare.analyse.statistics import slowdown_text, value_range
from compare.cells import Cell, Sample
from compare.cli import main
from compare.design.presets import PRESETS
from compare.measure.timelines import GIVEN_UP, compact
from mapreduce.phase import Slice


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MAPREDUCE_STUDY_DATA", str(tmp_path_factory.getbasetemp() / "data"))


def scenario_cell(scenario: str, walls: list[float]) -> Cell:
    samples = [Sample(wall, wall, {}, "same") for wall in walls]
    return Cell("stragglers", "sort", "sort-1MB", 1, "pool", 2, scenario=scenario, samples=samples)


def test_a_slowdown_is_the_median_of_each_rounds_ratio_to_the_normal_run():
    normal = scenario_cell("normal", [1.0, 2.0, 1.0, 1.0])
    slow = scenario_cell("straggler", [1.5, 2.4, 1.4, 2.0])
    reference = Cell("matrix", "sort", "sort-1MB", 1, "sequential", 1,
                     samples=[Sample(3.0, 3.0, {}, "same")])  # fmt: skip
    analysis = Analysis([reference, normal, slow])
    ratios = [1.5, 1.2, 1.4, 2.0]  # round by round, not median over median (2.0 / 1.0)
    assert analysis.slowdown(slow) == value_range(ratios)  # the rounds of one process
    assert analysis.slowdown(slow).median == pytest.approx(statistics.median(ratios))
    assert analysis.slowdown(normal).median == 1.0
    wrong = scenario_cell("worker killed", [1.0] * 4)
    wrong.samples[0].digest = "other"
    assert Analysis([reference, normal, wrong]).slowdown(wrong) is None


@pytest.mark.parametrize(
    ("low", "median", "high", "text"),
    [
        (1.30, 1.44, 1.61, "+44% [+30%, +61%]"),
        (0.97, 1.01, 1.06, "within noise [-3%, +6%]"),
        (0.80, 0.90, 0.95, "-10% [-20%, -5%]"),
    ],
)
def test_slowdowns_read_as_the_paper_gives_them(low, median, high, text):
    from compare.analyse.statistics import Interval

    assert slowdown_text(Interval(median, low, high)) == text


def test_a_compact_timeline_numbers_workers_by_first_start_and_keeps_the_given_up():
    timeline = [
        Slice(1, "map", 1, 1, 1, "won", 20, "MainThread", 10.5, 11.0),
        Slice(1, "map", 0, 1, 1, "won", 30, "MainThread", 10.2, 10.9),
        Slice(1, "map", 0, 2, 1, "lost", 0, "", 10.9, 11.2),
        Slice(1, "reduce", 0, 1, 1, "won", 20, "MainThread", 11.1, 11.3),
    ]
    records = compact(timeline, origin=10.0)
    assert [(r["worker"], r["phase"], r["index"], r["outcome"]) for r in records] == [
        (0, "map", 0, "won"), (1, "map", 1, "won"), (GIVEN_UP, "map", 0, "lost"),
        (1, "reduce", 0, "won"),
    ]  # fmt: skip
    assert records[0]["start"] == pytest.approx(0.2) and records[-1]["end"] == pytest.approx(1.3)


@pytest.mark.timeout(300)
def test_the_straggler_experiment_runs_every_scenario_and_reports_it(tmp_path, capsys):
    args = ["--preset", "smoke", "--jobs", "wordcount", "--backends", "pool", "--repeat", "3"]
    assert main([*args, "--output", str(tmp_path)]) == 0, capsys.readouterr().err
    raw = json.loads((tmp_path / "results.json").read_text())
    cells = [c for c in raw["cells"] if c["experiment"] == "stragglers"]
    assert [c["scenario"] for c in cells] == list(PRESETS["smoke"].straggler_scenarios)
    reference = next(c for c in raw["cells"] if c["backend"] == "sequential")
    for cell in cells:
        assert len(cell["samples"]) == 3
        assert {s["digest"] for s in cell["samples"]} == {reference["samples"][0]["digest"]}
        won = Counter((r["phase"], r["index"]) for r in cell["timeline"] if r["outcome"] == "won")
        assert set(won.values()) == {1} and len(won) == 4 * 2 + 2  # 8 splits, 2 reducers
        faults = [s["faults"] for s in cell["samples"]]
        restarts = [f["worker_restarts"] for f in faults]
        if cell["scenario"] == "worker killed":
            # a worker killed between two tasks loses none, and Pool replaces it unseen;
            # one killed in a task is noticed, and the pool restarted, once
            assert set(restarts) <= {0, 1} and sum(restarts) >= 1, faults
        else:
            assert set(restarts) == {0}, faults
        if "backup" not in cell["scenario"]:
            assert all(f["backup_tasks"] == 0 for f in faults)
    report = (tmp_path / "report.md").read_text()
    assert "## Stragglers and backup tasks" in report
    assert "**Stragglers** (wordcount on pool x2" in report and "891 s" in report
    for name in ("stragglers", "timelines"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0
        assert f"![{name}.png]({name}.png)" in report
