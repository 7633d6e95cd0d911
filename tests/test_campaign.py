"""The short fault campaign: on every process backend and dask's local cluster, runs of
sort (the memory shuffle: megabytes through the pipes) with one fault each at a random
moment, judged by ``tests.campaign``'s checker.  The seed is new each time and printed
on failure; ``CAMPAIGN_SEED`` sets it to replay a run."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest

from tests import campaign
from tests.conftest import installed

RUNS = {"kill-one": 4, "kill-two": 4, "freeze": 2, "sigterm": 3, "sigint": 3}
"""Runs per fault on each backend: about 20 s a backend."""

SIZE = "4MB"
"""Each run's input: the fault's moment is drawn over the whole run, however long."""


@pytest.fixture(scope="module")
def workloads(tmp_path_factory) -> dict[str, campaign.Workload]:
    return campaign.prepare(tmp_path_factory.mktemp("campaign"), ["sort"], SIZE)


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=installed(name)) for name in campaign.BACKENDS]
)
def test_a_fault_at_any_moment_ends_the_run_right_and_leaves_nothing(name, workloads, tmp_path):
    seed = int(os.environ.get("CAMPAIGN_SEED", random.randrange(2**32)))
    runs = {f: max(1, count // 2) if name == "dask" else count for f, count in RUNS.items()}
    plan = [(campaign.Scenario(name, "sort", fault), count) for fault, count in runs.items()]

    verdicts = campaign.campaign(plan, seed, workloads, tmp_path)

    assert len(verdicts) == sum(runs.values())
    problems = [
        f"{v.scenario.fault} at {v.moment:.2f} s: {'; '.join(v.problems)}\n{v.log}"
        for v in verdicts
        if v.problems
    ]
    assert not problems, f"seed {seed}\n{campaign.table(verdicts)}\n" + "\n".join(problems)


PYTHON_START_UP_CUT = """\
Fatal Python error: init_import_site: Failed to import the site module
Traceback (most recent call last):
  File "<frozen site>", line 219, in addpackage
  File "/usr/lib/python3.14/enum.py", line 239, in __set_name__
    def __set_name__(self, enum_class, member_name):

KeyboardInterrupt
Error calling __set_name__ on '_proto_member' instance 'STRICT' in 'FlagBoundary'
"""


def test_the_checker_tells_a_cut_in_pythons_start_up_from_one_in_the_projects():
    assert campaign.cut_start_up(PYTHON_START_UP_CUT)
    assert campaign.cut_start_up(PYTHON_START_UP_CUT.rsplit("Error calling", 1)[0])
    ours = str(campaign.ROOT / "mapreduce" / "cli.py")
    in_ours = PYTHON_START_UP_CUT.replace("/usr/lib/python3.14/enum.py", ours)
    assert not campaign.cut_start_up(in_ours)
    assert not campaign.cut_start_up("mapreduce: interrupted\n")


PYTHON_START_UP_IGNORED = """\
Exception ignored in: <function _ModuleLock.__init__.<locals>.cb at 0x7f8a5c1e2ca0>
Traceback (most recent call last):
  File "<frozen importlib._bootstrap>", line 207, in cb
KeyboardInterrupt
"""


@pytest.mark.parametrize("status", [0, 130])
def test_a_ctrl_c_that_pythons_start_up_ignores_is_a_start_up_cut_however_the_run_ends(
    status, tmp_path
):
    """Python goes on after printing it: the run may finish (0), or stop on a later signal."""
    output = tmp_path / "out.txt"
    output.write_text("the run's right output\n")
    workload = campaign.Workload("sort", tmp_path / "in.txt", campaign.digest(output))
    run = subprocess.Popen(
        [sys.executable, "-c", f"import sys; sys.stderr.write({PYTHON_START_UP_IGNORED!r}); "
         f"sys.exit({status})"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    run.wait(timeout=20)
    verdict = campaign.Verdict(campaign.Scenario("pool", "sort", "sigint"), moment=0.1)
    verdict.stop_seconds = 3.0  # a swallowed Ctrl-C does not stop the run
    campaign.judge(verdict, run, workload, output, campaign.FAULTS["sigint"])
    run.stderr.close()
    assert (verdict.outcome, verdict.problems) == ("start-up", [])
    assert campaign.cut_start_up(PYTHON_START_UP_IGNORED)
    other = PYTHON_START_UP_IGNORED.replace("KeyboardInterrupt", "OSError")
    assert not campaign.cut_start_up(other)
