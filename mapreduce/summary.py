"""What a run says about itself when it ends: its counters and phase times.

``mapreduce run --counters`` prints them to standard error, as Hadoop and
mrjob print a job's counters, in a fixed format that a script can read: a
heading line, then one ``  name=value`` line per counter (sorted by name) and
per phase (in the order they run)::

    counters of wordcount on pool x2:
      combine_output_pairs=48211
      input_records=120000
      ...
    seconds:
      map=0.412
      shuffle=0.031
      reduce=0.058
      merge=0.004
      total=0.512

A notebook shows a ``RunResult`` as the same facts in Markdown, with the
first lines of the output.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping

FIRST_LINES = 10
"""Output lines a notebook shows of a result."""


def counters_text(title: str, counters: Counter[str], seconds: Mapping[str, float]) -> str:
    """The counters and phase times (``seconds``, in the order to print them) of the run
    ``title`` names, in the format above."""
    lines = [f"counters of {title}:"]
    lines += [f"  {name}={counters[name]}" for name in sorted(counters)]
    lines.append("seconds:")
    lines += [f"  {phase}={value:.3f}" for phase, value in seconds.items()]
    return "\n".join(lines) + "\n"


def markdown(
    title: str, counters: Counter[str], seconds: Mapping[str, float], lines: Iterable[str]
) -> str:
    """A result as Markdown: its first output lines, counters and phase times."""
    first = list(itertools.islice(lines, FIRST_LINES + 1))
    shown = "".join(first[:FIRST_LINES]) + ("...\n" if len(first) > FIRST_LINES else "")
    parts = [f"**{title}**", "", "```", shown.rstrip("\n"), "```", ""]
    parts += ["| counter | value |", "|---|---:|"]
    parts += [f"| {name} | {counters[name]:,} |" for name in sorted(counters)]
    parts += ["", "| phase | seconds |", "|---|---:|"]
    parts += [f"| {phase} | {value:.3f} |" for phase, value in seconds.items()]
    return "\n".join(parts) + "\n"
