"""Test helpers: a tiny fabricated dataset with the on-disk layout and tiny models.

Independent of the real MTASS-tiny builder: a few 1-s mixtures of synthetic "speech" (amplitude-
modulated harmonic bursts), "music" (a chord of sines), "noise" (white noise), written as
``<root>/<split>/{mixture,speech,music,noise}/<id>.wav`` + ``metadata.csv``.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch import nn

SR = 16_000
TRACKS = ("speech", "music", "noise")


def fake_sources(rng: np.random.Generator, n: int) -> np.ndarray:
    """``[3, n]`` float32: speech-like bursts, a chord, white noise (each RMS ~0.05-0.1)."""
    t = np.arange(n) / SR
    f0 = rng.uniform(100, 220)
    env = np.clip(np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 6)), 0, None)
    speech = env * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    music = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in rng.uniform(300, 1500, size=3))
    noise = rng.standard_normal(n)
    src = np.stack([speech, music, noise])
    src /= np.sqrt((src ** 2).mean(-1, keepdims=True)) + 1e-9
    src *= rng.uniform(0.03, 0.1, size=(3, 1))
    return src.astype(np.float32)


def make_tiny_dataset(root, n_train: int = 8, n_dev: int = 2, n_test: int = 2, seconds: float = 1.0,
                      seed: int = 0, lengths: dict | None = None) -> Path:
    """Write the fabricated dataset under ``root``; mixture ``i`` of a split is a function of (seed, i).

    ``lengths`` may give per-split lists of lengths in samples (to test odd / long files).
    """
    root = Path(root)
    for s, (split, count) in enumerate((("train", n_train), ("dev", n_dev), ("test", n_test))):
        d = root / split
        for sub in ("mixture", *TRACKS):
            (d / sub).mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(count):
            n = (lengths or {}).get(split, [int(seconds * SR)] * count)[i]
            src = fake_sources(np.random.default_rng([seed, s, i]), n)
            uid = f"{split}_{i:04d}"
            sf.write(d / "mixture" / f"{uid}.wav", src.sum(0), SR, subtype="FLOAT")
            for k, t in enumerate(TRACKS):
                sf.write(d / t / f"{uid}.wav", src[k], SR, subtype="FLOAT")
            rows.append({"id": uid, "seed": seed, "samples": n})
        with open(d / "metadata.csv", "w", newline="") as f:
            w = csv.DictWriter(f, ["id", "seed", "samples"])
            w.writeheader()
            w.writerows(rows)
    return root


class TinySeparator(nn.Module):
    """A 2-layer 1-D conv net ``[B, T] -> [B, 3, T]`` (receptive field ``2 * (kernel - 1) + 1``).

    Dropout makes the training RNG matter (the resume test checks it is restored).
    """

    def __init__(self, channels: int = 8, kernel: int = 9, dropout: float = 0.1):
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, kernel, padding=kernel // 2)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(channels, 3, kernel, padding=kernel // 2)

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        h = self.drop(torch.tanh(self.conv1(mixture.unsqueeze(1))))
        return self.conv2(h) + mixture.unsqueeze(1) / 3


class NaNAt(TinySeparator):
    """A :class:`TinySeparator` whose ``nan_at``-th training forward pass returns NaN."""

    def __init__(self, nan_at: int = 3, **kw):
        super().__init__(**kw)
        self.nan_at, self.calls = nan_at, 0

    def forward(self, mixture):
        y = super().forward(mixture)
        if self.training:
            self.calls += 1
            if self.calls == self.nan_at:
                y = y * float("nan")
        return y


class MixtureThirds(nn.Module):
    """Every track estimate is ``mixture / 3`` (an "identity-ish" baseline with a known SDRi)."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, mixture):
        return (mixture / 3).unsqueeze(1).repeat(1, 3, 1) + 0 * self.dummy


class Oracle(nn.Module):
    """Returns the true targets of whichever stored mixture it is given (unchunked evaluation)."""

    def __init__(self, pairs):
        super().__init__()
        self.pairs = [(m.clone(), t.clone()) for m, t in pairs]

    def forward(self, mixture):
        out = []
        for x in mixture:
            match = [t for m, t in self.pairs if m.shape == x.shape and torch.equal(m, x)]
            if not match:
                raise KeyError("the oracle does not know this mixture")
            out.append(match[0])
        return torch.stack(out)
