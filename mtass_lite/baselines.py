"""Trivial "separators" that every trained model must beat.

With the plain-SNR SDRi (the paper's metric), doing almost nothing already scores *positive* SDRi
whenever a track's SDR in the mixture is negative (music and noise are mixed at −5..5 dB against
speech, so each track is usually below the other two combined): returning silence gives
``SDR = 0 dB`` and so ``SDRi = −SDR(mixture)``; returning a third of the mixture does better still.
A positive SDRi is therefore not evidence of separation; beating these baselines is.

SI-SDRi does not share the silence pitfall: SI-SDR is undefined for a silent estimate, and
:func:`mtass_lite.metrics.si_sdr` scores it a fixed :data:`~mtass_lite.metrics.SILENCE_FLOOR_DB`
(−50 dB, chance level), so silence scores SI-SDRi = −50 − SI-SDR(mixture), strongly negative. A scaled
mixture keeps the mixture's SI-SDR: SI-SDRi = 0.
"""
from __future__ import annotations

import torch
from torch import nn


class ScaledMixture(nn.Module):
    """``estimate_k = scale * mixture`` for every track (default 1/3: the three estimates sum to the mixture)."""

    def __init__(self, scale: float = 1.0 / 3.0):
        super().__init__()
        self.scale = scale

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """``[B, T] -> [B, 3, T]``."""
        return (self.scale * mixture).unsqueeze(1).expand(-1, 3, -1).contiguous()


class Silence(nn.Module):
    """All-zero estimates: SDR = 0 dB on every track (SDRi = −SDR(mixture), often positive), while
    SI-SDR is the −50 dB silence floor (SI-SDRi strongly negative)."""

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """``[B, T] -> [B, 3, T]`` of zeros."""
        return mixture.new_zeros(mixture.shape[0], 3, mixture.shape[-1])


BASELINES = {"mixture/3": ScaledMixture, "silence": Silence}
