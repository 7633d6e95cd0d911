"""The job catalog: one small module per job, each on the ``mapreduce.Job`` interface."""

from __future__ import annotations

from jobs.compress import Compress
from jobs.fetch import Fetch
from jobs.grep import Grep
from jobs.invertedindex import InvertedIndex
from jobs.pi import Pi
from jobs.reverselinks import ReverseLinks
from jobs.sort import Sort
from jobs.termvector import TermVector
from jobs.topwords import TopWords
from jobs.urlcount import UrlCount
from jobs.wordcount import WordCount
from jobs.wordmean import WordMean
from mapreduce import Job

CATALOG: dict[str, type[Job]] = {
    job.name: job
    for job in (
        WordCount,
        Grep,
        UrlCount,
        ReverseLinks,
        TermVector,
        InvertedIndex,
        Sort,
        Pi,
        TopWords,
        WordMean,
        Fetch,
        Compress,
    )
}
"""Every job, by the name the CLI and the study use."""
