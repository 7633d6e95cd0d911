"""Every job in the catalog matches its oracle, on every backend, with 1 and 2 workers."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

import backends
from jobs import CATALOG
from mapreduce import Job, TaskError, driver
from mapreduce.sorting import SAMPLE_EVERY
from tests.conftest import backend_param
from tests.helpers import TeachingInvertedIndex, TeachingWordCount, generate_inputs
from tests.oracle import ORACLES

SMALL_INPUT = {"pi": 16 * 30_000, "fetch": 1_500, "compress": 400_000}
"""Bytes of generated input per job for these tests; others get DEFAULT_SMALL."""
DEFAULT_SMALL = 60_000

CRLF_TEXT = "Err: disk\r\nok\r\n\r\nerror again\r\nERROR no\r\nlast error"
LOG = (
    '10.0.0.1 - - [06/Dec/2004:10:00:00 -0800] "GET /a.html HTTP/1.1" 200 512\n'
    '10.0.0.2 - bob [06/Dec/2004:10:00:01 -0800] "POST /form?x=1&y=2 HTTP/1.0" 302 -\n'
    '10.0.0.1 - - [06/Dec/2004:10:00:02 -0800] "HEAD /a.html HTTP/1.1" 304 0\r\n'
    '10.0.0.3 - - [06/Dec/2004:10:00:03 -0800] "GET /café/ü.html HTTP/1.1" 404 12'
)
PAGES = (
    'http://x/1\t<a href="http://t/a">a</a> <a href="http://t/a">again</a>\n'
    "http://x/2\tno links here\n"
    'http://x/3\t<p><a href="http://t/ü">u</a><a href="http://t/a">a</a></p>\n'
)
DOCUMENTS = (
    "http://Host.Example:8080/a\tzeta alpha alpha beta\n"
    "http://host.example/b\tbeta beta gamma zeta\n"
    "https://other.example/\tÉté été ÉTÉ x²y\n"
)
RECORDS = "".join(
    f"{key:<10}  {payload}\n"
    for key, payload in [("b", "2"), ("a", "9"), ("B", "1"), ("b", "1"), ("~~", "0"), ("a", "9")]
)

# job -> (params, [file contents]): hand-made inputs with the job's awkward cases.
EDGE_CASES: dict[str, tuple[dict, list[str]]] = {
    "wordcount": ({}, ["Don't stop\r\n", "x_2y naïve NAÏVE"]),
    "grep": ({"pattern": "[Ee]rr(or)?"}, [CRLF_TEXT, "no match\nerr\n"]),
    "urlcount": ({}, [LOG, LOG]),
    "reverselinks": ({}, [PAGES]),
    "termvector": ({"top": 2}, [DOCUMENTS]),
    "invertedindex": ({}, ["plain words here\nand here\n", "d1\tword here\nd2\tword\n"]),
    "sort": ({}, [RECORDS, RECORDS[:24]]),
    "pi": ({}, ["1 10\n2 1000\n", "3 1\n"]),
    "topwords": ({"top": 3}, ["b b a a c c d\n", "e"]),
    "wordmean": ({}, ["Ωmega éclair ab a\n", "abc"]),
    "fetch": ({"latency_ms": "0.5"}, ["HTTP://Server.Example/x\nhttp://server.example:81/y\n"]),
    "compress": ({"level": "1"}, ["aaaa\n\nbbbb bbbb\n", ""]),
}

BACKENDS = [backend_param(name, workers) for name in backends.names() for workers in (1, 2)]


@pytest.fixture(scope="module", params=BACKENDS)
def catalog_backend(request):
    name, workers, start_method = request.param
    with backends.create(name, workers, start_method) as backend:
        yield backend


@pytest.fixture(scope="module")
def default_inputs(tmp_path_factory):
    """Each job's generated input, small, made once for the module."""
    directory = tmp_path_factory.mktemp("default-inputs")
    paths = generate_inputs(directory, SMALL_INPUT, DEFAULT_SMALL, seed=3)
    return {name: [path] for name, path in paths.items()}


def run_job(name: str, params: dict, inputs: list[str], backend) -> str:
    job = CATALOG[name](**params)
    checked = driver.plan(job, inputs, backend, reducers=3, split_count=5)
    result = driver.execute(checked, backend)
    return "".join(result.lines())


