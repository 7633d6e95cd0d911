"""The study: outputs checked against sequential, every figure traceable to its samples."""

from __future__ import annotations

import json
import os
import re
import statistics

import pytest

import backends
from compare.cli import main
from compare.design import datasets, experiments
from compare.design.baselines import dask_available
from compare.design.datasets import stdlib
from compare.design.presets import PRESETS
from compare.measure.results import read_json

QUICK = [
    "--jobs", "wordcount,pi", "--repeat", "2", "--no-sweeps", "--workers", "1,2",
    "--invocations", "1",
]  # fmt: skip


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MAPREDUCE_STUDY_DATA", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.fixture
def broken_backend(monkeypatch):
    monkeypatch.setitem(
        backends.REGISTRY,
        "loses-a-task",
        backends.Entry("tests.helpers", "LosesATaskBackend", "broken on purpose"),
    )


def test_a_study_writes_every_file_and_passes(tmp_path, capsys):
    status = main(
        ["--preset", "smoke", *QUICK, "--backends", "threads,pool", "--output", str(tmp_path)]
    )
    assert status == 0, capsys.readouterr().err
    for name in ("report.md", "results.json", "results.csv", "tables.tex"):
        assert (tmp_path / name).stat().st_size > 0
    report = (tmp_path / "report.md").read_text()
    assert "All 10 cells gave output identical to the sequential backend's" in report
    assert "GIL enabled" in report and "commit" in report
    assert "\\begin{tabular}" in (tmp_path / "tables.tex").read_text()
    plots = [name for name in ("speedup", "phases", "cpu") if (tmp_path / f"{name}.png").exists()]
    assert plots, "matplotlib is a dependency of the study's nox session"
    for name in plots:
        assert (tmp_path / f"{name}.pdf").read_bytes().startswith(b"%PDF")
        assert (
            f"\\includegraphics[width=\\linewidth]{{{name}.pdf}}"
            in (tmp_path / "figures.tex").read_text()
        )


def test_a_report_written_again_from_its_results_is_the_report_the_study_wrote(tmp_path):
    args = ["--preset", "smoke", *QUICK, "--backends", "threads", "--output", str(tmp_path)]
    assert main(args) == 0
    written = {name: (tmp_path / name).read_text() for name in ("report.md", "tables.tex")}
    for name in written:
        (tmp_path / name).unlink()
    assert main(["render", str(tmp_path)]) == 0
    assert {name: (tmp_path / name).read_text() for name in written} == written


def test_a_study_into_a_used_folder_leaves_no_file_of_the_earlier_study(tmp_path):
    for name in ["granularity.png", "stragglers.pdf", "report.md", "INCOMPLETE"]:
        (tmp_path / name).write_text("an earlier study's\n")
    (tmp_path / "notes.txt").write_text("the student's own notes\n")
    args = ["--preset", "smoke", *QUICK, "--backends", "threads", "--output", str(tmp_path)]
    assert main(args) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"granularity.png", "stragglers.pdf", "INCOMPLETE"}.isdisjoint(names)
    assert {"notes.txt", "report.md", "results.json", "speedup.png"} <= names
    assert "an earlier" not in (tmp_path / "report.md").read_text()


def test_each_backend_has_one_colour_and_marker_in_every_figure():
    from compare.render.plots import STYLES

    assert set(STYLES) == set(backends.names())
    assert len({style["color"] for style in STYLES.values()}) == len(STYLES)
    assert len({style["marker"] for style in STYLES.values()}) == len(STYLES)


