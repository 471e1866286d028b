"""Reading a mixed MTASS dataset from disk.

Layout (shared by MTASS-tiny, the real-corpus builder and the official-layout reader)::

    <root>/<split>/mixture/<id>.wav
    <root>/<split>/{speech,music,noise}/<id>.wav
    <root>/<split>/metadata.csv          one row per mixture: id, sources, offsets, SNRs, gains, seed

Each item is ``(mixture [T], targets [3, T])`` with tracks in :data:`mtass_lite.TRACKS` order, and
``mixture == targets.sum(0)`` (the recipe writes the scaled stems).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from .. import SAMPLE_RATE, TRACKS
from ..audio import audio_info, load_audio

SPLITS = ("train", "dev", "test")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset split that is not on disk; the message says how to build it."""


def require_split(root: str | Path, split: str) -> Path:
    """Return ``<root>/<split>`` or raise :class:`DatasetNotFoundError` with a build hint."""
    d = Path(root) / split
    if not (d / "metadata.csv").exists() or not (d / "mixture").is_dir():
        raise DatasetNotFoundError(
            f"no MTASS dataset split at {d} (missing metadata.csv or mixture/). Build the embedded "
            f"tiny set with `python data_scripts/make_tiny.py --root {Path(root)}` or the real one "
            f"with data_scripts/prepare_mtass.py (see chapter 04)."
        )
    return d


def read_metadata(root: str | Path, split: str) -> list[dict[str, str]]:
    """The rows of ``<root>/<split>/metadata.csv`` as dicts (values are strings)."""
    d = require_split(root, split)
    with open(d / "metadata.csv", newline="") as f:
        return list(csv.DictReader(f))


class MTASSDataset(torch.utils.data.Dataset):
    """Mixtures and their three targets from ``<root>/<split>``.

    Args:
        segment: if given (seconds), items are cropped to this many samples. The crop offset is
            ``offsets[i]`` when :meth:`set_offsets` was called (the trainer draws them from its
            seeded generator so a resumed run sees the same crops), else the segment's start.
            Items shorter than the segment are zero-padded at the end.
    """

    def __init__(self, root: str | Path, split: str, segment: float | None = None,
                 sample_rate: int = SAMPLE_RATE):
        self.root, self.split, self.sample_rate = Path(root), split, sample_rate
        self.dir = require_split(root, split)
        self.metadata = read_metadata(root, split)
        self.ids = [row["id"] for row in self.metadata]
        self.segment_samples = None if segment is None else int(round(segment * sample_rate))
        self._offsets: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def num_samples(self, i: int) -> int:
        """Length of mixture ``i`` in samples (header only)."""
        return audio_info(self.path(i, "mixture")).frames

    def path(self, i: int, track: str) -> Path:
        return self.dir / track / f"{self.ids[i]}.wav"

    def set_offsets(self, offsets: dict[int, int]) -> None:
        """Crop offsets (samples) per item index for the next reads."""
        self._offsets = dict(offsets)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        start, frames = 0, -1
        if self.segment_samples is not None:
            start, frames = self._offsets.get(i, 0), self.segment_samples
        mix = load_audio(self.path(i, "mixture"), sr=self.sample_rate, start=start, frames=frames)
        tgt = np.stack([load_audio(self.path(i, t), sr=self.sample_rate, start=start, frames=frames)
                        for t in TRACKS])
        if self.segment_samples is not None and mix.shape[0] < self.segment_samples:
            pad = self.segment_samples - mix.shape[0]
            mix = np.pad(mix, (0, pad))
            tgt = np.pad(tgt, ((0, 0), (0, pad)))
        return torch.from_numpy(mix), torch.from_numpy(tgt)
