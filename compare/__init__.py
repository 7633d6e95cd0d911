"""The study: a number's way from measurement to report.

- ``design``: what to measure (presets, the experiments' cells, their inputs).
- ``cells``: a cell, the record every stage passes on.
- ``measure``: timing the cells in interleaved rounds, CPU use, the environment.
- ``analyse``: speedups with their intervals, suspect values, findings, checks.
- ``render``: tables, plots, the report, and runs merged side by side.

``bench`` and ``candidate`` are a separate tool: the engine beside hand-written
word counts, each in a child process of its own (``nox -s bench``).
"""
