"""The course as a static web site: the executed chapters rendered to ``book/*.html`` plus an index.

``python -m mtass_lite.book [--chapters chapters] [--out book]`` (``bash scripts/book.sh``) renders
every committed ``chapters/NN_topic.ipynb`` as it is (nothing is executed) with nbconvert's lab HTML
template, adds prev / index / next links to every page, and writes ``index.html`` with a chapter table:
number, title (the chapter's first markdown heading), reading time (words of markdown + code at
``WORDS_PER_MINUTE``) and CPU cost (the chapter's execution seconds measured by ``scripts/course.sh``
in ``results/course_timings.json``, "–" when not measured).

Everything a page needs is inside the page: figures are ``data:image/...`` URIs (nbconvert inlines
them), audio players are the chapters' own ``<audio src="data:audio/ogg;base64,...">`` outputs
(HTML sanitisation is off, so they are kept verbatim). The pages open from disk (``file://``) with no
server and no network; require.js and the widget state (which would fetch the widget manager from a
CDN) are left out, interactive widgets fall back to their text. MathJax is still linked: online it
typesets the formulas, offline they stay as TeX source and nothing else is affected.
"""
from __future__ import annotations

import argparse
import copy
import html
import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

WORDS_PER_MINUTE = 200
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"
TIMINGS_NAME = "course_timings"  # results/course_timings.json, written by scripts/course.sh
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

_CSS = """
nav.book-nav { display: flex; justify-content: space-between; gap: 1em; max-width: 60em;
  margin: 0.8em auto; padding: 0.5em 1em; font: 14px/1.4 system-ui, sans-serif;
  border: 1px solid #ddd; border-radius: 6px; background: #fafafa; }
nav.book-nav > * { flex: 1; }
nav.book-nav .book-index { text-align: center; flex: 0 0 auto; }
nav.book-nav .book-next { text-align: right; }
nav.book-nav a { text-decoration: none; color: #1565c0; }
nav.book-nav a:hover { text-decoration: underline; }
nav.book-nav span.book-none { color: #aaa; }
"""

# The chapter page: nbconvert's lab template without require.js / mermaid, with a navigation bar at
# the top and bottom of the page.
_CHAPTER_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style type="text/css">""" + _CSS + """</style>{% endblock extra_css %}
{%- block body_header -%}{{ super() }}{{ resources.book_nav }}{%- endblock body_header -%}
{% block body_footer %}{{ resources.book_nav }}{{ super() }}{% endblock body_footer %}
"""

_INDEX_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 54em; margin: 2em auto; padding: 0 1em;
  color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35em 0.7em; border-bottom: 1px solid #ddd; }
td.num, th.num { text-align: right; white-space: nowrap; }
a { color: #1565c0; text-decoration: none; } a:hover { text-decoration: underline; }
p.note { color: #666; font-size: 0.9em; }
"""


@dataclass
class Chapter:
    """One chapter of the book: ``stem`` is ``NN_topic``, ``href`` its page in the book."""

    stem: str
    number: str
    title: str
    words: int
    minutes: int
    seconds: float | None = None

    @property
    def href(self) -> str:
        return f"{self.stem}.html"


def chapter_paths(chapters_dir: str | Path) -> list[Path]:
    """The executed chapters ``NN_topic.ipynb`` of a folder, in chapter order."""
    return sorted(Path(chapters_dir).glob(CHAPTER_GLOB))


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def chapter_title(nb, default: str = "") -> str:
    """The text of the chapter's first markdown heading (``# ...``), or ``default``."""
    for cell in nb["cells"]:
        if cell.get("cell_type") != "markdown":
            continue
        for line in _source(cell).splitlines():
            m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if m:
                return m.group(1).strip()
    return default


def word_count(nb) -> int:
    """Whitespace-separated words in the markdown and code cells (outputs are not read)."""
    return sum(len(_source(c).split()) for c in nb["cells"] if c.get("cell_type") in ("markdown", "code"))


def reading_minutes(words: int, wpm: int = WORDS_PER_MINUTE) -> int:
    """Estimated reading time in whole minutes (at least 1) for ``words`` words at ``wpm``."""
    return max(1, int(math.floor(words / wpm + 0.5)))


