"""``python -m mapreduce`` and the ``mapreduce`` command: see ``mapreduce.cli``.

A Ctrl-C while the engine loads ends the command as one during a run does:
one line and status 130, not a traceback of the import it cut.
"""

import signal
import sys


def main() -> int:
    """Load the command line, then run it."""
    try:
        from mapreduce.cli import main as command
    except KeyboardInterrupt:
        print("mapreduce: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    return command()


if __name__ == "__main__":
    sys.exit(main())
