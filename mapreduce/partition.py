"""What a key may be, and a partitioner that sends equal keys to the same reducer.

Reducers group keys with ``==``, so the partitioner must give keys that are
equal the same bucket: ``1``, ``1.0`` and ``True`` are one key.  It must also
give a key the same bucket in every process: Python's ``hash()`` of a ``str``
is salted per process (PYTHONHASHSEED), so under the ``spawn`` start method
two workers would send the same word to different reducers.  CRC-32 of the
key's canonical bytes is the same everywhere.

A key is a ``str``, ``bytes``, ``int``, ``bool``, ``float`` (not NaN, which
equals nothing, itself included) or a tuple of keys; the keys of one job must
sort together (all text, or all numbers, ...).  Anything else (``None``, a
``datetime``, an object) is refused with a ``JobError``: its text could differ
between equal keys.
"""

from __future__ import annotations

import reprlib
import zlib
from typing import Any

from mapreduce.errors import JobError

KEY_TYPES = "str, bytes, int, bool, float (not NaN) or a tuple of these"


def canonical(key: Any) -> Any:
    """``key`` with equal numbers made one value (``1.0`` and ``True`` become ``1``)."""
    if isinstance(key, str | bytes):
        return key
    if isinstance(key, int):
        return int(key)
    if isinstance(key, float):
        if key != key:
            raise JobError("a key is NaN, which equals no key, itself included: it cannot group")
        return int(key) if key.is_integer() else key
    if isinstance(key, tuple):
        return tuple(canonical(part) for part in key)
    raise JobError(
        f"the key {reprlib.repr(key)} is of type {type(key).__name__}; a key is {KEY_TYPES}"
    )


def check_key(key: Any) -> None:
    """A ``JobError`` unless ``key`` is a key the engine can partition and group."""
    if type(key) is not str:
        canonical(key)


def key_bytes(key: Any) -> bytes:
    """Bytes that stand for ``key``, and any key equal to it, in every process and run."""
    if type(key) is str:
        return key.encode("utf-8", "surrogatepass")
    return repr(canonical(key)).encode("utf-8", "surrogatepass")


def crc32_partition(key: Any, reducers: int) -> int:
    """The reduce partition, in ``range(reducers)``, for ``key``."""
    return zlib.crc32(key_bytes(key)) % reducers


def mixed_keys(exc: TypeError) -> JobError:
    """The error for keys that do not sort together (``1`` and ``"a"``)."""
    return JobError(
        f"keys that cannot be sorted together ({exc}); "
        "all keys of a job must be comparable: all text, or all numbers, ..."
    )
