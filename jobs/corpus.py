"""A seeded generator of Zipf-distributed text, so no study or test needs a download.

Word frequencies in natural language follow Zipf's law: the word of rank r
occurs about 1/r^s as often as the most common one.  The vocabulary is made
of syllables, with some accented, Greek and Cyrillic words (multi-byte UTF-8),
capitalised forms, punctuation, digits and underscores, so tokenising is
exercised as real text would.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator

SYLLABLES = (
    "ka ri to na mi lo se ve du pa ten bor ing ex al on re de com pro ter sta "
    "qua zel fi gro ush wen ly ment tion ble"
).split()
ACCENTED = "é è ü ö ä ß ø å ñ ç".split()
GREEK = "α β γ δ ε λ μ π ρ σ τ ω".split()
CYRILLIC = "а б в г д ж к л м н о п р с т".split()
DECORATIONS = ("{}", "{}", "{}", "{},", "{}.", "{}'s", "({})", "{}42", "x_{}", "{}—")
VOCABULARY = 20_000
ZIPF_EXPONENT = 1.1


def make_vocabulary(rng: random.Random, size: int) -> list[str]:
    """``size`` distinct made-up words, mostly Latin syllables, some non-ASCII."""
    vocabulary: dict[str, None] = {}
    while len(vocabulary) < size:
        roll = rng.random()
        if roll < 0.05:
            word = "".join(rng.choices(GREEK, k=rng.randint(2, 7)))
        elif roll < 0.10:
            word = "".join(rng.choices(CYRILLIC, k=rng.randint(2, 7)))
        else:
            word = "".join(rng.choices(SYLLABLES, k=rng.randint(1, 4)))
            if roll < 0.20:
                at = rng.randrange(len(word) + 1)
                word = word[:at] + rng.choice(ACCENTED) + word[at:]
        vocabulary[word] = None
    return list(vocabulary)


def make_tokens(rng: random.Random, vocabulary: list[str]) -> list[str]:
    """Each word as it may appear in text: plain, capitalised or decorated."""
    tokens = []
    for word in vocabulary:
        form = word.capitalize() if rng.random() < 0.1 else word
        tokens.append(rng.choice(DECORATIONS).format(form))
    return tokens


def zipf_cumulative(count: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    """Cumulative Zipf weights for ranks 1..count, for ``random.choices(cum_weights=...)``."""
    return list(itertools.accumulate(1 / rank**exponent for rank in range(1, count + 1)))


class ZipfText:
    """Zipf-distributed tokens of a made-up vocabulary, all fixed by ``seed``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.tokens = make_tokens(self.rng, make_vocabulary(self.rng, VOCABULARY))
        self.weights = zipf_cumulative(len(self.tokens))

    def words(self, count: int) -> list[str]:
        """``count`` tokens drawn by Zipf's law."""
        return self.rng.choices(self.tokens, cum_weights=self.weights, k=count)

    def sentence(self, count: int) -> str:
        """``count`` tokens joined by spaces."""
        return " ".join(self.words(count))

    def lines(self) -> Iterator[str]:
        """An endless stream of lines of 4 to 16 tokens."""
        while True:
            drawn = self.words(65_536)
            at = 0
            while at < len(drawn):
                width = self.rng.randint(4, 16)
                yield " ".join(drawn[at : at + width]) + "\n"
                at += width


def write_up_to(path: str, size: int, lines: Iterable[str]) -> int:
    """Write whole ``lines`` to ``path`` until the next would pass ``size`` bytes.

    Returns the bytes written.  ``lines`` must be endless or long enough.
    """
    written = 0
    with open(path, "wb") as out:
        buffer: list[bytes] = []
        for line in lines:
            data = line.encode("utf-8")
            if written + len(data) > size:
                break
            buffer.append(data)
            written += len(data)
            if len(buffer) >= 4096:
                out.write(b"".join(buffer))
                buffer.clear()
        out.write(b"".join(buffer))
    return written


def write_zipf_text(path: str, size: int, seed: int) -> int:
    """Write whole lines of Zipf text to ``path``, up to ``size`` bytes; return how many."""
    return write_up_to(path, size, ZipfText(seed).lines())
