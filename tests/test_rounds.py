"""How the study measures: batches, interleaved rounds, extra rounds, and the shuffle's cost."""

from __future__ import annotations

import ast
import functools
import pickle
import random
import subprocess
import sys
from collections import Counter

import pytest

import backends
from backends.process import default_start_method
from compare.analyse.analysis import Analysis
from compare.analyse.headline import fastest
from compare.cells import Cell, Sample
from compare.design.datasets import WARM_UP_FRACTION, WARM_UP_LEAST, generated
from compare.design.experiments import BEST_PROCESS, choose_best_process
from compare.measure.rounds import batches, measure, measure_wide, too_wide
from jobs.wordcount import WordCount
from mapreduce import driver
from mapreduce.driver import PHASES
from mapreduce.shuffle import read_pairs


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MAPREDUCE_STUDY_DATA", str(tmp_path_factory.getbasetemp() / "data"))


def planned(backend: str, workers: int = 2, job: str = "wordcount", **extra) -> Cell:
    return Cell("matrix", job, job, 100, backend, workers, **extra)


def test_a_batch_holds_one_cell_per_backend_and_dask_alone():
    cells = [planned("sequential", 1)]
    cells += [planned(name, n) for n in (1, 2, 4) for name in ("threads", "joblib", "dask")]
    cells += [planned("sequential", 1, job="pi"), planned("pool", 2, job="pi")]
    found = batches(cells)
    for batch in found:
        names = [c.backend for c in batch.cells]
        assert len(names) == len(set(names)), names  # joblib keeps one executor per process
        assert len({c.workers for c in batch.cells}) == 1  # the sequential run copies their tasks
        assert "dask" not in names or names == ["dask"]
        assert (
            batch.reference.backend == "sequential" and batch.reference.job == batch.cells[0].job
        )
    measured = [c for batch in found for c in batch.cells]
    assert sorted(map(id, measured)) == sorted(id(c) for c in cells if c.backend != "sequential")
    assert [b.cells[0].backend for b in found[:4]] == ["threads"] * 3 + ["dask"]


def test_a_cell_that_forks_is_opened_first_in_its_batch_and_alone_in_forking():
    cells = [planned("sequential", 1)]
    methods = ("spawn", "fork")
    cells += [planned(n, 2, start_method=m) for m in methods for n in ("pool", "futures")]
    for batch in batches(cells):
        forking = [c for c in batch.cells if c.start_method == "fork"]
        assert forking in ([], batch.cells[:1]), [(c.backend, c.start_method) for c in batch.cells]


FORKS_WATCHED = """
import os, random, sys, threading
from compare.design import experiments
from compare.design.presets import PRESETS
from compare.measure.rounds import batches, measure

threads_at_fork = []
os.register_at_fork(before=lambda: threads_at_fork.append(threading.active_count()))
preset = PRESETS["smoke"]
cells = experiments.start_method(preset, sys.argv[2:])
if sys.argv[1] == "baselines":
    cells += experiments.baselines(preset)
for batch in batches(cells):
    measure(batch, 1, random.Random(1))
    assert not [c.error for c in batch.cells if c.error], [c.error for c in batch.cells]
print(threads_at_fork)
"""


