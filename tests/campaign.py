"""A randomized fault campaign: many runs, one fault at a random moment of each, a checker.

Jepsen's method, applied to ``mapreduce run``: each run of a job on a backend
gets one fault at a moment drawn uniformly from the run's expected life
(start-up included), and a checker judges it:

- it ended: within ``HANG_SECONDS`` of the fault, and within ``STOP_SECONDS``
  of a SIGTERM or SIGINT sent to it;
- its output is the sequential backend's, byte for byte, or it failed (or was
  interrupted) in one line and left no output;
- nothing is left: no process of the run, no new ``/dev/shm`` entry, nothing in
  its temporary folder or beside its output.

``python -m tests.campaign`` (``nox -s faults``) runs the long campaign and
prints a table of runs and problems per backend, job and fault; it exits 1 on
any problem.  ``tests/test_campaign.py`` runs a short one.  Run it on an
otherwise quiet machine: it counts new ``/dev/shm`` entries as the run's.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from tabulate import tabulate

import backends

ROOT = Path(__file__).resolve().parents[1]
"""The project's own files."""

HANG_SECONDS = 60.0
"""A run not ended this long after its fault is hung (the runs take a few seconds)."""

STOP_SECONDS = 2.0
"""The promise: a run sent SIGTERM or SIGINT has ended within this long."""

LEFTOVER_SECONDS = 3.0
"""How long the run's processes have to disappear after it ends before they are leftovers."""

TASK_TIMEOUT = 3.0
"""``--task-timeout`` of the runs whose fault freezes a worker."""

FROZEN_SECONDS = 5.0
"""How long a frozen worker stays stopped (SIGSTOP) before it is let go on (SIGCONT)."""

POLL_SECONDS = 0.02
"""How often the checker looks at a run."""

SHM = Path("/dev/shm")

JOBS = {"sort": "memory", "wordcount": "memory", "reverselinks": "memory"}
"""The campaign's jobs and the shuffle each runs with: the memory shuffle sends every map
task's partitions and every reduce task's output through the pool's pipes."""

BACKENDS = ("pool", "futures", "joblib", "dask")

SPAWNED = {"spawn": "multiprocessing.spawn", "loky": "loky.backend.popen_loky_posix"}
"""The module a new Python runs, by start method, to become a worker."""


# ---------------------------------------------------------------- faults

Injection = Callable[[subprocess.Popen, str, random.Random], float | None]
"""Injects a fault into a run whose workers start by a start method; the moment it asked the
run to stop, if it did."""


def kill(count: int) -> Injection:
    """A fault that SIGKILLs ``count`` workers at once (as the out-of-memory killer would)."""

    def inject(run: subprocess.Popen, method: str, rng: random.Random) -> float | None:
        workers = find_workers(run, count, method)
        for pid in rng.sample(workers, min(count, len(workers))):
            signal_pid(pid, signal.SIGKILL)
        return None

    return inject


def freeze(run: subprocess.Popen, method: str, rng: random.Random) -> float | None:
    """SIGSTOP one worker for longer than the task time-out, then SIGCONT it."""
    workers = find_workers(run, 1, method)
    if workers:
        pid = rng.choice(workers)
        signal_pid(pid, signal.SIGSTOP)
        deadline = time.monotonic() + FROZEN_SECONDS
        while run.poll() is None and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        signal_pid(pid, signal.SIGCONT)
    return None


def stop(signum: int) -> Injection:
    """A fault that sends ``signum`` to the run itself; the time it was sent."""

    def inject(run: subprocess.Popen, method: str, rng: random.Random) -> float | None:
        signal_pid(run.pid, signum)
        return time.monotonic()

    return inject


@dataclass(frozen=True)
class Fault:
    """A fault: how to inject it, and the options its runs take."""

    inject: Injection
    options: tuple[str, ...] = ()
    stops: bool = False
    """Whether the fault asks the run to stop (its exit is then ``interrupted``)."""


