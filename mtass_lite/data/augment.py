"""Training-time augmentation: the MTASS recipe re-applied on the fly, and cheap acoustic variety.

MTASS-tiny holds 400 fixed training mixtures of synthetic sources. Ways to show a model more
variety without writing more data, each a named recipe of :data:`AUGMENTS`:

* **Dynamic mixing** (``"remix"``): the speech of item ``b`` is mixed with the music and the noise of
  *other* items of the batch (independent permutations), at fresh recipe SNRs drawn from U(-5, 5) dB
  relative to the speech of the crop (as :func:`mtass_lite.data.mixing.make_mixture` does over a
  whole clip), at a random overall level. 400 mixtures become ~400^3 stem combinations. Dynamic
  mixing is the standard remedy for small separation corpora (Zeghidour & Grangier 2021, Wavesplit;
  Subakan et al. 2021, SepFormer). Every other recipe starts with it.
* **Colouring** (``"remix_eq"``): every stem passes a random first-order filter
  ``y[n] = x[n] + a x[n-1]``, ``a ~ U(-0.6, 0.6)`` (a spectral tilt of up to +-12 dB between low and
  high frequencies), mimicking microphones and rooms the synthetic sources never had.
* **Speed perturbation** (``"remix_speed"``): every stem is resampled by its own factor drawn
  log-uniformly from :data:`SPEED_RANGE`, which moves pitch, formants and tempo together (Ko et al.
  2015, the Kaldi recipe, uses 0.9/1.0/1.1). For eSpeak speech it is a cheap vocal-tract-length and
  pitch perturbation: more speakers than the voice list holds.
* **Reverberation** (``"remix_reverb"``): each stem, with probability :data:`REVERB_PROB`, is convolved
  with a synthetic room impulse response — a direct path plus exponentially decaying Gaussian noise
  (Moorer 1979; the "diffuse tail" model), RT60 from :data:`RT60_RANGE_S`, direct-to-reverberant
  ratio from :data:`DRR_RANGE_DB`. Recorded speech and produced music carry rooms; SoundFont notes
  and formant speech are dry. The target is the reverberant stem, as MTASS's targets are the stems
  as recorded.
* ``"remix_speed_reverb"``: both.

Everything is a pure function of ``(seed, step, rank)`` so a resumed run sees the same batches.
The targets stay the exact stems of the returned mixture (mixture = sum of targets).
"""
from __future__ import annotations

import numpy as np
import torch

from .. import SAMPLE_RATE
from ..audio import resample
from .mixing import PEAK_CEILING, SNR_RANGE_DB

AUGMENTS = ("none", "remix", "remix_eq", "remix_speed", "remix_reverb", "remix_speed_reverb")
LEVEL_RANGE_DB = (-12.0, 0.0)  # overall gain of a remixed example before the peak guard
EQ_MAX = 0.6
SPEED_RANGE = (0.8, 1.25)  # resampling factor (> 1: faster and higher), drawn log-uniformly
REVERB_PROB = 0.5  # per stem
RT60_RANGE_S = (0.15, 0.8)
DRR_RANGE_DB = (-3.0, 12.0)
_SILENT = 1e-8  # energy per sample below which a crop's stem counts as silent (SNR left as it was)


def speed_perturb(x: np.ndarray, factor: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Play ``x`` (``[T]``) ``factor`` times faster (pitch up by ``factor``); same length ``T`` out.

    Resamples with soxr; when speeding up, the input is extended by its time reverse first
    (continuous at the join) so that ``T`` output samples exist.
    """
    T = x.shape[-1]
    if factor == 1.0:
        return x.astype(np.float32, copy=True)
    ext = np.concatenate([x, x[::-1]]) if factor > 1.0 else x
    # T samples at rate sr/factor, read back at sr, are the waveform played `factor` times faster
    y = resample(np.ascontiguousarray(ext, dtype=np.float32), sample_rate, sample_rate / factor)
    out = np.zeros(T, np.float32)
    n = min(T, y.shape[0])
    out[:n] = y[:n]
    return out


def synthetic_rir(rng: np.random.Generator, rt60: float, drr_db: float,
                  sample_rate: int = SAMPLE_RATE, predelay_s: float = 0.002) -> np.ndarray:
    """A room impulse response ``[L]``: a unit direct path, then a Gaussian-noise tail decaying by
    60 dB in ``rt60`` seconds, scaled so that direct / tail energy is ``drr_db``. ``L = rt60 * sr``."""
    L = max(int(rt60 * sample_rate), 2)
    n0 = min(max(int(predelay_s * sample_rate), 1), L - 1)
    t = np.arange(L - n0) / sample_rate
    tail = rng.standard_normal(L - n0) * np.exp(-3.0 * np.log(10.0) * t / rt60)  # amplitude -60 dB at rt60
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail ** 2))
    h = np.zeros(L, np.float64)
    h[0] = 1.0
    h[n0:] = tail
    return h


def _per_stem(stems: torch.Tensor, fn) -> torch.Tensor:
    """Apply ``fn(b, k, x[T]) -> y[T] | None`` (numpy, None = unchanged) to every stem on the CPU."""
    x = stems.detach().cpu().numpy()
    out = x.copy()
    for b in range(x.shape[0]):
        for k in range(x.shape[1]):
            y = fn(b, k, x[b, k])
            if y is not None:
                out[b, k] = y
    return torch.as_tensor(out, dtype=stems.dtype, device=stems.device)


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
    if kind in ("remix_speed", "remix_speed_reverb"):
        factors = np.exp(rng.uniform(*np.log(SPEED_RANGE), size=(B, 3)))
        stems = _per_stem(stems, lambda b, k, x: speed_perturb(x, float(factors[b, k])))
    if kind in ("remix_reverb", "remix_speed_reverb"):
        # the draws are made for every stem, used or not, so each is a fixed function of (seed, step)
        use = rng.random((B, 3)) < REVERB_PROB
        rt60 = rng.uniform(*RT60_RANGE_S, size=(B, 3))
        drr = rng.uniform(*DRR_RANGE_DB, size=(B, 3))
        tail_seeds = rng.integers(0, 2**31, size=(B, 3))
        from scipy.signal import fftconvolve

        def reverb(b, k, x):
            if not use[b, k]:
                return None
            h = synthetic_rir(np.random.default_rng(int(tail_seeds[b, k])), float(rt60[b, k]), float(drr[b, k]))
            return fftconvolve(x, h)[:T]

        stems = _per_stem(stems, reverb)
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
