"""What a figure needs beside it to be cited: the machine, the interpreter, the versions.

Small ``collect_*`` functions, as pyperf collects its metadata, plus what this
study needs that pyperf does not record: whether the GIL is enabled, the
default start method, and the project's commit.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import platform
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("joblib", "tabulate", "psutil", "matplotlib", "dask", "distributed")


def collect_python() -> dict[str, Any]:
    build, built_on = platform.python_build()
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "build": f"{build} ({built_on})",
        "compiler": platform.python_compiler(),
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": getattr(sys, "_is_gil_enabled", lambda: True)(),
        "executable": sys.executable,
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def collect_cpu() -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": affinity,
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def collect_os() -> dict[str, Any]:
    return {"platform": platform.platform(), "machine": platform.machine()}


def collect_packages() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def collect_commit(output: str | None = None) -> str | None:
    """The project's commit, with ``-dirty`` if the work tree has changes; None outside git.

    Changes inside ``output``, the study's own output folder (``docs/reference``
    being rewritten), do not count.
    """
    root = Path(__file__).resolve().parents[2]  # compare/measure/environment.py
    inside = output is not None and Path(output).resolve().is_relative_to(root)
    exclude = [f":(exclude){Path(output).resolve()}"] if inside else []

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        # installed into a venv that lies in some other repository: not our commit
        if Path(git("rev-parse", "--show-toplevel")).resolve() != root:
            return None
        commit = git("rev-parse", "HEAD")
        changes = git("status", "--porcelain", "--untracked-files=no", "--", ".", *exclude)
        return commit + ("-dirty" if changes else "")
    except (OSError, subprocess.SubprocessError):
        return None


def collect_environment(output: str | None = None) -> dict[str, Any]:
    """Everything above, with the date and the default start method."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": collect_python(),
        "cpu": collect_cpu(),
        "os": collect_os(),
        "default_start_method": multiprocessing.get_start_method(),
        "packages": collect_packages(),
        "commit": collect_commit(output),
    }


def python_label(environment: dict[str, Any]) -> str:
    """``CPython 3.13.0`` or ``CPython 3.13.0 free-threaded (GIL off)``."""
    python = environment["python"]
    label = f"{python['implementation']} {python['version']}"
    if python["free_threaded_build"]:
        label += " free-threaded" + ("" if python["gil_enabled"] else " (GIL off)")
    return label
