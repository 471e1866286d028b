"""Separation metrics, and exactly which one each number is.

- :func:`sdr` — the **plain SNR form** ``10 log10(||s||^2 / ||s - ŝ||^2)``. The MTASS paper's SDRi is
  most likely this (PAPER_FACTS); it is scale-dependent: a right-shaped estimate at the wrong gain
  scores badly.
- :func:`si_sdr` — scale-invariant SDR (Le Roux et al. 2019): ``ŝ`` is first projected on ``s``.
- :func:`bss_eval` — BSS-eval v3 SDR / SIR / SAR (Vincent et al. 2006) through fast_bss_eval, which
  allows a 512-tap distortion filter: it forgives filtering and small delays.
- ``*_improvement`` — metric of the estimate minus metric of the unprocessed mixture, per track.
- :func:`pesq_wb`, :func:`stoi` — perceptual speech quality / intelligibility for the speech track.

Functions accept numpy arrays or torch tensors ``[..., T]`` and return the same kind ``[...]``.
Introduced in chapter 03.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from . import SAMPLE_RATE

EPS = 1e-8


def _to_torch(*xs):
    is_np = not isinstance(xs[0], torch.Tensor)
    out = [torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x for x in xs]
    if is_np:
        out = [x.double() for x in out]
    return is_np, out


def _back(is_np: bool, x: torch.Tensor):
    return x.numpy() if is_np else x


def sdr(estimate, reference, eps: float = EPS):
    """Plain SNR-form SDR in dB over the last axis: ``[..., T], [..., T] -> [...]``."""
    is_np, (est, ref) = _to_torch(estimate, reference)
    num = (ref ** 2).sum(-1)
    den = ((ref - est) ** 2).sum(-1)
    return _back(is_np, 10 * torch.log10((num + eps) / (den + eps)))


def si_sdr(estimate, reference, zero_mean: bool = True, eps: float = EPS):
    """Scale-invariant SDR in dB over the last axis: ``[..., T], [..., T] -> [...]``.

    ``s_target = <ŝ, s> s / ||s||^2``; ``SI-SDR = 10 log10(||s_target||^2 / ||ŝ - s_target||^2)``.
    SI-SDR is undefined for an all-zero estimate (0 / 0); ``eps`` makes it 0 dB there, so a silent
    "separator" scores SI-SDRi = −SI-SDR(mixture), which is positive on MTASS-style data (chapter 05).
    """
    is_np, (est, ref) = _to_torch(estimate, reference)
    if zero_mean:
        est = est - est.mean(-1, keepdim=True)
        ref = ref - ref.mean(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / ((ref ** 2).sum(-1, keepdim=True) + eps)
    target = alpha * ref
    num = (target ** 2).sum(-1)
    den = ((est - target) ** 2).sum(-1)
    return _back(is_np, 10 * torch.log10((num + eps) / (den + eps)))


METRICS = {"sdr": sdr, "si_sdr": si_sdr}


def improvement(estimates, references, mixture, metric: str = "sdr"):
    """Per-track improvement over the unprocessed mixture, in dB.

    Args:
        estimates, references: ``[..., 3, T]``.
        mixture: ``[..., T]`` (used as the "estimate" of every track for the baseline).
        metric: "sdr" (plain SNR form: SDRi, the paper's number) or "si_sdr" (SI-SDRi).
    Returns:
        ``[..., 3]``.
    """
    fn = METRICS[metric]
    is_np, (est, ref, mix) = _to_torch(estimates, references, mixture)
    base = fn(mix.unsqueeze(-2).expand_as(ref), ref)
    return _back(is_np, fn(est, ref) - base)


def sdr_improvement(estimates, references, mixture):
    """SDRi (plain SNR form) per track: ``[..., 3, T] x2, [..., T] -> [..., 3]``."""
    return improvement(estimates, references, mixture, "sdr")


def si_sdr_improvement(estimates, references, mixture):
    """SI-SDRi per track: ``[..., 3, T] x2, [..., T] -> [..., 3]``."""
    return improvement(estimates, references, mixture, "si_sdr")


def bss_eval(estimates, references, filter_length: int = 512):
    """BSS-eval v3 (SDR, SIR, SAR) per source, no permutation search: ``[S, T] x2 -> 3 x [S]`` numpy.

    fast_bss_eval's torch backend (float64) is used because its numpy backend rejects
    ``compute_permutation=False`` under numpy 2. A silent reference makes BSS-eval undefined; the
    result is then NaN for that source.
    """
    import fast_bss_eval

    est = torch.as_tensor(np.asarray(estimates, dtype=np.float64))
    ref = torch.as_tensor(np.asarray(references, dtype=np.float64))
    out = fast_bss_eval.bss_eval_sources(ref, est, filter_length=filter_length, compute_permutation=False)
    return tuple(o.numpy() for o in out[:3])


def bss_eval_sdr(estimates, references, filter_length: int = 512) -> np.ndarray:
    """BSS-eval v3 SDR per source ``[S]`` (see :func:`bss_eval`)."""
    return bss_eval(estimates, references, filter_length)[0]


def pesq_wb(estimate, reference, sample_rate: int = SAMPLE_RATE) -> float:
    """Wide-band PESQ (ITU-T P.862.2, MOS-LQO 1.04-4.64) of a speech estimate; NaN if no speech found."""
    from pesq import NoUtterancesError, pesq

    try:
        return float(pesq(sample_rate, np.asarray(reference, np.float32), np.asarray(estimate, np.float32), "wb"))
    except NoUtterancesError:
        return float("nan")


def stoi(estimate, reference, sample_rate: int = SAMPLE_RATE, extended: bool = False) -> float:
    """Short-time objective intelligibility (Taal et al. 2011), 0..1 (ESTOI with ``extended``)."""
    from pystoi import stoi as _stoi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pystoi warns on clips shorter than its 30-frame window
        return float(_stoi(np.asarray(reference, np.float64), np.asarray(estimate, np.float64), sample_rate,
                           extended=extended))
