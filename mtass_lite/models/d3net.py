"""D3Net (Takahashi & Mitsufuji, "Densely connected multidilated convolutional networks for dense
prediction tasks", CVPR 2021, arXiv 2011.11844; music version arXiv 2010.01733), for the MTASS tracks.

A spectrogram U-Net whose every stage is a *D3 block*: densely connected *D2 blocks*, each a DenseNet
whose layers use **multi-dilated** convolutions — the features coming from the ``i``-th earlier layer
of a block are convolved with dilation ``2**i`` (the block input with 1), so one layer sees several
resolutions at once without the aliasing a plain dilated DenseNet suffers (paper, Sec. 3).

Written from the paper and the authors' released inference code (sony/ai-research-code,
``d3net/music-source-separation``), whose memory-saving form we follow: a D2 block's first convolution
produces the contributions of the block input to *all* later layers at once; each later layer's
BN-ReLU-conv output is split and added to the layers after it. The block's output is its last layer's
(pre-activation) features, ``growth`` channels; a D3 block nests D2 blocks in the same way.

The network (paper Fig. 3; music configuration of the released ``vocals`` model):

* input: magnitude ``|X|`` of the mixture STFT (MTASS front end: 512/256 Hamming, 257 bins), the clip
  divided by its RMS and the spectrum by the window's norm (so bins are O(1) and the network is scale
  equivariant; the original standardises with per-bin statistics of its training set), then a learned
  per-bin offset and scale as in the original;
* band split: a **low** band (bins 0-87, 0-2.75 kHz: the released model splits at 256 of 4096 bins,
  2.76 kHz at 44.1 kHz) and a **middle** band (bins 88-255), each with its own MD3 U-Net, and a
  **full**-band MD3 U-Net over bins 0-255; the band outputs are stacked along frequency and concatenated
  with the full-band output along channels; the Nyquist bin is not modelled: its estimate is the
  mixture's magnitude, as the released model copies the input magnitude into every bin from its
  ``valid_signal_idx`` up (``model.py``, the last ``concatenate`` of ``D3NetMSS.__call__``);
* an MD3 U-Net: D3 block -> 2x2 average pooling per level down, a D3 block at the bottleneck, and per
  level up a BN + 2x2 transposed convolution, concatenation with the skip, a D3 block;
* a final D2 block and a gated 1x1 output layer (BN, ``conv * sigmoid(conv)``), a learned per-bin
  scale and bias, ReLU: non-negative **magnitudes** ``|S_j|`` for each track. Scale and bias start at
  **1**, as the release initialises ``decode_scale`` and ``decode_bias`` (``ConstantInitializer(1)`` in
  ``D3NetMSS.__init__``), so every track starts near the clip's RMS bin magnitude (and, through the
  post-filter below, near "mixture / 3");
* output stage (``postfilter``): ``"wiener"`` (default) applies to the mixture STFT the ratio mask
  ``|S_j|^2 / sum_k |S_k|^2``, which is what the release's multichannel Wiener filter (``filter.py``,
  ``apply_mwf``, called in ``separate.py``) reduces to for one channel: its spatial covariance
  matrices become 1x1 and equal to 1 (up to its eps), and what is left is each source's power over
  the sum of the sources' powers (its code inverts 2x2 matrices explicitly, so it runs on stereo
  only). It is its own filter, not norbert's: one pass (its ``num_mwf_iterations`` argument is
  unused, no EM iterations), power spectra (exponent 2), so we do the same: one pass, power ratio. It is not idle in mono: the tracks now **sum to the mixture** (the masks sum to
  1 in every bin), mixture energy that one track's estimate misses goes to the others, and no estimate
  exceeds the mixture in any bin. A bin where every estimate is 0 would be 0/0: a floor ``eps``
  (1e-8 of the clip's mean power per bin; the release adds 1e-10 of each source's peak power) is
  added, split equally, so such a bin gets a third of the mixture per track and the tracks still sum
  to it. ``"none"``: the magnitude estimates with the mixture's phase
  (the release's ``apply_mwf_flag=False``). The attribute can be switched on a trained model (there
  are no parameters involved), as chapter 09 does to score one model both ways. In the Nyquist bin
  all three estimates equal the mixture's magnitude, so the post-filter gives each track a third of
  it (the release's four sources get a quarter each); without it, every track gets the whole bin;
* the estimates go back through the iSTFT. :meth:`D3Net.spectra` exposes the raw magnitude estimates
  (before the post-filter), in the scale of ``model.stft(target).abs()``.

Objective. The release trains each network on the **mean squared error between magnitude
spectrograms** (``train.py``: ``F.mean(F.squared_error(pred_spec, target_spec))``), before any
post-filter; ``D3Net.spectra(mixture)["magnitude"]`` against ``model.stft(targets).abs()`` is that
comparison. Our fast mode trains every model with the shared negative SNR on the waveforms (after
the post-filter and the iSTFT); chapter 11 compares the two objectives.

Departures from the release besides the sizes below: the input is normalised by the clip's RMS, not
by per-bin training-set statistics (``in_offset``/``in_scale`` start at 0/1 instead of the data's
mean/std); convolutions keep PyTorch's default initialisation (the release trains with Glorot-normal
weights, ``init_method='xavier'``); no patch-wise overlap-add at inference (the release processes
256-frame patches, ``util.py``); mono, so no channel-flip averaging.

Paper size. The original trains one network per source; so do we, one per track (``shared=False``),
each with the released vocals configuration (D3 blocks, layers per D2 block, D2 blocks per D3 block)
except that every growth rate is one smaller: 3 x 2.62 M = **7,866,591** parameters against the
table's 7.93 M (-0.8 %). The released growth rates give 8,881,377 (+12 %). ``shared=True`` (one
network, three outputs) is the cheaper variant the lite preset uses.

Cost: **15.8 GMAC/s** measured, 4.5x the table's 3.5 G — not matched, and no faithful configuration
matches it. The released growth rates are nearly flat across U-Net levels, so most weights work at
full or half resolution: each weight is used ~2,000 times per second of audio (16,000 time-frequency
bins per second, which any 50 %-overlap STFT gives). The table's 3.5 G for 7.93 M weights means ~440
uses per weight, i.e. most weights at 1/16 of the resolution or coarser, a different growth profile
from the one the authors released. The transposed convolutions are a negligible share here, so
counting them per output position (which reproduces the table's GCRN and Demucs figures) does not
close the gap either.

``size="lite"``: one shared network with the same structure (low/middle/full bands, MD3 U-Nets of 1-2
pooling levels, multi-dilated D2 blocks of 1-2 layers, growth rates 4-10, final D2 block, gated output),
20,110 parameters, 0.12 GMAC/s. Training step (forward + backward + Adam, batch 4 x 4 s), measured on the
2-core machine while ~5 other jobs ran (load average 5-6): 0.83 s of CPU time single-threaded
(``OMP_NUM_THREADS=1``; 1.2 s wall), 1.4-2.9 s wall with two threads fighting for the busy cores. A
2-minute fast run (133 steps, SNR loss) raised the dev SDRi from 3.4 / 3.7 / 2.9 dB (untrained) to
6.5 / 6.2 / 6.8 dB (speech / music / noise), past the 4.9 / 5.0 / 4.4 dB of the trivial estimate
"mixture / 3" (measured before the post-filter and the bias-1 initialisation; with them an untrained
model starts near "mixture / 3").
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtass_lite.models.common import pad_to_multiple, trim_to_length
from mtass_lite.stft import STFT, make_window

N_TRACKS = 3


class D2Block(nn.Module):
    """Densely connected multi-dilated block, ``[B, C_in, T, F] -> [B, growth, T, F]``.

    ``n_layers`` conv layers of ``growth`` output channels each; layer ``l`` sees the block input
    (dilation 1) and the outputs of layers ``0..l-1`` (layer ``i`` through dilation ``2**(i+1)``), as
    the multi-dilated convolution of D3Net (paper, Eq. 3). Computed the efficient way: the input's
    convolution makes every later layer's share at once, and so does each layer's output.
    """

    def __init__(self, in_channels: int, growth: int, n_layers: int, kernel_size: int = 3,
                 dilated: bool = True):
        super().__init__()
        self.growth, self.n_layers = growth, n_layers
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(n_layers):
            c_in = in_channels if i == 0 else growth
            d = 2 ** i if dilated else 1  # dilation of the i-th input group: 1, 2, 4, ...
            self.norms.append(nn.BatchNorm2d(c_in))
            self.convs.append(nn.Conv2d(c_in, growth * (n_layers - i), kernel_size,
                                        padding=d * (kernel_size // 2), dilation=d))

    def forward(self, x: Tensor) -> Tensor:
        g = self.growth
        # acc[j]: running pre-activation of layer j (sum of its shares from earlier features)
        acc = list(self.convs[0](F.relu(self.norms[0](x))).split(g, dim=1))
        for i in range(1, self.n_layers):
            h = self.convs[i](F.relu(self.norms[i](acc[i - 1])))
            for j, part in enumerate(h.split(g, dim=1)):
                acc[i + j] = acc[i + j] + part
        return acc[-1]


class D3Block(nn.Module):
    """``n_blocks`` densely connected D2 blocks, ``[B, C_in, T, F] -> [B, growth, T, F]`` (paper Fig. 2)."""

    def __init__(self, in_channels: int, growth: int, n_layers: int, n_blocks: int, kernel_size: int = 3,
                 dilated: bool = True):
        super().__init__()
        self.growth = growth
        self.blocks = nn.ModuleList(
            D2Block(in_channels if i == 0 else growth, growth * (n_blocks - i), n_layers, kernel_size, dilated)
            for i in range(n_blocks))

    def forward(self, x: Tensor) -> Tensor:
        g = self.growth
        acc = list(self.blocks[0](x).split(g, dim=1))
        for i in range(1, len(self.blocks)):
            for j, part in enumerate(self.blocks[i](acc[i - 1]).split(g, dim=1)):
                acc[i + j] = acc[i + j] + part
        return acc[-1]


class MD3UNet(nn.Module):
    """Multi-scale D3 net (an MD3 U-Net), ``[B, C_in, T, F] -> [B, out, T, F]``.

    ``growth``, ``n_layers`` and ``n_blocks`` list the D3 blocks down, bottleneck, up (odd length
    ``2 L + 1``), so ``T`` and ``F`` must be multiples of ``2**L``. ``out_channels`` (optional) adds the
    BN + 1x1 conv that matches a band's width to the widest band (released code, ``match_fm_conv``).
    """

    def __init__(self, in_channels: int, init_features: int, growth: list[int], n_layers: list[int],
                 n_blocks: list[int], kernel_size: int = 3, dilated: bool = True,
                 out_channels: int | None = None):
        super().__init__()
        if not len(growth) == len(n_layers) == len(n_blocks) or len(growth) % 2 == 0:
            raise ValueError("growth, n_layers and n_blocks must have the same odd length")
        self.levels = len(growth) // 2
        self.init = nn.Conv2d(in_channels, init_features, kernel_size, padding=kernel_size // 2)
        c = init_features
        self.down = nn.ModuleList()
        skips = []
        for k, nl, nb in zip(growth[:self.levels], n_layers, n_blocks):
            self.down.append(D3Block(c, k, nl, nb, kernel_size, dilated))
            c = k
            skips.append(k)
        L = self.levels
        self.bottleneck = D3Block(c, growth[L], n_layers[L], n_blocks[L], kernel_size, dilated)
        c = growth[L]
        self.up_samples, self.up = nn.ModuleList(), nn.ModuleList()
        for k, nl, nb, skip in zip(growth[L + 1:], n_layers[L + 1:], n_blocks[L + 1:], skips[::-1]):
            self.up_samples.append(nn.Sequential(nn.BatchNorm2d(c), nn.ConvTranspose2d(c, c, 2, stride=2)))
            self.up.append(D3Block(c + skip, k, nl, nb, kernel_size, dilated))
            c = k
        self.match = None
        if out_channels is not None and out_channels != c:
            self.match = nn.Sequential(nn.BatchNorm2d(c), nn.Conv2d(c, out_channels, 1))
            c = out_channels
        self.out_channels = c

    def forward(self, x: Tensor) -> Tensor:
        x = self.init(x)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.avg_pool2d(x, 2)
        x = self.bottleneck(x)
        for upsample, block in zip(self.up_samples, self.up):
            x = block(torch.cat([upsample(x), skips.pop()], dim=1))
        return self.match(x) if self.match is not None else x


class D3NetSeparator(nn.Module):
    """One D3Net: magnitude ``[B, 1, T, F]`` (``F = valid_bins``) -> ``[B, out_channels, T, F]``, >= 0."""

    def __init__(self, valid_bins: int, band_split: int, out_channels: int, low: dict, middle: dict,
                 full: dict, final_growth: int, final_layers: int, kernel_size: int = 3, dilated: bool = True):
        super().__init__()
        self.band_split = band_split
        widest = max(low["growth"][-1], middle["growth"][-1])
        self.low = MD3UNet(1, **low, kernel_size=kernel_size, dilated=dilated, out_channels=widest)
        self.middle = MD3UNet(1, **middle, kernel_size=kernel_size, dilated=dilated, out_channels=widest)
        self.full = MD3UNet(1, **full, kernel_size=kernel_size, dilated=dilated)
        self.final = D2Block(widest + self.full.out_channels, final_growth, final_layers, kernel_size, dilated)
        # gated output (released code, "BNC gate"): BN, then conv * sigmoid(conv), 1x1
        self.gate_norm = nn.BatchNorm2d(final_growth)
        self.gate_filter = nn.Conv2d(final_growth, out_channels, 1)
        self.gate = nn.Conv2d(final_growth, out_channels, 1)
        self.in_offset = nn.Parameter(torch.zeros(valid_bins))
        self.in_scale = nn.Parameter(torch.ones(valid_bins))
        # the release's decode_scale and decode_bias, both initialised to 1 (module docstring)
        self.out_scale = nn.Parameter(torch.ones(out_channels, 1, valid_bins))
        self.out_bias = nn.Parameter(torch.ones(out_channels, 1, valid_bins))
        self.levels = max(self.low.levels, self.middle.levels, self.full.levels)

    def forward(self, mag: Tensor) -> Tensor:
        x = (mag - self.in_offset) / (self.in_scale.abs() + 1e-5)
        bands = torch.cat([self.low(x[..., :self.band_split]), self.middle(x[..., self.band_split:])], dim=-1)
        h = self.final(torch.cat([bands, self.full(x)], dim=1))
        h = self.gate_norm(h)
        y = self.gate_filter(h) * torch.sigmoid(self.gate(h))
        return F.relu(y * self.out_scale + self.out_bias)


POSTFILTERS = ("wiener", "none")
WIENER_EPS = 1e-8  # the post-filter's floor, relative to the clip's mean power per bin


class D3Net(nn.Module):
    """D3Net for MTASS: ``forward(mixture[B, T]) -> estimates[B, 3, T]``.

    Magnitudes are estimated per track (one network per track, or one shared network with three
    outputs) by :meth:`spectra`, then turned into STFTs by the output stage named by the attribute
    ``postfilter``: ``"wiener"`` (default; the ratio mask ``|S_j|^2 / sum_k |S_k|^2`` on the mixture
    STFT, the release's Wiener filter for one channel) or ``"none"`` (each magnitude with the mixture's
    phase). ``postfilter`` may be reassigned on a built or trained model. See the module docstring.
    """

    def __init__(self, n_fft: int = 512, hop: int = 256, band_split: int = 88, low: dict | None = None,
                 middle: dict | None = None, full: dict | None = None, final_growth: int = 12,
                 final_layers: int = 3, kernel_size: int = 3, dilated: bool = True, shared: bool = False,
                 n_tracks: int = N_TRACKS, postfilter: str = "wiener"):
        super().__init__()
        self.stft = STFT(n_fft, hop)
        # |X| of unit-RMS white noise is the window's norm: divide it out so spectra are O(1)
        self.spec_scale = float(make_window(n_fft).pow(2).sum().sqrt())
        self.valid_bins = n_fft // 2  # all bins but Nyquist
        if not 0 < band_split < self.valid_bins:
            raise ValueError(f"band_split must be within (0, {self.valid_bins})")
        self.n_tracks, self.shared = n_tracks, shared
        self.postfilter = postfilter
        kw = dict(valid_bins=self.valid_bins, band_split=band_split, low=low or LOW, middle=middle or MIDDLE,
                  full=full or FULL, final_growth=final_growth, final_layers=final_layers,
                  kernel_size=kernel_size, dilated=dilated)
        n_nets, out = (1, n_tracks) if shared else (n_tracks, 1)
        self.nets = nn.ModuleList(D3NetSeparator(out_channels=out, **kw) for _ in range(n_nets))
        # frequency extents of each U-Net must divide by 2**levels: check now, not at the first forward
        for name, width in (("low", band_split), ("middle", self.valid_bins - band_split),
                            ("full", self.valid_bins)):
            levels = getattr(self.nets[0], name).levels
            if width % 2 ** levels:
                raise ValueError(f"{name} band has {width} bins, not a multiple of 2**{levels}")
        self.time_multiple = 2 ** self.nets[0].levels

    @property
    def postfilter(self) -> str:
        """The output stage, ``"wiener"`` or ``"none"`` (read by :meth:`forward`; no parameters)."""
        return self._postfilter

    @postfilter.setter
    def postfilter(self, value: str) -> None:
        if value not in POSTFILTERS:
            raise ValueError(f"postfilter must be one of {POSTFILTERS}, got {value!r}")
        self._postfilter = value

    def _padded_length(self, length: int) -> int:
        # the STFT's reflect padding needs more than n_fft // 2 samples; longer inputs are left as they
        # are, so spectra(mixture) has the frames of model.stft(target) for a target of the same length
        return max(length, self.stft.n_fft // 2 + 1)

    def spectra(self, mixture: Tensor) -> dict[str, Tensor]:
        """The network's raw estimates, before the post-filter: ``mixture[B, T]`` ->

        * ``"magnitude"``: ``[B, 3, F, N]`` (``F = n_fft // 2 + 1``), in the scale of
          ``model.stft(target).abs()`` for the un-normalised target waveform (our RMS level and
          ``spec_scale`` undone); the Nyquist bin holds the mixture's magnitude (not modelled);
        * ``"mixture"``: the mixture STFT, complex ``[B, F, N]``;
        * ``"scale"``: ``[B, 1, 1]``, the clip's level times ``spec_scale``: magnitudes divided by it
          are in the network's O(1) units (e.g. for a loss that does not depend on the clip's level).

        For ``T > n_fft // 2``, ``N = T // hop + 1``, the frames of ``model.stft`` of a ``[..., T]`` target.
        """
        x = F.pad(mixture, (0, self._padded_length(mixture.shape[-1]) - mixture.shape[-1]))
        X = self.stft(x)  # [B, F, N], un-normalised
        scale = (x.pow(2).mean(-1).sqrt() + 1e-8)[:, None, None] * self.spec_scale  # [B, 1, 1]
        n_frames = X.shape[-1]
        mag = X.abs() / scale  # O(1) bins: the network is scale equivariant
        mag, _ = pad_to_multiple(mag, self.time_multiple)  # frames: a multiple of the U-Nets' pooling
        mag = mag[:, None, :self.valid_bins].transpose(-1, -2)  # [B, 1, N', F']
        est = torch.cat([net(mag) for net in self.nets], dim=1)  # [B, 3, N', F']
        est = est[:, :, :n_frames].transpose(-1, -2) * scale[:, None]  # [B, 3, F', N]
        # bins from valid_bins up (Nyquist): the mixture's magnitude, as the release does
        rest = X.abs()[:, None, self.valid_bins:].expand(-1, est.shape[1], -1, -1)
        return {"magnitude": torch.cat([est, rest], dim=-2), "mixture": X, "scale": scale}

    def estimate_stfts(self, spec: dict[str, Tensor]) -> Tensor:
        """:meth:`spectra`'s output -> complex track STFTs ``[B, 3, F, N]``, by ``self.postfilter``."""
        mag, X = spec["magnitude"], spec["mixture"]
        if self.postfilter == "none":
            return torch.polar(mag, X.angle()[:, None])  # estimated magnitude, mixture phase
        # mono Wiener filter, one pass: M_j = (|S_j|^2 + eps/3) / (sum_k |S_k|^2 + eps). The masks sum to
        # 1 exactly; a bin where all estimates are 0 gets a third of the mixture per track, and eps
        # (relative to the clip's level, so the model stays scale equivariant) bounds the gradients.
        power = mag.pow(2)
        eps = WIENER_EPS * spec["scale"][:, None].pow(2)  # [B, 1, 1, 1]
        mask = (power + eps / power.shape[1]) / (power.sum(1, keepdim=True) + eps)
        return mask * X[:, None]

    def forward(self, mixture: Tensor) -> Tensor:
        """``mixture[B, T]`` -> ``[B, 3, T]``."""
        length = mixture.shape[-1]
        S = self.estimate_stfts(self.spectra(mixture))
        return trim_to_length(self.stft.inverse(S, self._padded_length(length)), length)


