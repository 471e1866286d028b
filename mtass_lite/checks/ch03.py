"""Self-checks for chapter 03 (metrics): ``checks.ex03_si_sdr(my_si_sdr)`` (the "implement it"
assignment), ``checks.ex03_1(beta)`` and ``checks.ex03_2(my_si_sdri)``.

The function checks feed the student's function random float64 numpy signals — a single pair ``[T]`` and a
batch ``[B, T]``, with DC offsets and estimates from good to poor — and compare with
:func:`mtass_lite.metrics.si_sdr` / :func:`mtass_lite.metrics.si_sdr_improvement`. When the values
differ they are compared with the usual mistakes (no mean removal, the SDR-optimal gain instead of the
projection on the reference, a power ratio instead of dB, a flipped sign, plain SDR) and the message
names the one that matches; scale invariance is tested on its own.
"""
from __future__ import annotations

import numpy as np

from mtass_lite import metrics

from ._core import verdict

_T = 4000


def _signals(seed: int, batch: tuple = (), dc: bool = True):
    """References ``[*batch, T]`` and estimates = reference + noise at SNRs from −5 to 20 dB (float64)."""
    rng = np.random.default_rng(seed)
    ref = rng.standard_normal((*batch, _T))
    snr_db = rng.uniform(-5, 20, size=(*batch, 1))
    est = 0.8 * ref + 10 ** (-snr_db / 20) * rng.standard_normal((*batch, _T))
    if dc:  # DC offsets, so that forgetting the mean removal shows
        ref = ref + rng.uniform(0.5, 1.0, size=(*batch, 1))
        est = est + rng.uniform(-1.0, -0.5, size=(*batch, 1))
    return est, ref


def _as_array(out):
    if out is None:
        return None, "returned None (missing return?)"
    try:
        if hasattr(out, "detach"):
            out = out.detach().cpu().numpy()
        return np.asarray(out, dtype=np.float64), None
    except Exception:  # noqa: BLE001
        return None, f"returned a {type(out).__name__}, expected a number or an array"


def _call(fn, *args):
    try:
        out = fn(*args)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - the message is the diagnosis
        return None, f"raised {type(err).__name__}: {err}"
    return _as_array(out)


def _close(a, b, atol: float = 1e-3) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and np.allclose(a, b, rtol=1e-4, atol=atol)


def _best_gain_sdr(est, ref, zero_mean=True):
    """SDR of the estimate rescaled by the SDR-optimal gain β* = <ŝ, s> / ||ŝ||² (a projection on the estimate)."""
    if zero_mean:
        est, ref = est - est.mean(-1, keepdims=True), ref - ref.mean(-1, keepdims=True)
    beta = (est * ref).sum(-1, keepdims=True) / (est ** 2).sum(-1, keepdims=True)
    return metrics.sdr(beta * est, ref)


def _si_sdr_mistakes(est, ref):
    right = metrics.si_sdr(est, ref)
    return [
        (metrics.si_sdr(est, ref, zero_mean=False), "no zero-mean: remove the mean of the estimate and of the "
                                                    "reference first"),
        (_best_gain_sdr(est, ref), "projects the reference on the estimate: β* = <ŝ, s> / ||ŝ||² is the SDR-optimal "
                                   "gain, and ||s||² / ||s − β*ŝ||² is the best-gain SDR 10 log10(1 / (1 − ρ²)), not "
                                   "SI-SDR 10 log10(ρ² / (1 − ρ²)); project the estimate on the reference: "
                                   "s_target = <ŝ, s> s / ||s||²"),
        (_best_gain_sdr(est, ref, zero_mean=False), "projects the reference on the estimate (the SDR-optimal gain "
                                                    "β* = <ŝ, s> / ||ŝ||², best-gain SDR), and no zero-mean; "
                                                    "SI-SDR uses s_target = <ŝ, s> s / ||s||² after mean removal"),
        (10 ** (right / 10), "returns the power ratio, not dB: take 10 log10 of it"),
        (-right, "sign flipped: SI-SDR grows as the estimate improves (−SI-SDR is the training loss)"),
        (2 * right, "20 log10 of an energy ratio: energies take 10 log10"),
        (right / 10, "returns log10 of the ratio: multiply by 10 for dB"),
        (metrics.sdr(est, ref), "ignores scale invariance: this is the plain SDR ||s||² / ||s − ŝ||², without "
                                "projecting the estimate on the reference"),
        (metrics.sdr(est - est.mean(-1, keepdims=True), ref - ref.mean(-1, keepdims=True)),
         "ignores scale invariance: this is the plain SDR of the zero-mean signals, without projecting the estimate "
         "on the reference"),
    ]


