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


def zipf_lines(seed: int) -> itertools.chain[str]:
    """An endless stream of lines of Zipf-distributed tokens, fixed by ``seed``."""
    rng = random.Random(seed)
    tokens = make_tokens(rng, make_vocabulary(rng, VOCABULARY))
    weights = list(
        itertools.accumulate(1 / rank**ZIPF_EXPONENT for rank in range(1, len(tokens) + 1))
    )

    def batches():
        while True:
            drawn = rng.choices(tokens, cum_weights=weights, k=65_536)
            at = 0
            lines = []
            while at < len(drawn):
                width = rng.randint(4, 16)
                lines.append(" ".join(drawn[at : at + width]) + "\n")
                at += width
            yield lines

    return itertools.chain.from_iterable(batches())


def write_zipf_text(path: str, size: int, seed: int) -> int:
    """Write whole lines of Zipf text to ``path``, up to ``size`` bytes; return how many."""
    written = 0
    with open(path, "wb") as out:
        buffer: list[bytes] = []
        for line in zipf_lines(seed):
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
