"""GCRN (Tan & Wang, "Learning complex spectral mapping with gated convolutional recurrent networks
for monaural speech enhancement", IEEE/ACM TASLP 28, 2020) adapted to the three MTASS tracks.

Complex spectral mapping: the network reads the real and imaginary parts of the mixture STFT as two
input channels ``[B, 2, N, F]`` (time x frequency) and writes the real and imaginary parts of every
track directly (no mask). Following the paper (Fig. 4) and the authors' released code
(JupiterEthan/GCRN-complex):

* **encoder**, 5 gated conv layers ``conv(x) * sigmoid(conv'(x))`` (GLU-style gating, paper Eq. 8),
  kernel 1x3 (time x frequency), stride 1x2, channels 16-32-64-128-256, each followed by BN + ELU;
  161 bins -> 80 -> 39 -> 19 -> 9 -> 4;
* **grouped LSTM** (paper Sec. III-C) on the flattened ``256 x 4 = 1024`` features of each frame: two
  layers, each split into 2 groups of 512 features with one LSTM of 512 units per group, LayerNorm
  over all 1024 features after each layer. Between the layers the two groups' outputs are interleaved
  (``[a0 b0 a1 b1 ...]``, :func:`shuffle_groups`) before the first LayerNorm, so each group of layer 2
  reads half of each group of layer 1, as the paper describes and the released code does (its
  ``GLSTM`` stacks the groups' outputs on a new axis and flattens; no shuffle after the last layer).
  Frames are processed causally (kernel 1 in time, one-way LSTM);
* **two decoders**, one for the real and one for the imaginary parts, each 5 gated transposed conv
  layers mirroring the encoder. The first reads the LSTM output concatenated with the last encoder
  output; each later one reads ``ELU(cat(BN(deconv), e_k))``, one ELU over the concatenation as in the
  released code, so the skip ``e_k`` (already ``ELU(BN(conv))``) passes through a second ELU. The last
  layer (BN + ELU) gives one map per track ``[B, 3, N, 161]``, then a linear layer over frequency
  (161 -> 161, the released code's output layer) per track and part gives the estimate.

Adaptation to three tracks and front end. The original's last decoder layer has one output channel
and one linear layer per decoder; here it has three channels and one linear layer per (track, part).
The STFT is the original's **320/160 (20 ms / 10 ms) Hamming** at 16 kHz, 161 bins, not the MTASS
512/256: the table's parameter count needs the 161-bin grid (1024 LSTM features; 257 bins would give
256 x 7 = 1792 features and roughly three times the LSTM weights). The clip is divided by its RMS and
the spectrum by the window's norm (bins O(1) whatever the level), estimates scaled back. This is our
choice, not the release's: its level normalisation (``in_norm`` in ``scripts/configs.py``) is off by
default, and when on it divides mixture and target by the mixture's *peak* / 0.9. RMS normalisation
makes the model scale-equivariant (``model(a x) = a model(x)``), so it can be trained and used on
mixtures of any level, and gives the network inputs of O(1); the peak rests on one sample, the RMS on
the whole clip.

:meth:`GCRN.spectra` returns the [Re; Im] estimates ``[B, 3, 2F, N]`` in the scale of the targets' STFT,
for a loss on spectra like the release's (MSE on the Re / Im spectra, ``scripts/utils/criteria.py``);
``forward`` is their inverse STFT.

Paper size: **9,876,452** parameters against the table's 9.88 M (-0.04 %; the single-output original
has 9.77 M). Cost: FlopCounterMode (+ the analytic LSTM term of :mod:`mtass_lite.profile`) measures
**1.67 GMAC/s** against the table's 2.5 G. The table's figure is reproduced (**2.43 G**, -3 %) when each
transposed convolution is counted per *output* position, as the common counter ``thop`` does (every
output sample times all input channels times the kernel), which overstates a stride-2 transposed conv
about 2x; the same convention reproduces the table's Demucs figure. The tests pin both numbers.

``size="lite"``: the same layers with channels 8-8-16-16-32 (LSTM groups of 64 units), 320,324
parameters, 0.06 GMAC/s. Training step (forward + backward + Adam, batch 4 x 4 s), measured on the
2-core machine while ~5 other jobs ran (load average 5-6): 0.42 s of CPU time single-threaded
(``OMP_NUM_THREADS=1``; 0.5-0.8 s wall), 2.5-2.9 s wall with two threads fighting for the busy cores. A
2-minute fast run (157 steps, SNR loss) raised the dev SDRi from 3.3 / 3.6 / 2.9 dB (untrained) to
4.3 / 5.0 / 4.4 dB (speech / music / noise); the trivial estimate "mixture / 3" scores 4.9 / 5.0 / 4.4.
(Both measured before the group shuffle and the second skip ELU were added; neither adds parameters.)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtass_lite.models.common import trim_to_length
from mtass_lite.stft import STFT, make_window, ri_stack, ri_unstack

N_TRACKS = 3


class GatedConv2d(nn.Module):
    """``conv(x) * sigmoid(gate_conv(x))`` (paper Eq. 8); transposed when ``transposed``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride, transposed: bool = False,
                 output_padding=(0, 0)):
        super().__init__()
        if transposed:
            make = lambda: nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride,  # noqa: E731
                                              output_padding=output_padding)
        else:
            make = lambda: nn.Conv2d(in_channels, out_channels, kernel_size, stride)  # noqa: E731
        self.conv, self.gate = make(), make()

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x) * torch.sigmoid(self.gate(x))


