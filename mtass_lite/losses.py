"""Training objectives for three-track separation: ``(estimate[B, 3, T], target[B, 3, T]) -> scalar``.

Every loss is built from a *per-track* function ``[B, 3, T] x2 -> [B, 3]`` and reduced the same way:
mean over the batch, then a weighted **sum** over the three tracks (weights default to 1, as in the
released Complex-MTASSNet code, which sums its objective over tracks).

- ``"snr"``    negative plain-SNR SDR in the time domain (:func:`mtass_lite.metrics.sdr`): the loss
  that matches the paper's scale-dependent SDRi metric.
- ``"si_sdr"`` negative SI-SDR (:func:`mtass_lite.metrics.si_sdr`). Scale-invariant: a net trained with
  it alone leaves its output gain arbitrary, which the plain-SNR SDRi punishes (on real mixtures
  SI-SDRi positive while SDRi was -21 dB). Use it knowingly. It is the raw,
  smooth value (``silence_floor=False``): the evaluation's fixed −50 dB for a silent estimate is
  a reporting rule, not part of the objective.
- ``"ri_mse"`` mean squared error between the [Re; Im] STFT spectra (:mod:`mtass_lite.stft`).
- ``"mtass"``  the released Complex-MTASSNet objective: RI-MSE + 0.01 x negative time-domain SNR
  (the released Complex-MTASSNet code, its loss).

Losses are computed in float32 even when the model ran under mixed precision.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor

from .metrics import sdr, si_sdr
from .stft import ri_stack, stft

# Weight of the time-domain SNR term in the released Complex-MTASSNet objective (released code).
MTASS_SNR_WEIGHT = 0.01


def _check(estimate: Tensor, target: Tensor) -> None:
    if estimate.shape != target.shape:
        raise ValueError(f"estimate {tuple(estimate.shape)} and target {tuple(target.shape)} differ in shape")
    if estimate.dim() != 3:
        raise ValueError(f"expected [B, 3, T] tensors, got shape {tuple(estimate.shape)}")


def neg_snr(estimate: Tensor, target: Tensor) -> Tensor:
    """Negative plain-SNR SDR per track, dB: ``[B, 3, T] x2 -> [B, 3]``."""
    return -sdr(estimate, target)


def neg_si_sdr(estimate: Tensor, target: Tensor) -> Tensor:
    """Negative SI-SDR per track, dB: ``[B, 3, T] x2 -> [B, 3]`` (no silence floor: see the module doc)."""
    return -si_sdr(estimate, target, silence_floor=False)


def ri_mse(estimate: Tensor, target: Tensor) -> Tensor:
    """MSE between [Re; Im] STFT spectra (512/256 Hamming) per track: ``[B, 3, T] x2 -> [B, 3]``."""
    diff = ri_stack(stft(estimate)) - ri_stack(stft(target))  # [B, 3, 2F, N]
    return diff.pow(2).mean(dim=(-2, -1))


def mtass_objective(estimate: Tensor, target: Tensor) -> Tensor:
    """Complex-MTASSNet's released loss per track: RI-MSE + 0.01 x negative SNR: ``[B, 3, T] x2 -> [B, 3]``."""
    return ri_mse(estimate, target) + MTASS_SNR_WEIGHT * neg_snr(estimate, target)


PER_TRACK: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "snr": neg_snr,
    "si_sdr": neg_si_sdr,
    "ri_mse": ri_mse,
    "mtass": mtass_objective,
}
LOSS_NAMES = tuple(PER_TRACK)


class SeparationLoss:
    """A per-track loss reduced to a scalar: mean over the batch, weighted sum over tracks.

    Args:
        name: one of :data:`LOSS_NAMES`.
        track_weights: three weights in :data:`mtass_lite.TRACKS` order (speech, music, noise).
    """

    def __init__(self, name: str, track_weights: Sequence[float] = (1.0, 1.0, 1.0)):
        if name not in PER_TRACK:
            raise ValueError(f"unknown loss {name!r}; choose one of {LOSS_NAMES}")
        if len(track_weights) != 3:
            raise ValueError(f"track_weights needs 3 values (speech, music, noise), got {list(track_weights)}")
        self.name = name
        self.per_track = PER_TRACK[name]
        self.track_weights = tuple(float(w) for w in track_weights)

    def track_losses(self, estimate: Tensor, target: Tensor) -> Tensor:
        """Batch-mean loss of each track ``[3]`` (float32, before weighting)."""
        _check(estimate, target)
        return self.per_track(estimate.float(), target.float()).mean(0)

    def __call__(self, estimate: Tensor, target: Tensor) -> Tensor:
        """``[B, 3, T] x2 -> []``."""
        per_track = self.track_losses(estimate, target)
        w = torch.tensor(self.track_weights, dtype=per_track.dtype, device=per_track.device)
        return (w * per_track).sum()

    def __repr__(self) -> str:
        return f"SeparationLoss({self.name!r}, track_weights={self.track_weights})"


def get_loss(name: str, track_weights: Sequence[float] = (1.0, 1.0, 1.0)) -> SeparationLoss:
    """The loss registered as ``name`` ("snr", "si_sdr", "ri_mse", "mtass") as a callable."""
    return SeparationLoss(name, track_weights)
