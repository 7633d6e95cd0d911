"""Running one phase's tasks on a backend: as a batch, or watching every execution.

As a batch (the default), the backend's ``run`` takes every task and yields
results as they finish; the library schedules them.  Watched (a task
time-out, or backup tasks), the driver schedules them itself, as the paper's
master does: it keeps one execution per worker in flight, so it knows how
long each has run, and

- an execution running longer than the time-out is declared lost: the backend
  is restarted (a process backend's workers killed and replaced, a stuck one
  with them; a thread cannot be stopped, so it is left to finish, unused) and
  every unfinished task runs again, counted in ``task_timeouts``;
- when no task is left to start and a worker is idle, the task in progress
  that has run longest, and longer than a typical task (the median of the
  phase's finished tasks so far, or of the run's if none has finished), gets
  a second execution (``backup_tasks``).  The first execution to finish wins
  (``backup_wins`` counts backups that did); the other is cancelled if it
  has not started, and otherwise left to finish, its result unused.

Every execution writes its own files (the disk shuffle names them by
execution), so two of one task never write the same file, and the output is
the same whichever wins.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from backends import Backend, WorkerLost
from backends.errors import causes, out_of_memory
from backends.signals import first_done
from mapreduce.errors import MapReduceError, TaskError, one_line, task_title
from mapreduce.tasks import TaskOutput

AfterTask = Callable[[str, int, int], None]
"""Called as each task of a phase finishes, with the phase, the tasks done and their total:
the progress bar is one; a study or test that kills a worker at a chosen moment is another."""

PICKLE_HINT = "; a task's keys and values must pickle to travel between processes"

MEMORY_HINT = (
    "out of memory: give the run more, or more reducers (--reducers), or the disk shuffle "
    "(--shuffle disk)"
)

RAISED = r"^(\w+\.)*\w*(Error|Exception)(: .*)?$"
"""The first exception line of a traceback carried as text (a subinterpreter's)."""

POLL_SECONDS = 0.1
"""How often a watched phase checks its executions' clocks and its workers."""


@dataclass(frozen=True)
class Slice:
    """One try of a task on the timeline: which, where, and from when to when
    (``time.monotonic``).  A lost execution that never came back has ``pid`` 0:
    its worker is unknown, and its times are when it was started and given up."""

    step: int
    phase: str
    index: int
    execution: int
    attempt: int
    outcome: str
    """``won``: it gave the task's result; ``failed``: it raised and was tried again;
    ``lost``: its result went unused (a backup race's loser, one timed out, one whose
    worker died)."""
    pid: int
    thread: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Ledger:
    """What a run's phases report into: counters, the timeline and the ``after_task`` hook."""

    counters: Counter[str] = field(default_factory=Counter)
    timeline: list[Slice] = field(default_factory=list)
    after_task: AfterTask | None = None
    step: int = 1

    def record(self, phase: str, index: int, output: TaskOutput, outcome: str = "won") -> None:
        """Put an execution that came back on the timeline, with the tries it retried."""
        where = (self.step, phase, index, output.execution)
        worker = (output.pid, output.thread)
        for attempt, (start, end) in enumerate(output.failures, start=1):
            self.timeline.append(Slice(*where, attempt, "failed", *worker, start, end))
        ended = (output.started, output.ended)
        self.timeline.append(Slice(*where, output.attempt, outcome, *worker, *ended))

    def report(self, phase: str, done: int, total: int) -> None:
        """Tell the ``after_task`` hook how many of the phase's tasks are done."""
        if self.after_task:
            self.after_task(phase, done, total)

    def typical(self, phase: str) -> float | None:
        """The median seconds of the phase's won executions so far, else of the run's."""
        won = [s for s in self.timeline if s.outcome == "won"]
        here = [s.seconds for s in won if (s.step, s.phase) == (self.step, phase)]
        durations = here or [s.seconds for s in won]
        return statistics.median(durations) if durations else None


@dataclass
class Losses:
    """Counts a phase's lost workers against the policy's ``max_attempts``."""

    backend: Backend
    job: str
    phase: str
    limit: int
    count: int = 0

    def restart(
        self, exc: WorkerLost, unfinished: int, total: int, counters: Counter[str]
    ) -> None:
        """Restart the backend after a lost worker, or fail the run past the limit."""
        self.count += 1
        if self.count >= self.limit:
            raise MapReduceError(
                f"{self.job}: {self.phase} phase lost a worker {self.count} times, the limit "
                f"(max attempts {self.limit}), with {unfinished} of {total} tasks unfinished; "
                f"last: {exc}"
            ) from exc
        counters["worker_restarts"] += 1
        self.backend.restart()


def carried(exc: BaseException) -> str:
    """The error a traceback carried as text ends in (a subinterpreter's, a pool's
    ``_RemoteTraceback``), or ``""`` if ``exc`` carries none."""
    text = str(exc)
    raised = re.search(RAISED, text, re.MULTILINE)
    return raised.group(0) if raised else ""


def failure(job: str, phase: str, backend: Backend, exc: Exception) -> MapReduceError:
    """A phase that failed for a reason other than its job's code (a task that did not pickle,
    a module a subinterpreter refused), with the first cause in the chain."""
    first = causes(exc)[-1]
    cause = carried(first) or one_line(first)
    # a pool's traceback of ``exc`` itself, carried as text, is no cause of its own
    same = first is exc or cause in (one_line(exc), type(exc).__name__)
    why = one_line(exc) if same else f"{one_line(exc)}, from {cause}"
    hint = PICKLE_HINT if backend.pickles else ""
    if out_of_memory(exc):
        hint = f"; {MEMORY_HINT}"
    where = f"{job}: {phase} phase failed on the {backend.name} backend"
    return MapReduceError(f"{where}: {why}{hint}")


def run_phase(
    backend: Backend,
    fn: Callable[[Any], TaskOutput],
    tasks: list[Any],
    phase: str,
    ledger: Ledger,
) -> list[TaskOutput]:
    """Run one phase's tasks on the backend; return their outputs in task order.

    If a worker dies, the tasks it may have held are lost: the backend is
    restarted and every unfinished task runs again, up to the policy's
    ``max_attempts`` runs in all, counted in ``worker_restarts``.
    """
    if not tasks:
        return []
    if tasks[0].policy.watched:
        return Watch(backend, fn, tasks, phase, ledger).run()
    outputs: list[TaskOutput | None] = [None] * len(tasks)
    job = tasks[0].job.name
    losses = Losses(backend, job, phase, tasks[0].policy.max_attempts)
    done = 0
    ledger.report(phase, done, len(tasks))
    while unfinished := [i for i, output in enumerate(outputs) if output is None]:
        try:
            for index, output in backend.run(fn, [tasks[i] for i in unfinished]):
                outputs[unfinished[index]] = output
                done += 1
                ledger.report(phase, done, len(tasks))
        except WorkerLost as exc:
            losses.restart(exc, len(unfinished), len(tasks), ledger.counters)
        except TaskError:
            raise
        except Exception as exc:
            raise failure(job, phase, backend, exc) from exc
    for index, output in enumerate(outputs):
        ledger.record(phase, index, output)
    return outputs


@dataclass
class Execution:
    """One execution of a task, submitted by a watched phase."""

    index: int
    number: int
    submitted: float
    backup: bool
    loser: bool = False
    """Another execution of the task won: this one runs on, its result unused."""


class Watch:
    """A phase whose every execution the driver starts, times and, if need be, replaces."""

    def __init__(
        self,
        backend: Backend,
        fn: Callable[[Any], TaskOutput],
        tasks: list[Any],
        phase: str,
        ledger: Ledger,
    ) -> None:
        self.backend, self.fn, self.tasks, self.phase, self.ledger = (
            backend, fn, tasks, phase, ledger
        )  # fmt: skip
        self.policy = tasks[0].policy
        self.job = tasks[0].job.name
        self.outputs: list[TaskOutput | None] = [None] * len(tasks)
        self.waiting: deque[int] = deque(range(len(tasks)))
        self.running: dict[Future, Execution] = {}
        self.executions = [0] * len(tasks)
        self.timeouts = [0] * len(tasks)
        self.backed_up: set[int] = set()
        self.losses = Losses(backend, self.job, phase, self.policy.max_attempts)
        self.done = 0

    def run(self) -> list[TaskOutput]:
        self.report()
        while self.done < len(self.tasks):
            try:
                self.launch_waiting()
                if self.policy.backup_tasks:
                    self.launch_backups()
                finished, _ = first_done(self.running, self.until_next_check())
                for future in finished:
                    self.collect(future)
                self.backend.check()
                self.time_out()
            except WorkerLost as exc:
                unfinished = len(self.tasks) - self.done
                self.losses.restart(exc, unfinished, len(self.tasks), self.ledger.counters)
                self.start_over()
        self.give_up(self.running)  # losers still running: their workers finish them, unused
        return self.outputs

    def report(self) -> None:
        self.ledger.report(self.phase, self.done, len(self.tasks))

    def launch(self, index: int, backup: bool = False) -> None:
        self.executions[index] += 1
        task = dataclasses.replace(self.tasks[index], execution=self.executions[index])
        try:
            future = self.backend.submit(self.fn, task)
        except WorkerLost:
            raise
        except Exception as exc:
            raise failure(self.job, self.phase, self.backend, exc) from exc
        self.running[future] = Execution(index, task.execution, time.monotonic(), backup)

    def launch_waiting(self) -> None:
        """One execution per worker: a worker busy with a loser counts as busy."""
        while self.waiting and len(self.running) < self.backend.workers:
            self.launch(self.waiting.popleft())

    def launch_backups(self) -> None:
        """Back up the longest-running task while no task waits and a worker is idle."""
        if self.waiting or len(self.running) >= self.backend.workers:
            return  # checked first: the median below is only needed near a phase's end
        typical = self.ledger.typical(self.phase)
        if typical is None:
            return
        now = time.monotonic()
        while not self.waiting and len(self.running) < self.backend.workers:
            slow = [
                e for e in self.running.values()
                if not e.loser and e.index not in self.backed_up and now - e.submitted > typical
            ]  # fmt: skip
            if not slow:
                return
            oldest = min(slow, key=lambda e: e.submitted)
            self.backed_up.add(oldest.index)
            self.ledger.counters["backup_tasks"] += 1
            self.launch(oldest.index, backup=True)

    def until_next_check(self) -> float:
        """Seconds until the earliest time-out, or the poll interval if sooner."""
        limit = self.policy.task_timeout
        started = [e.submitted for e in self.running.values() if not e.loser]
        if limit is None or not started:
            return POLL_SECONDS
        return max(0.0, min(POLL_SECONDS, min(started) + limit - time.monotonic()))

    def collect(self, future: Future) -> None:
        """Take a finished execution's result, unless another execution of its task won."""
        execution = self.running.pop(future)
        decided = execution.loser or self.outputs[execution.index] is not None
        if future.cancelled():
            if not decided:  # cancelled by the library, not by this watch: run it again
                self.waiting.append(execution.index)
            return
        try:
            output = self.backend.result(future)
        except WorkerLost:
            raise
        except Exception as exc:
            if decided:
                return  # a loser that failed (its files removed under it, say): no matter
            if isinstance(exc, TaskError):
                raise
            raise failure(self.job, self.phase, self.backend, exc) from exc
        if decided:
            self.ledger.record(self.phase, execution.index, output, "lost")
            return
        self.outputs[execution.index] = output
        self.ledger.record(self.phase, execution.index, output)
        self.ledger.counters["backup_wins"] += execution.backup
        for other, rival in self.running.items():
            if rival.index == execution.index:
                rival.loser = True
                self.backend.cancel(other)
        self.done += 1
        self.report()

    def time_out(self) -> None:
        """Declare lost every execution past the time-out, and start over on fresh workers."""
        limit = self.policy.task_timeout
        now = time.monotonic()
        late = [
            e for e in self.running.values()
            if limit is not None and not e.loser and now - e.submitted > limit
        ]  # fmt: skip
        if not late:
            return
        for execution in late:
            self.ledger.counters["task_timeouts"] += 1
            self.timeouts[execution.index] += 1
            if self.timeouts[execution.index] >= self.policy.max_attempts:
                task = self.tasks[execution.index]
                raise MapReduceError(
                    f"{self.job}: {task_title(self.phase, task.index, task.total)} ({task}) "
                    f"ran longer than the {limit:g} s time-out {self.timeouts[execution.index]} "
                    f"times, the limit (max attempts {self.policy.max_attempts})"
                )
        self.backend.restart()
        self.start_over()

    def start_over(self) -> None:
        """After a restart every execution in flight is lost: queue the unfinished tasks again."""
        self.give_up(self.running)
        self.running = {}
        self.waiting = deque(i for i, output in enumerate(self.outputs) if output is None)

    def give_up(self, executions: dict[Future, Execution]) -> None:
        """Put executions that never came back on the timeline, their worker unknown."""
        now = time.monotonic()
        for execution in executions.values():
            self.ledger.timeline.append(
                Slice(self.ledger.step, self.phase, execution.index, execution.number, 1,
                      "lost", 0, "", execution.submitted, now)
            )  # fmt: skip
