"""Reverse web-link graph: for each target URL, the pages that link to it (paper, 2.3)."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterable, Iterator

from jobs.corpus import ZipfText, write_up_to, zipf_cumulative
from mapreduce import Job

LINK = re.compile(r'<a href="([^"]+)"')


class ReverseLinks(Job):
    """Maps a page to (target, source) for each link; reduces to the sorted set of sources."""

    name = "reverselinks"
    description = "for each linked URL, the sorted list of pages that link to it"
    default_size = 10_000_000

    def mapper(self, key: object, line: str) -> Iterator[tuple[str, str]]:
        source, tab, html = line.partition("\t")
        if not tab:
            raise ValueError(f"expected 'page URL<TAB>html', got {line[:60]!r}")
        for target in LINK.findall(html):
            yield target, source

    def reducer(self, target: str, sources: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
        yield target, sorted(set(sources))

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_up_to(path, size, web_pages(seed))


def web_pages(seed: int) -> Iterator[str]:
    """Endless ``url<TAB>html`` lines, each page linking to a few Zipf-popular pages."""
    text, rng = ZipfText(seed), random.Random(seed)
    targets = [f"http://site{site}.example/{n}.html" for site in range(50) for n in range(200)]
    weights = zipf_cumulative(len(targets))
    for number in itertools.count():
        source = f"http://site{rng.randrange(50)}.example/page{number}.html"
        links = rng.choices(targets, cum_weights=weights, k=rng.randint(0, 6))
        body = " ".join(
            f'{text.sentence(5)} <a href="{url}">{text.sentence(2)}</a>' for url in links
        )
        yield f"{source}\t<p>{body} {text.sentence(8)}</p>\n"
