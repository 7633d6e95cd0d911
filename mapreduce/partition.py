"""A partitioner that puts a key in the same bucket in every process.

Python's ``hash()`` of a ``str`` is salted per process (PYTHONHASHSEED), so
under the ``spawn`` start method two workers would send the same word to
different reducers.  CRC-32 of the key's bytes is the same everywhere.
"""

from __future__ import annotations

import zlib
from typing import Any


def key_bytes(key: Any) -> bytes:
    """Bytes that stand for ``key`` the same way in every process and run."""
    if isinstance(key, str):
        return key.encode("utf-8", "surrogatepass")
    if isinstance(key, bytes):
        return key
    return repr(key).encode("utf-8", "surrogatepass")


def crc32_partition(key: Any, reducers: int) -> int:
    """The reduce partition, in ``range(reducers)``, for ``key``."""
    return zlib.crc32(key_bytes(key)) % reducers
