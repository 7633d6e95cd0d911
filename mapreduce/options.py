"""A run's options, in one object: how it is cut up, shuffled, sorted and kept going.

The command line builds one from its flags, ``mapreduce.run`` from its keyword
arguments, and the driver hands it on whole: to the plan, and from the plan to
every task.  Options are checked when they are made, before any worker starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mapreduce.errors import MapReduceError
from mapreduce.shuffle import MODES
from mapreduce.sorting import SORT_BUFFER
from mapreduce.splits import MAX_RECORD
from mapreduce.tasks import DEFAULT_MAX_ATTEMPTS, FaultPolicy, Stress

MAX_REDUCERS = 10_000
"""Each map task keeps a bucket per reducer: more than this is a mistake that eats memory."""

MAX_SPLITS = 100_000
"""More map tasks than this costs more in descriptors and round trips than it could save."""

MAX_TASK_TIMEOUT = 7 * 24 * 3600
"""A week: a longer task time-out is a typing mistake (and would overflow a timer)."""


@dataclass(frozen=True)
class Options:
    """Everything about a run but its job, its input and its backend."""

    reducers: int = 1
    split_count: int | None = None
    """Map tasks for the first step's input (None: ``driver.default_split_count``)."""
    cut_by_lines: bool = False
    """Cut the input into splits of equally many lines, not bytes (``mapreduce.splits``)."""
    shuffle: str = "auto"
    """``auto``, ``memory`` or ``disk`` (see ``mapreduce.shuffle.choose``)."""
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    """Tries the run gives each way a task's execution can end badly before it fails (see
    ``FaultPolicy.max_attempts``)."""
    skip_bad_records: bool = False
    max_record: int = MAX_RECORD
    """The longest input line accepted, in bytes: a longer one is an error naming its file and
    offset, rather than a record held whole in memory."""
    task_timeout: float | None = None
    """Seconds an execution may run before it is declared lost and run again."""
    backup_tasks: bool = False
    sort_buffer: int = SORT_BUFFER
    """Bytes of pairs a reduce task sorts in memory before it sorts on disk."""
    stress: Stress = field(default_factory=Stress)
    """What ``mapreduce check`` changes (off: the defaults)."""
    keep_pairs: bool = False
    """Whether the result keeps the output pairs (``RunResult.pairs``), not only its lines."""

    def __post_init__(self) -> None:
        require_count("reducers", self.reducers, MAX_REDUCERS)
        if self.split_count is not None:
            require_count("splits", self.split_count, MAX_SPLITS)
        if self.shuffle not in MODES:
            raise MapReduceError(
                f"shuffle must be one of {', '.join(MODES)}, not {self.shuffle!r}"
            )
        require_count("max attempts", self.max_attempts, 100)
        require_count("max record", self.max_record, 1 << 40)
        require_count("sort buffer", self.sort_buffer, 1 << 50)
        timeout = self.task_timeout
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout <= MAX_TASK_TIMEOUT
        ):
            raise MapReduceError(
                f"task time-out must be a number of seconds above 0 and at most "
                f"{MAX_TASK_TIMEOUT:,}, not {timeout!r}"
            )

    @property
    def policy(self) -> FaultPolicy:
        """What a task does when the job's code raises, or runs too long."""
        return FaultPolicy(
            self.max_attempts, self.skip_bad_records, self.task_timeout, self.backup_tasks
        )


def require_count(name: str, value: object, maximum: int) -> None:
    """Fail unless ``value`` is a whole number from 1 to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MapReduceError(f"{name} must be a whole number of at least 1, not {value!r}")
    if value > maximum:
        raise MapReduceError(f"{name} must be at most {maximum:,}, not {value:,}")
