"""Keys: equal keys group whatever their type and the reducer count, and keys that cannot
group or sort together are refused in one line."""

from __future__ import annotations

import pytest

from jobs.sort import Sort
from mapreduce import TaskError, run
from tests.cli_runs import one_error_line
from tests.conftest import EVERY_NAME
from tests.helpers import (
    KeysFromLines,
    mapreduce_cli,
)
from tests.oracle import oracle_sort


@pytest.mark.parametrize("name", EVERY_NAME)
def test_equal_keys_of_different_types_group_on_every_reducer_count(name, tmp_path):
    path = tmp_path / "keys.txt"
    numbers = ["1", "1.0", "True", "2", "2.0", "-0.0", "0", "2.5"]  # 1, 2, 0 and 2.5
    tuples = ["(1, 'a')", "(1.0, 'a')", "(True, 'b')", "(1, 'b')", "(2, 'a')"]  # three keys
    for literals, groups in [(numbers, [20, 40, 40, 60]), (tuples, [20, 40, 40])]:
        path.write_text("\n".join(literals * 20) + "\n")
        outputs = {
            reducers: "".join(run(KeysFromLines(), [str(path)], name, workers=2,
                                  reducers=reducers, split_count=5).lines())
            for reducers in (1, 2, 3, 7)
        }  # fmt: skip
        assert len(set(outputs.values())) == 1
        counts = [int(line.rsplit("\t", 1)[1]) for line in outputs[1].splitlines()]
        assert sorted(counts) == groups


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("reducers", [1, 3])
@pytest.mark.parametrize(
    ("literal", "message"),
    [("nan", r"NaN, which equals no key"), ("None", r"key None is of type NoneType; a key is")],
)
def test_a_key_that_cannot_group_is_refused_in_one_line(
    name, reducers, literal, message, tmp_path
):
    path = tmp_path / "keys.txt"
    path.write_text(f"1\n{literal}\n{literal}\n")
    with pytest.raises(TaskError, match=message) as failure:
        run(KeysFromLines(), [str(path)], name, workers=2, reducers=reducers)
    assert failure.value.attempts == 1 and "\n" not in str(failure.value)


@pytest.mark.parametrize("name", EVERY_NAME)
@pytest.mark.parametrize("reducers", ["1", "3"])
def test_keys_that_do_not_sort_together_are_one_line(name, reducers, tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text("\n".join(["1", "'a'", "2", "'b'", "3", "'c'"] * 3) + "\n")
    job = "tests.helpers:KeysFromLines"
    done = mapreduce_cli("run", job, str(path), "-b", name, "-w", "2", "-r", reducers)
    assert done.returncode == 1 and done.stdout == ""
    one_error_line(done.stderr, r"keysfromlines: .*keys that cannot be sorted together .*'<'")


@pytest.mark.parametrize("name", EVERY_NAME)
def test_sort_cuts_keys_by_characters_not_bytes(name, tmp_path):
    path = tmp_path / "records.txt"
    keys = ["éééééééééé", "aéaéaéaéaé", "zzzzzzzzzé", "ωωωωωωωωωω", "bbbbbbbbbb"] * 40
    path.write_text("".join(f"{k}  {i:032X}{'P' * 56}\n" for i, k in enumerate(keys)))
    result = run(Sort(samples=50), [str(path)], name, workers=2, reducers=3)
    assert "".join(result.lines()) == oracle_sort([str(path)])
