"""The argument types and the parser both command lines share (``mapreduce``, ``compare``):
every bad argument is one line naming it, never a usage dump."""

from __future__ import annotations

import argparse
from typing import NoReturn

from mapreduce.sizes import parse_size


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are a single line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    """An argument that must be a whole number of at least 1."""
    return whole(text, 1)


def count(text: str) -> int:
    """An argument that must be a whole number of at least 0 (0: none)."""
    return whole(text, 0)


def whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, not {value}")
    return value


def seconds(text: str) -> float:
    """An argument that is a number of seconds above 0, such as ``2.5``."""
    return above_zero(text, "a number of seconds")


def factor(text: str) -> float:
    """An argument that is a factor above 0, such as ``0.5``."""
    return above_zero(text, "a factor")


def above_zero(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be {what} above 0, not {text!r}")
    return value


def size(text: str) -> int:
    """An argument that is a size of at least one byte, such as ``20MB``."""
    try:
        value = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte, not {text!r}")
    return value
