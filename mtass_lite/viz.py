"""Pictures and players for the chapters: spectrograms, mask images, results bars, audio players.

**Audio is embedded.** Every player holds its clip as a compressed data URI (Ogg Vorbis through
soundfile, ~16 kb/s at 16 kHz mono), so a committed notebook plays in a fresh clone without running —
in JupyterLab, nbviewer and the HTML book (``scripts/book.sh``). The convention, checked by
``tests/test_chapters.py``:

- a clip is at most :data:`MAX_CLIP_SECONDS` (8 s; longer input is cut), peak-safe (scaled down to
  0.9 if it would clip, never up);
- size budget: each executed chapter ≤ :data:`NOTEBOOK_BUDGET_BYTES` (4 MB), all chapters together
  ≤ :data:`COURSE_BUDGET_BYTES` (25 MB) — about 40 KB of notebook per 6-s clip, so budget ~80 clips
  per chapter at most and prefer 4–6-s excerpts;
- each ``<audio>`` carries ``data-seconds`` (its embedded length) so tests can decode and check it.

Spectrogram axes go through ``librosa.display.specshow`` (seconds; Hz or log-frequency).
"""
from __future__ import annotations

import base64
import html
import io
import os

import numpy as np
import torch

from . import SAMPLE_RATE, TRACKS, figures_dir
from .stft import HOP, N_FFT, stft

def _compact_inline_figures() -> None:
    """Inside a notebook kernel, show figures as JPEG at 80 dpi: spectrograms compress badly as PNG
    and would make the committed notebooks megabytes large. The PNGs under figures/ keep 150 dpi."""
    try:
        from IPython import get_ipython

        if get_ipython() is None or "IPKernelApp" not in get_ipython().config:
            return
        import matplotlib
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("jpeg")
        matplotlib.rcParams["figure.dpi"] = 80
    except Exception:  # never let a display preference break an import
        pass


_compact_inline_figures()

TRACK_COLORS = {"mixture": "0.3", "speech": "tab:blue", "music": "tab:orange", "noise": "tab:green"}


def db_spectrogram(x, n_fft: int = N_FFT, hop: int = HOP, floor_db: float = -80.0) -> np.ndarray:
    """``x[T]`` -> log-magnitude ``[F, N]`` in dB relative to the clip's maximum, floored."""
    X = stft(torch.as_tensor(np.asarray(x, dtype=np.float32)), n_fft, hop).abs().numpy()
    db = 20 * np.log10(X + 1e-8)
    return np.maximum(db - db.max(), floor_db)


def plot_spectrogram(ax, x, title: str = "", sample_rate: int = SAMPLE_RATE, hop: int = HOP,
                     n_fft: int = N_FFT, floor_db: float = -80.0, colorbar: bool = False, y_axis: str = "hz"):
    """Draw a dB spectrogram of ``x[T]`` (our :func:`mtass_lite.stft.stft`) on a matplotlib axis with
    ``librosa.display.specshow``: time in seconds, frequency in Hz (``y_axis="hz"``) or on a log axis
    (``y_axis="log"``). Returns the image (for a colorbar)."""
    import librosa.display

    S = db_spectrogram(x, n_fft, hop, floor_db)
    im = librosa.display.specshow(S, sr=sample_rate, hop_length=hop, n_fft=n_fft, x_axis="time",
                                  y_axis=y_axis, ax=ax, cmap="magma", vmin=floor_db, vmax=0)
    ax.set(title=title, xlabel="time (s)", ylabel="freq (Hz)")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="dB")
    return im


def plot_tracks(mixture, tracks, titles=None, sample_rate: int = SAMPLE_RATE, suptitle: str = ""):
    """Mixture and its tracks as a column of spectrograms; ``tracks[K, T]``. Returns the figure."""
    import matplotlib.pyplot as plt

    sigs = [np.asarray(mixture)] + [np.asarray(t) for t in tracks]
    titles = titles or ["mixture", *TRACKS[: len(tracks)]]
    fig, axes = plt.subplots(len(sigs), 1, figsize=(9, 2.0 * len(sigs)), sharex=True)
    for ax, s, t in zip(axes, sigs, titles):
        plot_spectrogram(ax, s, t, sample_rate)
        if ax is not axes[-1]:
            ax.set_xlabel("")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def savefig(fig, name: str) -> None:
    """Save ``fig`` as ``figures/<name>.png`` (150 dpi). Returns nothing, so a notebook cell ending
    with it shows the figure, not a machine-specific path."""
    fig.savefig(figures_dir() / f"{name}.png", dpi=150, bbox_inches="tight")


