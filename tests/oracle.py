"""Answers computed without the engine, to check it against.

The word oracle does not share the engine's tokenizer: it walks the text one
character at a time with ``str.isalpha`` instead of using a regular expression.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path


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


# -- the rest of the catalog ---------------------------------------------------
#
# Each oracle reads whole files and computes the job's answer in the plainest
# Python, sharing no code with jobs/: its own line splitting, its own word
# splitting (str.isalpha), its own formatting.


def field(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def pairs_text(pairs: Iterable[tuple[object, object]]) -> str:
    return "".join(f"{field(k)}\t{field(v)}\n" for k, v in pairs)


def file_lines(path: str) -> list[str]:
    """The lines of a UTF-8 file: split at "\\n", a "\\r" before it dropped."""
    parts = Path(path).read_bytes().decode("utf-8").split("\n")
    last = parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts] + ([last] if last else [])


def oracle_words(text: str) -> list[str]:
    return [
        "".join(run).lower()
        for is_letter, run in itertools.groupby(text, str.isalpha)
        if is_letter
    ]


def oracle_wordcount(paths: list[str], **params) -> str:
    return oracle_output(oracle_word_counts("\n".join(file_lines(p)) for p in paths))


def oracle_grep(paths: list[str], pattern: str = "qua(zel)+") -> str:
    return "".join(
        f"{path}:{number}:{line}\n"
        for path in sorted(paths)
        for number, line in enumerate(file_lines(path), start=1)
        if re.search(pattern, line)
    )


def oracle_urlcount(paths: list[str]) -> str:
    counts = Counter(line.split('"')[1].split(" ")[1] for p in paths for line in file_lines(p))
    return pairs_text(sorted(counts.items()))


def oracle_reverselinks(paths: list[str]) -> str:
    sources: dict[str, set[str]] = {}
    for path in paths:
        for line in file_lines(path):
            page, html = line.split("\t", 1)
            for chunk in html.split('<a href="')[1:]:
                sources.setdefault(chunk.split('"')[0], set()).add(page)
    return pairs_text((target, sorted(pages)) for target, pages in sorted(sources.items()))


def oracle_termvector(paths: list[str], top: int = 10) -> str:
    vectors: dict[str, Counter[str]] = {}
    for path in paths:
        for line in file_lines(path):
            url, text = line.split("\t", 1)
            host = url.split("://", 1)[1].split("/")[0].split(":")[0].lower()
            vectors.setdefault(host, Counter()).update(oracle_words(text))
    return pairs_text(
        (host, [[w, n] for w, n in sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))[:top]])
        for host, v in sorted(vectors.items())
    )


def oracle_invertedindex(paths: list[str]) -> str:
    index: dict[str, set[str]] = {}
    for path in paths:
        for line in file_lines(path):
            document, text = line.split("\t", 1) if "\t" in line else (Path(path).name, line)
            for word in oracle_words(text):
                index.setdefault(word, set()).add(document)
    return pairs_text((word, sorted(docs)) for word, docs in sorted(index.items()))


def oracle_sort(paths: list[str], **params) -> str:
    return "".join(f"{line}\n" for line in sorted(line for p in paths for line in file_lines(p)))


def oracle_pi(paths: list[str]) -> str:
    inside = points = 0
    for path in paths:
        for line in file_lines(path):
            seed, count = map(int, line.split())
            rng = random.Random(seed)
            for _ in range(count):
                x, y = rng.random(), rng.random()
                inside += x * x + y * y <= 1.0
            points += count
    return pairs_text([("inside", inside), ("pi", 4 * inside / points), ("points", points)])


def oracle_topwords(paths: list[str], top: int = 10) -> str:
    counts = oracle_word_counts("\n".join(file_lines(p)) for p in paths)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return "".join(f"{rank}\t{w}\t{n}\n" for rank, (w, n) in enumerate(ranked, start=1))


def oracle_wordmean(paths: list[str]) -> str:
    lengths: dict[str, list[int]] = {}
    for path in paths:
        for word in oracle_words("\n".join(file_lines(path))):
            lengths.setdefault(word[0], []).append(len(word))
    return pairs_text((k, round(sum(v) / len(v), 6)) for k, v in sorted(lengths.items()))


def oracle_fetch(paths: list[str], latency_ms: float = 5.0) -> str:
    hosts = Counter(
        line.split("://", 1)[1].split("/")[0].split(":")[0].lower()
        for p in paths
        for line in file_lines(p)
    )
    return pairs_text(sorted(hosts.items()))


def oracle_compress(paths: list[str], level: int = 6) -> str:
    totals = {}
    for path in paths:
        blocks = [line.encode("utf-8") for line in file_lines(path)]
        if not blocks:
            continue  # a file with no lines has no blocks and no output line
        raw = sum(len(b) for b in blocks)
        totals[path] = [raw, sum(len(zlib.compress(b, level)) for b in blocks)]
    return pairs_text(sorted(totals.items()))


ORACLES = {
    "wordcount": oracle_wordcount,
    "grep": oracle_grep,
    "urlcount": oracle_urlcount,
    "reverselinks": oracle_reverselinks,
    "termvector": oracle_termvector,
    "invertedindex": oracle_invertedindex,
    "sort": oracle_sort,
    "pi": oracle_pi,
    "topwords": oracle_topwords,
    "wordmean": oracle_wordmean,
    "fetch": oracle_fetch,
    "compress": oracle_compress,
}
"""Job name -> function(input paths, **job params) -> the expected output text."""
