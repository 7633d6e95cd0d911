"""What the study measures: presets, the experiments that make its cells, their inputs."""
