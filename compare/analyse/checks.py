"""The extra check real text allows: k copies of a text give exactly k times its counts."""

from __future__ import annotations

from compare.analyse.analysis import Analysis
from compare.cells import Experiment
from compare.design.datasets import Dataset, shakespeare
from jobs.wordcount import WordCount
from mapreduce import driver
from mapreduce.output import digest, format_lines


def check_copies(analysis: Analysis, dataset: Dataset) -> dict | None:
    """Compare the k-copy word count with one copy's counts times k; None if k is 1."""
    if dataset.copies == 1:
        return None
    measured = analysis.select(
        Experiment.REAL_TEXT, job="wordcount", dataset=dataset.name, backend="sequential"
    )
    with driver.run(WordCount(), shakespeare(1).paths) as single:
        scaled = [(word, count * dataset.copies) for word, count in single.pairs()]
    passed = bool(measured) and measured[0].digest == digest(format_lines(scaled))
    return {
        "name": f"word counts of {dataset.name} are {dataset.copies}x one copy's",
        "passed": passed,
    }
