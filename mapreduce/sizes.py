"""Sizes written the way people write them: ``20MB``, ``1.5GB``, ``512KiB``, ``1000``."""

from __future__ import annotations

import re

UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
}
SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def parse_size(text: str) -> int:
    """Bytes in ``text``; KB, MB, GB are powers of 1000 and KiB, MiB, GiB of 1024."""
    match = SIZE.fullmatch(text)
    unit = match and UNITS.get(match.group(2).upper())
    if not match or unit is None:
        raise ValueError(f"not a size: {text!r} (try 20MB, 1.5GB or 512KiB)")
    return int(float(match.group(1)) * unit)


def format_size(size: float) -> str:
    """``size`` bytes in the largest decimal unit that keeps it at 1 or more."""
    for unit in ("GB", "MB", "KB"):
        if size >= UNITS[unit]:
            return f"{size / UNITS[unit]:.1f} {unit}"
    return f"{int(size)} B"
