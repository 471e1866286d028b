"""Time-frequency masks and their oracle upper bounds (chapter 02).

All functions work on complex STFTs ``[..., F, N]`` (mixture ``Y``, a source ``S``) from
:func:`mtass_lite.stft.stft`, with a batch of sources on any leading axis. A *mask* estimate is
``Ŝ = apply(M, Y)``; the oracle mask computed from the true sources bounds what a mask-based model
can reach with that mask family.

- IBM  (Wang 2005): 1 where the source dominates the rest (local SNR > 0 dB), else 0.
- IRM  (Wang et al. 2014): ``(|S|^2 / sum_j |S_j|^2)^(1/2)``, in [0, 1].
- PSM  (Erdogan et al. 2015): ``|S| / |Y| cos(θ_S - θ_Y)``, truncated to [0, 1].
- cIRM (Williamson et al. 2016): ``S / Y`` (complex multiply). Unbounded it reconstructs S exactly,
  so as an upper bound for a real network we clip its magnitude to ``bound``.
- IAM (ideal amplitude mask): ``|S| / |Y|``, unbounded: applied to the mixture it gives the true
  magnitude with the mixture's phase — the ceiling of any model that estimates an unbounded
  magnitude and keeps the mixture phase (D3Net, chapter 09). Not in :data:`MASK_TYPES` (the bounded
  families a mask network outputs); ask for it by name (``"iam"``). It is the *target* of a magnitude
  loss, not the best such estimate in SDR: with the mixture's phase kept, the SDR-optimal non-negative
  magnitude is ``|S| cos(θ_S − θ_Y)`` truncated at 0 only (``"psm_unbounded"``, PSM without its upper
  bound), which scores above the IAM because it shrinks bins whose phase is wrong.
- RI-scaling (released Complex-MTASSNet code): ``Re(Ŝ) = M_r Re(Y)``, ``Im(Ŝ) = M_i Im(Y)`` — two real
  masks, one per part (the released Complex-MTASSNet code scales Re and Im separately), clipped to
  ``[-bound, bound]`` as the bounded variant.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .stft import istft, stft

EPS = 1e-8
MASK_TYPES = ("ibm", "irm", "psm", "cirm", "ri_scaling")


def ideal_binary_mask(S: Tensor, S_all: Tensor) -> Tensor:
    """IBM ``[..., F, N]``: ``|S|^2 > sum of the other sources' power``. ``S_all``: ``[..., K, F, N]``."""
    p = S.abs() ** 2
    others = (S_all.abs() ** 2).sum(-3) - p
    return (p > others).to(S.real.dtype)


def ideal_ratio_mask(S: Tensor, S_all: Tensor, beta: float = 0.5) -> Tensor:
    """IRM ``[..., F, N]`` = ``(|S|^2 / sum_k |S_k|^2)^beta`` (beta = 0.5 is Wang's IRM)."""
    p = S.abs() ** 2
    return ((p + EPS) / ((S_all.abs() ** 2).sum(-3) + EPS)) ** beta


def ideal_amplitude_mask(S: Tensor, Y: Tensor, bound: float | None = None) -> Tensor:
    """IAM ``|S| / |Y|`` (real ``[..., F, N]``); ``bound`` clips it (``None``: unbounded, the ceiling of
    a magnitude estimate with the mixture's phase)."""
    M = S.abs() / (Y.abs() + EPS)
    return M if bound is None else M.clamp(max=bound)


def phase_sensitive_mask(S: Tensor, Y: Tensor, lo: float = 0.0, hi: float = 1.0) -> Tensor:
    """Truncated PSM ``[..., F, N]`` = ``clip(Re(S / Y), lo, hi)`` = ``|S|/|Y| cos(θ_S - θ_Y)``."""
    return (S * Y.conj()).real.div(Y.abs() ** 2 + EPS).clamp(lo, hi)


def complex_ratio_mask(S: Tensor, Y: Tensor, bound: float | None = None) -> Tensor:
    """cIRM ``S / Y`` (complex ``[..., F, N]``); with ``bound`` its magnitude is clipped, phase kept."""
    M = S * Y.conj() / (Y.abs() ** 2 + EPS)
    if bound is not None:
        mag = M.abs()
        M = M * (mag.clamp(max=bound) / (mag + EPS))
    return M


