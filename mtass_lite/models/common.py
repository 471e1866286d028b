"""Blocks shared by several models: length helpers, layer norms, temporal convolutional blocks.

* :func:`pad_to_multiple` / :func:`trim_to_length` — make a signal fit a stride, then cut the
  estimate back to the mixture's length (every model must return ``[B, 3, T]`` for a ``[B, T]`` input).
* :class:`GlobalLayerNorm` (gLN) and :class:`CumulativeLayerNorm` (cLN) — Conv-TasNet's normalisations
  (Luo & Mesgarani 2019, Sec. III-B-4): gLN for the non-causal net, cLN for the causal one.
* :class:`TCNBlock` — Conv-TasNet's 1-D conv block (Fig. 1C): 1x1 conv, PReLU, norm, depthwise
  dilated conv, PReLU, norm, then a residual and a skip-connection 1x1 conv.
* :class:`ConvBNReLU` — 1x1 (or dilated) conv + BatchNorm + ReLU + dropout, the unit Complex-MTASSNet
  is built from.
* :class:`GatedTCNBlock` / :class:`GatedTCN` — Complex-MTASSNet's stage-2 residual compensation
  network: a bottlenecked block with two parallel dilated convs, one of them a sigmoid gate.

A gated linear unit over channels (Dauphin et al. 2017) is :class:`torch.nn.GLU` (``dim=1``); it is not
repeated here.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def pad_to_multiple(x: Tensor, multiple: int, extra: int = 0) -> tuple[Tensor, int]:
    """Zero-pad the last axis at the end so that ``length - extra`` is a multiple of ``multiple``.

    ``x[..., T]`` -> ``(x_padded[..., T + n_pad], n_pad)``. ``extra`` lets a caller ask for
    ``T' = k * multiple + extra`` (e.g. a kernel longer than its stride).
    """
    n_pad = (-(x.shape[-1] - extra)) % multiple
    if n_pad:
        x = F.pad(x, (0, n_pad))
    return x, n_pad


def trim_to_length(x: Tensor, length: int) -> Tensor:
    """Cut (or zero-pad) the last axis to ``length`` samples."""
    if x.shape[-1] >= length:
        return x[..., :length]
    return F.pad(x, (0, length - x.shape[-1]))


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Padding on each side that keeps the length of a stride-1 (odd-kernel) convolution."""
    return dilation * (kernel_size - 1) // 2


class GlobalLayerNorm(nn.GroupNorm):
    """gLN: normalise ``[B, C, T]`` over channels *and* time, then a per-channel gain and bias.

    Conv-TasNet eq. (13)-(14). It is exactly a one-group GroupNorm, so that class does the work
    (and parameter counts match torchaudio's ``GroupNorm(1, C, eps=1e-8)``).
    """

    def __init__(self, channels: int, eps: float = 1e-8):
        super().__init__(num_groups=1, num_channels=channels, eps=eps)


class CumulativeLayerNorm(nn.Module):
    """cLN: at frame ``t`` normalise with the mean/variance of frames ``0..t`` (causal).

    Conv-TasNet eq. (15)-(17). ``[B, C, T]`` -> ``[B, C, T]``.
    """

    def __init__(self, channels: int, eps: float = 1e-8):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, channels, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        C, T = x.shape[1], x.shape[2]
        count = torch.arange(1, T + 1, device=x.device, dtype=x.dtype) * C  # [T]
        cum_sum = x.sum(1).cumsum(-1)  # [B, T]
        cum_pow = x.pow(2).sum(1).cumsum(-1)
        mean = cum_sum / count
        var = (cum_pow / count - mean.pow(2)).clamp_min(0)
        x = (x - mean.unsqueeze(1)) / (var.unsqueeze(1) + self.eps).sqrt()
        return x * self.weight + self.bias


def make_norm(kind: str, channels: int) -> nn.Module:
    """``"gLN"`` (non-causal), ``"cLN"`` (causal) or ``"BN"`` over ``channels``."""
    if kind == "gLN":
        return GlobalLayerNorm(channels)
    if kind == "cLN":
        return CumulativeLayerNorm(channels)
    if kind == "BN":
        return nn.BatchNorm1d(channels)
    raise ValueError(f"unknown norm {kind!r}; choose gLN, cLN or BN")


