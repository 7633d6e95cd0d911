"""An I/O-bound job: each record waits, as a request to a slow server would.

The wait is ``time.sleep``, which releases the GIL, so threads overlap their
waits and scale past the number of cores; processes do too, at a higher price.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from jobs.common import add_up
from jobs.corpus import write_up_to, zipf_cumulative
from mapreduce import Job
from mapreduce.params import Param, at_least


class Fetch(Job):
    """Maps a URL to (host, 1) after a simulated request; adds them up per host."""

    name = "fetch"
    description = "requests per host, each URL 'fetched' with a simulated latency (I/O-bound)"
    params = {
        "latency_ms": Param(5.0, "simulated wait per URL, in milliseconds", float, at_least(0))
    }
    default_size = 16_000
    workload = "io"

    def mapper(self, key: object, url: str) -> Iterator[tuple[str, int]]:
        host = urlsplit(url).hostname
        if not host:
            raise ValueError(f"not a URL with a host: {url[:60]!r}")
        time.sleep(self.latency_ms / 1000)
        yield host, 1

    combiner = reducer = add_up

    @classmethod
    def generate_input(cls, path: str, size: int, seed: int) -> None:
        rng = random.Random(seed)
        hosts = [f"server{n}.example" for n in range(20)]
        weights = zipf_cumulative(len(hosts))

        def urls() -> Iterator[str]:
            while True:
                host = rng.choices(hosts, cum_weights=weights)[0]
                yield f"http://{host}/item/{rng.randrange(10**6)}\n"

        write_up_to(path, size, urls())
