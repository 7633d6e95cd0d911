"""How fast this machine runs Python today, so that the inputs take the time they are sized for.

A preset's sizes make one sequential run of each job take about 1.15 s on
the machine they were set on.  A slower machine, or the same one on a busy
day, would take longer over every cell and miss the study's budget; a faster
one would time start-up more than work.  So, as pyperf and Google's benchmark
library calibrate their loops, the study first times a probe (``pi`` on the
sequential backend, on an eighth of its default input, the fastest of five
runs) and scales every input whose work is the processor's by the probe's
time on the reference machine over its time here.  The factor moves in
half-octave steps, so that runs on one machine mostly keep their inputs (and
the files already made for them); ``--scale`` gives it instead, to make
another machine's inputs.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

from compare.design.datasets import generated
from compare.design.presets import DEFAULT_SIZES, Preset, Sweep
from mapreduce import driver
from mapreduce.catalog import find_job

PROBE_JOB = "pi"
PROBE_SIZE = DEFAULT_SIZES[PROBE_JOB] // 8
PROBE_RUNS = 5

REFERENCE_SECONDS = 0.076
"""The probe's time where the default sizes take the times the reference run shows (pi's
matrix input 0.83 s sequential, ``docs/reference``): measured as 0.22 s on the project's
machine on a day when that input took 2.41 s in the study, so 0.22 x 0.83 / 2.41."""

STEPS_PER_OCTAVE = 2
LIMITS = (0.25, 2.0)
"""The smallest and largest factor: a machine far off either way gets sizes no further off."""


@dataclass(frozen=True)
class Scale:
    """The factor the preset's processor-bound inputs were scaled by, and why."""

    factor: float
    probe_seconds: float | None = None
    """The probe's time here (None: the factor was given with ``--scale``)."""

    def describe(self) -> str:
        if self.probe_seconds is None:
            return f"scaled by {self.factor:g} (given with --scale)"
        return (
            f"scaled by {self.factor:g} to this machine: the probe ({PROBE_JOB}, sequential, "
            f"{find_job(PROBE_JOB).input_label(PROBE_SIZE)}) took {self.probe_seconds:.3f} s, "
            f"against {REFERENCE_SECONDS:.3f} s on the machine the sizes were set on; "
            f"`--scale {self.factor:g}` makes the same inputs elsewhere"
        )


def probe_seconds() -> float:
    """The fastest of ``PROBE_RUNS`` sequential runs of the probe, in seconds."""
    job, paths = find_job(PROBE_JOB)(), generated(PROBE_JOB, PROBE_SIZE).paths
    times = []
    for _ in range(PROBE_RUNS):
        started = time.perf_counter()
        driver.run(job, paths, "sequential").close()
        times.append(time.perf_counter() - started)
    return min(times)


def factor_for(seconds: float) -> float:
    """The reference's probe time over this one, in half-octave steps within ``LIMITS``, to
    two figures (0.35, 0.5, 0.71, 1, 1.4): a factor one can type again with ``--scale``."""
    steps = round(STEPS_PER_OCTAVE * math.log2(REFERENCE_SECONDS / seconds))
    step = min(max(2 ** (steps / STEPS_PER_OCTAVE), LIMITS[0]), LIMITS[1])
    return float(f"{step:.2g}")


def scaled(preset: Preset, factor: float) -> Preset:
    """``preset`` with every input whose work is the processor's ``factor`` times as large:
    the matrix's and the sweeps' (not an I/O-bound job's, whose time is its waits)."""

    def times(size: int, job: str) -> int:
        return size if find_job(job).workload == "io" else max(1, round(size * factor))

    def sized(sweep: Sweep | None) -> Sweep | None:
        """A sweep at a scaled size (the granularity and start-method sweeps)."""
        return sweep and dataclasses.replace(sweep, size=times(sweep.size, sweep.job))

    growing = preset.input_size  # its values are the sizes
    return dataclasses.replace(
        preset,
        sizes={job: times(size, job) for job, size in preset.sizes.items()},
        granularity=sized(preset.granularity),
        input_size=growing
        and dataclasses.replace(
            growing, values=tuple(times(v, growing.job) for v in growing.values)
        ),
        start_method=sized(preset.start_method),
        baseline_size=times(preset.baseline_size, "wordcount"),
    )