def shuffle_groups(x: Tensor, groups: int) -> Tensor:
    """Interleave ``groups`` equal parts of the last axis feature by feature: ``[..., D] -> [..., D]``.

    With 2 groups ``[a0 a1 .. | b0 b1 ..]`` becomes ``[a0 b0 a1 b1 ..]``, so when the next layer splits
    the features into groups again, each of its groups holds half of every previous group (the paper's
    rearrangement between grouped-LSTM layers, Sec. III-C; the released code stacks the groups'
    outputs on a new last axis and flattens it, which is this permutation).
    """
    return x.unflatten(-1, (groups, -1)).transpose(-1, -2).flatten(-2)


class GroupedLSTM(nn.Module):
    """Grouped LSTM (paper Sec. III-C): ``[B, N, D] -> [B, N, D]``.

    Each layer splits the ``D`` features into ``groups`` equal parts, runs one LSTM of ``D / groups``
    units per part and joins the outputs; between layers the outputs are interleaved
    (:func:`shuffle_groups`) so that information crosses the groups, then LayerNorm over all ``D``
    features. As in the released code the shuffle comes before the norm and not after the last layer.
    ``shuffle=False`` concatenates instead (the groups then meet only in the norms). Parameters drop
    ``groups``-fold against one LSTM; the shuffle adds none.
    """

    def __init__(self, features: int, groups: int = 2, layers: int = 2, shuffle: bool = True):
        super().__init__()
        if features % groups:
            raise ValueError(f"{features} features do not split into {groups} groups")
        h = features // groups
        self.groups, self.shuffle = groups, shuffle
        self.lstms = nn.ModuleList(
            nn.ModuleList(nn.LSTM(h, h, batch_first=True) for _ in range(groups)) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(features) for _ in range(layers))

    def forward(self, x: Tensor) -> Tensor:
        last = len(self.lstms) - 1
        for i, (lstms, norm) in enumerate(zip(self.lstms, self.norms)):
            parts = x.chunk(self.groups, dim=-1)
            x = torch.cat([lstm(p)[0] for lstm, p in zip(lstms, parts)], dim=-1)
            if self.shuffle and i < last:
                x = shuffle_groups(x, self.groups)
            x = norm(x)
        return x