# D3 blocks of the released vocals model (growth rate, layers per D2 block, D2 blocks per D3 block),
# listed down -> bottleneck -> up. The paper preset takes one off every growth rate (module docstring).
RELEASED_LOW = dict(init_features=32, growth=[16, 18, 20, 22, 20, 18, 16], n_layers=[5, 5, 5, 5, 4, 4, 4],
                    n_blocks=[2] * 7)
RELEASED_MIDDLE = dict(init_features=8, growth=[2] * 5, n_layers=[1] * 5, n_blocks=[1] * 5)
RELEASED_FULL = dict(init_features=32, growth=[13, 14, 15, 16, 17, 16, 14, 12, 11],
                     n_layers=[4, 5, 6, 7, 8, 6, 5, 4, 4], n_blocks=[2] * 9)


def _thinner(band: dict, by: int) -> dict:
    return {**band, "growth": [g - by for g in band["growth"]]}


LOW, MIDDLE, FULL = _thinner(RELEASED_LOW, 1), RELEASED_MIDDLE, _thinner(RELEASED_FULL, 1)

CONFIGS = {
    "paper": dict(n_fft=512, hop=256, band_split=88, low=LOW, middle=MIDDLE, full=FULL, final_growth=12,
                  final_layers=3, shared=False, postfilter="wiener"),
    # one shared network (per-track networks triple the cost); 1-2 levels per U-Net, growth 4-10
    "lite": dict(n_fft=512, hop=256, band_split=88, shared=True,
                 low=dict(init_features=6, growth=[6, 8, 6], n_layers=[2] * 3, n_blocks=[1] * 3),
                 middle=dict(init_features=4, growth=[4, 4, 4], n_layers=[1] * 3, n_blocks=[1] * 3),
                 full=dict(init_features=6, growth=[6, 8, 10, 8, 6], n_layers=[2] * 5, n_blocks=[1] * 5),
                 final_growth=6, final_layers=2, postfilter="wiener"),
}
MODEL_CLASS = D3Net
