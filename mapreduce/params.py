"""Job parameters: declared by the job, given as ``--param NAME=VALUE``, typed and checked.

A job lists its parameters in ``params``; each has a default, a one-line help,
a parser from command-line text and an optional check.  A bad value is a
one-line error that names the job and the parameter, whatever the parser or
the check raises on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mapreduce.errors import JobError, one_line


@dataclass(frozen=True)
class Param:
    """One parameter of a job."""

    default: Any
    help: str
    parse: Callable[[str], Any] = str
    check: Callable[[Any], str | None] | None = None
    """Returns why a value is wrong, or None when it is fine."""

    def describe(self, name: str) -> str:
        return f"{name}={self.default!r}: {self.help}"


def at_least(minimum: float) -> Callable[[Any], str | None]:
    """A check that a number is ``minimum`` or more."""
    return lambda value: None if value >= minimum else f"must be at least {minimum}"


def between(minimum: float, maximum: float) -> Callable[[Any], str | None]:
    """A check that a number is from ``minimum`` to ``maximum``."""
    return lambda value: (
        None if minimum <= value <= maximum else f"must be from {minimum} to {maximum:,}"
    )


def valid_regex(pattern: str) -> str | None:
    """A check that ``pattern`` compiles as a Python regular expression."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return None


def resolve(job: str, declared: Mapping[str, Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """Every declared parameter's value: given (parsed from text if a string) or default."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        takes = ", ".join(sorted(declared)) or "no parameters"
        raise JobError(f"{job} has no parameter {unknown[0]!r}; it takes: {takes}")
    values = {}
    for name, param in declared.items():
        value = given.get(name, param.default)
        if isinstance(value, str) and param.parse is not str:
            try:
                value = param.parse(value)
            except Exception as exc:  # a parser's own error, whatever it is, is the value's
                raise JobError(f"{job}: parameter {name!r}: {exc}") from None
        try:
            problem = param.check(value) if param.check else None
        except Exception as exc:  # a check that fails on the value rejects it
            problem = one_line(exc)
        if problem:
            raise JobError(f"{job}: parameter {name!r}={value!r}: {problem}")
        values[name] = value
    return values


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` as ``{"a": "1", "b": "x=y"}``; a bare name is an error."""
    values = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name:
            raise JobError(f"--param takes NAME=VALUE, not {assignment!r}")
        values[name.strip()] = value
    return values
