"""Band-split RNN (BSRNN; Luo & Yu, "Music Source Separation with Band-split RNN", IEEE/ACM TASLP 31,
2023, arXiv 2209.15174), for the three MTASS tracks. Not one of the five models of the MTASS
comparison: an extra separator chosen for separation quality per CPU-minute (the family of
BS-RoFormer and TIGER), reached through the same registry (:data:`mtass_lite.models.EXTRA_MODELS`).

The network (paper Fig. 1):

* **front end**: the clip is divided by its RMS (estimates scaled back, so ``model(a x) = a model(x)``),
  then :class:`mtass_lite.stft.STFT`, ``n_fft`` 512 (257 bins of 31.25 Hz);
* **band split**: the 257 bins are cut into ``K`` contiguous sub-bands, narrow at low frequency
  (:func:`band_edges`; BSRNN's "v7" widths below 8 kHz: 100 Hz bands to 1 kHz, 250 Hz to 4 kHz,
  500 Hz to 8 kHz, i.e. 3, 8 and 16 bins, K = 30). Band ``k``'s ``[Re; Im]`` (``2 w_k`` values per
  frame) -> LayerNorm -> Linear to ``N`` features, its own weights per band ->
  ``Z[B, N, K, T]`` (stored ``[B, K, T, N]``, features last, the layout ``nn.LSTM``/``nn.Linear`` want);
* **band and sequence modelling**: ``n_layers`` blocks, each a residual BLSTM over *time* (every band
  a sequence of ``T`` frames, weights shared across bands) then a residual BLSTM over the *bands*
  (every frame a sequence of ``K`` bands); each is ``z + Linear(BLSTM(Norm(z)))`` with ``hidden`` units
  per direction and a Linear ``2 hidden -> N``;
* **mask estimation**: per band, LayerNorm -> MLP (Linear ``N -> mlp_ratio N``, Tanh, Linear to
  ``2 x (2 w_k x 3)``, GLU) -> a complex mask per track for the band's bins; the masks are concatenated
  over bands, multiply the mixture STFT, and the iSTFT gives ``[B, 3, T]`` at the input length (clips
  shorter than ``n_fft // 2 + 1`` samples, which the reflect-padded STFT refuses, are zero-padded to
  that length and the estimates cut back).

Where we depart from the paper, and why:

* sample rate and bands: 16 kHz mono (MTASS), not 44.1 kHz stereo; the paper's bands above 8 kHz do
  not exist here. A band width in Hz becomes ``round(width / 31.25)`` bins (100 Hz -> 3 bins = 94 Hz);
  bands of one width are laid from the previous edge up to the region's upper frequency, and a
  remainder narrower than the last band (the 3 bins next to Nyquist) joins it, so widths never
  decrease (the last band is 19 bins);
* STFT: 512 samples (32 ms) instead of 2048 at 44.1 kHz (46 ms), the MTASS front end's size; the
  paper's 4x overlap (hop 128, 8 ms) in ``"paper"``, hop 256 in ``"lite"``; the library's Hamming
  window (``window`` is a config key; BSRNN uses Hann);
* normalisation inside the band/sequence blocks: LayerNorm over the ``N`` features of each (band,
  frame) instead of the paper's group normalisation (whose statistics, in the common re-implementations,
  span the sequence): no transposes, and a frame's features do not depend on how long the sequence
  around it is (chunked separation);
* three tracks from one network: one mask head per band produces the masks of all three tracks
  (``2 w_k x 3`` complex values) instead of one network per source;
* the RMS normalisation of the clip is ours (the paper normalises nothing before the band split; the
  per-band LayerNorm already makes the features nearly level-free).

``"paper"`` is BSRNN's music configuration (N=128, 12 blocks, BLSTM 256 units per direction = 2N,
mask MLP hidden 4N = 512) on the 16 kHz front end with the paper's 4x overlap: **24,196,624**
parameters and **77.7 GMAC/s** (126 frames per second x 30 bands; FFTs and element-wise ops not
counted; the LSTMs counted analytically as :func:`mtass_lite.profile.macs_per_second` does). A GPU model:
its cost is 2 x 12 BLSTMs run over every (band, frame).

``"lite"`` (two CPU cores): the same network with N=48 features, BLSTMs of 32 units per direction,
4 blocks, coarser bands (200 Hz to 1 kHz, 500 Hz to 4 kHz, 1 kHz to 8 kHz: 6, 16 and 32 bins, K = 15)
and hop 256: **957,856** parameters, **0.226 GMAC/s** (Conv-TasNet lite: 0.35 M, 0.18 GMAC/s); 77 % of
the parameters are the per-band mask heads. The size was chosen by the CPU time of one training step
(batch 4 x 4 s, one thread) against Conv-TasNet lite's in the same runs: bands and frames cost most (both
BLSTMs run over every band and frame), so the lite model spends its budget on wider features rather than
finer bands or frames. Measured since (chapter 13): the step costs of all six lite models on one thread
(``benchmarks/efficient_models.py``, ``results/efficient_models.json``), and separation per CPU-minute
with the CPU reproduction's plan (``results/reproduction_cpu_bsrnn.json``) and on real recordings
(``results/real_test_bsrnn_espeak.json``, made on the eSpeak build of MTASS-tiny): at this size BSRNN is not
yet the efficient choice.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtass_lite import SAMPLE_RATE, TRACKS
from mtass_lite.models.common import trim_to_length
from mtass_lite.stft import STFT

# BSRNN's "v7" band split (the paper's best for vocals) below 8 kHz: (upper edge in Hz, band width in Hz).
PAPER_BANDS = ((1000, 100), (4000, 250), (8000, 500))
# Coarser bands for the lite model: fewer bands, fewer steps for the band BLSTM and fewer mask heads.
LITE_BANDS = ((1000, 200), (4000, 500), (8000, 1000))


def band_edges(n_fft: int = 512, sample_rate: int = SAMPLE_RATE,
               widths: Sequence[Sequence[float]] = PAPER_BANDS) -> list[int]:
    """Bin edges ``[0, e_1, ..., n_fft // 2 + 1]`` of contiguous sub-bands: band ``k`` is bins
    ``edges[k]:edges[k + 1]``, so every bin belongs to exactly one band.

    ``widths``: ``(upper_hz, width_hz)`` pairs, upper edges increasing and widths non-decreasing. Bands
    of ``round(width_hz / bin_hz)`` bins (at least 1) are laid from the previous edge for as long as
    they end at or below ``round(upper_hz / bin_hz)``; what is left above the last region forms one
    band, or joins the last band when it is narrower than that band, so band widths never decrease.
    """
    n_bins = n_fft // 2 + 1
    bin_hz = sample_rate / n_fft
    uppers = [float(u) for u, _ in widths]
    hz = [float(w) for _, w in widths]
    if any(w <= 0 for w in hz) or any(b <= a for a, b in zip(uppers, uppers[1:])) \
            or any(b < a for a, b in zip(hz, hz[1:])):
        raise ValueError(f"widths must be (upper_hz, width_hz) pairs with increasing upper edges and "
                         f"non-decreasing positive widths, got {widths}")
    edges = [0]
    for upper, width in zip(uppers, hz):
        w = max(1, round(width / bin_hz))
        stop = min(round(upper / bin_hz), n_bins)
        while edges[-1] + w <= stop:
            edges.append(edges[-1] + w)
    rest = n_bins - edges[-1]
    if rest > 0:
        if len(edges) > 1 and rest < edges[-1] - edges[-2]:
            edges[-1] = n_bins  # a sliver above the last region joins the last band
        else:
            edges.append(n_bins)
    return edges


class BandSplit(nn.Module):
    """``X[B, T, F, 2]`` ([Re, Im] of each bin) -> ``Z[B, K, T, N]``: per band LayerNorm + Linear."""

    def __init__(self, edges: Sequence[int], N: int):
        super().__init__()
        self.edges = list(edges)
        widths = [b - a for a, b in zip(self.edges, self.edges[1:])]
        self.bands = nn.ModuleList([nn.Sequential(nn.LayerNorm(2 * w), nn.Linear(2 * w, N)) for w in widths])

    def forward(self, x: Tensor) -> Tensor:
        B, T = x.shape[:2]
        return torch.stack([band(x[:, :, a:b].reshape(B, T, 2 * (b - a)))
                            for band, a, b in zip(self.bands, self.edges, self.edges[1:])], 1)


class ResidualBLSTM(nn.Module):
    """``z[batch, seq, N] -> z + Linear(BLSTM(LayerNorm(z)))`` (BLSTM of ``hidden`` units per direction)."""

    def __init__(self, N: int, hidden: int):
        super().__init__()
        self.norm = nn.LayerNorm(N)
        self.lstm = nn.LSTM(N, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, N)

    def forward(self, z: Tensor) -> Tensor:
        return z + self.fc(self.lstm(self.norm(z))[0])


class BandSequenceBlock(nn.Module):
    """One block of the band and sequence modelling module, ``[B, K, T, N] -> [B, K, T, N]``: a residual
    BLSTM over time (per band), then one over the bands (per frame)."""

    def __init__(self, N: int, hidden: int):
        super().__init__()
        self.time_rnn = ResidualBLSTM(N, hidden)
        self.band_rnn = ResidualBLSTM(N, hidden)

    def forward(self, z: Tensor) -> Tensor:
        B, K, T, N = z.shape
        z = self.time_rnn(z.reshape(B * K, T, N))  # every band a sequence of T frames
        z = z.view(B, K, T, N).transpose(1, 2).reshape(B * T, K, N)
        z = self.band_rnn(z)  # every frame a sequence of K bands
        return z.view(B, T, K, N).transpose(1, 2)


class MaskEstimation(nn.Module):
    """``Z[B, K, T, N]`` -> complex masks as ``[B, T, S, F, 2]`` ([Re, Im]): per band LayerNorm, Linear
    ``N -> mlp_ratio N``, Tanh, Linear to ``2 x (2 w_k S)``, GLU."""

    def __init__(self, edges: Sequence[int], N: int, mlp_ratio: int, n_tracks: int):
        super().__init__()
        self.edges, self.n_tracks = list(edges), n_tracks
        widths = [b - a for a, b in zip(self.edges, self.edges[1:])]
        self.bands = nn.ModuleList([
            nn.Sequential(nn.LayerNorm(N), nn.Linear(N, mlp_ratio * N), nn.Tanh(),
                          nn.Linear(mlp_ratio * N, 2 * 2 * w * n_tracks), nn.GLU(-1))
            for w in widths])

    def forward(self, z: Tensor) -> Tensor:
        B, K, T, _ = z.shape
        masks = [band(z[:, k]).view(B, T, self.n_tracks, b - a, 2)
                 for k, (band, a, b) in enumerate(zip(self.bands, self.edges, self.edges[1:]))]
        return torch.cat(masks, 3)


class BSRNN(nn.Module):
    """Band-split RNN: ``forward(mixture[B, T]) -> estimates[B, n_tracks, T]`` (tracks in ``TRACKS`` order).

    ``bands``: ``(upper_hz, width_hz)`` pairs for :func:`band_edges`; ``N`` features per band; ``hidden``
    BLSTM units per direction; ``n_layers`` band/sequence blocks; mask MLP hidden ``mlp_ratio * N``.
    """

    def __init__(self, n_fft: int = 512, hop: int = 128, window: str = "hamming",
                 bands: Sequence[Sequence[float]] = PAPER_BANDS, N: int = 128, hidden: int = 256,
                 n_layers: int = 12, mlp_ratio: int = 4, sample_rate: int = SAMPLE_RATE,
                 n_tracks: int = len(TRACKS)):
        super().__init__()
        self.stft = STFT(n_fft, hop, window)
        self.edges = band_edges(n_fft, sample_rate, bands)
        self.n_tracks = n_tracks
        self.band_split = BandSplit(self.edges, N)
        self.blocks = nn.ModuleList([BandSequenceBlock(N, hidden) for _ in range(n_layers)])
        self.mask = MaskEstimation(self.edges, N, mlp_ratio, n_tracks)

    @property
    def n_bands(self) -> int:
        return len(self.edges) - 1

    def masks(self, X: Tensor) -> Tensor:
        """Mixture STFT ``X[B, F, T]`` (complex) -> complex masks ``[B, n_tracks, F, T]``."""
        z = self.band_split(torch.view_as_real(X).transpose(1, 2))  # [B, T, F, 2] -> [B, K, T, N]
        for block in self.blocks:
            z = block(z)
        return torch.view_as_complex(self.mask(z)).permute(0, 2, 3, 1)  # [B, T, S, F] -> [B, S, F, T]

    def forward(self, mixture: Tensor) -> Tensor:
        """``mixture[B, T]`` -> ``estimates[B, n_tracks, T]``."""
        length = mixture.shape[-1]
        level = mixture.pow(2).mean(-1, keepdim=True).sqrt() + 1e-8  # [B, 1]
        # the reflect-padded STFT needs more than n_fft // 2 samples: pad short clips, cut back below
        padded = max(length, self.stft.n_fft // 2 + 1)
        X = self.stft(F.pad(mixture / level, (0, padded - length)))  # [B, F, T] complex, clip at RMS 1
        Y = self.masks(X) * X.unsqueeze(1)  # [B, S, F, T]
        return trim_to_length(self.stft.inverse(Y, padded), length) * level.unsqueeze(-1)


CONFIGS = {
    # BSRNN's music configuration on the 16 kHz, 512-point front end (see the module docstring):
    # 24,196,624 params, 77.7 GMAC/s. Train it on a GPU.
    "paper": dict(n_fft=512, hop=128, window="hamming", bands=PAPER_BANDS, N=128, hidden=256, n_layers=12,
                  mlp_ratio=4),
    # 957,856 params, 0.226 GMAC/s; step costs in results/efficient_models.json (chapter 13).
    "lite": dict(n_fft=512, hop=256, window="hamming", bands=LITE_BANDS, N=48, hidden=32, n_layers=4,
                 mlp_ratio=4),
}
MODEL_CLASS = BSRNN