def test_a_wrong_backend_fails_the_study_and_the_report_names_it(tmp_path, capsys, broken_backend):
    status = main(
        [
            "--preset",
            "smoke",
            *QUICK,
            "--backends",
            "loses-a-task,threads",
            "--output",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert status == 1
    errors = [line for line in err.splitlines() if line.startswith("compare: error")]
    assert errors and all("loses-a-task" in line for line in errors)
    report = (tmp_path / "report.md").read_text()
    assert "cells FAILED" in report
    assert re.search(r"- #\d+ wordcount on loses-a-task x1: output differs", report)
    assert "NO (" in report
    assert not re.search(r"\| threads .*\| NO \(", report)


def test_every_median_in_the_report_comes_from_results_json(tmp_path):
    assert (
        main(
            [
                "--preset",
                "smoke",
                *QUICK,
                "--backends",
                "threads,futures",
                "--output",
                str(tmp_path),
            ]
        )
        == 0
    )
    _, cells = read_json(tmp_path / "results.json")
    raw = json.loads((tmp_path / "results.json").read_text())
    checked = 0
    for line in (tmp_path / "report.md").read_text().splitlines():
        columns = [c.strip() for c in line.strip("|").split("|")]
        if len(columns) > 8 and columns[-1].isdigit() and columns[0] in backends.names():
            samples = raw["cells"][int(columns[-1])]["samples"]
            median = statistics.median(sample["wall"] for sample in samples)
            assert columns[2] == f"{median:.3f}"
            assert cells[int(columns[-1])].backend == columns[0]
            checked += 1
    assert checked == len(cells)


def test_merge_puts_runs_side_by_side(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        assert (
            main(["--preset", "smoke", *QUICK, "--backends", "threads", "--output", str(folder)])
            == 0
        )
    merged = tmp_path / "merged.md"
    assert (
        main(
            [
                "merge",
                str(first / "results.json"),
                str(second / "results.json"),
                "--output",
                str(merged),
            ]
        )
        == 0
    )
    text = merged.read_text()
    assert text.count("CPython") >= 2 and "## pi" in text and "## wordcount" in text


def test_unknown_names_are_usage_errors(capsys):
    assert main(["--jobs", "nosuchjob"]) == 2
    assert main(["--backends", "thread"]) == 2
    assert capsys.readouterr().err.count("compare: error: unknown job or backend") == 2


def test_stdlib_dataset_is_labelled_with_version_and_count():
    dataset = stdlib()
    described = dataset.describe()
    assert described["files"] == len(dataset.paths) > 50
    assert described["bytes"] > 1_000_000
    assert "standard library" in described["description"]


def test_baselines_stand_beside_the_engine_with_the_same_output(tmp_path):
    args = ["--preset", "smoke", "--jobs", "wordcount", "--backends", "pool", "--repeat", "1"]
    environment = dict(os.environ)
    assert main([*args, "--no-real-text", "--output", str(tmp_path)]) == 0
    assert dict(os.environ) == environment, "dask's schedulers write PYTHONHASHSEED into it"
    report = (tmp_path / "report.md").read_text()
    section = report.split("## Baselines")[1].split("\n## ")[0]
    names = ["handwritten", "handwritten-parallel", "naive"]
    if dask_available():
        names.append("dask-bag")
    for name in names:
        row = next(line for line in section.splitlines() if f"| baseline:{name} " in line)
        assert "| yes " in row


def test_a_scale_out_backend_runs_its_few_cells_unless_named(tmp_path):
    preset = PRESETS["default"]
    jobs = list(preset.sizes)
    names = ["sequential", "pool", "dask"]
    (tmp_path / "in.txt").write_text("a line\n")
    small = datasets.given([str(tmp_path / "in.txt")])  # which cells, not their inputs

    def cells_of(cells, backend):
        return sorted((c.job, c.workers) for c in cells if c.backend == backend)

    unnamed = experiments.matrix(preset, jobs, names, None, given=small)
    cores = os.cpu_count() or 1
    assert cells_of(unnamed, "dask") == sorted((job, cores) for job in preset.scale_out_jobs)
    named = experiments.matrix(preset, jobs, names, None, named=["dask", "pool"], given=small)
    assert cells_of(named, "dask") == cells_of(named, "pool")


def test_the_citation_file_has_the_required_keys_and_the_package_version():
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent
    citation = yaml.safe_load((root / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):  # required by the 1.2.0 schema
        assert citation[key]
    assert all("name" in a or "family-names" in a for a in citation["authors"])
    pyproject = (root / "pyproject.toml").read_text()  # tomllib is 3.11+: read the one line
    version = re.search(r'^version = "(.+)"$', pyproject, re.M).group(1)
    assert str(citation["version"]) == version
    readme = (root / "README.md").read_text()
    assert f"version = {{{version}}}" in readme and "@software{mapreduce_study" in readme


def test_the_readme_quotes_the_reference_runs_headline():
    from pathlib import Path

    from compare.analyse.analysis import Analysis
    from compare.render.tables import headline_table

    root = Path(__file__).resolve().parent.parent
    header, cells = read_json(root / "docs" / "reference" / "results.json")
    cores = header["environment"]["cpu"]["logical_cores"]
    rows = headline_table(Analysis(cells, cores=cores)).rows
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split("Its headline table:\n\n", 1)[1].split("\n\n", 1)[0]
    quoted = [
        [column.strip() for column in line.strip("|").split("|")] for line in block.splitlines()
    ]
    assert quoted[0] == ["regime", "job", "cell", "vs sequential [interval]", "CPU use"]
    assert quoted[2:] == [row[:-1] for row in rows]  # all but the cell number


def test_a_users_job_on_the_users_files_is_studied_like_a_catalog_job(tmp_path, capsys):
    corpus = tmp_path / "mine.txt"
    corpus.write_text("".join(f"alpha beta {'gamma ' * (n % 5)}\n" for n in range(3000)))
    job = "tests.helpers:TeachingWordCount"
    args = ["--preset", "smoke", "--jobs", job, "--backends", "threads,pool", "--repeat", "3"]
    assert main([*args, "--input", str(corpus), "--output", str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "All 3 cells gave output identical to the sequential backend's" in report
    assert f"## {job} (mine.txt)" in report
    _, cells = read_json(tmp_path / "out" / "results.json")
    assert {c.dataset for c in cells} == {"mine.txt"} and {c.job for c in cells} == {job}
    assert main(["--preset", "smoke", "--jobs", job]) == 2  # no generator sized for it
    assert main([*args, "--input", str(tmp_path / "missing.txt")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert (
        err[-2]
        == f"compare: error: preset smoke has no input for {job}: give it with --input FILE..."
    )
    assert err[-1] == f"compare: error: input not found: {tmp_path / 'missing.txt'}"
