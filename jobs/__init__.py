"""The job catalog: one small module per job, each on the ``mapreduce.Job`` interface."""

from __future__ import annotations

from jobs.wordcount import WordCount
from mapreduce import Job

CATALOG: dict[str, type[Job]] = {job.name: job for job in (WordCount,)}
"""Every job, by the name the CLI and the study use."""
