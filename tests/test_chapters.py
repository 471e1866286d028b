"""The committed chapters: paired, in sync, executed, free of warnings, with players that play.

nbval (run by scripts/test.sh over chapters/) re-executes each notebook and compares the cells
marked ``# NBVAL_CHECK_OUTPUT``; these tests check what nbval does not.
"""
import json
import re
from pathlib import Path

import jupytext
import numpy as np
import pytest

from mtass_lite.viz import COURSE_BUDGET_BYTES, MAX_CLIP_SECONDS, NOTEBOOK_BUDGET_BYTES, embedded_clips

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
SOURCES = sorted(CHAPTERS.glob("[0-9][0-9]_*.py"))


def _code_and_markdown(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells if c.cell_type in ("code", "markdown")]


def _assert_paired(src: Path, how: str) -> None:
    """``src`` (jupytext .py) has its .ipynb beside it with the same code and markdown cells."""
    ipynb = src.with_suffix(".ipynb")
    assert ipynb.exists(), f"{src.name} has no paired notebook: run {how}"
    assert _code_and_markdown(jupytext.read(src)) == _code_and_markdown(jupytext.read(ipynb)), (
        f"{ipynb.name} is out of sync with {src.name}: re-execute it with {how}")


def _outputs_text(src: Path) -> str:
    """Every code-cell output of the committed notebook of ``src``, as one JSON string."""
    nb = json.loads(src.with_suffix(".ipynb").read_text())
    return json.dumps([o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])])


def test_there_are_chapters():
    assert len(SOURCES) >= 5


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_paired_notebook_in_sync(src):
    _assert_paired(src, f"bash scripts/course.sh {src.stem[:2]}")


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
    assert ipynb.stat().st_size <= NOTEBOOK_BUDGET_BYTES, (
        f"{ipynb.name}: {ipynb.stat().st_size / 1e6:.1f} MB is over the per-chapter budget (mtass_lite/viz.py)")


def _html_outputs(nb) -> list[str]:
    """Every text/html output of the notebook (display data and execute results), joined per output."""
    out = []
    for c in nb["cells"]:
        for o in c.get("outputs", []) if c["cell_type"] == "code" else []:
            h = o.get("data", {}).get("text/html")
            if h:
                out.append("".join(h) if isinstance(h, list) else h)
    return out


def test_all_chapters_fit_the_course_budget():
    total = sum(p.with_suffix(".ipynb").stat().st_size for p in SOURCES)
    assert total <= COURSE_BUDGET_BYTES, f"chapters total {total / 1e6:.1f} MB > budget (mtass_lite/viz.py)"


# Chapters that must have players in their committed outputs (00 keeps its own; 01-12 listen).
WITH_PLAYERS = SOURCES


@pytest.mark.parametrize("src", WITH_PLAYERS, ids=lambda p: p.stem)
def test_committed_players_are_embedded_and_play(src):
    """Without executing anything: every <audio> in the committed notebook carries its clip as a data
    URI that decodes to non-silent audio of the declared length (≤ MAX_CLIP_SECONDS)."""
    nb = json.loads(src.with_suffix(".ipynb").read_text())
    html_outputs = _html_outputs(nb)
    assert not any(k.startswith("audio/") for c in nb["cells"] for o in c.get("outputs", [])
                   for k in o.get("data", {})), "raw audio/* outputs: use mtass_lite.viz players"
    clips = [clip for h in html_outputs for clip in embedded_clips(h)]
    assert clips, f"{src.stem}: no audio players in the committed outputs"
    for j, clip in enumerate(clips):
        assert clip["src_embedded"], f"{src.stem}: player {j} points at a file, not an embedded clip"
        audio, secs = clip["audio"], clip["seconds_declared"]
        assert secs is not None and 0 < secs <= MAX_CLIP_SECONDS + 1e-6
        assert len(audio) / clip["sample_rate"] == pytest.approx(secs, abs=0.02), f"{src.stem}: player {j} length"
        assert np.abs(audio).max() > 1e-4, f"{src.stem}: player {j} is silent"


@pytest.mark.parametrize("nn", ["06", "07", "08", "09", "10", "13"])
def test_model_chapters_play_reference_estimate_and_residual(nn):
    (src,) = [p for p in SOURCES if p.stem.startswith(nn)]
    html_text = "".join(_html_outputs(json.loads(src.with_suffix(".ipynb").read_text())))
    assert "reference" in html_text and "estimate" in html_text and "residual (reference − estimate)" in html_text


def test_reproduction_chapter_has_the_model_chooser():
    (src,) = [p for p in SOURCES if p.stem.startswith("11")]
    html_text = "".join(_html_outputs(json.loads(src.with_suffix(".ipynb").read_text())))
    assert html_text.count("<details") >= 2, "chapter 11: the mixture × track × model chooser is missing"
    assert len(embedded_clips(html_text)) >= 2 * (1 + 3 * 6)


# --- worked solutions (chapters/solutions/, executed by nbval under the README's test command) -----

SOLUTIONS = sorted((CHAPTERS / "solutions").glob("[0-9][0-9]_*_solutions.py"))


def test_every_chapter_has_worked_solutions():
    have = {p.stem.removesuffix("_solutions") for p in SOLUTIONS}
    missing = [p.stem for p in SOURCES if p.stem not in have]
    assert not missing, f"no chapters/solutions/<chapter>_solutions.py for {missing}"


@pytest.mark.parametrize("src", SOLUTIONS, ids=lambda p: p.stem)
def test_solutions_paired_executed_and_clean(src):
    _assert_paired(src, "bash scripts/course.sh solutions")
    ipynb = src.with_suffix(".ipynb")
    nb = json.loads(ipynb.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), f"{ipynb.name}: not fully executed"
    for c in code:
        for out in c.get("outputs", []):
            assert out.get("name") != "stderr" and out.get("output_type") != "error", ipynb.name
    assert ipynb.stat().st_size <= NOTEBOOK_BUDGET_BYTES


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_every_exercise_has_a_cost_label(src):
    text = src.read_text()
    ex = text.split("# ## Exercises", 1)[1].split("# %%", 1)[0]
    items = re.findall(r"^# (\d+)\. (.*?)(?=^# \d+\. |\Z)", ex, re.S | re.M)
    assert items, f"{src.name}: no numbered exercises"
    for n, body in items:
        assert re.search(r"\*\((reading only|≈ [\d.]+ CPU-(min|h))", body), (
            f"{src.name}: exercise {n} has no cost label *(reading only)* / *(≈ N CPU-min)*")


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_committed_from_a_clean_runs_folder(src):
    """Training the reader sees: no output says a run was already there (executed from a clean runs/)."""
    text = _outputs_text(src)
    for phrase in ("nothing to do", "already trained"):
        assert phrase not in text, f"{src.stem}: an output says '{phrase}': execute from a clean runs/"


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_committed_outputs_were_checked_against_committed_results(src):
    """A chapter executed while its results json was absent prints "no committed result yet"; under the
    test command the json exists, so that output could never be reproduced: re-execute the chapter."""
    assert "no committed result yet" not in _outputs_text(src), (
        f"{src.stem}: re-execute it now that its results json exists")
