"""The study sizes its inputs by this machine's speed: a probe timed first, its inputs scaled by
the reference machine's time over this one's, in half-octave steps within limits."""

from __future__ import annotations

import json
import math

import pytest

from compare.cli import build_parser, main, scale_for
from compare.design.presets import PRESETS
from compare.measure import calibration
from compare.measure.calibration import LIMITS, REFERENCE_SECONDS, Scale, factor_for, scaled
from mapreduce.catalog import find_job

STEPS = [0.25, 0.35, 0.5, 0.71, 1, 1.4, 2]
"""Every factor there is, 0.25 to 2, a half-octave apart, to two figures."""


@pytest.mark.parametrize("slower", [0.3, 0.5, 0.9, 1.0, 1.1, 1.7, 2.0, 3.3, 100.0])
def test_the_factor_is_the_step_nearest_the_reference_over_this_machine(slower):
    wanted = REFERENCE_SECONDS / (REFERENCE_SECONDS * slower)
    nearest = min(STEPS, key=lambda step: abs(math.log(step) - math.log(wanted)))
    assert factor_for(REFERENCE_SECONDS * slower) == pytest.approx(nearest)
    assert LIMITS[0] <= factor_for(REFERENCE_SECONDS * slower) <= LIMITS[1]


def test_scaling_sizes_every_input_but_those_of_jobs_that_wait():
    default = PRESETS["default"]
    half = scaled(default, 0.5)
    for job, size in default.sizes.items():
        waits = find_job(job).workload == "io"
        assert half.sizes[job] == (size if waits else round(size / 2)), job
    assert half.input_size.values == tuple(round(v / 2) for v in default.input_size.values)
    assert half.granularity.size == default.granularity.size // 2
    assert half.granularity.values == default.granularity.values  # split counts, not sizes
    assert half.baseline_size == default.baseline_size // 2
    assert scaled(default, 1.0) == default


def args(*argv: str):
    return build_parser().parse_args(list(argv))


def test_a_calibrating_preset_times_the_probe_and_a_given_scale_or_input_does_not(monkeypatch):
    probed = []

    def probe() -> float:
        probed.append(True)
        return 2 * REFERENCE_SECONDS  # a machine half as fast as the reference

    monkeypatch.setattr(calibration, "probe_seconds", probe)
    assert scale_for(args(), PRESETS["default"]) == Scale(0.5, 2 * REFERENCE_SECONDS)
    assert scale_for(args("--preset", "full"), PRESETS["full"]).factor == 0.5
    assert len(probed) == 2
    assert scale_for(args("--scale", "0.75"), PRESETS["default"]) == Scale(0.75)  # any factor
    assert scale_for(args(), PRESETS["smoke"]) is None
    assert scale_for(args("--input", "book.txt"), PRESETS["default"]) is None
    assert len(probed) == 2


def test_the_probe_runs_the_job_and_gives_its_time_in_seconds():
    seconds = calibration.probe_seconds()
    assert 0 < seconds < 60


def test_a_given_scale_sizes_the_inputs_and_the_report_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPREDUCE_STUDY_DATA", str(tmp_path / "data"))
    argv = ["--preset", "smoke", "--jobs", "wordcount", "--backends", "threads", "--no-sweeps"]
    assert main([*argv, "--invocations", "0", "--scale", "0.5", "--output", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["scale"] == {"factor": 0.5, "probe_seconds": None}
    smoke = PRESETS["smoke"].sizes["wordcount"]
    matrix = {c["input_bytes"] for c in results["cells"] if c["experiment"] == "matrix"}
    assert matrix and all(size == pytest.approx(smoke / 2, rel=0.05) for size in matrix)
    assert "Generated inputs scaled by 0.5 (given with --scale)." in (
        (tmp_path / "report.md").read_text()
    )


@pytest.mark.parametrize("given", ["0.1", "3", "0", "-1", "nan", "x"])
def test_a_scale_that_is_no_factor_or_out_of_its_limits_is_a_usage_error(given, capsys):
    try:
        status = main(["--scale", given])
    except SystemExit as exc:  # the parser's own refusal
        status = exc.code
    assert status == 2
    assert "--scale" in capsys.readouterr().err
