"""mtass_lite — Multi-Task Audio Source Separation (speech / music / noise), small and readable.

The constants here are the contract every part of the library agrees on (see README):
tracks always in the order ``TRACKS``, mono float32 audio at ``SAMPLE_RATE``.
"""
from __future__ import annotations

import os
from pathlib import Path

__version__ = "0.1.0"

TRACKS: tuple[str, str, str] = ("speech", "music", "noise")
SAMPLE_RATE: int = 16_000
MODES = ("fast", "full")

REPO_ROOT = Path(__file__).resolve().parents[1]


def repo_relative(p) -> str:
    """``p`` relative to the repository when inside it, else absolute: paths in results and messages stay
    machine-independent."""
    p = Path(p).resolve()
    try:
        return str(p.relative_to(REPO_ROOT))
    except ValueError:
        return str(p)


def get_mode(mode: str | None = None) -> str:
    """The run mode: ``fast`` (tiny data, lite models, CPU minutes; the default) or ``full``.

    Reads ``MTASS_MODE`` when ``mode`` is None.
    """
    mode = (mode or os.environ.get("MTASS_MODE", "fast")).strip().lower()
    if mode not in MODES:
        raise ValueError(f"MTASS_MODE must be one of {MODES}, got {mode!r}")
    return mode


def data_root() -> Path:
    """Where datasets live: ``$MTASS_DATA_ROOT`` or ``<repo>/data`` (git-ignored)."""
    return Path(os.environ.get("MTASS_DATA_ROOT", REPO_ROOT / "data")).expanduser()


def results_dir() -> Path:
    """``<repo>/results``: every number shown in README or a chapter is read from a json here."""
    d = Path(os.environ.get("MTASS_RESULTS_DIR", REPO_ROOT / "results"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def figures_dir() -> Path:
    """``<repo>/figures``: figures written by chapters and scripts."""
    d = Path(os.environ.get("MTASS_FIGURES_DIR", REPO_ROOT / "figures"))
    d.mkdir(parents=True, exist_ok=True)
    return d