def ex03_si_sdr(my_si_sdr, strict: bool = False) -> bool:
    """The SI-SDR assignment: ``my_si_sdr(estimate, reference)`` -> dB over the last axis (``[T] -> scalar``,
    ``[B, T] -> [B]``), equal to :func:`mtass_lite.metrics.si_sdr` (mean removal, then projection of the
    estimate on the reference)."""
    name = "ex03_si_sdr (scale-invariant SDR)"
    problems: list[str] = []
    est, ref = _signals(0)
    got, err = _call(my_si_sdr, est, ref)
    if err:
        return verdict(name, [f"on one pair [T]: {err}"], strict)
    if got.size != 1:
        return verdict(name, [f"on one pair [T] it returns shape {got.shape}: expected one number"], strict)
    got = got.reshape(())
    right = metrics.si_sdr(est, ref)
    if not _close(got, right):
        for cand, why in _si_sdr_mistakes(est, ref):
            if _close(got, cand):
                problems.append(why)
                break
        else:
            problems.append(f"{float(got):.3f} dB where metrics.si_sdr gives {float(right):.3f} dB")
    # scale invariance, on its own
    scaled = [(c, _call(my_si_sdr, c * est, ref)[0]) for c in (0.01, 30.0)]
    broken = [(c, v) for c, v in scaled if v is not None and v.size == 1 and not _close(v.reshape(()), got)]
    if broken:
        c, v = broken[0]
        problems.append(f"not scale-invariant: scaling the estimate by {c:g} changes the result from "
                        f"{float(got):.2f} to {float(v.reshape(())):.2f} dB")
    # a batch [B, T]
    est, ref = _signals(1, (5,))
    right = metrics.si_sdr(est, ref)
    got_b, err = _call(my_si_sdr, est, ref)
    if err:
        problems.append(f"on a batch [5, T]: {err}")
    elif got_b.shape != right.shape:
        problems.append(f"on a batch [5, T] it returns shape {got_b.shape}, expected {right.shape}: sum and "
                        f"average over the last axis only (axis=-1, keepdims where you broadcast)")
    elif not problems and not _close(got_b, right):
        mistakes = [why for cand, why in _si_sdr_mistakes(est, ref) if _close(got_b, cand)]
        problems.append(f"right on one pair but not on a batch [5, T]"
                        + (f" ({mistakes[0]})" if mistakes else "")
                        + ": every sum and mean runs over the last axis (axis=-1, keepdims=True)")
    return verdict(name, problems, strict)


