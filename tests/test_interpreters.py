"""The interpreters backend: threads with a GIL each (Python 3.14+), and a clear refusal
before 3.14.  Every catalog job and fault test parametrized over backends runs on it too."""

from __future__ import annotations

import os
import sys

import pytest

import backends
from backends import BackendError
from jobs.wordcount import WordCount
from mapreduce import MapReduceError, run
from tests.helpers import mapreduce_cli

NEW = sys.version_info >= (3, 14)


@pytest.mark.skipif(NEW, reason="Python 3.14 has InterpreterPoolExecutor")
def test_before_3_14_the_backend_is_refused_in_one_line_naming_the_version():
    version = ".".join(map(str, sys.version_info[:3]))
    with pytest.raises(BackendError, match=rf"needs Python 3\.14 or newer .*Python {version}$"):
        backends.create("interpreters", 2)
    listed = mapreduce_cli("backends").stdout
    assert "interpreters  concurrent.futures.InterpreterPoolExecutor" in listed
    assert "[unavailable: needs Python 3.14 or newer" in listed
    done = mapreduce_cli("run", "pi", "-b", "interpreters")
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "needs Python 3.14 or newer" in done.stderr


@pytest.mark.skipif(not NEW, reason="needs Python 3.14 (InterpreterPoolExecutor)")
def test_each_worker_is_a_thread_of_this_process_with_its_own_interpreter(corpus):
    result = run(WordCount(), [str(corpus)], "interpreters", workers=2, split_count=4)
    assert result.worker_pids == {os.getpid()}
    assert len({s.thread for s in result.timeline}) == 2


@pytest.mark.skipif(not NEW, reason="needs Python 3.14 (InterpreterPoolExecutor)")
def test_a_job_whose_module_a_subinterpreter_refuses_is_one_line_naming_it(corpus):
    from tests.refused import NeedsPsutil

    with pytest.raises(MapReduceError) as failed:
        run(NeedsPsutil(), [str(corpus)], "interpreters", workers=2)
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith("needspsutil: map phase failed on the interpreters backend")
    assert "does not support loading in subinterpreters" in message
