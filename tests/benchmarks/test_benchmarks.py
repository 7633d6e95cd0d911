"""pytest-benchmark: the cost of a task round trip per backend, and each job's throughput.

Run with ``nox -s bench`` (which saves each run with ``--benchmark-autosave``);
compare with an earlier run by ``pytest tests/benchmarks -o addopts= --benchmark-compare``.
Skipped by the ordinary test run.
"""

from __future__ import annotations

import pytest

import backends
from jobs import CATALOG
from mapreduce import driver
from tests.helpers import do_nothing, generate_inputs

SIZES = {"pi": 16 * 100_000, "fetch": 400, "compress": 1_000_000}
DEFAULT_SIZE = 500_000


@pytest.mark.parametrize("name", backends.names())
def test_empty_task_round_trip(benchmark, name):
    if not backends.is_available(name):
        pytest.skip(f"{name} not installed")
    with backends.create(name, 2) as backend:
        benchmark(lambda: list(backend.run(do_nothing, [None])))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return generate_inputs(tmp_path_factory.mktemp("bench-inputs"), SIZES, DEFAULT_SIZE, seed=1)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_job_throughput_on_sequential(benchmark, inputs, name):
    job = CATALOG[name]()
    benchmark.extra_info["input_bytes"] = SIZES.get(name, DEFAULT_SIZE)
    benchmark.pedantic(lambda: driver.run(job, [inputs[name]]).close(), rounds=5, warmup_rounds=1)