def ex03_1(beta, strict: bool = False) -> bool:
    """Exercise 1: the SDR-optimal gain β* for the chapter's ``est`` against ``speech`` (defined in section 1,
    used in section 3: the first test mixture's speech plus 10 % white noise, seed 0); β* = <ŝ, s> / ||ŝ||²."""
    from mtass_lite.data.datasets import MTASSDataset
    from mtass_lite.data.tiny import ensure_tiny

    name = "ex03_1 (the SDR-optimal gain β*)"
    speech = MTASSDataset(ensure_tiny(progress=False), "test")[0][1][0].numpy().astype(np.float64)
    est = speech + 0.1 * np.random.default_rng(0).standard_normal(len(speech)) * speech.std()
    dot = float(np.dot(est, speech))
    right = dot / float(np.dot(est, est))
    alpha = dot / float(np.dot(speech, speech))
    try:
        b = float(beta)
    except (TypeError, ValueError):
        return verdict(name, [f"expected a number, got {type(beta).__name__}"], strict)
    if np.isclose(b, right, rtol=1e-5):
        return verdict(name, [], strict)
    if np.isclose(b, alpha, rtol=1e-5):
        problem = (f"{b:.5f} is SI-SDR's projection coefficient α = <ŝ, s> / ||s||², which scales the reference; "
                   f"the gain that maximises SDR scales the estimate: β* = <ŝ, s> / ||ŝ||²")
    elif np.isclose(b, 1 / right, rtol=1e-5):
        problem = f"{b:.5f} is 1 / β*: the gain multiplies the estimate, SDR(β ŝ, s)"
    elif np.isclose(b, 1 / alpha, rtol=1e-5):
        problem = f"{b:.5f} is 1 / α = ||s||² / <ŝ, s>; β* = <ŝ, s> / ||ŝ||²"
    else:
        problem = f"{b:.5f} is not the SDR-maximising gain of the chapter's `est` (minimise ||s − β ŝ||² over β)"
    return verdict(name, [problem], strict)


def ex03_2(my_si_sdri, strict: bool = False) -> bool:
    """Exercise 2: ``my_si_sdri(estimates, references, mixture)`` -> SI-SDRi per track, ``[..., 3, T] x2,
    [..., T] -> [..., 3]``, equal to :func:`mtass_lite.metrics.si_sdr_improvement`."""
    name = "ex03_2 (SI-SDRi)"
    rng = np.random.default_rng(5)
    problems: list[str] = []
    for batch in ((), (2,)):
        refs = rng.standard_normal((*batch, 3, _T)) * np.array([1.0, 0.6, 1.5])[:, None]
        mix = refs.sum(-2)
        est = refs + 0.3 * rng.standard_normal(refs.shape) + 0.2 * mix[..., None, :]
        est = est * rng.uniform(0.5, 2.0, size=(*batch, 3, 1))  # some gain error, so SI-SDRi and SDRi differ
        right = metrics.si_sdr_improvement(est, refs, mix)
        got, err = _call(my_si_sdri, est, refs, mix)
        where = "a batch [2, 3, T]" if batch else "[3, T]"
        if err:
            problems.append(f"on {where}: {err}")
            break
        if got.shape != right.shape:
            problems.append(f"on {where}: shape {got.shape}, expected {right.shape} (one value per track)")
            break
        if _close(got, right):
            continue
        base = metrics.si_sdr(np.broadcast_to(mix[..., None, :], refs.shape).copy(), refs)
        after = metrics.si_sdr(est, refs)
        mistakes = [
            (-right, "sign flipped: SI-SDRi = SI-SDR(estimate) − SI-SDR(mixture)"),
            (after, "no baseline: subtract SI-SDR of the unprocessed mixture (the mixture as every track's estimate)"),
            (metrics.sdr_improvement(est, refs, mix), "this is SDRi (plain SNR form), not SI-SDRi"),
            (after - metrics.si_sdr(np.broadcast_to(mix[..., None, :], refs.shape).copy(), est),
             "the baseline compares the mixture with the estimates; compare it with the references"),
            (after - base.mean(-1, keepdims=True), "subtracts the mean baseline of the three tracks; each track has "
                                                    "its own baseline SI-SDR(mixture, reference_k)"),
        ]
        for cand, why in mistakes:
            if _close(got, cand):
                problems.append(why)
                break
        else:
            problems.append(f"on {where}: differs from metrics.si_sdr_improvement by up to "
                            f"{float(np.abs(got - right).max()):.3f} dB")
        break
    return verdict(name, problems, strict)
