"""From samples to statements: speedup intervals, suspect values, findings, checks."""
