"""``python -m compare.scale``: whole runs timed over input sizes, their outputs compared."""

from __future__ import annotations

import hashlib

from compare import scale


def test_scale_times_every_size_and_backend_and_checks_their_outputs(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MAPREDUCE_STUDY_DATA", str(tmp_path / "data"))
    status = scale.main(
        ["sort", "--sizes", "20KB,80KB", "--backends", "sequential,pool", "--repeat", "2"]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    rows = [line for line in out.splitlines() if line.startswith("| sort ")]
    runs, spans = rows[:4], rows[4:]
    assert len(runs) == 4 and len(spans) == 2
    assert all(row.rstrip(" |").endswith("yes") for row in runs)
    assert {row.split("|")[3].strip() for row in runs} == {"sequential", "pool"}
    assert all("20.0 KB to 80.0 KB" in row for row in spans)


def test_outputs_that_differ_between_backends_are_reported():
    results = {
        ("wordcount", 100, "sequential"): scale.Runs("100 B", 100, [1.0], 10, {"a"}, [0.6]),
        ("wordcount", 100, "pool"): scale.Runs("100 B", 100, [0.5], 20, {"b"}, [0.1]),
        ("wordcount", 400, "pool"): scale.Runs("400 B", 400, [3.0], 20, {"c"}, [0.8]),
    }
    assert scale.disagreements(results) == {("wordcount", 100)}
    table = scale.runs_table(results)
    assert table.count("| NO ") == 2 and table.count("| yes ") == 1
    rows = {
        cells[1]: cells
        for row in scale.linearity_table(results).splitlines()[2:]
        for cells in [[cell.strip() for cell in row.strip("|").split("|")]]
    }
    # pool: 5 s per MB at 100 B, 7.5 s per MB at 400 B; 2.5 s more for 300 B more; the run
    # alone: 1 s per MB at 100 B, 2 s per MB at 400 B
    assert rows["sequential"][5] == "1.00" and rows["sequential"][8] == "1.00"
    assert rows["sequential"][9] == "-"
    assert rows["pool"][5] == "1.50" and rows["pool"][8] == "2.00"
    assert rows["pool"][9] == f"{2.5 / 300e-6 * 1000:.1f}" and rows["pool"][10] == "1.00"


def test_a_file_digest_is_its_sha256(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * (3 << 20))
    assert scale.file_digest(path) == hashlib.sha256(path.read_bytes()).hexdigest()
