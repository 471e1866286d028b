"""The committed chapters: paired, in sync, executed, and free of embedded audio and warnings.

nbval (run by scripts/test.sh over chapters/) re-executes each notebook and compares the cells
marked ``# NBVAL_CHECK_OUTPUT``; these tests check what nbval does not.
"""
import json
from pathlib import Path

import jupytext
import pytest

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
SOURCES = sorted(CHAPTERS.glob("[0-9][0-9]_*.py"))


def _code_and_markdown(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells if c.cell_type in ("code", "markdown")]


def test_there_are_chapters():
    assert len(SOURCES) >= 5


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_paired_notebook_in_sync(src):
    ipynb = src.with_suffix(".ipynb")
    assert ipynb.exists(), f"{src.name} has no paired notebook: run bash scripts/course.sh {src.stem[:2]}"
    assert _code_and_markdown(jupytext.read(src)) == _code_and_markdown(jupytext.read(ipynb)), (
        f"{ipynb.name} is out of sync with {src.name}: re-execute it with bash scripts/course.sh {src.stem[:2]}")


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_notebook_executed_clean_and_small(src):
    ipynb = src.with_suffix(".ipynb")
    nb = json.loads(ipynb.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), f"{ipynb.name}: not fully executed"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and "MTASS_MODE" in "".join(params[0]["source"])
    for c in code:
        for out in c.get("outputs", []):
            assert out.get("name") != "stderr", f"{ipynb.name}: stderr output (warning or progress bar)"
            assert out.get("output_type") != "error"
            data = out.get("data", {})
            assert not any(k.startswith("audio/") for k in data), f"{ipynb.name}: embedded audio"
            assert "data:audio" not in json.dumps(data), f"{ipynb.name}: embedded audio"
    assert ipynb.stat().st_size < 2_000_000
