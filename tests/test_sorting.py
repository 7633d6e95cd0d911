"""A reduce task's sort, against Python's own stable sort: inputs in memory, pickled or in
files, budgets from a few pairs to all of them, and merges past the merge factor."""

from __future__ import annotations

import os
import pickle
import random
from collections import Counter
from operator import itemgetter

import pytest

from mapreduce import sorting
from mapreduce.shuffle import packed, read_pairs, write_pairs

SEEDS = range(40)


def sorted_inputs(rng: random.Random, folder: str) -> tuple[list, list]:
    """Some map tasks' sorted buckets, each as a list, pickled bytes or a file, and every
    pair tagged with where it came from, so a merge that is not stable shows."""
    inputs, pairs = [], []
    for task in range(rng.randrange(1, 12)):
        bucket = sorted(
            ((rng.randrange(30), (task, n)) for n in range(rng.randrange(0, 300))),
            key=itemgetter(0),
        )
        pairs += bucket
        kind = rng.choice(["list", "bytes", "file", "file"])
        if kind == "file":
            path = os.path.join(folder, f"map-{task}")
            write_pairs(path, bucket)
            inputs.append(path)
        else:
            inputs.append(bucket if kind == "list" else pickle.dumps(bucket))
    return inputs, pairs


@pytest.mark.parametrize("seed", SEEDS)
def test_the_sort_is_pythons_stable_sort_at_any_budget(seed, tmp_path, monkeypatch):
    rng = random.Random(seed)
    factor = rng.choice([2, 3, 32])
    monkeypatch.setattr(sorting, "MERGE_FACTOR", factor)
    monkeypatch.setattr(sorting, "SAMPLE_EVERY", rng.choice([1, 7, 256]))
    inputs, pairs = sorted_inputs(rng, str(tmp_path))
    files = {p: os.path.getsize(p) for p in inputs if isinstance(p, str)}
    counters: Counter[str] = Counter()
    budget = rng.choice([1, 500, 5_000, 50_000, 10**9])
    sorter = sorting.Sorter(budget, str(tmp_path), counters)
    for spilled in inputs:
        sorter.add(spilled)
    streams = counters["sort_runs"] + bool(sorter.held)
    assert list(sorter.sorted()) == sorted(pairs, key=itemgetter(0))
    assert sorter.count == len(pairs)
    if budget == 10**9:
        assert counters["sort_runs"] == 0
    assert (counters["sort_merges"] > 0) == (streams > factor)
    # the map tasks' files are left as they were, the sorter's own runs removed
    assert {p: os.path.getsize(p) for p in files} == files
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in files)


def test_a_reduce_task_past_its_budget_merges_its_inputs_without_writing_them_again(tmp_path):
    rng = random.Random(1)
    buckets = [sorted((rng.random(), n) for n in range(2_000)) for _ in range(4)]
    paths = []
    for number, bucket in enumerate(buckets):
        paths.append(str(tmp_path / f"map-{number}"))
        write_pairs(paths[-1], bucket)
    counters: Counter[str] = Counter()
    sorter = sorting.Sorter(10_000, str(tmp_path), counters)
    for path in paths:
        sorter.add(path)
    assert list(sorter.sorted()) == sorted(pair for bucket in buckets for pair in bucket)
    assert counters["sort_runs"] == 4 and sorter.runs == paths
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in paths)


def test_pairs_written_without_the_memo_read_back_equal_shared_and_cyclic_ones_too(tmp_path):
    shared = ["a", "list", "met", "twice"]
    cyclic: list = ["holds itself"]
    cyclic.append(cyclic)
    rng = random.Random(5)
    pairs = [
        (f"k{i:04d}", rng.choice([i, float(i), f"v{i}", (i, "t"), shared])) for i in range(5000)
    ]
    for pairs_in in (pairs, [("c", cyclic), *pairs[:10]]):
        path = tmp_path / "pairs.pickle"
        write_pairs(str(path), pairs_in)
        back = list(read_pairs(str(path)))
        assert repr(back) == repr(pairs_in)  # repr: a cycle compares as "[...]" both sides
        assert repr(list(read_pairs(packed(pairs_in)))) == repr(pairs_in)  # the memory shuffle
