"""Conv-TasNet (Luo & Mesgarani, IEEE/ACM TASLP 2019), non-causal, three sources at 16 kHz.

Encoder (1-D conv, N filters of length L, stride L/2) -> TCN separator (bottleneck B, R stacks of X
conv blocks with hidden width H, kernel P, dilations 1..2^(X-1), skip connections, gLN) -> one sigmoid
mask per source on the encoder output -> decoder (transposed conv back to samples).

**Paper size.** Luo & Mesgarani's best setting is N=512, L=16, B=128, H=512, P=3, X=8, R=3 at
*8 kHz*: L=16 samples is a 2-ms window. At the MTASS rate of 16 kHz the same 2-ms window is L=32
samples (the authors' own code computes L from ``win=2`` ms and the sample rate), and only L=32
reproduces the MTASS table's cost: measured here L=32 gives 5.07 M parameters (paper 5.14 M, -1.4 %)
and 5.02 GMAC/s (paper 5.2 G, -3.4 %), while L=16 gives 5.05 M but 9.97 GMAC/s (twice the frames).
So ``CONFIGS["paper"]`` uses ``L=32``. The remaining 1.4 % of parameters: the authors' code keeps a
residual 1x1 conv in the last block whose output feeds nothing (+65,664 -> 5.13 M); like torchaudio
we drop it, so every parameter receives a gradient.

Our parameter count equals ``torchaudio.models.ConvTasNet`` at the same hyperparameters (same
blocks, same biases, gLN = ``GroupNorm(1, C)``); :func:`torchaudio_param_count` is that count derived
from torchaudio's source, pinned in the tests because torchaudio does not install with torch 2.13.

**Lite size** (time-domain nets on CPU are costly: PITFALLS measured 1.6 s/step for a small L=32
model): a 4-ms encoder (L=64, stride 32, N=128) and a narrow, shallower TCN (B=64, H=128, X=6, R=2):
0.35 M parameters, 0.18 GMAC/s. One training step (batch 4 x 4 s, forward + backward + Adam) took
0.40 s (median; 0.36 s min) on the 2-core machine while it was quiet (load average ~1), and 4-8 s
(2.7 s min) when other jobs loaded it (load average 5-8). A 2-minute run on a 60-mixture MTASS-tiny
copy under that load (12 steps, negative-SNR loss, Adam 1e-3) raised test SDRi from 2.1 / 1.4 / 1.8
to 4.1 / 4.1 / 4.9 dB (speech / music / noise). Halving the encoder (L=32) with X=4, R=2 cost 0.43 s.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from mtass_lite.models.common import TCNBlock, make_norm, pad_to_multiple

CONFIGS = {
    # Luo & Mesgarani's best non-causal config with its 2-ms window at 16 kHz (L=32; see docstring).
    # 5,067,313 params, 5.02 GMAC/s. Train it on a GPU (PITFALLS: 24-64 s per batch-4 x 4-s step on
    # 2 CPU cores, measured at L=16).
    "paper": dict(n_sources=3, N=512, L=32, B=128, H=512, P=3, X=8, R=3, Sc=None, norm="gLN"),
    # 351,897 params, 0.18 GMAC/s; train step (batch 4 x 4 s, fwd+bwd+Adam) 0.40 s median on the 2-core
    # machine when quiet, 4-8 s when shared with other jobs (load average 5-8).
    "lite": dict(n_sources=3, N=128, L=64, B=64, H=128, P=3, X=6, R=2, Sc=None, norm="gLN"),
}


def torchaudio_param_count(n_sources: int = 3, N: int = 512, L: int = 16, B: int = 128, H: int = 512,
                           P: int = 3, X: int = 8, R: int = 3) -> int:
    """Parameters of ``torchaudio.models.ConvTasNet(num_sources, L, N, P, B, H, X, R)``, from its source.

    torchaudio (torchaudio/models/conv_tasnet.py): encoder ``Conv1d(1, N, L, bias=False)``; decoder
    ``ConvTranspose1d(N, 1, L, bias=False)``; mask generator: ``GroupNorm(1, N)``, ``Conv1d(N, B, 1)``,
    ``X*R`` ConvBlocks (``Conv1d(B, H, 1)``, PReLU, ``GroupNorm(1, H)``, depthwise ``Conv1d(H, H, P,
    groups=H)``, PReLU, ``GroupNorm(1, H)``, residual ``Conv1d(H, B, 1)`` except in the very last block,
    skip ``Conv1d(H, B, 1)``), then PReLU and ``Conv1d(B, N * n_sources, 1)``. All convs but the
    encoder/decoder have biases; a PReLU has one parameter.
    """
    conv1x1 = lambda c_in, c_out: c_in * c_out + c_out  # noqa: E731
    block = conv1x1(B, H) + 1 + 2 * H + (H * P + H) + 1 + 2 * H + conv1x1(H, B) + conv1x1(H, B)
    last_block = block - conv1x1(H, B)
    mask_generator = 2 * N + conv1x1(N, B) + (X * R - 1) * block + last_block + 1 + conv1x1(B, N * n_sources)
    return N * L + mask_generator + N * L


class ConvTasNet(nn.Module):
    """Conv-TasNet: ``forward(mixture[B, T]) -> estimates[B, n_sources, T]``.

    ``N`` encoder filters of length ``L`` (stride ``L // 2``); TCN with bottleneck ``B``, hidden ``H``,
    kernel ``P``, ``X`` blocks per stack, ``R`` stacks; skip width ``Sc`` (default ``B``).
    """

    def __init__(self, n_sources: int = 3, N: int = 512, L: int = 16, B: int = 128, H: int = 512,
                 P: int = 3, X: int = 8, R: int = 3, Sc: int | None = None, norm: str = "gLN"):
        super().__init__()
        if L % 2:
            raise ValueError(f"encoder length L must be even (stride L/2), got {L}")
        self.n_sources, self.N, self.L, self.stride = n_sources, N, L, L // 2
        Sc = Sc or B
        # Encoder, Sec. III-A: a linear 1-D conv (no bias, no ReLU, as in torchaudio). padding=stride
        # so the first and last samples are covered by two overlapping frames like all the others.
        self.encoder = nn.Conv1d(1, N, L, stride=self.stride, padding=self.stride, bias=False)
        # Separator, Sec. III-B: norm + 1x1 bottleneck, R x X conv blocks with dilations 1..2^(X-1).
        self.input_norm = make_norm(norm, N)
        self.bottleneck = nn.Conv1d(N, B, 1)
        self.blocks = nn.ModuleList([
            TCNBlock(B, H, P, dilation=2 ** x, skip_channels=Sc, norm=norm,
                     residual=not (r == R - 1 and x == X - 1))
            for r in range(R) for x in range(X)])
        # Masks from the summed skip connections: PReLU, 1x1 to N per source, sigmoid (Sec. III-B).
        self.mask_conv = nn.Sequential(nn.PReLU(), nn.Conv1d(Sc, N * n_sources, 1))
        self.decoder = nn.ConvTranspose1d(N, 1, L, stride=self.stride, padding=self.stride, bias=False)

    def receptive_field(self) -> int:
        """Receptive field of the separator in encoder frames."""
        return 1 + sum((blk.conv_layers[3].kernel_size[0] - 1) * blk.conv_layers[3].dilation[0]
                       for blk in self.blocks)

    def mask_logits(self, w: Tensor) -> Tensor:
        """The TCN separator before its nonlinearity: ``w[B, N, K]`` -> ``[B, n_sources, N, K]``."""
        x = self.bottleneck(self.input_norm(w))
        skip_sum = 0.0
        for block in self.blocks:
            residual, skip = block(x)
            if residual is not None:
                x = x + residual
            skip_sum = skip_sum + skip
        return self.mask_conv(skip_sum).view(w.shape[0], self.n_sources, self.N, -1)

    def masks(self, w: Tensor) -> Tensor:
        """Encoder output ``w[B, N, K]`` -> masks ``[B, n_sources, N, K]`` in (0, 1) (sigmoid masks; the
        paper's Table II also tries ReLU: override this method, chapter 07 exercise 3)."""
        return torch.sigmoid(self.mask_logits(w))

    def forward(self, mixture: Tensor) -> Tensor:
        """``mixture[B, T]`` -> ``estimates[B, n_sources, T]``."""
        batch, length = mixture.shape
        # The decoder reconstructs a multiple of the stride: pad, then trim back to T.
        x, _ = pad_to_multiple(mixture.unsqueeze(1), self.stride)
        w = self.encoder(x)  # [B, N, K]
        masked = self.masks(w) * w.unsqueeze(1)  # [B, S, N, K]
        y = self.decoder(masked.reshape(batch * self.n_sources, self.N, -1))  # [B*S, 1, T']
        return y.view(batch, self.n_sources, -1)[..., :length]


MODEL_CLASS = ConvTasNet
