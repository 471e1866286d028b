"""Self-checks for chapter 05 (training and evaluation): ``checks.ex05_3(best_gain)``.

The best gain is judged by what it is for: :func:`mtass_lite.metrics.sdr` of ``beta * estimate``
must be at its maximum over ``beta``.
"""
from __future__ import annotations

import torch

from ._core import verdict


def _inputs(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    ref = torch.randn(2, 3, 4000, generator=g, dtype=torch.float64)
    # estimates at various gains (some inverted), plus noise: beta* is far from 1 and differs per track
    gains = torch.tensor([[0.3, 2.5, -0.8], [1.7, 0.05, 4.0]], dtype=torch.float64)
    est = gains[..., None] * ref + 0.7 * torch.randn(2, 3, 4000, generator=g, dtype=torch.float64)
    return est, ref


def ex05_3(best_gain, strict: bool = False) -> bool:
    """Exercise 3: ``best_gain(estimate, reference)`` -> the gain ``beta*`` (linear, per signal) that
    maximises the plain SDR of ``beta * estimate``; tensors ``[..., T]`` -> ``[...]``.

    Called with float64 tensors of shape ``[2, 3, T]``; judged with :func:`mtass_lite.metrics.sdr`."""
    from mtass_lite.metrics import sdr

    name = "ex05_3 (best gain beta* of an estimate)"
    est, ref = _inputs()
    try:
        got = best_gain(est.clone(), ref.clone())
    except Exception as err:  # noqa: BLE001 - report any failure of the student's function
        return verdict(name, [f"best_gain raised {type(err).__name__}: {err}"], strict)
    try:
        beta = torch.as_tensor(got, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return verdict(name, [f"returned {type(got).__name__}; return a tensor (or array) of gains"], strict)
    if beta.shape != est.shape[:-1]:
        hint = " (reduce over the last axis, time, only)" if beta.numel() != est.shape[:-1].numel() else ""
        return verdict(name, [f"wrong shape {tuple(beta.shape)}: expected {tuple(est.shape[:-1])}, one gain per "
                              f"signal{hint}"], strict)
    if not torch.isfinite(beta).all():
        return verdict(name, ["returned non-finite gains"], strict)

    # the optimum, found by the library's SDR on a fine grid around the least-squares value, per signal
    best = torch.empty_like(beta)
    for idx in torch.cartesian_prod(*(torch.arange(n) for n in beta.shape)).tolist():
        e, r = est[tuple(idx)], ref[tuple(idx)]
        centre = float((e * r).sum() / (e * e).sum())
        grid = centre + torch.linspace(-0.05, 0.05, 201, dtype=torch.float64) * max(abs(centre), 1e-3)
        scores = sdr(grid[:, None] * e, r.expand(len(grid), -1))
        best[tuple(idx)] = grid[int(scores.argmax())]
    sdr_best = sdr(best[..., None] * est, ref)
    sdr_got = sdr(beta[..., None] * est, ref)
    lost = float((sdr_best - sdr_got).max())
    step = 0.1 / 200 * best.abs().clamp_min(1e-3)
    if bool(((beta - best).abs() <= 2 * step).all()) or lost < 1e-3:
        return verdict(name, [], strict)

    problems = []
    alpha = (est * ref).sum(-1) / (ref * ref).sum(-1)  # SI-SDR's scale of the reference
    close = lambda x: bool(torch.allclose(beta, x, rtol=1e-3, atol=1e-6))  # noqa: E731
    if close(alpha):
        problems.append("that is SI-SDR's alpha = <est, ref> / ||ref||², which scales the reference; beta* scales "
                        "the estimate: divide by ||est||²")
    elif close(1 / best):
        problems.append("inverted: you returned 1 / beta*")
    elif close(best.abs()):
        problems.append("lost the sign: beta* is negative where the estimate is inverted, do not take abs()")
    elif close(20 * torch.log10(best.abs())) or close(10 * torch.log10(best.abs())):
        problems.append("returned dB: return the linear gain (convert to dB only for display)")
    elif close(best.pow(2)):
        problems.append("returned beta*² (a power ratio): return the amplitude gain")
    elif close(best.abs().sqrt()):
        problems.append("returned sqrt(beta*): no square root, <est, ref> / ||est||² is already an amplitude gain")
    elif close((est * ref).sum(-1) / ((est * est).sum(-1) * (ref * ref).sum(-1)).sqrt()):
        problems.append("that is the correlation coefficient (cosine), not the gain: divide <est, ref> by ||est||² only")
    problems.append(f"with your gains the SDR is up to {lost:.2f} dB below its maximum over beta")
    return verdict(name, problems, strict)