MAX_CLIP_SECONDS = 8.0
NOTEBOOK_BUDGET_BYTES = 4_000_000
COURSE_BUDGET_BYTES = 25_000_000
PEAK = 0.9


def audio_data_uri(x, sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_CLIP_SECONDS) -> tuple[str, float]:
    """Encode ``x[T]`` as an Ogg Vorbis ``data:`` URI. Returns ``(uri, seconds)``.

    The clip is cut to ``max_seconds`` and scaled down to a peak of 0.9 if it is louder (never up, so
    quiet estimates stay quiet: loudness is part of what you hear). A silent clip stays silent.
    """
    import soundfile as sf

    x = np.asarray(x, dtype=np.float32).reshape(-1)[: int(round(max_seconds * sample_rate))]
    if x.size == 0:
        raise ValueError("cannot embed an empty clip")
    if not np.all(np.isfinite(x)):
        raise ValueError("cannot embed a clip with NaN or inf samples")
    peak = float(np.max(np.abs(x)))
    if peak > PEAK:
        x = x / peak * PEAK
    buf = io.BytesIO()
    sf.write(buf, x, sample_rate, format="OGG", subtype="VORBIS")
    return "data:audio/ogg;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), x.size / sample_rate


def player_html(x, label: str = "", sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_CLIP_SECONDS) -> str:
    """One labelled, embedded player as an HTML snippet (see :func:`audio_data_uri`)."""
    uri, seconds = audio_data_uri(x, sample_rate, max_seconds)
    tag = (f'<audio controls preload="metadata" data-seconds="{seconds:.3f}" src="{uri}" '
           'style="height:32px;vertical-align:middle"></audio>')
    return f'<div>{html.escape(label)}: {tag}</div>' if label else tag


def listen(x, name: str = "", label: str | None = None, sample_rate: int = SAMPLE_RATE,
           max_seconds: float = MAX_CLIP_SECONDS):
    """A player for ``x[T]`` embedded in the notebook (Ogg Vorbis data URI), labelled ``label or name``."""
    from IPython.display import HTML

    return HTML(player_html(x, label or name, sample_rate, max_seconds))


def listen_tracks(mixture, tracks, prefix: str = "", titles=None, sample_rate: int = SAMPLE_RATE,
                  max_seconds: float = MAX_CLIP_SECONDS):
    """Embedded players for a mixture and its tracks (``tracks[K, T]``) in one HTML block."""
    from IPython.display import HTML

    titles = titles or ["mixture", *TRACKS[: len(tracks)]]
    return HTML("".join(player_html(s, t, sample_rate, max_seconds) for s, t in zip([mixture, *tracks], titles)))


