"""Pictures and players for the chapters: spectrograms, mask images, results bars, audio players.

Audio is written to wav files and played through an ``<audio>`` tag that points at the file, so the
committed notebooks hold no embedded audio (only a one-line HTML tag).
"""
from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np
import torch

from . import SAMPLE_RATE, TRACKS, figures_dir
from .audio import save_audio
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
                     n_fft: int = N_FFT, floor_db: float = -80.0, colorbar: bool = False):
    """Draw a dB spectrogram of ``x[T]`` on a matplotlib axis (time in s, frequency in kHz)."""
    S = db_spectrogram(x, n_fft, hop, floor_db)
    extent = (0, len(x) / sample_rate, 0, sample_rate / 2000)
    im = ax.imshow(S, origin="lower", aspect="auto", extent=extent, cmap="magma", vmin=floor_db, vmax=0)
    ax.set(title=title, xlabel="time (s)", ylabel="freq (kHz)")
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


def listen(x, name: str, label: str | None = None, folder: str | os.PathLike = "_audio",
           sample_rate: int = SAMPLE_RATE):
    """Write ``x[T]`` to ``<folder>/<name>.wav`` (relative to the notebook) and return a player.

    The player is an HTML ``<audio>`` tag pointing at the file: nothing is embedded in the notebook.
    """
    from IPython.display import HTML

    path = Path(folder) / f"{name}.wav"
    x = np.asarray(x, dtype=np.float32)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    save_audio(path, x / peak * 0.9 if peak > 0.9 else x, sample_rate, subtype="PCM_16")
    label = html.escape(label or name)
    return HTML(f'<div>{label}: <audio controls preload="none" src="{html.escape(path.as_posix())}"></audio></div>')


def listen_tracks(mixture, tracks, prefix: str, titles=None, folder: str | os.PathLike = "_audio"):
    """Players for a mixture and its tracks in one HTML block."""
    from IPython.display import HTML

    titles = titles or ["mixture", *TRACKS[: len(tracks)]]
    parts = [listen(s, f"{prefix}_{t.replace(' ', '_')}", t, folder).data
             for s, t in zip([mixture, *tracks], titles)]
    return HTML("".join(parts))


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