FAULTS = {
    "kill-one": Fault(kill(1)),
    "kill-two": Fault(kill(2)),
    "freeze": Fault(freeze, ("--task-timeout", str(TASK_TIMEOUT))),
    "sigterm": Fault(stop(signal.SIGTERM), stops=True),
    "sigint": Fault(stop(signal.SIGINT), stops=True),
}


def signal_pid(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def start_method(backend: str) -> str:
    """How ``backend`` starts its workers, by default, on this Python (dask's nannies, which
    have no start method of the engine's, start theirs by ``spawn``, distributed's default)."""
    return getattr(backends.create(backend, 2), "start_method", "spawn")


@dataclass(frozen=True)
class Driver:
    """The run's own process: its pid and command line, read once."""

    pid: int
    cmdline: list[str]


def is_worker(process: psutil.Process, driver: Driver, method: str) -> bool:
    """Whether ``process`` is a worker, told by the way ``method`` makes one: with ``fork``,
    a copy of the driver (its child, on its command line); with ``forkserver``, a child of
    the forkserver; with ``spawn`` and ``loky``, a new Python running the method's module.

    The libraries' helpers (resource trackers, the forkserver) are none of these, even in
    the moment after they are forked and before they start their own program, when they
    still carry the driver's command line.
    """
    try:
        if method == "fork":
            return process.ppid() == driver.pid and process.cmdline() == driver.cmdline
        if method == "forkserver":
            return "multiprocessing.forkserver" in " ".join(process.parent().cmdline())
        return SPAWNED[method] in " ".join(process.cmdline())
    except (psutil.NoSuchProcess, AttributeError):
        return False


def find_workers(run: subprocess.Popen, wanted: int, method: str) -> list[int]:
    """The run's workers, waiting until ``wanted`` exist (a moment in start-up, when none do
    yet, becomes the moment the first ones appear); fewer if the run ends first."""
    found: list[int] = []
    with contextlib.suppress(psutil.NoSuchProcess):
        driver = Driver(run.pid, psutil.Process(run.pid).cmdline())
        while run.poll() is None:
            found = [p.pid for p in descendants(run.pid) if is_worker(p, driver, method)]
            if len(found) >= wanted:
                break
            time.sleep(POLL_SECONDS / 4)
    return found


# ---------------------------------------------------------------- the checker


@dataclass(frozen=True)
class Scenario:
    backend: str
    job: str
    fault: str
    shuffle: str = ""
    """The shuffle the runs use; the job's in ``JOBS`` if empty."""


@dataclass
class Verdict:
    """What the checker found of one run."""

    scenario: Scenario
    moment: float
    outcome: str = ""
    """``survived`` (exit 0), ``failed`` (one line, no output), ``interrupted`` (a
    stopping signal ended it), ``start-up`` (a Ctrl-C cut Python's own start-up, and
    Python printed its traceback, or printed it as ignored and went on), or ``hung``."""
    problems: list[str] = field(default_factory=list)
    stop_seconds: float | None = None
    """How long the run took to end after a stopping signal."""
    log: str = ""


@dataclass
class Workload:
    """A job's input and the sequential backend's output of it, the oracle."""

    job: str
    path: Path
    digest: str


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def command(scenario: Scenario, workload: Workload, output: Path) -> list[str]:
    fault = FAULTS[scenario.fault]
    shuffle = scenario.shuffle or JOBS[scenario.job]
    return [
        sys.executable, "-m", "mapreduce", "run", scenario.job, str(workload.path),
        "-b", scenario.backend, "-w", "2", "--shuffle", shuffle, "--output", str(output),
        *fault.options,
    ]  # fmt: skip


def session_processes(session: int) -> list[int]:
    """Every process whose session is ``session`` (a run starts a session of its own)."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == session and process.pid != session:
                found.append(process.pid)
        except (ProcessLookupError, PermissionError):
            pass
    return found


def live(pids: Iterable[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def stack_dump(pid: int) -> str:
    """Where a hung run waits, by ``py-spy dump`` where it is installed."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not os.path.exists(spy):
        return "(py-spy not installed: no stack)"
    try:
        dump = subprocess.run(
            [spy, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "(py-spy dump timed out)"
    return dump.stdout + dump.stderr


def run_once(
    scenario: Scenario, workload: Workload, moment: float, rng: random.Random, folder: Path
) -> Verdict:
    """One run with one fault ``moment`` seconds after its start, judged."""
    verdict = Verdict(scenario, moment)
    fault, method = FAULTS[scenario.fault], start_method(scenario.backend)
    scratch, output = folder / "tmp", folder / "out.txt"
    scratch.mkdir(parents=True)
    shm_before = set(os.listdir(SHM)) if SHM.is_dir() else set()
    environment = {**os.environ, "TMPDIR": str(scratch)}
    run = subprocess.Popen(
        command(scenario, workload, output),
        cwd=folder,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen: set[int] = set()
    try:
        started = time.monotonic()
        while run.poll() is None and time.monotonic() < started + moment:
            seen.update(p.pid for p in descendants(run.pid))
            time.sleep(POLL_SECONDS)
        signalled = fault.inject(run, method, rng) if run.poll() is None else None
        deadline = time.monotonic() + HANG_SECONDS
        while run.poll() is None and time.monotonic() < deadline:
            seen.update(p.pid for p in descendants(run.pid))
            time.sleep(POLL_SECONDS)
        if run.poll() is None:
            verdict.outcome = "hung"
            verdict.problems.append("hung")
            verdict.log = stack_dump(run.pid)
            return verdict
        if signalled is not None:
            verdict.stop_seconds = time.monotonic() - signalled
        judge(verdict, run, workload, output, fault)
        leftovers(verdict, run.pid, seen, shm_before, scratch, folder)
        return verdict
    finally:
        for pid in [run.pid, *seen, *session_processes(run.pid)]:
            signal_pid(pid, signal.SIGKILL)
        run.wait()
        run.stderr.close()


def judge(
    verdict: Verdict, run: subprocess.Popen, workload: Workload, output: Path, fault: Fault
) -> None:
    """The outcome of a run that ended: the right output, or one line and no output.

    A stopping signal may come after the output was written in full (while
    the workers are stopped): the run then says it was interrupted, and its
    output must be right.
    """
    stderr = run.stderr.read()
    verdict.log = stderr
    stopped = (signal.SIGTERM, signal.SIGINT)
    interrupted = run.returncode in [-s for s in stopped] + [128 + s for s in stopped]
    if fault.stops and cut_start_up(stderr):  # Python exits 1, dies by the signal, or goes on
        verdict.outcome = "start-up"
    elif run.returncode == 0:
        verdict.outcome = "survived"
    elif fault.stops and interrupted:
        verdict.outcome = "interrupted"
    else:
        verdict.outcome = "failed"
    if output.exists() and digest(output) != workload.digest:
        verdict.problems.append("wrong output")
    if run.returncode == 0 and not output.exists():
        verdict.problems.append("no output")
    if verdict.outcome == "failed" and output.exists():
        verdict.problems.append("output left by a failed run")
    lines = stderr.splitlines()
    if verdict.outcome != "start-up" and (
        len(lines) > 1 or (run.returncode > 0 and len(lines) != 1)
    ):
        verdict.problems.append("not one line")
    if verdict.outcome == "failed" and not fault.stops:
        verdict.problems.append("lost worker not survived")
    if verdict.outcome != "start-up" and (verdict.stop_seconds or 0) > STOP_SECONDS:
        verdict.problems.append(f"stopped in {verdict.stop_seconds:.1f} s")


PACKAGES = [ROOT / name for name in ("mapreduce", "backends", "jobs", "compare")]
"""The project's code (not the virtual environments that nox keeps in the project's folder,
whose site-packages Python imports in its own start-up)."""


def cut_start_up(stderr: str) -> bool:
    """Whether a Ctrl-C cut Python's own start-up (``site``, ``runpy``), before any of the
    project's code ran: Python prints that ``KeyboardInterrupt``'s traceback itself, and
    nothing the project does can change it.  The exception's line may be followed by its
    notes (3.14 adds one when the cut came in a class's ``__set_name__``).  Raised in a
    callback of the import system, it is printed as ignored, and the run goes on: from
    ``mapreduce.__main__`` on, such a Ctrl-C is sent again, never printed."""
    lines = stderr.strip().splitlines()
    frames = re.findall(r'File "([^"]+)"', stderr)
    ours = [f for f in frames if any(Path(f).is_relative_to(p) for p in PACKAGES)]
    return "KeyboardInterrupt" in lines and not ours


def leftovers(
    verdict: Verdict, session: int, seen: set[int], shm: set[str], scratch: Path, folder: Path
) -> None:
    """Processes, ``/dev/shm`` entries, temporary and partial files the run left."""
    deadline = time.monotonic() + LEFTOVER_SECONDS
    while (left := live({*seen, *session_processes(session)})) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    runs = {session, *seen}
    shm_after = set(os.listdir(SHM)) if SHM.is_dir() else set()
    while (
        new := {n for n in shm_after - shm if made_by(n, runs)}
    ) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        shm_after = set(os.listdir(SHM))
    found = [f"process {pid}" for pid in left]
    found += [f"/dev/shm/{name}" for name in sorted(new)]
    found += [f"tmp/{name}" for name in sorted(os.listdir(scratch))]
    found += [name for name in sorted(os.listdir(folder)) if name not in ("tmp", "out.txt")]
    if found:
        verdict.problems.append("left " + ", ".join(found[:5]))


SHM_OWNER = re.compile(r"^(?:joblib_memmapping_folder_|sem\.loky-|loky-)(\d+)[-_]")
"""The ``/dev/shm`` entries whose names say which process made them (joblib's and loky's)."""


def made_by(name: str, pids: set[int]) -> bool:
    """Whether the ``/dev/shm`` entry ``name`` may be one of ``pids``' (those whose names
    carry another process's pid belong to another program on the machine)."""
    owner = SHM_OWNER.match(name)
    return owner is None or int(owner.group(1)) in pids


# ---------------------------------------------------------------- the campaign


def prepare(folder: Path, jobs: Sequence[str], size: str) -> dict[str, Workload]:
    """Each job's generated input, and its output on the sequential backend."""
    workloads = {}
    for job in jobs:
        path, reference = folder / f"{job}.txt", folder / f"{job}.out"
        mapreduce = [sys.executable, "-m", "mapreduce"]
        subprocess.run([*mapreduce, "generate", job, "--size", size, "-o", str(path)], check=True)
        subprocess.run(
            [*mapreduce, "run", job, str(path), "-b", "sequential", "-o", str(reference)],
            check=True,
        )
        workloads[job] = Workload(job, path, digest(reference))
    return workloads


def expected_seconds(scenario: Scenario, workload: Workload, folder: Path) -> float:
    """How long a fault-free run of the scenario takes, its output checked."""
    folder.mkdir()
    output = folder / "out.txt"
    started = time.monotonic()
    subprocess.run(command(scenario, workload, output), check=True)
    seconds = time.monotonic() - started
    if digest(output) != workload.digest:
        raise SystemExit(f"{scenario.backend} gives a wrong {scenario.job} output with no fault")
    shutil.rmtree(folder)
    return seconds


def campaign(
    plan: Sequence[tuple[Scenario, int]],
    seed: int,
    workloads: dict[str, Workload],
    folder: Path,
    report: Callable[[Verdict], None] = lambda verdict: None,
) -> list[Verdict]:
    """Each scenario's runs, each with its fault at a seeded random moment of the run's
    expected life (measured once per backend and job)."""
    rng = random.Random(seed)
    verdicts = []
    durations: dict[tuple[str, str], float] = {}
    for number, (scenario, runs) in enumerate(plan):
        workload = workloads[scenario.job]
        key = (scenario.backend, scenario.job)
        if key not in durations:
            durations[key] = expected_seconds(scenario, workload, folder / f"plain-{number}")
        for attempt in range(runs):
            moment = rng.uniform(0, durations[key])
            run_folder = folder / f"run-{number}-{attempt}"
            verdict = run_once(scenario, workload, moment, rng, run_folder)
            shutil.rmtree(run_folder, ignore_errors=True)
            verdicts.append(verdict)
            report(verdict)
    return verdicts


def table(verdicts: Sequence[Verdict]) -> str:
    """Runs, outcomes and problems per backend, job and fault."""
    rows = []
    for scenario in dict.fromkeys(v.scenario for v in verdicts):
        mine = [v for v in verdicts if v.scenario == scenario]

        def count(*words: str, mine: list[Verdict] = mine) -> int:
            return sum(any(w in p for w in words for p in v.problems) for v in mine)

        stops = [v.stop_seconds for v in mine if v.stop_seconds is not None]
        rows.append([
            scenario.backend, scenario.job, scenario.fault, len(mine),
            sum(v.outcome == "survived" for v in mine),
            sum(v.outcome in ("failed", "interrupted") for v in mine),
            sum(v.outcome == "start-up" for v in mine),
            count("hung"), count("wrong"), count("left"), count("not one line"),
            count("not survived"), count("stopped in"),
            f"{max(stops):.2f}" if stops else "",
        ])  # fmt: skip
    header = ["backend", "job", "fault", "runs", "finished", "stopped", "in start-up",
              "hangs", "wrong", "leftovers", "not one line", "lost", "slow stops",
              "longest stop s"]  # fmt: skip
    return tabulate(rows, header, tablefmt="github")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.campaign", description=__doc__)
    parser.add_argument(
        "--runs", type=int, default=30, help="runs per process backend, job and fault (30)"
    )
    parser.add_argument("--dask-runs", type=int, default=10, help="runs per dask scenario (10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", default="8MB", help="each job's input (default: 8MB)")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS))
    parser.add_argument("--jobs", nargs="+", default=["sort", "wordcount"], choices=sorted(JOBS))
    parser.add_argument("--faults", nargs="+", default=list(FAULTS), choices=list(FAULTS))
    parser.add_argument(
        "--shuffle", choices=["memory", "disk"], help="every job's shuffle (default: JOBS's)"
    )
    args = parser.parse_args(argv)
    scenarios = [
        Scenario(b, j, f, args.shuffle or "")
        for b in args.backends
        for j in args.jobs
        for f in args.faults
    ]

    def report(verdict: Verdict) -> None:
        s = verdict.scenario
        line = f"{s.backend} {s.job} {s.fault} at {verdict.moment:.2f} s: {verdict.outcome}"
        print(line + "".join(f"; {p}" for p in verdict.problems), flush=True)
        if verdict.problems and verdict.log:
            print("    " + verdict.log.strip().replace("\n", "\n    "), flush=True)

    with tempfile.TemporaryDirectory(prefix="campaign-") as top:
        workloads = prepare(Path(top), args.jobs, args.size)
        plan = [(s, args.dask_runs if s.backend == "dask" else args.runs) for s in scenarios]
        verdicts = campaign(plan, args.seed, workloads, Path(top), report)
    print()
    print(table(verdicts))
    failed = [v for v in verdicts if v.problems]
    print(f"\n{len(failed)} of {len(verdicts)} runs had a problem (seed {args.seed})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
