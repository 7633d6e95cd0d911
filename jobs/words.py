"""What a word is, for every text job: a maximal run of Unicode letters, lowercased.

A letter is a character for which ``str.isalpha()`` is true; digits,
underscores, punctuation, spaces and marks separate words.  Each run is
lowercased with ``str.lower`` after it is found (so ``İ`` lowers to ``i̇``
inside its word rather than splitting it).

``[^\\W\\d_]`` (word characters but digits and underscore) is the fast regular
expression for letters, but it also admits ~1,100 numeric symbols that are
not letters (``²``, ``½``, ``Ⅻ``); the rare run that holds one is split again.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

CANDIDATE = re.compile(r"[^\W\d_]+")


def letter_runs(run: str) -> list[str]:
    """The maximal runs of letters in ``run``, for the rare run with non-letters in it."""
    return ["".join(g) for is_letter, g in itertools.groupby(run, str.isalpha) if is_letter]


def words(text: str) -> list[str]:
    """The words of ``text``, in order, lowercased."""
    found: list[str] = []
    for run in CANDIDATE.findall(text):
        if run.isalpha():
            found.append(run.lower())
        else:
            found.extend(word.lower() for word in letter_runs(run))
    return found


def count_runs(text: str, runs: Counter[str] | None = None) -> Counter[str]:
    """Add the raw (not yet checked or lowercased) candidate runs of ``text`` to ``runs``."""
    runs = Counter() if runs is None else runs
    runs.update(CANDIDATE.findall(text))
    return runs


def words_of_runs(runs: Counter[str]) -> Counter[str]:
    """Word counts from raw run counts: each distinct run checked and lowercased once."""
    counts: Counter[str] = Counter()
    for run, n in runs.items():
        for word in [run] if run.isalpha() else letter_runs(run):
            counts[word.lower()] += n
    return counts


def count_words(text: str) -> Counter[str]:
    """How often each word occurs in ``text``: ``Counter(words(text))``, faster."""
    return words_of_runs(count_runs(text))
