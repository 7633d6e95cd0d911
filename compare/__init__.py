"""The study: every job on every backend, outputs checked, timings tabulated."""
