"""Fixtures that run the same tests on every backend.

``open_backend`` is parametrized over backend × workers (and ``spawn`` for the
process backends) and scoped to the module, so a pool is started once and
every test of the module runs on it.  A backend whose library is not installed
is skipped, never silently passed.
"""

from __future__ import annotations

import signal

import pytest

import backends
from backends.signals import BLOCKS, CUTTING_SIGNALS, current_mask

PROCESS_BACKENDS = ["pool", "futures", "joblib"]
WORKER_COUNTS = [1, 2, 4]


def installed(name: str) -> pytest.MarkDecorator:
    """Skip, never silently pass, a test whose backend's library is missing."""
    reason = backends.unavailable(name)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def backend_param(name: str, workers: int, start_method: str | None = None):
    label = f"{name}-{workers}" + (f"-{start_method}" if start_method else "")
    return pytest.param((name, workers, start_method), id=label, marks=installed(name))


def by_name(names: list[str]) -> list:
    """Backend names as test parameters, each skipped if its library is missing."""
    return [pytest.param(name, marks=installed(name)) for name in names]


EVERY_NAME = by_name(backends.names())
"""Every backend's name, as test parameters."""
PROCESS_NAMES = by_name(PROCESS_BACKENDS)
"""The process backends' names, as test parameters."""

EVERY_BACKEND = [
    backend_param(name, workers) for name in backends.names() for workers in WORKER_COUNTS
] + [backend_param(name, 2, "spawn") for name in PROCESS_BACKENDS]


def signal_state() -> dict[str, object]:
    """This process's handlers of the stopping and timer signals, and this thread's mask."""
    state: dict[str, object] = {
        signal.Signals(signum).name: signal.getsignal(signum) for signum in CUTTING_SIGNALS
    }
    if BLOCKS:
        state["blocked"] = sorted(current_mask())
    return state


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Each test leaves the signals as it found them.  A handler or a block left behind
    fails later tests, not the one that left it: a child process inherits a blocked
    signal, and a Ctrl-C noted by a handler whose block has ended stops nothing."""
    before = signal_state()
    result = yield
    after = signal_state()
    changed = {name: after[name] for name in before if after[name] != before[name]}
    if changed:
        pytest.fail(f"the test left the signals changed: {changed}", pytrace=False)
    return result


@pytest.fixture(scope="module", params=EVERY_BACKEND)
def open_backend(request):
    """An open backend, shared by the tests of one module, closed after them."""
    name, workers, start_method = request.param
    with backends.create(name, workers, start_method) as backend:
        yield backend


@pytest.fixture(params=backends.names())
def backend_name(request) -> str:
    """Each registered backend's name, skipped if its library is missing."""
    if reason := backends.unavailable(request.param):
        pytest.skip(reason)
    return request.param


@pytest.fixture
def corpus(tmp_path):
    """A file of the fault tests' ``LINES``."""
    from tests.helpers import LINES

    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(LINES) + "\n")
    return path


def pytest_configure(config: pytest.Config) -> None:
    """The suite runs as from a terminal, where Ctrl-C stops a program, however it was
    started.  A shell script that starts it in the background (``tests &``, as CI's second
    lane does) starts it with Ctrl-C ignored, which every process it starts would inherit:
    Python installs no handler for a signal ignored when it starts, and the tests of
    Ctrl-C would test that instead."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--part",
        metavar="K/N",
        help="run the K-th of N parts of the suite, every N-th test from the K-th: N runs "
        "side by side run it all (CI shares one suite between its two lanes)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    part = config.getoption("--part")
    if not part:
        return
    try:
        k, n = (int(number) for number in part.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--part wants K/N, such as 1/2, not {part!r}") from None
    if not 1 <= k <= n:
        raise pytest.UsageError(f"--part {part}: K must be from 1 to N")
    config.hook.pytest_deselected(items=[t for i, t in enumerate(items) if i % n != k - 1])
    items[:] = [t for i, t in enumerate(items) if i % n == k - 1]
