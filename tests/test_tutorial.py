"""The tutorial notebook (``docs/tutorial.ipynb``) runs top to bottom in a real Jupyter
kernel, as a student opens it: no cell raises."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs the dev extra (pip install '.[dev]')")
nbclient = pytest.importorskip("nbclient", reason="needs the dev extra (pip install '.[dev]')")

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb"


@pytest.mark.timeout(600)
def test_the_tutorial_runs_in_a_kernel_and_no_cell_raises(tmp_path):
    notebook = nbformat.read(TUTORIAL, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if one raises
    shown = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [output for output in shown if output.output_type == "error"]
    assert (tmp_path / "tutorial-work" / "study" / "report.md").is_file()
    shutil.rmtree(tmp_path / "tutorial-work")
