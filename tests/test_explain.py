"""``mapreduce explain``: the paper's Figure 1 traced with real data, checked by hand."""

from __future__ import annotations

import zlib
from collections import Counter

from tests.helpers import exit_status, mapreduce_cli

THREE_LINES = "the cat sat\non the mat\nthe end\n"


def explain(*args: str) -> str:
    done = mapreduce_cli("explain", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_word_count_on_three_lines_matches_a_trace_by_hand(tmp_path):
    path = tmp_path / "three.txt"
    path.write_text(THREE_LINES)
    trace = explain("wordcount", str(path), "--splits", "2", "--reducers", "2")
    lines = trace.splitlines()
    # 31 bytes cut near the middle (byte 15), moved on to the end of its line (byte 23)
    assert "  map task 0: three.txt bytes 0-23 (2 record(s))" in lines
    assert "  map task 1: three.txt bytes 23-31 (1 record(s))" in lines
    assert "    three.txt byte 12: 'on the mat'" in lines
    assert "    'the cat sat' -> ('the', 1), ('cat', 1), ('sat', 1)" in lines
    assert "  COMBINE: 6 pair(s) -> 5" in lines  # 'the' twice in map task 0
    for word in ("the", "cat", "sat", "on", "mat", "end"):
        crc = zlib.crc32(word.encode())
        assert f"    '{word}' -> crc32 {crc} mod 2 = {crc % 2}" in lines
    assert "    'the': [2, 1] -> ('the', 3)" in lines  # map task order, then the sum
    merged = trace.split("as 'run' prints them:\n", 1)[1].splitlines()
    counts = Counter(THREE_LINES.split())
    assert merged == [f"  {word}\t{counts[word]}" for word in sorted(counts)]
    assert max(map(len, lines)) <= 80


def test_a_two_step_job_is_traced_step_by_step_to_the_same_output_as_run(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("b a b\nc b a\na d b\n")
    trace = explain("topwords", str(path), "--lines", "3")
    assert "=== step 1 of 2: wordcount ===" in trace
    assert "=== step 2 of 2: rankbycount ===" in trace
    assert trace.index("step 1 of 2") < trace.index("step 2 of 2") < trace.index("MERGE")
    run = mapreduce_cli("run", "topwords", str(path))
    assert run.returncode == 0, run.stderr
    merged = trace.split("as 'run' prints them:\n", 1)[1]
    assert merged == "".join(f"  {line}\n" for line in run.stdout.splitlines())


def test_only_the_first_lines_are_traced_and_a_users_job_works(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("".join(f"line {n}\n" for n in range(100)))
    trace = explain("tests.helpers:TeachingWordCount", str(path), "--lines", "2")
    assert trace.count("    many.txt byte ") == 2  # the two records, and no more
    merged = trace.split("as 'run' prints them:\n", 1)[1].splitlines()
    assert merged == ["  line\t2"]


def test_without_input_a_generated_sample_is_traced():
    trace = explain("wordcount", "--lines", "3")
    assert "SPLIT:" in trace and "MERGE:" in trace


def test_a_missing_input_is_one_line(capsys, tmp_path):
    assert exit_status(["explain", "wordcount", str(tmp_path / "nope.txt")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"mapreduce: error: input not found: {tmp_path / 'nope.txt'}"]
