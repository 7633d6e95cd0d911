"""``python -m mapreduce``: see ``mapreduce.cli``."""

import sys

from mapreduce.cli import main

if __name__ == "__main__":
    sys.exit(main())