class TCNBlock(nn.Module):
    """Conv-TasNet 1-D conv block (Luo & Mesgarani 2019, Fig. 1C), non-causal.

    ``[B, B_ch, T]`` -> ``(residual [B, B_ch, T] or None, skip [B, Sc, T])``.
    1x1 conv ``B_ch -> H``, PReLU, norm, depthwise conv (kernel ``P``, dilation ``d``), PReLU, norm,
    then two 1x1 convs ``H -> B_ch`` (residual path) and ``H -> Sc`` (skip-connection path).
    ``residual=False`` drops the residual conv (the last block of the stack, whose residual output
    would feed nothing — torchaudio does the same).
    """

    def __init__(self, io_channels: int, hidden_channels: int, kernel_size: int = 3, dilation: int = 1,
                 skip_channels: int | None = None, residual: bool = True, norm: str = "gLN"):
        super().__init__()
        self.conv_layers = nn.Sequential(
            nn.Conv1d(io_channels, hidden_channels, 1),
            nn.PReLU(),
            make_norm(norm, hidden_channels),
            # depthwise: one filter per channel — the "separable" half of the block (Sec. III-B-3)
            nn.Conv1d(hidden_channels, hidden_channels, kernel_size, dilation=dilation,
                      padding=same_padding(kernel_size, dilation), groups=hidden_channels),
            nn.PReLU(),
            make_norm(norm, hidden_channels),
        )
        self.res_out = nn.Conv1d(hidden_channels, io_channels, 1) if residual else None
        self.skip_out = nn.Conv1d(hidden_channels, skip_channels or io_channels, 1)

    def forward(self, x: Tensor) -> tuple[Tensor | None, Tensor]:
        y = self.conv_layers(x)
        residual = self.res_out(y) if self.res_out is not None else None
        return residual, self.skip_out(y)


class ConvBNReLU(nn.Sequential):
    """Conv1d + BatchNorm + ReLU + dropout, ``[B, C_in, T]`` -> ``[B, C_out, T]`` ("same" length).

    The unit of Complex-MTASSNet stage 1 (1x1 projections and the sub-band dilated convs).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, dilation: int = 1,
                 dropout: float = 0.2, bias: bool = True):
        super().__init__(
            nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation,
                      padding=same_padding(kernel_size, dilation), bias=bias),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(),
            nn.Dropout(dropout),
        )


class GatedTCNBlock(nn.Module):
    """Complex-MTASSNet stage-2 gated TCN block, ``[B, C, T]`` -> ``[B, C, T]`` (residual).

    1x1 conv ``C -> H``; two parallel dilated kernel-``P`` convs (each + BN, ReLU, dropout), the second
    passed through a sigmoid and used as a gate (product); 1x1 conv ``H -> C``; plus the input.
    As in the released code the gate's sigmoid comes *after* its ReLU, so the gate lies in
    ``[0.5, 1)``; convolutions have no bias (BatchNorm follows or the output is residual).
    """

    def __init__(self, channels: int = 256, hidden_channels: int = 64, kernel_size: int = 3,
                 dilation: int = 1, dropout: float = 0.2):
        super().__init__()
        pad = same_padding(kernel_size, dilation)

        def branch():
            return nn.Sequential(
                nn.Conv1d(hidden_channels, hidden_channels, kernel_size, dilation=dilation, padding=pad,
                          bias=False),
                nn.BatchNorm1d(hidden_channels), nn.ReLU(), nn.Dropout(dropout))

        self.in_conv = nn.Conv1d(channels, hidden_channels, 1, bias=False)
        self.value = branch()
        self.gate = branch()
        self.out_conv = nn.Conv1d(hidden_channels, channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        h = self.in_conv(x)
        h = self.value(h) * torch.sigmoid(self.gate(h))
        return x + self.out_conv(h)


class GatedTCN(nn.Module):
    """1x1 ``C_in -> C``, ``repeats`` x ``blocks`` :class:`GatedTCNBlock` (dilations 1, 2, ..., 2^(blocks-1)
    in each repeat), 1x1 ``C -> C_out``. ``[B, C_in, T]`` -> ``[B, C_out, T]``.

    Complex-MTASSNet stage 2 uses 514 -> 256, 5 x 8 blocks (dilations 1..128), 256 -> 514.
    """

    def __init__(self, in_channels: int = 514, out_channels: int = 514, channels: int = 256,
                 hidden_channels: int = 64, repeats: int = 5, blocks: int = 8, kernel_size: int = 3,
                 dropout: float = 0.2):
        super().__init__()
        self.conv_in = nn.Conv1d(in_channels, channels, 1)
        self.blocks = nn.Sequential(*[
            GatedTCNBlock(channels, hidden_channels, kernel_size, 2 ** b, dropout)
            for _ in range(repeats) for b in range(blocks)])
        self.conv_out = nn.Conv1d(channels, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv_out(self.blocks(self.conv_in(x)))
