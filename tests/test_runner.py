"""`gancourse run`: a failing chapter is reported and the others still run; --store keeps PROFILE = "auto"."""
import nbformat
import pytest

from gancourse.checks import GanCourseError
from gancourse.runner import find_notebooks, run_course


def chapter(path, *sources):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "auto"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_a_failing_chapter_is_reported_and_the_batch_goes_on(tmp_path, capsys):
    chapter(tmp_path / "01_ok.ipynb", "print(PROFILE)")
    chapter(tmp_path / "02_broken.ipynb", "raise ValueError('boom')")
    chapter(tmp_path / "03_ok.ipynb", "x = 1")
    runs = run_course(profile="smoke", out_dir=tmp_path / "build", folder=tmp_path, store=True)
    assert [r.status.split(":")[0] for r in runs] == ["ok", "FAILED", "ok"]
    assert "boom" in runs[1].status
    table = capsys.readouterr().out
    assert "02_broken.ipynb" in table and "2/3 chapters ran" in table and "WARNING" not in table
    stored = nbformat.read(tmp_path / "01_ok.ipynb", as_version=4)
    assert stored.cells[0].source == 'PROFILE = "auto"'  # papermill's injected cell is not stored
    assert stored.cells[1].outputs[0]["text"] == "smoke\n"
    assert "papermill" not in stored.metadata
    broken = nbformat.read(tmp_path / "02_broken.ipynb", as_version=4)
    assert not broken.cells[1].outputs  # a failed run stores nothing


def test_finding_chapters(tmp_path):
    with pytest.raises(GanCourseError, match="no chapter notebooks"):
        find_notebooks(folder=tmp_path)
    chapter(tmp_path / "01_a.ipynb")
    assert find_notebooks(["01"], folder=tmp_path) == [tmp_path / "01_a.ipynb"]
    with pytest.raises(GanCourseError, match="no notebook"):
        find_notebooks(["09"], folder=tmp_path)
