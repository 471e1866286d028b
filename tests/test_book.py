"""The course as a web page (mtass_lite.book, scripts/book.sh): unit tests on a fabricated chapters
folder, then a headless-Chromium check that the real book's audio players load and figures decode."""
from __future__ import annotations

import base64
import functools
import html
import io
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from mtass_lite import REPO_ROOT
from mtass_lite.book import build_book, chapter_title, format_seconds, read_timings, reading_minutes, word_count

nbformat = pytest.importorskip("nbformat")


# --- a fabricated two-chapter course ------------------------------------------------------------------

@functools.lru_cache(maxsize=None)  # Ogg streams get a random serial number: encode once
def _ogg_tone_uri(seconds: float = 1.0, sr: int = 16_000, freq: float = 440.0) -> str:
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr, format="OGG",
             subtype="VORBIS")
    return "data:audio/ogg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _png(width: int = 8, height: int = 6) -> bytes:
    """A tiny valid RGB PNG (a gradient), written by hand."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"".join(bytes((x * 30 % 256, y * 40 % 256, 128)) for x in range(width))
                    for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def _fake_chapters(folder: Path) -> Path:
    v4 = nbformat.v4
    folder.mkdir(parents=True, exist_ok=True)
    audio_html = f'<div>tone: <audio controls preload="none" src="{_ogg_tone_uri()}"></audio></div>'
    a = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 01 · Alpha: a tone\n\n" + "word " * 450),
        v4.new_code_cell("play(tone)", execution_count=1, outputs=[
            v4.new_output("display_data", data={"text/html": audio_html, "text/plain": "<players>"})]),
    ])
    b = v4.new_notebook(cells=[
        v4.new_markdown_cell("Some words before the heading.\n\n## 02 · Beta: a picture"),
        v4.new_code_cell("plot()", execution_count=1, outputs=[
            v4.new_output("display_data", data={"image/png": base64.b64encode(_png()).decode("ascii"),
                                                "text/plain": "<Figure>"})]),
    ])
    nbformat.write(a, folder / "01_alpha.ipynb")
    nbformat.write(b, folder / "02_beta.ipynb")
    (folder / "02_beta.py").write_text("# not a notebook: ignored\n")
    return folder


@pytest.fixture
def fake_book(tmp_path):
    chapters = _fake_chapters(tmp_path / "chapters")
    timings = tmp_path / "course_timings.json"
    timings.write_text(json.dumps({"01_alpha": {"seconds": 75.2, "loadavg": 1.5,
                                                "date": "2025-01-01T00:00:00+00:00"}}))
    index = build_book(chapters, tmp_path / "book", timings_path=timings, log=None)
    return index.parent


def test_reading_time_and_titles():
    assert reading_minutes(0) == 1 and reading_minutes(200) == 1 and reading_minutes(1000) == 5
    assert reading_minutes(2900) == 15 and reading_minutes(3100) == 16
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1  # not a title"),
                                         nbformat.v4.new_markdown_cell("intro\n### 07 · Seven ###")])
    assert chapter_title(nb) == "07 · Seven"
    assert word_count(nb) == 7 + 6  # "x = 1 # not a title" + "intro ### 07 · Seven ###"
    assert format_seconds(None) == "–" and format_seconds(42.4) == "42 s" and format_seconds(0.2) == "< 1 s"
    assert format_seconds(185) == "3 min 05 s" and format_seconds(3720) == "1 h 02 min"


def test_read_timings(tmp_path):
    assert read_timings(tmp_path / "missing.json") == {}
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"00_tour": {"seconds": 12.5, "loadavg": 0.3, "date": "x"}, "bad": {}}))
    assert read_timings(p) == {"00_tour": 12.5}


def test_book_index_and_navigation(fake_book):
    index = (fake_book / "index.html").read_text()
    assert sorted(p.name for p in fake_book.glob("*.html")) == ["01_alpha.html", "02_beta.html", "index.html"]
    # both chapters listed, linked, titled by their first heading, with reading time and CPU cost
    assert '<a href="01_alpha.html">Alpha: a tone</a>' in index
    assert '<a href="02_beta.html">Beta: a picture</a>' in index
    assert "2 min" in index  # 01: ~455 words at 200 words/min
    assert "1 min 15 s" in index  # 01's measured execution time
    assert "–" in index  # 02 has no measured time
    a = (fake_book / "01_alpha.html").read_text()
    b = (fake_book / "02_beta.html").read_text()
    for page in (a, b):
        assert 'href="index.html"' in page
    assert 'rel="next"' in a and 'href="02_beta.html"' in a and 'rel="prev"' not in a
    assert 'rel="prev"' in b and 'href="01_alpha.html"' in b and 'rel="next"' not in b
    # no require.js (a CDN script that only serves widgets) on the pages
    assert "require.js" not in a and "require.min.js" not in a


def test_book_keeps_embedded_audio_and_images(fake_book):
    a = (fake_book / "01_alpha.html").read_text()
    uri = _ogg_tone_uri()
    assert f'src="{uri}"' in a  # the data URI survives nbconvert (no sanitising) byte for byte
    assert re.search(r"<audio[^>]*controls", a)
    b = (fake_book / "02_beta.html").read_text()
    assert re.search(r'<img[^>]*src="data:image/png;base64,', b)


def test_book_drops_widget_state(tmp_path):
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("# 03 · Widgets"), v4.new_code_cell("w", outputs=[
        v4.new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2,
                                                          "version_minor": 0},
            "text/plain": "VBox(children=(Dropdown(...),))"})])])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0}}
    (tmp_path / "ch").mkdir()
    nbformat.write(nb, tmp_path / "ch" / "03_widgets.ipynb")
    build_book(tmp_path / "ch", tmp_path / "book", timings_path=tmp_path / "none.json", log=None)
    page = (tmp_path / "book" / "03_widgets.html").read_text()
    assert "widget-state+json" not in page and "widget-view+json" not in page
    assert "html-manager" not in page  # the CDN widget manager is not loaded
    assert "VBox(children=" in page  # the text fallback is shown instead


# --- the real book in headless Chromium ---------------------------------------------------------------

_PROBE = """
<script>
(function () {
  function probe() {
    var auds = Array.prototype.slice.call(document.querySelectorAll('audio'));
    auds.forEach(function (a) { a.preload = 'auto'; a.load(); });
    setTimeout(function () {
      var r = {
        audio: auds.map(function (a) {
          return {duration: a.duration, error: a.error ? a.error.code : null,
                  src: (a.getAttribute('src') || a.currentSrc || '').slice(0, 40)};
        }),
        img: Array.prototype.slice.call(document.images).map(function (i) {
          return {ok: i.complete && i.naturalWidth > 0, src: (i.getAttribute('src') || '').slice(0, 40)};
        })
      };
      var pre = document.createElement('pre');
      pre.id = 'book-probe';
      pre.textContent = JSON.stringify(r);
      document.body.appendChild(pre);
    }, 4000);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', probe);
  else probe();
})();
</script>
"""


def _probe(page: Path, workdir: Path) -> dict:
    """Open a copy of ``page`` (beside it, so relative links resolve alike) in headless Chromium with a
    probe script; return the probe's JSON: each <audio>'s duration / error, each <img>'s decode state."""
    text = page.read_text(encoding="utf-8")
    cut = text.rfind("</body>")
    probed = page.with_name(page.stem + ".probe.html")
    probed.write_text(text[:cut] + _PROBE + text[cut:] if cut >= 0 else text + _PROBE, encoding="utf-8")
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--mute-audio", f"--user-data-dir={workdir / 'chromium-profile'}",
           "--virtual-time-budget=10000", "--dump-dom", probed.resolve().as_uri()]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    finally:
        probed.unlink(missing_ok=True)
    m = re.search(r'<pre id="book-probe">(.*?)</pre>', proc.stdout, re.S)
    assert m, f"no probe result for {page.name} (rc={proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(html.unescape(m.group(1)))


