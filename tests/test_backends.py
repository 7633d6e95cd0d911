"""The Backend contract, the same on every backend."""

from __future__ import annotations

import os

import pytest

import backends
from backends import BackendError
from tests.helpers import crc_of, raise_value_error


def test_runs_every_task_once_and_tags_its_index(backend_name):
    tasks = [bytes([i]) * (i + 1) for i in range(25)]
    with backends.create(backend_name, 2) as backend:
        results = list(backend.run(crc_of, tasks))
    assert sorted(index for index, _ in results) == list(range(25))
    assert all(value == crc_of(tasks[index]) for index, value in results)


def test_no_tasks_yields_nothing(backend_name):
    with backends.create(backend_name, 2) as backend:
        assert list(backend.run(crc_of, [])) == []


def test_task_exception_reaches_the_caller(backend_name):
    with backends.create(backend_name, 2) as backend, pytest.raises(ValueError, match="task 3"):
        list(backend.run(raise_value_error, list(range(8))))


def test_a_backend_leaves_the_environment_as_it_found_it(backend_name):
    """Later pools inherit os.environ: dask's nannies write PYTHONHASHSEED into it."""
    before = dict(os.environ)
    with backends.create(backend_name, 2) as backend:
        list(backend.run(crc_of, [b"x"] * 4))
    assert dict(os.environ) == before


def test_options_a_backend_does_not_take_are_refused():
    with pytest.raises(BackendError, match="backend 'pool' has no 'scheduler' setting"):
        backends.create("pool", 2, scheduler="tcp://127.0.0.1:8786")


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(BackendError) as error:
        backends.create("thread")
    assert str(error.value) == (
        "unknown backend 'thread'; choose from: " + ", ".join(backends.names())
    )


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_bad_worker_counts_are_refused(backend_name, workers):
    with pytest.raises(BackendError, match="workers must be"):
        backends.create(backend_name, workers)


@pytest.mark.parametrize("name", ["pool", "futures"])
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_start_method_is_a_setting(name, method):
    backend = backends.create(name, 2, start_method=method)
    with backend:
        assert sorted(backend.run(crc_of, [b"a", b"b"])) == [(0, crc_of(b"a")), (1, crc_of(b"b"))]
    assert backend.context.get_start_method() == method


def test_joblib_refuses_fork_with_a_reason():
    with pytest.raises(BackendError, match="cannot use start method 'fork'"):
        backends.create("joblib", 2, start_method="fork")


def nanny_failure(shape: str) -> RuntimeError:
    """How dask's nanny fails to start, as it raises it: ``shape`` is ``died`` (the worker
    died before it said it was up), ``reported`` (it died as it was handed its start, and
    dask's own check on the nanny's state fails) or ``unmade`` (the system made no process)."""
    from distributed.core import Status

    if shape == "died":
        inner = RuntimeError("Nanny failed to start worker process")
    else:
        inner = AssertionError(Status.starting)
        # the pipe to the new process broken by its death, or no process made
        made = shape == "reported"
        inner.__context__ = BrokenPipeError(32, "Broken pipe") if made else BlockingIOError(11, "")
    outer = RuntimeError("Nanny failed to start.")
    outer.__cause__ = inner
    return outer


@pytest.mark.parametrize("shape", ["died", "reported", "unmade"])
def test_a_local_cluster_whose_worker_dies_as_it_starts_has_lost_a_worker(shape):
    """A worker that died as its nanny started it is a lost worker (the start is tried
    again); a process the system would not make fails the start."""
    pytest.importorskip("distributed", reason="dask is not installed (pip install '.[dask]')")
    from backends.dask import worker_death_is_worker_lost
    from backends.errors import WorkerLost

    lost = shape != "unmade"
    expected = WorkerLost if lost else RuntimeError
    with pytest.raises(expected) as raised, worker_death_is_worker_lost():
        raise nanny_failure(shape)
    assert isinstance(raised.value, WorkerLost) == lost