def test_every_job_has_an_oracle_and_a_case():
    assert set(ORACLES) == set(CATALOG) == set(EDGE_CASES)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_default_input_matches_oracle(catalog_backend, default_inputs, name):
    inputs = default_inputs[name]
    expected = ORACLES[name](inputs)
    assert expected, "the generated input should give some output"
    assert run_job(name, {}, inputs, catalog_backend) == expected


def write_edge_case(name: str, directory) -> list[str]:
    """The edge case's files, written into ``directory``; their paths."""
    inputs = []
    for i, text in enumerate(EDGE_CASES[name][1]):
        path = directory / f"{name}-{i}.txt"
        path.write_bytes(text.encode("utf-8"))
        inputs.append(str(path))
    return inputs


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_edge_case_matches_oracle(catalog_backend, tmp_path, name):
    params = EDGE_CASES[name][0]
    inputs = write_edge_case(name, tmp_path)
    typed = CATALOG[name](**params)
    oracle_params = {k: getattr(typed, k) for k in params}
    assert run_job(name, params, inputs, catalog_backend) == ORACLES[name](inputs, **oracle_params)


TEACHING = {"wordcount": TeachingWordCount, "invertedindex": TeachingInvertedIndex}


def test_every_fast_path_has_a_teaching_twin():
    fast = {name for name, job in CATALOG.items() if job.map_split is not Job.map_split}
    assert fast == set(TEACHING)


@pytest.mark.parametrize("name", sorted(TEACHING))
@pytest.mark.parametrize("backend_name", ["sequential", "pool"])
def test_teaching_path_gives_the_fast_paths_output(name, backend_name, default_inputs, tmp_path):
    for inputs in (default_inputs[name], write_edge_case(name, tmp_path)):
        outputs = set()
        for job in (TEACHING[name](), CATALOG[name]()):
            result = driver.run(job, inputs, backend_name, workers=2, reducers=2, split_count=3)
            outputs.add("".join(result.lines()))
        assert outputs == {ORACLES[name](inputs)}


def shuffle_folders() -> set[str]:
    """This process's run folders (another run on the machine makes and removes its own)."""
    return {p.name for p in Path(tempfile.gettempdir()).glob(f"mapreduce-run-{os.getpid()}-*")}


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_disk_shuffle_gives_the_same_output(catalog_backend, default_inputs, name):
    before = shuffle_folders()
    inputs = default_inputs[name]
    job = CATALOG[name]()
    checked = driver.plan(job, inputs, catalog_backend, reducers=3, split_count=5, shuffle="disk")
    with driver.execute(checked, catalog_backend) as result:
        assert result.folder and Path(result.folder).is_dir()
        assert "".join(result.lines()) == ORACLES[name](inputs)
        assert result.counters["shuffle_bytes"] > 0
    assert shuffle_folders() == before


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_the_memory_shuffle_gives_the_same_output(catalog_backend, default_inputs, name):
    inputs = default_inputs[name]
    checked = driver.plan(
        CATALOG[name](), inputs, catalog_backend, reducers=3, split_count=5, shuffle="memory"
    )
    with driver.execute(checked, catalog_backend) as result:
        assert "".join(result.lines()) == ORACLES[name](inputs)


SPILLING_BUFFER = 4096
"""A sort buffer that a few dozen pairs fill: a reduce task of the small inputs spills runs."""


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_a_reduce_task_that_sorts_on_disk_gives_the_same_output(
    catalog_backend, default_inputs, name
):
    inputs = default_inputs[name]
    checked = driver.plan(
        CATALOG[name](), inputs, catalog_backend, reducers=2, split_count=4,
        sort_buffer=SPILLING_BUFFER,
    )  # fmt: skip
    with driver.execute(checked, catalog_backend) as result:
        assert "".join(result.lines()) == ORACLES[name](inputs)
        if result.counters["reduce_input_pairs"] >= 4 * SAMPLE_EVERY:  # one task has 2 samples
            assert result.counters["sort_runs"] >= 2, result.counters


def test_a_failed_run_leaves_no_shuffle_folder(tmp_path):
    before = shuffle_folders()
    path = tmp_path / "bad.log"
    path.write_text("not a log line\n")
    with pytest.raises(TaskError):
        driver.run(CATALOG["urlcount"](), [str(path)], "pool", workers=2, shuffle="disk")
    assert shuffle_folders() == before
