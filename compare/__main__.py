"""``python -m compare`` and the ``mapreduce-study`` command: see ``compare.cli``."""


def main() -> int:
    from mapreduce.__main__ import launch  # imports nothing a Ctrl-C could cut before it

    return launch("compare", "compare.cli")


if __name__ == "__main__":
    raise SystemExit(main())
