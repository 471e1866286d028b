"""Training-time augmentation: the MTASS recipe re-applied on the fly, and random colouring.

MTASS-tiny holds 400 fixed training mixtures. Two cheap ways to show a model more variety without
writing more data:

* **Dynamic mixing** (``"remix"``): the speech of item ``b`` is mixed with the music and the noise of
  *other* items of the batch (independent permutations), at fresh recipe SNRs drawn from U(-5, 5) dB
  relative to the speech of the crop (as :func:`mtass_lite.data.mixing.make_mixture` does over a
  whole clip), at a random overall level. 400 mixtures become ~400^3 stem combinations. Dynamic
  mixing is the standard remedy for small separation corpora (Zeghidour & Grangier 2021, Wavesplit;
  Subakan et al. 2021, SepFormer).
* **Colouring** (``"remix_eq"``): on top, every stem passes a random first-order filter
  ``y[n] = x[n] + a x[n-1]``, ``a ~ U(-0.6, 0.6)`` (a spectral tilt of up to +-12 dB between low and
  high frequencies), mimicking microphones and rooms the synthetic sources never had.

Everything is a pure function of ``(seed, step, rank)`` so a resumed run sees the same batches.
The targets stay the exact stems of the returned mixture (mixture = sum of targets).
"""
from __future__ import annotations

import numpy as np
import torch

from .mixing import PEAK_CEILING, SNR_RANGE_DB

AUGMENTS = ("none", "remix", "remix_eq")
LEVEL_RANGE_DB = (-12.0, 0.0)  # overall gain of a remixed example before the peak guard
EQ_MAX = 0.6
_SILENT = 1e-8  # energy per sample below which a crop's stem counts as silent (SNR left as it was)


def augment_batch(targets: torch.Tensor, kind: str, seed: int, step: int, rank: int = 0,
                  snr_range_db: tuple[float, float] = SNR_RANGE_DB) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment one training batch.

    Args:
        targets: ``[B, 3, T]`` stems (speech, music, noise) of the batch's crops.
        kind: one of :data:`AUGMENTS`.
        seed, step, rank: the random draws are a function of these only.

    Returns:
        ``(mixture [B, T], targets [B, 3, T])`` with ``mixture == targets.sum(1)``.
    """
    if kind not in AUGMENTS:
        raise ValueError(f"augment must be one of {AUGMENTS}, got {kind!r}")
    if targets.ndim != 3 or targets.shape[1] != 3:
        raise ValueError(f"targets must be [batch, 3, time], got {tuple(targets.shape)}")
    if kind == "none":
        return targets.sum(1), targets
    rng = np.random.default_rng([int(seed), 2, int(step), int(rank)])
    B, _, T = targets.shape
    dev, dt = targets.device, targets.dtype
    stems = targets.clone()
    for k in (1, 2):  # music and noise from other items of the batch
        stems[:, k] = targets[torch.as_tensor(rng.permutation(B), device=dev), k]
    if kind == "remix_eq":
        a = torch.as_tensor(rng.uniform(-EQ_MAX, EQ_MAX, size=(B, 3, 1)), dtype=dt, device=dev)
        stems = stems + a * torch.nn.functional.pad(stems, (1, 0))[..., :T]
    # fresh recipe SNRs of music and noise relative to the crop's speech
    snr = torch.as_tensor(rng.uniform(*snr_range_db, size=(B, 2)), dtype=torch.float64, device=dev)
    energy = stems.double().pow(2).sum(-1)  # [B, 3]
    floor = _SILENT * T
    for j, k in enumerate((1, 2)):
        ok = (energy[:, 0] > floor) & (energy[:, k] > floor)
        gain = torch.sqrt(energy[:, 0] / (energy[:, k].clamp_min(floor) * 10 ** (snr[:, j] / 10)))
        stems[:, k] *= torch.where(ok, gain, torch.ones_like(gain)).to(dt)[:, None]
    level = torch.as_tensor(10 ** (rng.uniform(*LEVEL_RANGE_DB, size=B) / 20), dtype=dt, device=dev)
    stems = stems * level[:, None, None]
    # peak guard, as in the recipe: scale all stems together, SNRs unchanged
    peak = torch.maximum(stems.sum(1).abs().amax(-1), stems.abs().amax((1, 2)))
    stems = stems * torch.clamp(PEAK_CEILING / peak.clamp_min(1e-12), max=1.0)[:, None, None]
    return stems.sum(1), stems