class GCRN(nn.Module):
    """GCRN for MTASS: ``forward(mixture[B, T]) -> estimates[B, 3, T]``; ``spectra`` gives the [Re; Im]
    estimates. ``lstm_shuffle=False`` drops the group shuffle of the grouped LSTM (for ablations)."""

    def __init__(self, n_fft: int = 320, hop: int = 160, window: str = "hamming",
                 channels: tuple[int, ...] = (16, 32, 64, 128, 256), lstm_groups: int = 2, lstm_layers: int = 2,
                 n_tracks: int = N_TRACKS, lstm_shuffle: bool = True):
        super().__init__()
        self.stft = STFT(n_fft, hop, window)
        # |X| of unit-RMS white noise is the window's norm: divide it out so spectra are O(1)
        self.spec_scale = float(make_window(n_fft, window).pow(2).sum().sqrt())
        self.n_tracks = n_tracks
        n_bins = n_fft // 2 + 1
        # frequency extent after each stride-2, kernel-3 conv (no padding), e.g. 161 -> 80 -> 39 -> ...
        sizes = [n_bins]
        for _ in channels:
            sizes.append((sizes[-1] - 3) // 2 + 1)
        if sizes[-1] < 1:
            raise ValueError(f"{len(channels)} stride-2 layers are too many for {n_bins} bins")
        self.encoder = nn.ModuleList()
        c_in = 2  # real and imaginary parts
        for c in channels:
            self.encoder.append(nn.ModuleDict(dict(conv=GatedConv2d(c_in, c, (1, 3), (1, 2)),
                                                   norm=nn.BatchNorm2d(c))))
            c_in = c
        self.lstm = GroupedLSTM(channels[-1] * sizes[-1], lstm_groups, lstm_layers, shuffle=lstm_shuffle)
        self.decoders = nn.ModuleList(self._decoder(channels, sizes) for _ in range(2))  # Re, Im
        # the released code's output layer: a linear map over frequency, one per (part, track)
        self.out_weight = nn.Parameter(torch.empty(2, n_tracks, n_bins, n_bins))
        self.out_bias = nn.Parameter(torch.zeros(2, n_tracks, n_bins))
        bound = n_bins ** -0.5  # nn.Linear's default init
        nn.init.uniform_(self.out_weight, -bound, bound)
        nn.init.uniform_(self.out_bias, -bound, bound)

    def _decoder(self, channels, sizes) -> nn.ModuleList:
        layers = nn.ModuleList()
        outs = list(channels[:-1][::-1]) + [self.n_tracks]
        c_in = channels[-1]
        for i, c_out in enumerate(outs):
            f_in, f_out = sizes[-1 - i], sizes[-2 - i]
            # skip concatenation doubles the input channels (LSTM output + e5, then d + e_{k-1})
            extra = f_out - ((f_in - 1) * 2 + 3)  # output_padding that restores the encoder's size
            layers.append(nn.ModuleDict(dict(
                conv=GatedConv2d(2 * c_in, c_out, (1, 3), (1, 2), transposed=True, output_padding=(0, extra)),
                norm=nn.BatchNorm2d(c_out))))
            c_in = c_out
        return layers

    def pad_for_stft(self, x: Tensor) -> Tensor:
        """Zero-pad the last axis to at least ``n_fft // 2 + 1`` samples, the shortest signal the centred
        (reflect-padded) STFT accepts; longer signals are returned as they are, so the frame count is
        ``self.stft(x)``'s. Targets shorter than that must be padded the same way for a spectral loss."""
        return F.pad(x, (0, max(0, self.stft.n_fft // 2 + 1 - x.shape[-1])))

    def spectra(self, mixture: Tensor) -> dict[str, Tensor]:
        """``mixture[B, T]`` -> dict of [Re; Im] spectra (:func:`mtass_lite.stft.ri_stack` layout):
        ``"mixture"`` ``[B, 2F, N]`` = ``ri_stack(self.stft(mixture))`` and ``"estimate"`` ``[B, 3, 2F, N]``,
        the network's output scaled back to the mixture's level, i.e. in the scale of
        ``ri_stack(self.stft(targets))`` (same ``N`` for targets of the same length)."""
        level = mixture.pow(2).mean(-1, keepdim=True).sqrt() + 1e-8  # [B, 1]
        X = self.stft(self.pad_for_stft(mixture))  # [B, F, N]
        # the network sees bins of O(1) whatever the level: divide by the RMS and by the window's norm
        scale = (level * self.spec_scale)[:, :, None]  # [B, 1, 1]
        x = torch.stack([X.real, X.imag], dim=1).transpose(-1, -2) / scale[:, None]  # [B, 2, N, F]
        skips = []
        for layer in self.encoder:
            x = F.elu(layer["norm"](layer["conv"](x)))
            skips.append(x)
        B, C, N, Fe = x.shape
        h = self.lstm(x.permute(0, 2, 1, 3).reshape(B, N, C * Fe))  # [B, N, C * F]
        h = h.reshape(B, N, C, Fe).permute(0, 2, 1, 3)
        parts = []
        for decoder in self.decoders:
            d = torch.cat([h, skips[-1]], dim=1)  # LSTM output + e5, no ELU (as released)
            for i, layer in enumerate(decoder):
                d = layer["norm"](layer["conv"](d))
                if i + 1 < len(decoder):
                    # released code: ELU(cat(BN(deconv), e_k)) -- one ELU over the concatenation, so the
                    # skip (already ELU(BN(conv))) passes through a second ELU
                    d = torch.cat([d, skips[-2 - i]], dim=1)
                d = F.elu(d)
            parts.append(d)  # [B, 3, N, F]
        y = torch.stack(parts, dim=1)  # [B, 2, 3, N, F]
        y = torch.einsum("bptnf,ptgf->bptng", y, self.out_weight) + self.out_bias[:, :, None, :]
        estimate = torch.cat([y[:, 0], y[:, 1]], dim=-1).transpose(-1, -2)  # [B, 3, 2F, N]
        return {"mixture": ri_stack(X), "estimate": estimate * scale[:, None]}

    def forward(self, mixture: Tensor) -> Tensor:
        """``mixture[B, T]`` -> ``[B, 3, T]``: the iSTFT of ``spectra(mixture)["estimate"]``."""
        length = mixture.shape[-1]
        S = ri_unstack(self.spectra(mixture)["estimate"])  # [B, 3, F, N]
        return trim_to_length(self.stft.inverse(S, max(length, self.stft.n_fft // 2 + 1)), length)

CONFIGS = {
    "paper": dict(n_fft=320, hop=160, window="hamming", channels=(16, 32, 64, 128, 256), lstm_groups=2,
                  lstm_layers=2, lstm_shuffle=True),
    "lite": dict(n_fft=320, hop=160, window="hamming", channels=(8, 8, 16, 16, 32), lstm_groups=2,
                 lstm_layers=2, lstm_shuffle=True),
}
MODEL_CLASS = GCRN
