"""The default partitioner sends a key to one bucket in every process, under spawn too."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import backends
from mapreduce.partition import crc32_partition
from tests.helpers import bucket_report

KEYS = ["the", "naïve", "日本", "Ω", "", "a" * 100, "zebra", "42", "x_y"] * 4


def test_same_bucket_in_every_spawned_worker():
    with backends.create("futures", 2, start_method="spawn") as backend:
        reports = dict(backend.run(bucket_report, KEYS))
    pids = {pid for pid, _, _ in reports.values()}
    assert len(pids) == 2, "both spawned workers should have taken keys"

    by_key: dict[str, set] = {}
    hashes: dict[str, set] = {}
    for index, (_pid, salted, bucket) in reports.items():
        key = KEYS[index]
        by_key.setdefault(key, set()).add(bucket)
        hashes.setdefault(key, set()).add(salted)
    assert all(len(buckets) == 1 for buckets in by_key.values())
    assert all(by_key[key] == {crc32_partition(key, 7)} for key in KEYS)
    # The reason for the partitioner: the workers' str hashes disagree.
    assert any(len(values) > 1 for key, values in hashes.items() if key)


def test_same_bucket_under_different_hash_seeds():
    program = (
        "import json, sys; from mapreduce.partition import crc32_partition;"
        "keys = json.loads(sys.argv[1]);"
        "print(json.dumps([[crc32_partition(k, 5) for k in keys], [hash(k) for k in keys]]))"
    )
    seen = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", program, json.dumps(KEYS)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        seen.append(json.loads(out))
    buckets = {json.dumps(b) for b, _ in seen}
    hashes = {json.dumps(h) for _, h in seen}
    assert len(buckets) == 1
    assert len(hashes) == 3


def test_partition_in_range_and_spread():
    keys = [f"word{i}" for i in range(3000)]
    buckets = [crc32_partition(key, 4) for key in keys]
    assert set(buckets) == {0, 1, 2, 3}
    assert min(buckets.count(b) for b in range(4)) > 600
