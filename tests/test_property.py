"""Property: on random text, any split and reducer count, output equals the oracle's."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backends
from jobs.wordcount import WordCount
from mapreduce import driver
from tests.helpers import TeachingWordCount
from tests.oracle import oracle_output, oracle_word_counts

TRICKY = [*"ab Zé ß½²İ日本ΩЖ\n\r\t1_.,-'", "𝔘", "😀", "ǅ", "Ⅻ"]
TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(TRICKY), st.characters(codec="utf-8")), max_size=400
)


@pytest.fixture(scope="module", params=["sequential", "futures"])
def backend(request):
    with backends.create(request.param, 2) as opened:
        yield opened


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(TEXT, min_size=1, max_size=3),
    split_count=st.integers(1, 9),
    reducers=st.integers(1, 4),
)
@pytest.mark.parametrize("job", [WordCount, TeachingWordCount], ids=["fast", "teaching"])
def test_random_text_matches_oracle(backend, job, texts, split_count, reducers):
    with tempfile.TemporaryDirectory() as directory:
        inputs = []
        for i, text in enumerate(texts):
            path = Path(directory, f"{i}.txt")
            path.write_bytes(text.encode("utf-8"))
            inputs.append(str(path))
        checked = driver.plan(job(), inputs, backend, reducers=reducers, split_count=split_count)
        result = driver.execute(checked, backend)
    assert "".join(result.lines()) == oracle_output(oracle_word_counts(texts))
