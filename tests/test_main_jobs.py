"""Jobs that no worker can import by name: defined in ``__main__`` (``python -c``, a script
read from standard input, a notebook cell, the REPL) or inside a function.  They run on
every backend under every start method the platform has, with the output an independent
count gives, and one that holds what cannot be pickled is refused before any worker."""

from __future__ import annotations

import collections
import hashlib
import subprocess
import sys
import threading

import pytest

import backends
from backends import Backend
from backends.process import ProcessBackend
from mapreduce import Job, run
from mapreduce.errors import JobError
from tests.conftest import installed

JOB = """
import sys
import mapreduce
from mapreduce import Job

class Lengths(Job):
    name = "lengths"
    def mapper(self, key, line):
        yield len(line), 1
    def reducer(self, length, ones):
        yield length, sum(ones)

backend, method, path = sys.argv[1], sys.argv[2] or None, sys.argv[3]
result = mapreduce.run(Lengths(), [path], backend=backend, workers=2, start_method=method)
print(result.digest)
"""
"""A job defined where it runs, as a student types it."""


def backends_and_methods() -> list:
    """Every backend under each start method it has here (its default, for the rest)."""
    params = []
    for name in backends.names():
        cls = None if backends.unavailable(name) else backends.backend_class(name)
        process = cls is not None and issubclass(cls, ProcessBackend)
        methods = cls.available_start_methods() if process else [""]
        params += [
            pytest.param(name, method, id=f"{name}-{method}" if method else name,
                         marks=installed(name))
            for method in methods
        ]  # fmt: skip
    return params


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    """An input and the digest of its output, counted here without the engine."""
    path = tmp_path_factory.mktemp("notes") / "notes.txt"
    lines = [f"{'ab' * (i % 37)}{i}" for i in range(5_000)]
    path.write_text("".join(f"{line}\n" for line in lines))
    counts = collections.Counter(len(line) for line in lines)
    text = "".join(f"{length}\t{count}\n" for length, count in sorted(counts.items()))
    return path, hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("form", ["-c", "-"], ids=["python -c", "python - (stdin)"])
@pytest.mark.parametrize(("name", "method"), backends_and_methods())
def test_a_job_defined_in_main_runs_on_every_backend(name, method, form, notes):
    path, expected = notes
    source = ["-c", JOB] if form == "-c" else ["-"]
    done = subprocess.run(
        [sys.executable, *source, name, method, str(path)],
        input=JOB if form == "-" else None,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.strip() == expected


@pytest.mark.timeout(600)
def test_a_job_defined_in_a_notebook_cell_runs_on_every_backend(notes, tmp_path):
    """The cell as a student types it, in a real Jupyter kernel: one cell defines the job,
    then one cell a backend and start method runs it and prints its digest."""
    nbformat = pytest.importorskip("nbformat", reason="needs the dev extra")
    nbclient = pytest.importorskip("nbclient", reason="needs the dev extra")
    path, expected = notes
    combos = [p.values for p in backends_and_methods() if not backends.unavailable(p.values[0])]
    definition = JOB.split("backend, method, path =")[0]
    cells = [nbformat.v4.new_code_cell(definition)] + [
        nbformat.v4.new_code_cell(
            f"print(mapreduce.run(Lengths(), [{str(path)!r}], backend={name!r}, workers=2, "
            f"start_method={method or None!r}).digest)"
        )
        for name, method in combos
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    for (name, method), cell in zip(combos, notebook.cells[1:], strict=True):
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert printed.split() == [expected], (name, method, cell.outputs)


def local_job_class() -> type[Job]:
    class Lengths(Job):
        def mapper(self, key, line):
            yield len(line), 1

        def reducer(self, length, ones):
            yield length, sum(ones)

    return Lengths


@pytest.mark.parametrize("name", ["pool", "futures", "joblib"])
def test_a_job_defined_in_a_function_runs_on_the_process_backends(name, notes):
    path, expected = notes
    assert run(local_job_class()(), [str(path)], name, workers=2).digest == expected


class HoldsALock(Job):
    def __init__(self) -> None:
        self.lock = threading.Lock()


@pytest.mark.parametrize("name", ["pool", "futures", "joblib"])
def test_a_job_in_main_that_holds_what_cannot_be_pickled_is_refused_before_any_worker(
    name, notes, monkeypatch
):
    monkeypatch.setattr(HoldsALock, "__module__", "__main__")  # sent by value, as from a notebook
    opened = []
    monkeypatch.setattr(Backend, "open", lambda self: opened.append(self))
    with pytest.raises(JobError, match=r"job 'holdsalock' cannot be sent .*_thread\.lock"):
        run(HoldsALock(), [str(notes[0])], name, workers=2)
    assert opened == []