def format_seconds(seconds: float | None) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``; "–" when not measured."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 0.5:
        return "< 1 s"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def read_timings(path: str | Path | None) -> dict:
    """``{"NN_topic": seconds}`` from ``results/course_timings.json`` (``{}`` when absent or unreadable)."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        obj = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    out = {}
    for stem, row in obj.items():
        sec = row.get("seconds") if isinstance(row, dict) else row
        if isinstance(sec, (int, float)):
            out[stem] = float(sec)
    return out


def read_chapter(path: str | Path, timings: dict | None = None):
    """Load a notebook and describe it: ``(Chapter, nb)``."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    words = word_count(nb)
    ch = Chapter(stem=path.stem, number=path.stem[:2], title=chapter_title(nb, default=path.stem),
                 words=words, minutes=reading_minutes(words), seconds=(timings or {}).get(path.stem))
    return ch, nb


def clean_notebook(nb):
    """A copy without what needs a server or a CDN: the widget state in the metadata and the widget
    views in the outputs (their ``text/plain`` fallback stays)."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                if not data:
                    data["text/plain"] = "(interactive widget: open the notebook in Jupyter to use it)"
    return nb


def _nav(prev: Chapter | None, nxt: Chapter | None, index_href: str = "index.html") -> str:
    def link(ch, rel, arrow_left):
        if ch is None:
            return '<span class="book-none"></span>'
        label = f"{ch.number} · {html.escape(_short_title(ch))}"
        text = f"← {label}" if arrow_left else f"{label} →"
        return f'<a class="book-{rel}" rel="{rel}" href="{html.escape(ch.href)}">{text}</a>'

    return (f'<nav class="book-nav">{link(prev, "prev", True)}'
            f'<a class="book-index" href="{index_href}">contents</a>{link(nxt, "next", False)}</nav>')


def _short_title(ch: Chapter) -> str:
    """The title without a leading ``NN ·`` (the number is shown separately)."""
    return re.sub(rf"^{re.escape(ch.number)}\s*[·:.\-–—]\s*", "", ch.title)


def make_exporter():
    """nbconvert's HTMLExporter, lab template, no sanitising, our navigation template."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    log = logging.getLogger("mtass_lite.book.nbconvert")
    if not log.filters:  # chapters' figures have no alt text; nbconvert would warn once per page
        log.addFilter(lambda record: "Alternative text is missing" not in record.getMessage())
    exporter = HTMLExporter(template_name="lab", log=log,
                            extra_loaders=[DictLoader({"mtass_book.html.j2": _CHAPTER_TEMPLATE})])
    exporter.template_file = "mtass_book.html.j2"
    exporter.sanitize_html = False  # keep <audio src="data:audio/ogg;base64,..."> as it is
    exporter.embed_images = True  # markdown images too become data URIs
    return exporter


def _link_chapters(body: str, stems: set[str]) -> str:
    """Links between chapters (``href="NN_topic.ipynb"``) point to the book's pages instead."""
    def sub(m):
        return f'href="{m.group(1)}.html{m.group(2) or ""}"' if m.group(1) in stems else m.group(0)
    return re.sub(r'href="(?:\./)?(\d\d_[\w\-]+)\.ipynb(#[^"]*)?"', sub, body)


def render_chapter(nb, chapter: Chapter, prev: Chapter | None, nxt: Chapter | None,
                   exporter=None, path: str | Path | None = None, stems: set[str] | None = None) -> str:
    """One chapter page (a complete HTML document)."""
    exporter = exporter or make_exporter()
    resources = {"metadata": {"name": chapter.title},
                 "book_nav": _nav(prev, nxt)}
    if path is not None:
        resources["metadata"]["path"] = str(Path(path).parent)
    body, _ = exporter.from_notebook_node(clean_notebook(nb), resources=resources)
    return _link_chapters(body, stems or set())