def table_html(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    """A left-aligned HTML table of already-formatted cells (players, scores): the listening tables' layout."""
    th = "".join(f'<th style="text-align:left">{h}</th>' for h in header)
    body = "".join("<tr>" + "".join(f'<td style="text-align:left">{c}</td>' for c in r) + "</tr>" for r in rows)
    cap = f"<caption style=\"text-align:left\">{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _fmt_scores(scores: dict | None) -> str:
    if not scores:
        return ""
    return ", ".join(f"{html.escape(k)} {v:+.1f} dB" if np.isfinite(v) else f"{html.escape(k)} –"
                     for k, v in scores.items())


def compare_html(mixture, references, estimates, tracks=TRACKS, scores: dict | None = None, caption: str = "",
                 sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_CLIP_SECONDS) -> str:
    """Reference | estimate | residual (reference − estimate) players, one row per track, as HTML.

    Args:
        mixture: ``[T]``; played once above the table.
        references, estimates: ``[K, T]`` (same length; estimates are cut to the references').
        scores: optional ``{track: {"SDRi": dB, "SI-SDRi": dB, ...}}`` shown beside each row.
    The residual is what the model got wrong — leakage of the other tracks, missing parts, artefacts:
    the quieter it sounds, the better.
    """
    refs = np.asarray(references, dtype=np.float32)
    ests = np.asarray(estimates, dtype=np.float32)[..., : refs.shape[-1]]
    rows = []
    for k, t in enumerate(tracks):
        row = [f"<b>{html.escape(t)}</b>", player_html(refs[k], "", sample_rate, max_seconds),
               player_html(ests[k], "", sample_rate, max_seconds),
               player_html(refs[k] - ests[k], "", sample_rate, max_seconds)]
        if scores is not None:
            row.append(_fmt_scores(scores.get(t)))
        rows.append(row)
    header = ["track", "reference", "estimate", "residual (reference − estimate)"] + (["scores"] if scores is not None else [])
    return player_html(mixture, "mixture", sample_rate, max_seconds) + table_html(header, rows, caption)


def listen_compare(mixture, references, estimates, tracks=TRACKS, scores: dict | None = None, caption: str = "",
                   sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_CLIP_SECONDS):
    """:func:`compare_html` as a notebook display object."""
    from IPython.display import HTML

    return HTML(compare_html(mixture, references, estimates, tracks, scores, caption, sample_rate, max_seconds))


def separation_scores(mixture, references, estimates, tracks=TRACKS) -> dict:
    """Per-track SDRi and SI-SDRi of one mixture's estimates: ``{track: {"SDRi": dB, "SI-SDRi": dB}}``.

    ``mixture[T]``, ``references[K, T]``, ``estimates[K, T]`` (cut to the references' length)."""
    from .metrics import improvement

    refs = np.asarray(references, dtype=np.float64)
    ests = np.asarray(estimates, dtype=np.float64)[..., : refs.shape[-1]]
    mix = np.asarray(mixture, dtype=np.float64)[: refs.shape[-1]]
    sdri = improvement(ests, refs, mix, metric="sdr")
    si = improvement(ests, refs, mix, metric="si_sdr")
    return {t: {"SDRi": float(sdri[k]), "SI-SDRi": float(si[k])} for k, t in enumerate(tracks)}


def listen_separation(mixture, references, estimates, caption: str = "", tracks=TRACKS):
    """Reference | estimate | residual players per track with that mixture's SDRi and SI-SDRi beside
    them (:func:`separation_scores` + :func:`listen_compare`): the listening cell of chapters 06–10."""
    return listen_compare(mixture, references, estimates, tracks,
                          separation_scores(mixture, references, estimates, tracks), caption)


def chooser_html(mixtures: dict, references: dict, estimates: dict, scores: dict | None = None,
                 tracks=TRACKS, sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_CLIP_SECONDS) -> str:
    """A mixture × track × model listening chooser that needs no kernel and no JavaScript.

    One collapsible ``<details>`` block per mixture; inside, a table with one row per track: the
    reference, then every model's estimate with its scores beside it.

    Args:
        mixtures: ``{mixture_id: mixture[T]}``.
        references: ``{mixture_id: refs[K, T]}``.
        estimates: ``{mixture_id: {model: est[K, T]}}`` (the same models for each mixture).
        scores: ``{mixture_id: {model: {track: {"SDRi": dB, "SI-SDRi": dB}}}}`` or ``None``.
    """
    blocks = []
    for i, mid in enumerate(mixtures):
        models = list(estimates[mid])
        refs = np.asarray(references[mid], dtype=np.float32)
        rows = []
        for k, t in enumerate(tracks):
            row = [f"<b>{html.escape(t)}</b>", player_html(refs[k], "", sample_rate, max_seconds)]
            for m in models:
                est = np.asarray(estimates[mid][m], dtype=np.float32)[k, : refs.shape[-1]]
                sc = (scores or {}).get(mid, {}).get(m, {}).get(t)
                row.append(player_html(est, "", sample_rate, max_seconds)
                           + (f"<br><small>{_fmt_scores(sc)}</small>" if sc else ""))
            rows.append(row)
        table = table_html(["track", "reference", *[html.escape(m) for m in models]], rows)
        mix = player_html(mixtures[mid], "mixture", sample_rate, max_seconds)
        blocks.append(f'<details{" open" if i == 0 else ""}><summary><b>mixture {html.escape(str(mid))}</b>'
                      f'</summary>{mix}{table}</details>')
    return "".join(blocks)


def listen_chooser(mixtures: dict, references: dict, estimates: dict, scores: dict | None = None,
                   tracks=TRACKS, sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_CLIP_SECONDS):
    """:func:`chooser_html` as a notebook display object."""
    from IPython.display import HTML

    return HTML(chooser_html(mixtures, references, estimates, scores, tracks, sample_rate, max_seconds))


def embedded_clips(html_text: str) -> list[dict]:
    """Find the ``<audio>`` players in an HTML string and decode each embedded clip.

    Returns one dict per ``<audio>``: ``src_embedded`` (bool), ``seconds_declared`` (from
    ``data-seconds``, or ``None``) and, for embedded clips, ``audio`` (float32 ``[T]``) and
    ``sample_rate``. Used by the tests that keep every committed player playable.
    """
    import re

    import soundfile as sf

    out = []
    for tag in re.findall(r"<audio\b[^>]*>", html_text):
        src = re.search(r'src="([^"]*)"', tag)
        secs = re.search(r'data-seconds="([0-9.]+)"', tag)
        item = {"src_embedded": bool(src and src.group(1).startswith("data:audio/")),
                "seconds_declared": float(secs.group(1)) if secs else None}
        if item["src_embedded"]:
            payload = src.group(1).split(",", 1)[1]
            audio, sr = sf.read(io.BytesIO(base64.b64decode(payload)), dtype="float32")
            item.update(audio=audio, sample_rate=sr)
        out.append(item)
    return out


def plot_results_bars(ax, table: dict[str, dict[str, float]], errors: dict[str, dict[str, float]] | None = None,
                      tracks=TRACKS, ylabel: str = "SDRi (dB)"):
    """Grouped bars: ``table[row][track]`` values, one group per track, one bar per row."""
    rows = list(table)
    width = 0.8 / max(len(rows), 1)
    xs = np.arange(len(tracks))
    for j, r in enumerate(rows):
        vals = [table[r].get(t, np.nan) for t in tracks]
        err = None if errors is None else [errors[r].get(t, 0.0) for t in tracks]
        ax.bar(xs + (j - (len(rows) - 1) / 2) * width, vals, width, yerr=err, label=r, capsize=2)
    ax.set_xticks(xs, tracks)
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="k", lw=0.6)
    ax.legend(fontsize=8)
    return ax


