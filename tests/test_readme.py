"""The docs' worked examples (a new job, a new backend) run as written, and every link in
the README and the docs leads somewhere."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import backends
from mapreduce import driver
from mapreduce.catalog import find_job
from tests.oracle import oracle_output, oracle_word_counts

ROOT = Path(__file__).parent.parent
EXTENDING = ROOT / "docs" / "extending.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def example(first_line: str) -> str:
    """The Python block of ``docs/extending.md`` that starts with ``first_line``."""
    blocks = re.findall(r"```python\n(.*?)```", EXTENDING.read_text(encoding="utf-8"), re.S)
    return next(block for block in blocks if block.startswith(first_line))


@pytest.fixture
def importable(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("linelengths", "onethreadeach"):
        sys.modules.pop(name, None)


def test_the_example_job_runs_by_module_and_class(importable):
    (importable / "linelengths.py").write_text(example("# linelengths.py"))
    text = importable / "in.txt"
    text.write_text("ab\ncd\nefg\n\n")
    job = find_job("linelengths:LineLengths")()
    result = driver.run(job, [str(text)], "pool", workers=2, reducers=2)
    assert result.output == [(0, 1), (2, 2), (3, 1)]


def test_the_example_backend_plugs_in(importable, monkeypatch):
    code = example("# backends/onethreadeach.py")
    (importable / "onethreadeach.py").write_text(code)
    line = re.search(r'"onethreadeach": Entry\((.*)\),', EXTENDING.read_text()).group(1)
    _, cls, description = (part.strip().strip('"') for part in line.split(", "))
    monkeypatch.setitem(
        backends.REGISTRY, "onethreadeach", backends.Entry("onethreadeach", cls, description)
    )

    text = importable / "in.txt"
    text.write_text("one two two\nthree three three\n" * 50)
    from jobs.wordcount import WordCount

    result = driver.run(WordCount(), [str(text)], "onethreadeach", workers=3, reducers=2)
    expected = oracle_output(oracle_word_counts([text.read_text()]))
    assert "".join(f"{k}\t{v}\n" for k, v in result.output) == expected


@pytest.mark.timeout(240)  # a dozen commands, `check` among them: half a minute when loaded
def test_your_own_job_commands_run_as_written(tmp_path):
    """The 'Your own job' commands, in a folder holding the docs' job and a book."""
    import os
    import subprocess

    root = ROOT
    (tmp_path / "linelengths.py").write_text(example("# linelengths.py"))
    (tmp_path / "book.txt").write_text("".join(f"{'word ' * (n % 7)}line\n" for n in range(400)))
    section = EXTENDING.read_text(encoding="utf-8").split("## Your own job")[1]
    commands = re.search(r"```console\n(.*?)```", section, re.S).group(1).splitlines()
    environment = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}"}
    for command in commands:
        program, *args = command.split()
        assert program == "python"
        done = subprocess.run(
            [sys.executable, *args], cwd=tmp_path, env=environment,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}: {done.stderr}"
    shown = re.findall(r"```console\n\$ (python -m mapreduce check .*?)\n(.*?)```", section, re.S)
    ((command, quoted),) = shown
    done = subprocess.run(
        [sys.executable, *command.split()[1:]], cwd=root, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 1
    assert quoted.splitlines()[-1] == done.stdout.splitlines()[-1]  # the diagnosis, verbatim


def anchors(page: Path) -> set[str]:
    """The ``#anchors`` GitHub gives a Markdown page's headings."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_link_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # https:, mailto:: not this tree's to check
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and anchor not in anchors(linked)):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to what is not there: {broken}"


def test_the_dask_costs_quoted_are_the_reference_runs():
    from compare.analyse.analysis import Analysis
    from compare.measure.results import read_json

    header, cells = read_json(ROOT / "docs" / "reference" / "results.json")
    analysis = Analysis(cells, cores=header["environment"]["cpu"]["logical_cores"])
    pi = {c.backend: c for c in cells if c.experiment == "matrix" and c.job == "pi"}
    text = " ".join((ROOT / "docs" / "running.md").read_text(encoding="utf-8").split())
    quoted = (
        f"starting the local cluster takes {pi['dask'].startup_seconds:.2f} s "
        f"(futures: {pi['futures'].startup_seconds:.3f} s); pure-Python `pi`, "
        f"{pi['sequential'].median:.2f} s sequential, then runs "
        f"{analysis.speedup(pi['dask']):.2f}× faster on dask ({pi['dask'].median:.3f} s), "
        f"where `futures` reaches {analysis.speedup(pi['futures']):.2f}× "
        f"({pi['futures'].median:.3f} s)"
    )
    assert quoted in text
