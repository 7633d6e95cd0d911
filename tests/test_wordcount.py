"""Word count is byte-identical to a Counter oracle on every backend and edge case."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from jobs.wordcount import WordCount
from mapreduce import driver
from tests.oracle import oracle_output, oracle_word_counts

MULTIBYTE_LINE = "naïve café ΩΩΩ日本語 Straße ÆØÅ İstanbul x²½y 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀emoji😀 end\n"

# name -> list of file contents (bytes); each case is run with several split counts.
CASES: dict[str, list[bytes]] = {
    "empty-file": [b""],
    "no-trailing-newline": [b"the cat\nsat on the mat\nthe end"],
    "crlf": [b"Hello, World\r\nhello again\r\nWORLD!\r\n"],
    "line-longer-than-split": [b"short\n" + b"long " * 5000 + b"\nshort tail\n"],
    "more-splits-than-lines": [b"one two\nthree\n"],
    "several-files": [b"apple banana\n", b"", b"Banana cherry\napple", b"cherry\n"],
    "multibyte-near-boundaries": [(MULTIBYTE_LINE * 97).encode("utf-8")],
}


def write_case(directory: Path, contents: list[bytes]) -> list[str]:
    paths = []
    for i, data in enumerate(contents):
        path = directory / f"input-{i}.txt"
        path.write_bytes(data)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("reducers", [1, 3])
@pytest.mark.parametrize("split_count", [None, 1, 7, 64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_wordcount_matches_counter_oracle(open_backend, case, split_count, reducers, tmp_path):
    contents = CASES[case]
    inputs = write_case(tmp_path, contents)
    expected = oracle_output(oracle_word_counts(data.decode("utf-8") for data in contents))

    checked = driver.plan(
        WordCount(), inputs, open_backend, reducers=reducers, split_count=split_count
    )
    result = driver.execute(checked, open_backend)

    assert "".join(result.lines()) == expected
    assert result.digest == hashlib.sha256(expected.encode("utf-8")).hexdigest()


def test_counters_add_up(open_backend, tmp_path):
    contents = CASES["several-files"]
    inputs = write_case(tmp_path, contents)
    lines = [line for data in contents for line in data.decode().splitlines()]
    counts = oracle_word_counts(contents_text.decode() for contents_text in contents)

    checked = driver.plan(WordCount(), inputs, open_backend, reducers=3, split_count=5)
    counters = driver.execute(checked, open_backend).counters

    assert counters["input_records"] == len(lines)
    assert counters["map_output_pairs"] == sum(counts.values())
    assert len(counts) <= counters["combine_output_pairs"] <= counters["map_output_pairs"]
    assert counters["reduce_input_pairs"] == counters["combine_output_pairs"]
    assert counters["output_records"] == counters["reduce_input_groups"] == len(counts)