def plot_training_log(log, dev_baseline: dict | None = None, window: int = 20, loss_label: str = "−SNR (dB)",
                      baseline_label: str = "mixture / 3", tracks=TRACKS):
    """A Trainer's log (chapter 05) in two panels: the training loss per track (a ``window``-step rolling
    mean) and the dev SDRi per track at each validation, with the baseline's dev SDRi dotted.

    Args:
        log: the run's ``log.csv`` (path) or its DataFrame: columns ``step``, ``loss_<track>`` and, on
            validation steps, ``valid_sdri_<track>``.
        dev_baseline: ``{track: dB}`` or ``{track: {"mean": dB}}`` (an :func:`mtass_lite.evaluate.evaluate_model`
            ``summary["sdri"]``) of a baseline on the same dev mixtures; ``None``: no dotted lines.

    Returns the figure.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    log = log if isinstance(log, pd.DataFrame) else pd.read_csv(log)
    valid = log.dropna(subset=[f"valid_sdri_{t}" for t in tracks], how="all")
    colors = [f"C{i}" for i in range(len(tracks))]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3))
    for t, c in zip(tracks, colors):
        ax1.plot(log["step"], log[f"loss_{t}"].rolling(window, min_periods=1).mean(), color=c, label=t)
    ax1.set(xlabel="step", ylabel=f"{loss_label}, {window}-step mean", title="training loss per track")
    ax1.legend()
    for t, c in zip(tracks, colors):
        ax2.plot(valid["step"], valid[f"valid_sdri_{t}"], "o-", color=c, label=t)
        if dev_baseline is not None:
            base = dev_baseline[t]
            ax2.axhline(base["mean"] if isinstance(base, dict) else base, color=c, ls=":", lw=1)
    title = "dev SDRi" + (f" (dotted: {baseline_label})" if dev_baseline is not None else "")
    ax2.set(xlabel="step", ylabel="SDRi (dB)", title=title)
    ax2.legend()
    return fig
