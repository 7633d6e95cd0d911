"""Timing cells in interleaved rounds; CPU use; the environment; the results files."""
