"""Splits cover each file exactly once and start and end on line boundaries."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapreduce.errors import InputError
from mapreduce.splits import CUT_BY_LINES, plan_splits

LINES = st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    lines=LINES, trailing_newline=st.booleans(), count=st.integers(1, 12), by_lines=st.booleans()
)
def test_splits_tile_the_file_at_line_starts(lines, trailing_newline, count, by_lines):
    data = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "in.txt")
        path.write_bytes(data)
        with cut(by_lines):
            splits = plan_splits([str(path)], count)
        read_back = [line for split in splits for line in split.lines()]

    assert len(splits) <= count
    edges = [0] + [s.end for s in splits]
    assert [s.start for s in splits] == edges[:-1]
    assert edges[-1] == len(data)
    assert all(data[s.start - 1 : s.start] == b"\n" for s in splits if s.start)
    # Oracle: bytes.split on b"\n"; "\r\n" ends a line too, a lone final "\r" does not.
    parts = data.split(b"\n")
    last = parts.pop()
    expected = [p[:-1] if p.endswith(b"\r") else p for p in parts] + ([last] if last else [])
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part) + 1)
    assert [raw for _, raw in read_back] == expected
    assert [offset for offset, _ in read_back] == offsets[: len(expected)]


def test_a_line_longer_than_a_split_stays_whole(tmp_path):
    path = tmp_path / "long.txt"
    path.write_bytes(b"a\n" + b"x" * 1000 + b"\nb\n")
    splits = plan_splits([str(path)], 50)
    per_split = [[raw for _, raw in split.lines()] for split in splits]
    assert [raw for lines in per_split for raw in lines] == [b"a", b"x" * 1000, b"b"]
    assert sum(b"x" * 1000 in lines for lines in per_split) == 1
    assert 1 < len(splits) < 50


@settings(max_examples=100, deadline=None)
@given(lengths=st.lists(st.integers(0, 3000), min_size=1, max_size=40), count=st.integers(1, 9))
def test_cut_by_lines_every_split_but_the_last_has_equally_many(lengths, count):
    data = b"".join(b"x" * length + b"\n" for length in lengths)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "in.txt")
        path.write_bytes(data)
        with cut(by_lines=True):
            splits = plan_splits([str(path)], count)
        counts = [len(list(split.lines())) for split in splits]
    per_split = -(-len(lengths) // count)  # the oracle: ceil, whatever the lines' bytes
    assert counts[:-1] == [per_split] * (len(counts) - 1)
    assert 0 < counts[-1] <= per_split and sum(counts) == len(lengths)


@contextlib.contextmanager
def cut(by_lines: bool) -> Iterator[None]:
    token = CUT_BY_LINES.set(by_lines)
    try:
        yield
    finally:
        CUT_BY_LINES.reset(token)


def test_missing_input_and_directory_are_named(tmp_path):
    with pytest.raises(InputError, match=r"input not found: .*nope\.txt"):
        plan_splits([str(tmp_path / "nope.txt")], 2)
    with pytest.raises(InputError, match="is a directory"):
        plan_splits([str(tmp_path)], 2)
