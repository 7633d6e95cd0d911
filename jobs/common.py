"""Reducers and combiners that several jobs share.

Plain functions, so a job can use one as a method: ``combiner = reducer = add_up``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def add_up(self: Any, key: Any, values: Iterable[int]) -> Iterator[tuple[Any, int]]:
    """The key and the sum of its values."""
    yield key, sum(values)


def add_up_columns(
    self: Any, key: Any, values: Iterable[tuple[int, ...]]
) -> Iterator[tuple[Any, tuple[int, ...]]]:
    """The key and the column-wise sums of its tuples: ``(1, 2), (3, 4)`` gives ``(4, 6)``."""
    yield key, tuple(map(sum, zip(*values, strict=True)))
