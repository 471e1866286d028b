"""Reading a dataset made by the official MTASS scripts (Complex-MTASSNet ``dataset_generation``).

The official ``mix_data.py`` writes, for mixture *N* of a split::

    <root>/<split>/mixture/mixture<N>/mixture_<N>.wav
    <root>/<split>/speech/speech<N>/speech_<N>.wav
    <root>/<split>/music/music<N>/music_<N>.wav       (scaled music, so mixture = sum of the three)
    <root>/<split>/noise/noise<N>/noise_<N>.wav       (scaled noise)

int16 at 16 kHz, with splits ``train`` / ``dev`` / ``test``. The official loader takes *the first
file* in each ``<track><N>`` folder; here the exact name is preferred and a lone ``.wav`` accepted.

Two ways to use it, both on top of :func:`scan_official_split`:

* :class:`OfficialMTASSDataset` reads the tree in place (nothing written: fine on a read-only
  mount) and returns ``(mixture [T], targets [3, T])`` like :class:`~mtass_lite.data.datasets.MTASSDataset`;
* :func:`link_official` builds our layout next to it as symlinks plus ``metadata.csv``, so every
  tool that takes a data root (``train``, ``evaluate``, chapters) works on it unchanged.

Known defect of the official writer: values were cast to int16 without clipping, so a loud
mixture *wraps around*. :meth:`OfficialMTASSDataset.sum_residual` measures
``max |mixture - sum(targets)|`` to find such items (a clean item is within int16 rounding, ~5e-5).
"""
from __future__ import annotations

import csv
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE, TRACKS
from ..audio import load_audio
from .datasets import SPLITS, MTASSDataset

OFFICIAL_FOLDERS = ("mixture", *TRACKS)


class OfficialLayoutError(FileNotFoundError):
    """A tree that is not in the official MTASS layout; the message says what is missing."""


@dataclass(frozen=True)
class OfficialItem:
    """Mixture ``index`` of a split and its four files (``paths[name]`` for mixture and each track)."""

    index: int
    paths: dict[str, Path]


def _find_file(folder: Path, name: str, index: int) -> Path:
    exact = folder / f"{name}_{index}.wav"
    if exact.is_file():
        return exact
    wavs = sorted(p for p in folder.glob("*.wav") if p.is_file())
    if len(wavs) == 1:
        return wavs[0]
    raise OfficialLayoutError(f"{folder}: expected {exact.name} (or exactly one .wav), found "
                              f"{[p.name for p in wavs] or 'none'}")


def scan_official_split(root: str | os.PathLike, split: str) -> list[OfficialItem]:
    """Every mixture of ``<root>/<split>`` in the official layout, sorted by index.

    Raises:
        OfficialLayoutError: a folder is missing, or a mixture lacks one of its three tracks.
    """
    d = Path(root) / split
    missing = [f for f in OFFICIAL_FOLDERS if not (d / f).is_dir()]
    if missing:
        raise OfficialLayoutError(
            f"{d} is not an official MTASS split: missing {', '.join(missing)}/ (expected "
            f"{split}/mixture/mixture<N>/mixture_<N>.wav and likewise speech, music, noise)")
    pattern = re.compile(r"mixture(\d+)$")
    indices = sorted(int(m.group(1)) for p in (d / "mixture").iterdir()
                     if p.is_dir() and (m := pattern.match(p.name)))
    if not indices:
        raise OfficialLayoutError(f"{d / 'mixture'} holds no mixture<N>/ folders")
    items = []
    for i in indices:
        paths = {}
        for name in OFFICIAL_FOLDERS:
            folder = d / name / f"{name}{i}"
            if not folder.is_dir():
                raise OfficialLayoutError(f"mixture {i} of {d} has no {name}/{name}{i}/ folder")
            paths[name] = _find_file(folder, name, i)
        items.append(OfficialItem(i, paths))
    return items


class OfficialMTASSDataset(MTASSDataset):
    """The official layout read in place: items ``(mixture [T], targets [3, T])``.

    Same interface as :class:`MTASSDataset` (``segment`` crops, :meth:`set_offsets`, ``ids``,
    ``num_samples``); ``ids[i]`` is the official index as a string. ``metadata`` rows hold the id,
    the official index and the file paths.
    """

    def __init__(self, root: str | os.PathLike, split: str, segment: float | None = None,
                 sample_rate: int = SAMPLE_RATE):
        # MTASSDataset.__init__ wants our metadata.csv; the reading code it holds is reused as is.
        self.root, self.split, self.sample_rate = Path(root), split, sample_rate
        self.dir = Path(root) / split
        self.items = scan_official_split(root, split)
        self.ids = [str(it.index) for it in self.items]
        self.metadata = [{"id": str(it.index), "official_index": str(it.index),
                          **{f"{k}_path": str(v) for k, v in it.paths.items()}} for it in self.items]
        self.segment_samples = None if segment is None else int(round(segment * sample_rate))
        self._offsets: dict[int, int] = {}

    def path(self, i: int, track: str) -> Path:
        return self.items[i].paths[track]

    def sum_residual(self, i: int) -> float:
        """``max |mixture - (speech + music + noise)|`` of item ``i`` over its whole length.

        Within int16 rounding (< 1e-4) for a sound item; large where the official writer wrapped
        an overflowing sample around.
        """
        mix = load_audio(self.path(i, "mixture"), sr=None)
        tgt = sum(load_audio(self.path(i, t), sr=None) for t in TRACKS)
        n = min(len(mix), len(tgt))
        return float(np.max(np.abs(mix[:n] - tgt[:n])))


def link_official(official_root: str | os.PathLike, out_root: str | os.PathLike,
                  splits: tuple[str, ...] = SPLITS, mode: str = "symlink") -> Path:
    """Lay an official MTASS tree out as ``<out_root>/<split>/{mixture,...}/<id>.wav`` + metadata.

    Args:
        mode: ``'symlink'`` (absolute links, no space used), ``'hardlink'`` or ``'copy'``. A
            symlink that the file system refuses falls back to a hard link, then to a copy.

    Returns:
        ``out_root``, readable by :class:`MTASSDataset`. Splits absent from the official tree are
        skipped; if none is found, :class:`OfficialLayoutError` is raised.
    """
    official_root, out_root = Path(official_root).resolve(), Path(out_root)
    done = []
    for split in splits:
        if not (official_root / split).is_dir():
            continue
        items = scan_official_split(official_root, split)
        width = max(5, len(str(max(it.index for it in items))))
        d = out_root / split
        rows = []
        for it in items:
            mid = f"{it.index:0{width}d}"
            for name in OFFICIAL_FOLDERS:
                _place(it.paths[name], d / name / f"{mid}.wav", mode)
            rows.append({"id": mid, "official_index": it.index, "source": "official-mtass",
                         **{f"{k}_file": str(v.relative_to(official_root)) for k, v in it.paths.items()}})
        tmp = d / "metadata.csv.tmp"
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, d / "metadata.csv")  # last: a split without it is unfinished
        done.append(split)
    if not done:
        raise OfficialLayoutError(f"no split of {splits} found under {official_root}")
    return out_root


def _place(src: Path, dst: Path, mode: str) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    if mode == "symlink":
        try:
            dst.symlink_to(src)
            return
        except OSError:
            mode = "hardlink"
    if mode == "hardlink":
        try:
            os.link(src, dst)
            return
        except OSError:
            mode = "copy"
    if mode != "copy":
        raise ValueError(f"mode must be symlink, hardlink or copy, got {mode!r}")
    shutil.copy2(src, dst)
