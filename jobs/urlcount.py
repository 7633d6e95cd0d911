"""URL access frequency from web-server logs in Common Log Format (paper, 2.3)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from jobs.common import add_up
from jobs.corpus import write_up_to, zipf_cumulative
from mapreduce import Job

# host ident user [time] "METHOD url PROTOCOL" status bytes
COMMON_LOG_FORMAT = re.compile(r'\S+ \S+ \S+ \[[^\]]+\] "\S+ (\S+)(?: \S+)?" \d{3} (?:\d+|-)')


class UrlCount(Job):
    """Maps each request line to (URL, 1); the combiner and reducer add them up."""

    name = "urlcount"
    description = "how many requests each URL received, from Common Log Format access logs"

    def mapper(self, key: object, line: str) -> Iterator[tuple[str, int]]:
        match = COMMON_LOG_FORMAT.match(line)
        if match is None:
            raise ValueError(f"not a Common Log Format line: {line[:60]!r}")
        yield match.group(1), 1

    combiner = reducer = add_up

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        write_up_to(path, size, access_log(seed))


def access_log(seed: int) -> Iterator[str]:
    """Endless access-log lines: Zipf-popular URLs, random clients, rising timestamps."""
    rng = random.Random(seed)
    urls = [
        f"/{section}/{rng.randrange(10**6):06d}.html"
        for section in ("a", "b", "c", "d")
        for _ in range(1250)
    ]
    weights = zipf_cumulative(len(urls))
    moment = datetime(2004, 12, 6, tzinfo=timezone(timedelta(hours=-8)))
    while True:
        moment += timedelta(milliseconds=rng.randrange(1000))
        url = rng.choices(urls, cum_weights=weights)[0]
        client = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
        method = rng.choice(("GET", "GET", "GET", "POST", "HEAD"))
        status = rng.choice((200, 200, 200, 304, 404))
        stamp = moment.strftime("%d/%b/%Y:%H:%M:%S %z")
        size = rng.randrange(200, 9000)
        yield f'{client} - - [{stamp}] "{method} {url} HTTP/1.1" {status} {size}\n'
