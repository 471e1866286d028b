"""Separation metrics, and exactly which one each number is.

- :func:`sdr` — the **plain SNR form** ``10 log10(||s||^2 / ||s - ŝ||^2)``. The MTASS paper's SDRi is
  most likely this (the MTASS README reports SDRi without defining it); it is scale-dependent: a right-shaped estimate at the wrong gain
  scores badly.
- :func:`si_sdr` — scale-invariant SDR (Le Roux et al. 2019): ``ŝ`` is first projected on ``s``. A
  silent estimate (energy below :data:`SILENT_ENERGY_RATIO` of the reference's) scores the fixed floor
  :data:`SILENCE_FLOOR_DB` = −50 dB, where the formula itself is undefined (see :func:`si_sdr`).
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

# One rule for silence in SI-SDR (see si_sdr): an estimate with less than SILENT_ENERGY_RATIO of the
# reference's energy is "silent" and scores SILENCE_FLOOR_DB.
SILENCE_FLOOR_DB = -50.0
SILENT_ENERGY_RATIO = 1e-10


def _to_torch(*xs):
    is_np = not isinstance(xs[0], torch.Tensor)
    out = [torch.as_tensor(np.asarray(x)) if not isinstance(x, torch.Tensor) else x for x in xs]
    if is_np:
        out = [x.double() for x in out]
    return is_np, out


def _back(is_np: bool, x: torch.Tensor):
    return x.numpy() if is_np else x


def sdr(estimate, reference, eps: float = EPS):
    """Plain SNR-form SDR in dB over the last axis: ``[..., T], [..., T] -> [...]``.

    Unlike :func:`si_sdr`, this has no hole at silence: an all-zero estimate leaves the error equal to
    the reference, so ``SDR = 10 log10(||s||^2 / ||s||^2) = 0 dB`` exactly, a well-defined value (and
    SDRi of silence is ``−SDR(mixture)``, positive when the track is below the rest of the mixture: see
    :mod:`mtass_lite.baselines`). No floor is applied. ``eps`` only keeps a silent reference finite.
    """
    is_np, (est, ref) = _to_torch(estimate, reference)
    num = (ref ** 2).sum(-1)
    den = ((ref - est) ** 2).sum(-1)
    return _back(is_np, 10 * torch.log10((num + eps) / (den + eps)))


def si_sdr(estimate, reference, zero_mean: bool = True, eps: float = EPS, silence_floor: bool = True):
    """Scale-invariant SDR in dB over the last axis: ``[..., T], [..., T] -> [...]``.

    ``s_target = <ŝ, s> s / ||s||^2``; ``SI-SDR = 10 log10(||s_target||^2 / ||ŝ - s_target||^2)``
    (after removing the mean of both signals when ``zero_mean``).

    **Silence.** For an all-zero estimate the formula is 0 / 0: SI-SDR is undefined, and for a
    numerically silent one it is a ratio of rounding noise. ``eps`` alone used to turn the 0 / 0 into
    0 dB, so a silent "separator" scored SI-SDRi = −SI-SDR(mixture) ≈ +3.3 dB on MTASS-tiny and beat
    barely trained models. The rule now: an estimate whose energy is below
    :data:`SILENT_ENERGY_RATIO` (1e-10, i.e. −100 dB) times the reference's energy (both after mean
    removal when ``zero_mean``) scores exactly :data:`SILENCE_FLOOR_DB` (−50 dB).

    - Why −50 dB: it is the chance level. An estimate that carries no information about the track
      (white noise independent of it) has a squared correlation of about ``1/T`` with it, i.e. about
      −50 dB SI-SDR on a 6-s clip at 16 kHz; the unprocessed mixture scores around −3 dB per track on
      MTASS-tiny, and any estimate that keeps some of the track scores far above −50 dB. So silence
      can never beat a model that attempts separation, and SI-SDRi of silence is
      ``−50 − SI-SDR(mixture)``, strongly negative (≈ −47 dB on MTASS-tiny). It is still finite, so
      means and confidence intervals stay defined.
    - Why a *relative* energy threshold: SI-SDR is scale-free, so the test is too — multiplying
      estimate and reference by any gain changes neither the score nor the silence decision, and the
      same rule holds for float32 and float64 and for quiet or loud references. −100 dB relative is far
      below any audible estimate but well above float rounding of a zero signal.

    ``silence_floor=False`` gives the raw ``eps``-regularised value (0 dB for an all-zero estimate), which
    stays smooth in the estimate: the training loss (:func:`mtass_lite.losses.neg_si_sdr`) uses it.
    A silent *reference* also makes SI-SDR undefined; the floor does not apply there (nothing is below
    1e-10 of zero energy) and ``eps`` keeps the value finite: 0 dB for a silent estimate, very negative
    for any other. Plain :func:`sdr` has no such hole (silence scores exactly 0 dB there).
    """
    is_np, (est, ref) = _to_torch(estimate, reference)
    if zero_mean:
        est = est - est.mean(-1, keepdim=True)
        ref = ref - ref.mean(-1, keepdim=True)
    ref_energy = (ref ** 2).sum(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / (ref_energy + eps)
    target = alpha * ref
    num = (target ** 2).sum(-1)
    den = ((est - target) ** 2).sum(-1)
    value = 10 * torch.log10((num + eps) / (den + eps))
    if silence_floor:
        silent = (est ** 2).sum(-1) < SILENT_ENERGY_RATIO * ref_energy.squeeze(-1)
        value = torch.where(silent, torch.full_like(value, SILENCE_FLOOR_DB), value)
    return _back(is_np, value)


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
