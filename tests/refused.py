"""A job whose module imports psutil, whose C extension refuses to load in a subinterpreter
(the kind of job the interpreters backend cannot run)."""

from __future__ import annotations

import psutil

from jobs.wordcount import WordCount


class NeedsPsutil(WordCount):
    """Word count that counts on psutil being there."""

    name = "needspsutil"
    cores = psutil.cpu_count
