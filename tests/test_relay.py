"""The relay of workers' output, at any moment of a start: a stopping signal that comes
while workers start leaves the driver's own standard output and error where they were."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from backends import relay

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


def test_marks_the_driver_stopped_waiting_for_never_reach_the_output(monkeypatch):
    """On a loaded machine the relay's thread may come to a mark after ``settle`` gave up
    waiting for it: the mark is still taken out of what is passed on."""
    target_read, target = os.pipe()
    stream = relay.Stream(target)
    received = bytearray()

    def read_all() -> None:
        for chunk in iter(lambda: os.read(target_read, 65_536), b""):
            received.extend(chunk)

    reader = threading.Thread(target=read_all)
    reader.start()
    sent = b""
    try:
        stream.start()
        monkeypatch.setattr(relay, "SETTLE_SECONDS", 0)  # give up at once: marks go stale
        for number in range(300):
            line = f"line {number}\n".encode()
            relay.write_all(stream.write, line)
            sent += line
            stream.settle()
        monkeypatch.setattr(relay, "SETTLE_SECONDS", 30)
        stream.stop()  # waits for its own mark, after every stale one
        assert stream.thread is None and not stream.marks
    finally:
        stream.close()
        os.close(target)
        reader.join(30)
        os.close(target_read)
    assert bytes(received) == sent
