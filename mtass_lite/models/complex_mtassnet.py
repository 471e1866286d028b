"""Complex-MTASSNet (Zhang et al., "Multi-task audio source separation", ASRU 2021).

A two-stage complex-domain separator on the STFT (512-sample Hamming window, hop 256, 257 bins):

* **Stage 1 — multi-task separation** (Zhang et al., "Multi-Task Audio Source Separation", ASRU 2021). From the mixture magnitude
  ``|X|`` (257 x N): 1x1 conv to ``hidden`` (1028) channels; 15 *multi-scale residual blocks*
  (dilations 1, 3, 5, 7, 11, three times), each: 1x1 ``hidden -> 257``, concatenated with ``|X|`` (514
  channels), a *multi-scale sub-band dilated conv* (:class:`SubbandDilatedConv`), 1x1 ``514 -> hidden``,
  plus the block input; then a 1x1 ``hidden -> hidden`` and three 1x1 heads ``hidden -> 514``, one
  mask per track, applied to the mixture's [Re; Im].
* **Stage 2 — residual signal compensation**, one :class:`~mtass_lite.models.common.GatedTCN` per
  track: input ``X_RI - Y_RI`` (what stage 1 left in the mixture), output added to ``Y_RI``.

Layer widths, the sub-band split (8 bands of 64/65 channels), conv biases, BatchNorm + ReLU + dropout
0.2 placement and the unbounded (linear) mask heads follow the public code
(github.com/Windstudent/Complex-MTASSNet, model_constrcution/DNN_models/Complex_MTASS.py); the code
here is our own. Measured: 28,180,685 parameters (paper 28.18 M) and 1.77 GMAC per second of audio
(paper 1.8 G, -1.9 %; 63 STFT frames per second; FFTs and element-wise ops not counted).

``mask_type`` (how a head's 514 outputs ``M = [A; B]`` act on ``X = Xr + j Xi``):

* ``"ri_scaling"`` (released code): ``Y = A * Xr + j B * Xi`` — Re and Im scaled separately;
* ``"complex"``: a true complex ratio mask, ``Y = (A + jB)(Xr + jXi)`` (the paper's wording);
* ``"magnitude"``: heads give 257 real gains ``G``, ``Y = G * X`` — mixture phase (up to sign, the
  mask is unbounded like the others).

Two-stage training (the released code's switches): train with ``stage2=False`` or all at once, then
:meth:`ComplexMTASSNet.freeze_stage1` and train stage 2 alone. :meth:`ComplexMTASSNet.spectra` returns
the stage-1 and final RI spectra for spectral losses (the released loss: MSE on RI spectra + 0.01 x
negative time-domain SNR).

**Lite size**: the same architecture with ``hidden=256``, 3 multi-scale blocks (dilations 1, 3, 9)
and a stage 2 of 2 x 6 gated blocks at width 64 (bottleneck 32): 2.82 M parameters, 0.18 GMAC/s.
One training step (batch 4 x 4 s, forward + backward + Adam) took 0.37 s (median; 0.36 s min) on the
2-core machine while it was quiet (load average ~1), and 4.5 s (2.8 s min) when other jobs loaded it
(load average 5-8). A 2-minute run on a 60-mixture MTASS-tiny copy under that load (21 steps,
negative-SNR loss, Adam 1e-3) raised test SDRi from 1.8 / 1.3 / 2.3 to 3.8 / 4.2 / 3.7 dB
(speech / music / noise). With the paper's 5 blocks (1, 3, 5, 7, 11) the quiet step was 0.51 s.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from mtass_lite import TRACKS
from mtass_lite.models.common import ConvBNReLU, GatedTCN
from mtass_lite.stft import STFT, ri_stack, ri_unstack

MASK_TYPES = ("ri_scaling", "complex", "magnitude")

CONFIGS = {
    # The published network: 28,180,685 params (paper 28.18 M), 1.77 GMAC/s (paper 1.8 G).
    "paper": dict(n_fft=512, hop=256, hidden=1028, dilations=(1, 3, 5, 7, 11), n_repeats=3, n_subbands=8,
                  kernel_size=3, dropout=0.2, tcn_channels=256, tcn_hidden=64, tcn_repeats=5, tcn_blocks=8,
                  mask_type="ri_scaling", stage2=True),
    # 2.82 M params, 0.18 GMAC/s; train step (batch 4 x 4 s, fwd+bwd+Adam) 0.37 s median on the 2-core
    # machine when quiet, 4.5 s when shared with other jobs (load average 5-8).
    "lite": dict(n_fft=512, hop=256, hidden=256, dilations=(1, 3, 9), n_repeats=1, n_subbands=8,
                 kernel_size=3, dropout=0.2, tcn_channels=64, tcn_hidden=32, tcn_repeats=2, tcn_blocks=6,
                 mask_type="ri_scaling", stage2=True),
}


def band_sizes(channels: int, n_bands: int) -> list[int]:
    """Split ``channels`` into ``n_bands`` contiguous bands, the remainder going to the last band."""
    base = channels // n_bands
    return [base] * (n_bands - 1) + [channels - base * (n_bands - 1)]


class SubbandDilatedConv(nn.Module):
    """Multi-scale sub-band dilated conv, ``[B, 2F, N]`` -> ``[B, 2F, N]``.

    The ``2F`` channels (``|X|`` then the block's projection, F=257 each) are cut into ``n_subbands``
    bands (each half into ``n_subbands/2`` bands of ~64, the last one taking the remainder). Two chains
    of dilated convs run across the bands: low -> high, where band ``i``'s conv sees band ``i`` together
    with the output for band ``i-1``, and high -> low the other way round. Each conv outputs as many
    channels as its band; the two directions are summed per band and the bands concatenated. Every
    band's output thus depends on all bands, while each conv stays small (the sub-band idea).
    """

    def __init__(self, n_bins: int = 257, n_subbands: int = 8, kernel_size: int = 3, dilation: int = 1,
                 dropout: float = 0.2):
        super().__init__()
        if n_subbands % 2:
            raise ValueError(f"n_subbands must be even (half per input half), got {n_subbands}")
        self.sizes = band_sizes(n_bins, n_subbands // 2) * 2
        s = self.sizes
        unit = lambda c_in, c_out: ConvBNReLU(c_in, c_out, kernel_size, dilation, dropout)  # noqa: E731
        self.low_to_high = nn.ModuleList(
            [unit(s[0], s[0])] + [unit(s[i - 1] + s[i], s[i]) for i in range(1, len(s))])
        self.high_to_low = nn.ModuleList(
            [unit(s[i] + s[i + 1], s[i]) for i in range(len(s) - 1)] + [unit(s[-1], s[-1])])

    def forward(self, x: Tensor) -> Tensor:
        bands = torch.split(x, self.sizes, dim=1)
        up, prev = [], None
        for band, conv in zip(bands, self.low_to_high):
            prev = conv(band if prev is None else torch.cat([prev, band], 1))
            up.append(prev)
        down, prev = [], None
        for band, conv in zip(reversed(bands), reversed(self.high_to_low)):
            prev = conv(band if prev is None else torch.cat([band, prev], 1))
            down.append(prev)
        return torch.cat([u + d for u, d in zip(up, reversed(down))], 1)


class MultiScaleResBlock(nn.Module):
    """``(h[B, hidden, N], mag[B, F, N]) -> h + f(h, mag)`` with f: 1x1 ``hidden -> F``, concat with ``|X|``
    (2F), :class:`SubbandDilatedConv`, 1x1 ``2F -> hidden``."""

    def __init__(self, hidden: int, n_bins: int, n_subbands: int, kernel_size: int, dilation: int,
                 dropout: float):
        super().__init__()
        self.project = ConvBNReLU(hidden, n_bins, dropout=dropout)
        self.subband_conv = SubbandDilatedConv(n_bins, n_subbands, kernel_size, dilation, dropout)
        self.expand = ConvBNReLU(2 * n_bins, hidden, dropout=dropout)

    def forward(self, h: Tensor, mag: Tensor) -> Tensor:
        y = torch.cat([mag, self.project(h)], 1)  # the mixture magnitude guides every block
        return h + self.expand(self.subband_conv(y))


class Stage1(nn.Module):
    """Multi-task separation: ``|X|[B, F, N]`` -> masks ``[B, n_tracks, C_mask, N]``."""

    def __init__(self, n_bins, hidden, dilations, n_repeats, n_subbands, kernel_size, dropout, mask_channels,
                 n_tracks):
        super().__init__()
        self.conv_in = ConvBNReLU(n_bins, hidden, dropout=dropout)
        self.blocks = nn.ModuleList([
            MultiScaleResBlock(hidden, n_bins, n_subbands, kernel_size, d, dropout)
            for _ in range(n_repeats) for d in dilations])
        self.conv_out = ConvBNReLU(hidden, hidden, dropout=dropout)
        # one linear head per track (no activation: the released masks are unbounded)
        self.heads = nn.ModuleList([nn.Conv1d(hidden, mask_channels, 1) for _ in range(n_tracks)])

    def forward(self, mag: Tensor) -> Tensor:
        h = self.conv_in(mag)
        for block in self.blocks:
            h = block(h, mag)
        h = self.conv_out(h)
        return torch.stack([head(h) for head in self.heads], 1)


class ComplexMTASSNet(nn.Module):
    """Complex-MTASSNet: ``forward(mixture[B, T]) -> estimates[B, 3, T]`` (tracks in ``TRACKS`` order)."""

    def __init__(self, n_fft: int = 512, hop: int = 256, hidden: int = 1028, dilations=(1, 3, 5, 7, 11),
                 n_repeats: int = 3, n_subbands: int = 8, kernel_size: int = 3, dropout: float = 0.2,
                 tcn_channels: int = 256, tcn_hidden: int = 64, tcn_repeats: int = 5, tcn_blocks: int = 8,
                 mask_type: str = "ri_scaling", stage2: bool = True, n_tracks: int = len(TRACKS)):
        super().__init__()
        if mask_type not in MASK_TYPES:
            raise ValueError(f"mask_type must be one of {MASK_TYPES}, got {mask_type!r}")
        self.stft = STFT(n_fft, hop)
        F = self.stft.n_bins
        self.mask_type, self.n_tracks = mask_type, n_tracks
        mask_channels = F if mask_type == "magnitude" else 2 * F
        self.stage1 = Stage1(F, hidden, tuple(dilations), n_repeats, n_subbands, kernel_size, dropout,
                             mask_channels, n_tracks)
        # Stage 2: one residual-compensation network per track, on [Re; Im] (2F channels).
        self.stage2 = nn.ModuleList([
            GatedTCN(2 * F, 2 * F, tcn_channels, tcn_hidden, tcn_repeats, tcn_blocks, kernel_size, dropout)
            for _ in range(n_tracks)]) if stage2 else None
        self.stage1_frozen = False

    # -- two-stage training ---------------------------------------------------------------------------
    def freeze_stage1(self) -> None:
        """Stop training stage 1: no gradients, BatchNorm statistics and dropout fixed (eval mode)."""
        self.stage1_frozen = True
        self.stage1.requires_grad_(False)
        self.stage1.eval()

    def unfreeze_stage1(self) -> None:
        self.stage1_frozen = False
        self.stage1.requires_grad_(True)
        self.stage1.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.stage1_frozen:
            self.stage1.eval()
        return self

    # -- forward ----------------------------------------------------------------------------------------
    def apply_masks(self, masks: Tensor, X: Tensor) -> Tensor:
        """masks ``[B, S, C_mask, N]``, mixture STFT complex ``[B, F, N]`` -> estimates RI ``[B, S, 2F, N]``."""
        F = X.shape[-2]
        Xr, Xi = X.real.unsqueeze(1), X.imag.unsqueeze(1)
        if self.mask_type == "magnitude":
            return torch.cat([masks * Xr, masks * Xi], 2)
        A, B = masks[:, :, :F], masks[:, :, F:]
        if self.mask_type == "ri_scaling":
            return torch.cat([A * Xr, B * Xi], 2)
        return torch.cat([A * Xr - B * Xi, A * Xi + B * Xr], 2)  # (A + jB)(Xr + jXi)

    def spectra(self, mixture: Tensor) -> dict[str, Tensor]:
        """``mixture[B, T]`` -> dict of RI spectra ``[B, 2F, N]`` / ``[B, S, 2F, N]``:
        ``mixture``, ``stage1`` (masked mixture) and ``estimate`` (after stage 2, or = stage1)."""
        X = self.stft(mixture)  # [B, F, N] complex
        X_ri = ri_stack(X)  # [B, 2F, N]
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.stage1_frozen):
            Y1 = self.apply_masks(self.stage1(X.abs()), X)  # [B, S, 2F, N]
        if self.stage2 is None:
            return {"mixture": X_ri, "stage1": Y1, "estimate": Y1}
        # Stage 2 sees what stage 1 left in the mixture for this track and predicts a correction.
        Y = torch.stack([Y1[:, s] + net(X_ri - Y1[:, s]) for s, net in enumerate(self.stage2)], 1)
        return {"mixture": X_ri, "stage1": Y1, "estimate": Y}

    def ri_to_wave(self, Y: Tensor, length: int) -> Tensor:
        """RI spectra ``[..., 2F, N]`` -> waveforms ``[..., length]``."""
        return self.stft.inverse(ri_unstack(Y), length)

    def forward(self, mixture: Tensor) -> Tensor:
        """``mixture[B, T]`` -> ``estimates[B, 3, T]``."""
        return self.ri_to_wave(self.spectra(mixture)["estimate"], mixture.shape[-1])


MODEL_CLASS = ComplexMTASSNet
