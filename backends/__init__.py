"""Executors that run a batch of independent tasks, chosen by name.

The registry maps a name to the module and class that implement it, so an
optional backend's library is imported only when that backend is chosen.
Adding a backend is one module and one line here.
"""

from __future__ import annotations

import importlib
import inspect
import platform
import sys
from typing import Any, NamedTuple

from backends.base import Backend
from backends.errors import BackendError, WorkerLost
from backends.process import ProcessBackend


class Entry(NamedTuple):
    module: str
    cls: str
    description: str
    install_hint: str = ""
    python: tuple[int, int] = (3, 10)
    """The oldest Python that has what the backend is built on."""


REGISTRY: dict[str, Entry] = {
    "sequential": Entry(
        "backends.sequential", "SequentialBackend", "one task after another, in this process"
    ),
    "threads": Entry(
        "backends.threads", "ThreadsBackend", "concurrent.futures.ThreadPoolExecutor (one GIL)"
    ),
    "pool": Entry("backends.pool", "PoolBackend", "multiprocessing.Pool processes"),
    "futures": Entry(
        "backends.futures", "FuturesBackend", "concurrent.futures.ProcessPoolExecutor processes"
    ),
    "joblib": Entry("backends.joblib", "JoblibBackend", "joblib.Parallel on loky processes"),
    "interpreters": Entry(
        "backends.interpreters",
        "InterpretersBackend",
        "concurrent.futures.InterpreterPoolExecutor (a GIL per thread)",
        python=(3, 14),
    ),
    "dask": Entry(
        "backends.dask",
        "DaskBackend",
        "dask.distributed: a local cluster, or a running one (--scheduler)",
        "pip install 'mapreduce-study[dask]'",
    ),
}


PROCESS_BACKENDS = ("pool", "futures", "joblib")
"""The backends whose workers are processes started on this machine."""

SCALE_OUT_BACKENDS = ("dask",)
"""The backends for work that outgrows one machine; their scheduler runs in the calling
process (on one machine, in the calling process's own threads)."""


def names() -> list[str]:
    """Every registered backend name, sorted."""
    return sorted(REGISTRY)


def backend_class(name: str) -> type[Backend]:
    """The class registered as ``name``; a clear error for an unknown or uninstalled one."""
    entry = REGISTRY.get(name)
    if entry is None:
        raise BackendError(f"unknown backend {name!r}; choose from: {', '.join(names())}")
    if sys.version_info < entry.python:
        raise BackendError(
            f"backend {name!r} needs Python {'.'.join(map(str, entry.python))} or newer "
            f"({entry.description.partition(' (')[0]}); this is Python {platform.python_version()}"
        )
    try:
        module = importlib.import_module(entry.module)
    except ImportError as exc:
        raise BackendError(
            f"backend {name!r} needs {exc.name}, which is not installed: {entry.install_hint}"
        ) from exc
    return getattr(module, entry.cls)


def unavailable(name: str) -> str | None:
    """Why the backend cannot run here (its library missing, or this Python too old), or None."""
    try:
        backend_class(name)
    except BackendError as exc:
        return str(exc)
    return None


def is_available(name: str) -> bool:
    """Whether the backend can run here."""
    return unavailable(name) is None


def create(
    name: str, workers: int = 1, start_method: str | None = None, **options: Any
) -> Backend:
    """A new, not yet opened, backend ``name`` with ``workers`` workers.

    ``options`` are settings only some backends have, such as dask's
    ``scheduler`` address; one the backend does not take is an error.
    """
    cls = backend_class(name)
    taken = inspect.signature(cls).parameters
    for option in options:
        if option not in taken:
            raise BackendError(f"backend {name!r} has no {option!r} setting")
    if issubclass(cls, ProcessBackend):
        options["start_method"] = start_method
    elif start_method is not None:
        raise BackendError(
            f"backend {name!r} has no start method: its workers are not processes it starts"
        )
    return cls(workers, **options)


__all__ = [
    "PROCESS_BACKENDS",
    "SCALE_OUT_BACKENDS",
    "Backend",
    "BackendError",
    "ProcessBackend",
    "WorkerLost",
    "backend_class",
    "create",
    "names",
]
