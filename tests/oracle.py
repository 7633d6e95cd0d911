"""Answers computed without the engine, to check it against.

The word oracle does not share the engine's tokenizer: it walks the text one
character at a time with ``str.isalpha`` instead of using a regular expression.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable


def oracle_word_counts(texts: Iterable[str]) -> Counter[str]:
    """Counter of maximal runs of ``str.isalpha`` characters, each lowercased."""
    counts: Counter[str] = Counter()
    for text in texts:
        for is_letter, run in itertools.groupby(text, str.isalpha):
            if is_letter:
                counts["".join(run).lower()] += 1
    return counts


def oracle_output(counts: Counter[str]) -> str:
    """The expected output file: ``word<TAB>count`` lines in sorted word order."""
    return "".join(f"{word}\t{counts[word]}\n" for word in sorted(counts))
