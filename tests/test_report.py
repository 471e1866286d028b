from pathlib import Path

from mtass_lite import REPO_ROOT, report


def test_readme_tables_are_rendered_from_results():
    text = (Path(REPO_ROOT) / "README.md").read_text()
    assert "<!-- BEGIN paper_table -->" in text
    assert report.render_readme(text) == text, "README is stale: run .venv/bin/python -m mtass_lite.report"


def test_render_replaces_only_marked_sections():
    text = "intro\n<!-- BEGIN paper_table -->\nold\n<!-- END paper_table -->\noutro 1.23\n"
    out = report.render_readme(text)
    assert "old" not in out and "| Complex-MTASSNet | 28.18 M" in out and out.endswith("outro 1.23\n")