def test_the_study_never_forks_while_a_thread_runs(tmp_path):
    """Python 3.12+ warns of a fork in a process with threads: a lock held then stays held
    in the child.  The start-method sweep forks on purpose; every fork must find this
    process alone.  The baselines start pools beside an open engine pool (three threads):
    from 3.12 by forkserver, as the engine does; on 3.11 by fork, as it does too."""
    names = [n for n in ("pool", "futures", "joblib") if backends.is_available(n)]
    baselines = "baselines" if default_start_method() != "fork" else "no-baselines"
    study = subprocess.run(
        [sys.executable, "-c", FORKS_WATCHED, baselines, *names],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert study.returncode == 0, study.stderr
    threads_at_fork = ast.literal_eval(study.stdout.splitlines()[-1])
    assert threads_at_fork, "the start-method sweep forked no worker"
    assert set(threads_at_fork) == {1}, threads_at_fork


def test_a_group_without_its_sequential_cell_is_refused():
    with pytest.raises(ValueError, match="no sequential cell for pi"):
        batches([planned("pool", job="pi")])


def test_each_sample_is_paired_with_its_rounds_sequential_run_in_a_shuffled_order():
    dataset = generated("wordcount", 60_000)
    names = ["threads", "pool", "futures"]
    reference = Cell("matrix", "wordcount", dataset.name, dataset.size, "sequential", 1)
    cells = [Cell("matrix", "wordcount", dataset.name, dataset.size, n, 2) for n in names]
    for c in [reference, *cells]:
        c.source = dataset
    (batch,) = batches([reference, *cells])
    rng = random.Random(7)
    measure(batch, 4, rng)
    walls = [s.wall for s in reference.samples]
    assert len(walls) == 4
    for c in cells:
        assert c.error is None and len(c.samples) == 4
        assert [s.paired_sequential for s in c.samples] == walls  # one per round, in order
        assert c.digest == reference.digest and c.startup_seconds is not None
    tasks = {c.samples[0].shuffled["tasks"] for c in [reference, *cells]}
    assert tasks == {8}  # sequential runs the very tasks of a run on 2 workers
    assert {c.samples[0].shuffled["bytes"] > 0 for c in cells} == {True, False}  # threads: 0
    order = random.Random(7)  # the rounds' orders, as the study drew them
    orders = {tuple(order.sample(names, 3)) for _ in range(4)}
    assert len(orders) > 1


def test_a_failing_cell_is_recorded_and_the_others_are_still_measured():
    dataset = generated("wordcount", 30_000)
    reference = Cell("matrix", "wordcount", dataset.name, dataset.size, "sequential", 1)
    good = Cell("matrix", "wordcount", dataset.name, dataset.size, "threads", 2)
    bad = Cell(
        "matrix", "wordcount", dataset.name, dataset.size, "futures", 2, start_method="nothing"
    )
    for c in (reference, good, bad):
        c.source = dataset
    measure(batches([reference, good, bad])[0], 3, random.Random(1))
    assert "nothing" in bad.error and not bad.samples
    assert good.error is None and len(good.samples) == 3


def sampled(ratios: list[float]) -> Cell:
    samples = [Sample(1 / r, 1.0, {}, "d", 1.0) for r in ratios]
    return Cell("matrix", "pi", "pi", 100, "pool", 2, samples=samples)


def test_every_input_warms_up_on_a_fiftieth_of_itself_whatever_its_records_cost():
    """Inputs are sized by time, not bytes: fetch's 8 KB of URLs take as long as 20 MB of
    text, and a warm-up cut by bytes alone would be the whole of it."""
    for job in ("fetch", "wordcount", "sort"):
        for size in (7_800, 300_000):
            dataset = generated(job, size)
            warm = dataset.warm_up
            assert warm is not None and warm.warm_up is None
            assert warm.paths != dataset.paths and warm.name.startswith(f"{job} ")
            assert 0 < warm.size <= max(size // WARM_UP_FRACTION, WARM_UP_LEAST)
    assert generated("fetch", WARM_UP_LEAST).warm_up is None  # small: warms up on itself


def test_an_interval_over_ten_percent_from_its_median_is_wide():
    assert not too_wide(sampled([1.90, 1.92, 1.95, 1.91]))
    assert too_wide(sampled([1.50, 1.92, 1.95]))
    assert not too_wide(sampled([]))


def test_extra_rounds_go_to_wide_cells_only():
    dataset = generated("wordcount", 30_000)
    reference = Cell("matrix", "wordcount", dataset.name, dataset.size, "sequential", 1)
    wide = Cell("matrix", "wordcount", dataset.name, dataset.size, "threads", 2)
    narrow = Cell("matrix", "wordcount", dataset.name, dataset.size, "pool", 2)
    for c in (reference, wide, narrow):
        c.source = dataset
    reference.samples = [Sample(1.0, 1.0, {}, "d") for _ in range(3)]
    wide.samples = [Sample(1 / r, 1.0, {}, "d", 1.0) for r in (0.5, 1.0, 1.5)]
    narrow.samples = [Sample(1 / r, 1.0, {}, "d", 1.0) for r in (1.0, 1.0, 1.01)]
    planned_batches = batches([reference, wide, narrow])
    measure_wide(planned_batches, 2, random.Random(1))
    assert len(wide.samples) == 5 and len(narrow.samples) == 3


def test_the_input_size_sweep_takes_the_process_backend_the_headline_quotes():
    def with_speedups(backend: str, *ratios: float) -> Cell:
        samples = [Sample(1 / ratio, 1, {}, "d", 1.0) for ratio in ratios]
        return Cell("matrix", "wordcount", "w", 1, backend, 2, samples=samples)

    def chosen(*process_cells: Cell) -> str:
        reference = [Sample(1, 1, {}, "d")]
        sequential = Cell("matrix", "wordcount", "w", 1, "sequential", 1, samples=reference)
        threads = with_speedups("threads", 3.0, 3.0, 3.0)  # not a process backend
        best = Cell("input-size", "wordcount", "w 1 MB", 1, BEST_PROCESS, 2)
        cells = [sequential, threads, *process_cells, best]
        choose_best_process(cells, functools.partial(fastest, Analysis(cells)))
        return best.backend

    clear = chosen(with_speedups("pool", 1.4, 1.5, 1.6), with_speedups("joblib", 1.7, 1.8, 1.9))
    assert clear == "joblib"  # ahead beyond the noise of the rounds
    tied = chosen(with_speedups("pool", 1.3, 1.5, 1.8), with_speedups("joblib", 1.4, 1.8, 1.9))
    assert tied == "pool"  # tied: the first in the matrix's order, however the medians fall
    assert chosen() == "pool"  # none measured


def letters(number: int) -> str:
    """A word of letters only for ``number`` (word count's words have no digits)."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word += chr(ord("a") + digit)
        if not number:
            return word


@pytest.mark.parametrize("name", ["sequential", "threads", "pool", "futures", "joblib"])
def test_the_shuffle_is_timed_as_its_own_phase_and_its_bytes_counted(name, tmp_path):
    lines = [f"w{letters(i % 5000)} x{letters(i % 7)}" for i in range(40_000)]
    path = tmp_path / "words.txt"
    path.write_text("\n".join(lines) + "\n")
    with backends.create(name, 1 if name == "sequential" else 2) as backend:
        plan = driver.plan(
            WordCount(), [str(path)], backend, reducers=2, split_count=4, shuffle="memory"
        )
        with driver.execute(plan, backend) as result:
            seconds, counters = result.seconds, result.counters
            pairs = dict(line.rstrip("\n").split("\t") for line in result.lines())
    assert {w: int(n) for w, n in pairs.items()} == Counter(" ".join(lines).split())
    assert seconds["shuffle"] > 0
    total = sum(seconds[phase] for phase in PHASES)
    assert total == pytest.approx(seconds["total"])
    assert counters["reduce_input_pairs"] == counters["combine_output_pairs"]
    if backend.pickles:  # each bucket pickled once by its map task: at least the pairs' size
        smallest = len(pickle.dumps([(f"w{letters(i)}", 1) for i in range(5000)]))
        assert counters["shuffle_bytes"] >= smallest
    else:
        assert counters["shuffle_bytes"] == 0


def test_pickled_partitions_read_back_as_the_pairs_themselves():
    pairs = [("a", 1), ("b", 2)]
    assert list(read_pairs(pickle.dumps(pairs))) == pairs == list(read_pairs(pairs))