def build_index(chapters: list[Chapter], title: str = "mtass-lite · the course") -> str:
    """The index page: a table of chapters with their reading time and CPU cost."""
    rows = []
    for ch in chapters:
        rows.append(
            f'<tr><td class="num">{html.escape(ch.number)}</td>'
            f'<td><a href="{html.escape(ch.href)}">{html.escape(_short_title(ch))}</a></td>'
            f'<td class="num">{ch.minutes} min</td>'
            f'<td class="num">{format_seconds(ch.seconds)}</td></tr>')
    total_min = sum(ch.minutes for ch in chapters)
    measured = [ch.seconds for ch in chapters if ch.seconds is not None]
    total_cpu = format_seconds(sum(measured)) if measured else "–"
    if measured and len(measured) < len(chapters):
        total_cpu += f" ({len(measured)} of {len(chapters)} measured)"
    rows.append(f'<tr><td></td><td><b>all chapters</b></td><td class="num"><b>{total_min} min</b></td>'
                f'<td class="num"><b>{total_cpu}</b></td></tr>')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)}</title>
<style type="text/css">{_INDEX_CSS}</style>
</head>
<body>
<main>
<h1>{html.escape(title)}</h1>
<p>Multi-Task Audio Source Separation: one mono 16 kHz mixture in, speech, music and noise out.
Every chapter below is the committed, executed notebook: figures and audio players are embedded in
the page, so the book works offline, straight from disk.</p>
<table class="book-chapters">
<thead><tr><th class="num">#</th><th>chapter</th><th class="num">reading time</th>
<th class="num">CPU cost</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<p class="note">Reading time: words of prose and code at {WORDS_PER_MINUTE} words per minute.
CPU cost: wall time of the chapter's last execution by <code>bash scripts/course.sh</code> (fast mode),
from <code>results/course_timings.json</code>; "–" where it has not been measured.</p>
</main>
</body>
</html>
"""


def build_book(chapters_dir: str | Path, out_dir: str | Path, timings_path: str | Path | None = None,
               log=print) -> Path:
    """Render every ``NN_topic.ipynb`` of ``chapters_dir`` into ``out_dir`` and write the index.

    ``timings_path`` defaults to ``results/course_timings.json``. Returns the index page's path.
    """
    from . import results_dir

    chapters_dir, out_dir = Path(chapters_dir), Path(out_dir)
    paths = chapter_paths(chapters_dir)
    if not paths:
        raise FileNotFoundError(f"no executed chapters {CHAPTER_GLOB} in {chapters_dir}")
    if timings_path is None:
        timings_path = results_dir() / f"{TIMINGS_NAME}.json"
    timings = read_timings(timings_path)
    loaded = [read_chapter(p, timings) for p in paths]
    chapters = [ch for ch, _ in loaded]
    stems = {ch.stem for ch in chapters}
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = make_exporter()
    for i, (ch, nb) in enumerate(loaded):
        prev = chapters[i - 1] if i > 0 else None
        nxt = chapters[i + 1] if i + 1 < len(chapters) else None
        page = render_chapter(nb, ch, prev, nxt, exporter=exporter, path=paths[i], stems=stems)
        (out_dir / ch.href).write_text(page, encoding="utf-8")
        if log:
            log(f"[book] {ch.href}: {ch.title} ({ch.minutes} min read, CPU {format_seconds(ch.seconds)})")
    index = out_dir / "index.html"
    index.write_text(build_index(chapters), encoding="utf-8")
    if log:
        log(f"[book] {index} ({len(chapters)} chapters); open it in a browser: file://{index.resolve()}")
    return index


def main(argv: list[str] | None = None) -> int:
    from . import REPO_ROOT

    ap = argparse.ArgumentParser(prog="python -m mtass_lite.book", description=__doc__.splitlines()[0])
    ap.add_argument("--chapters", default=str(REPO_ROOT / "chapters"),
                    help="folder with the executed NN_topic.ipynb (default: chapters/)")
    ap.add_argument("--out", default=str(REPO_ROOT / "book"), help="output folder (default: book/)")
    ap.add_argument("--timings", default=None,
                    help="execution times json (default: results/course_timings.json)")
    args = ap.parse_args(argv)
    build_book(args.chapters, args.out, args.timings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