def _check(page: Path, result: dict) -> list[str]:
    bad = []
    for a in result["audio"]:
        d = a["duration"]  # NaN / Infinity arrive as null
        if d is None or not d > 0 or a["error"] is not None:
            bad.append(f"{page.name}: audio {a['src']!r}... did not load (duration={d}, error={a['error']})")
    for i in result["img"]:
        if not i["ok"]:
            bad.append(f"{page.name}: image {i['src']!r}... is broken")
    return bad


def test_book_in_headless_chromium(tmp_path):
    if shutil.which("chromium") is None:
        pytest.skip("headless Chromium not installed (Debian package chromium); .ci/run installs it")
    book = build_book(REPO_ROOT / "chapters", tmp_path / "book", log=None).parent
    pages = [book / "index.html"]
    with_audio = [p for p in sorted(book.glob("[0-9][0-9]_*.html")) if "<audio" in p.read_text()]
    pages += with_audio[:2]
    if len(with_audio) < 2:  # not enough real players: check the exporter's audio on a fabricated book
        fake = build_book(_fake_chapters(tmp_path / "fake"), tmp_path / "fake_book",
                          timings_path=tmp_path / "none.json", log=None).parent
        pages += [fake / "01_alpha.html", fake / "02_beta.html"]
    problems, n_audio, n_img = [], 0, 0
    for page in pages:
        result = _probe(page, tmp_path)
        n_audio += len(result["audio"])
        n_img += len(result["img"])
        problems += _check(page, result)
    assert n_audio > 0, "no <audio> element was checked"
    assert not problems, "\n".join(problems)
