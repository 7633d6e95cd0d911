"""The relay of workers' output, at any moment of a start: a stopping signal that comes
while workers start leaves the driver's own standard output and error where they were."""

from __future__ import annotations

import subprocess
import sys

import pytest

STARTS = 400
"""Starts interrupted, each at a moment drawn at random."""

SCRIPT = """
import os, random, signal, sys, threading, time
from backends import relay
from backends.sequential import SequentialBackend

class Starting(SequentialBackend):
    starts_processes = True
    def _start(self):
        time.sleep(random.uniform(0, 0.002))

random.seed(int(sys.argv[1]))
ours = [(os.fstat(fd).st_dev, os.fstat(fd).st_ino) for fd in (1, 2)]
interrupted = 0
for _ in range(int(sys.argv[2])):
    ctrl_c = threading.Timer(random.uniform(0, 0.003), os.kill, (os.getpid(), signal.SIGINT))
    try:
        ctrl_c.start()
        Starting().open().close()
        ctrl_c.join()
        time.sleep(0.001)  # the handler runs here if the signal came after the start
    except KeyboardInterrupt:
        interrupted += 1
    ctrl_c.join()
    now = [(os.fstat(fd).st_dev, os.fstat(fd).st_ino) for fd in (1, 2)]
    assert now == ours, "a descriptor of the driver was left swapped"
    assert not any(stream.holding for stream in relay.streams()), "output left held"
print(f"interrupted {interrupted}", file=sys.stderr)
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", [1, 2])
def test_a_ctrl_c_at_any_moment_of_a_start_leaves_the_drivers_output_where_it_was(seed):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(seed), str(STARTS)],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    count = int(done.stderr.removeprefix("interrupted ").strip())
    assert STARTS // 4 < count <= STARTS, "the signals did not come while the starts ran"