def ri_scaling_mask(S: Tensor, Y: Tensor, bound: float | None = None) -> Tensor:
    """The released Complex-MTASSNet mask: ``M_r + j M_i`` with ``M_r = Re S / Re Y``, ``M_i = Im S / Im Y``.

    Stored as a complex tensor for convenience; apply it with :func:`apply_ri_scaling_mask` (it is
    *not* a complex multiplication). ``bound`` clips each part to ``[-bound, bound]``.
    """
    def ratio(a: Tensor, b: Tensor) -> Tensor:
        # a / b with |b| floored at EPS, keeping b's sign
        return a * b / (b * b + EPS)

    M_r, M_i = ratio(S.real, Y.real), ratio(S.imag, Y.imag)
    if bound is not None:
        M_r, M_i = M_r.clamp(-bound, bound), M_i.clamp(-bound, bound)
    return torch.complex(M_r, M_i)


def apply_mask(M: Tensor, Y: Tensor) -> Tensor:
    """``Ŝ = M Y``: a real mask scales, a complex mask multiplies (cIRM)."""
    return M * Y


def apply_ri_scaling_mask(M: Tensor, Y: Tensor) -> Tensor:
    """``Ŝ = Re(M) Re(Y) + j Im(M) Im(Y)`` — the element-wise RI scaling of the released code."""
    return torch.complex(M.real * Y.real, M.imag * Y.imag)


def oracle_mask(kind: str, S_all: Tensor, Y: Tensor, bound: float | None = 1.0) -> Tensor:
    """Oracle masks for every source: ``S_all[..., K, F, N]``, ``Y[..., F, N]`` -> ``[..., K, F, N]``.

    ``bound`` applies to the complex masks ("cirm", "ri_scaling") and the IAM ("iam"); ``None`` leaves
    them unbounded.
    """
    Yk = Y.unsqueeze(-3)  # broadcast the mixture over the source axis
    if kind == "ibm":
        return torch.stack([ideal_binary_mask(S_all[..., k, :, :], S_all) for k in range(S_all.shape[-3])], -3)
    if kind == "irm":
        return torch.stack([ideal_ratio_mask(S_all[..., k, :, :], S_all) for k in range(S_all.shape[-3])], -3)
    if kind == "psm":
        return phase_sensitive_mask(S_all, Yk)
    if kind == "iam":
        return ideal_amplitude_mask(S_all, Yk, bound)
    if kind == "psm_unbounded":
        return phase_sensitive_mask(S_all, Yk, lo=0.0, hi=float("inf"))
    if kind == "cirm":
        return complex_ratio_mask(S_all, Yk, bound)
    if kind == "ri_scaling":
        return ri_scaling_mask(S_all, Yk, bound)
    raise ValueError(f"unknown mask type {kind!r}; choose one of {MASK_TYPES}, 'iam' or 'psm_unbounded'")


def oracle_separation(mixture: Tensor, sources: Tensor, kind: str = "irm", bound: float | None = 1.0,
                      **stft_kw) -> Tensor:
    """Separate with the oracle mask: ``mixture[..., T]``, ``sources[..., K, T]`` -> ``[..., K, T]``."""
    Y, S = stft(mixture, **stft_kw), stft(sources, **stft_kw)
    M = oracle_mask(kind, S, Y, bound)
    Yk = Y.unsqueeze(-3)
    S_hat = apply_ri_scaling_mask(M, Yk) if kind == "ri_scaling" else apply_mask(M, Yk)
    return istft(S_hat, mixture.shape[-1], **stft_kw)


def evaluate_oracle_masks(dataset, kinds=MASK_TYPES, bound: float | None = 1.0, max_items: int | None = None) -> dict:
    """Oracle SDRi (plain SNR form) and SI-SDRi per mask type and track over a dataset.

    Args:
        dataset: yields ``(mixture[T], targets[3, T])`` (e.g. :class:`~mtass_lite.data.datasets.MTASSDataset`).
    Returns:
        ``{"per_item": {kind: {"sdri": [[3]...], "si_sdri": [...]}}, "mean": {kind: {metric: {track: dB}}}}``.
    """
    from . import TRACKS
    from .metrics import improvement

    n = len(dataset) if max_items is None else min(max_items, len(dataset))
    per = {k: {"sdri": [], "si_sdri": []} for k in kinds}
    for i in range(n):
        mix, tgt = dataset[i]
        mix, tgt = mix.double(), tgt.double()
        for k in kinds:
            est = oracle_separation(mix, tgt, k, bound)
            for m in ("sdr", "si_sdr"):
                per[k][f"{m}i"].append(improvement(est, tgt, mix, m).tolist())
    mean = {k: {m: dict(zip(TRACKS, torch.tensor(v).mean(0).tolist())) for m, v in d.items()} for k, d in per.items()}
    return {"n_items": n, "bound": bound, "per_item": per, "mean": mean}
