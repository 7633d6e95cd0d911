"""``python -m compare`` and the ``mapreduce-study`` command: see ``compare.cli``."""

import sys

from mapreduce.__main__ import launch


def main() -> int:
    return launch("compare", "compare.cli")


if __name__ == "__main__":
    sys.exit(main())
