"""Self-checks for chapter 02 (masks): ``checks.ex02_irm(my_irm)`` and ``checks.ex02_cirm(my_cirm)`` (the
"implement it" assignments).

Both give the student's function random complex spectra — three sources ``S_all[..., 3, F, N]`` and
their mixture ``Y = S_all.sum(-3)``, unbatched and with a batch axis in front — and compare with the
library (:func:`mtass_lite.masks.ideal_ratio_mask`, :func:`mtass_lite.masks.complex_ratio_mask`). When
they differ, the answer is compared with the usual mistakes (a missing square root, magnitudes instead
of powers, a missing conjugate, Re and Im swapped, a bound ignored or applied per part) and the message
names the one that matches.
"""
from __future__ import annotations

import inspect

import torch

from mtass_lite import masks

from ._core import verdict

_RTOL, _ATOL = 1e-3, 1e-6


def _spectra(seed: int, batch: tuple = (), K: int = 3, F: int = 33, N: int = 20, silent_bin: bool = False):
    """Random complex spectra ``[*batch, K, F, N]`` (complex128) at different levels, and their mixture."""
    g = torch.Generator().manual_seed(seed)
    shape = (*batch, K, F, N)
    gains = torch.tensor([1.0, 0.5, 2.0][:K], dtype=torch.float64).view(K, 1, 1)
    S_all = torch.complex(torch.randn(shape, generator=g, dtype=torch.float64),
                          torch.randn(shape, generator=g, dtype=torch.float64)) * gains
    if silent_bin:  # one time-frequency bin where every source (hence the mixture) is 0
        S_all[..., :, 0, 0] = 0
    return S_all, S_all.sum(-3)


def _call(fn, *args, **kwargs):
    """Call the student's function; return ``(tensor or None, problem or None)``."""
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - the message is the diagnosis
        return None, f"raised {type(err).__name__}: {err}"
    if out is None:
        return None, "returned None (missing return?)"
    try:
        out = torch.as_tensor(out)
    except Exception:  # noqa: BLE001
        return None, f"returned a {type(out).__name__}, expected a tensor"
    return out, None


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    if tuple(a.shape) != tuple(b.shape) or a.is_complex() != b.is_complex():
        return False
    a = a.to(b.dtype)
    return bool(torch.isfinite(a).all()) and torch.allclose(a, b, rtol=_RTOL, atol=_ATOL)


def _accepts(fn, arg: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


# ----------------------------------------------------------------------------------------------- IRM
def _irm_mistakes(S, S_all, beta):
    """Typical wrong IRMs, with what to say about them."""
    p, P = S.abs() ** 2, (S_all.abs() ** 2).sum(-3)
    a, A = S.abs(), S_all.abs().sum(-3)
    Ymag = S_all.sum(-3).abs()
    return [
        (p / P, "missing square root (exponent): this is |S|²/Σ|S_j|², the IRM is its square root (beta = 0.5)"),
        ((a / A) ** beta, "uses magnitudes instead of powers: the IRM is (|S|² / Σ_j |S_j|²)^0.5, not "
                          "(|S| / Σ_j |S_j|)^0.5"),
        (a / A, "uses magnitudes instead of powers and no exponent: |S| / Σ_j |S_j| is not the IRM "
                "(|S|² / Σ_j |S_j|²)^0.5"),
        (a / Ymag, "divides by the mixture's magnitude |Y| = |Σ_j S_j|: that is the (unbounded) spectral magnitude "
                   "mask; the IRM divides the source's power by the sum of the sources' powers"),
        ((p / (P - p)) ** beta, "divides by the other sources' power only: the IRM divides by the power of all "
                                "sources, including S (so that it stays in [0, 1])"),
        (p ** beta / P, "applies the exponent to the numerator only: the whole ratio is raised to beta"),
        ((P / p) ** beta, "ratio upside down: Σ_j |S_j|² / |S|² instead of |S|² / Σ_j |S_j|²"),
        (1 - (p / P) ** beta, "returns 1 − IRM (the mask of the other sources)"),
    ]


def ex02_irm(my_irm, strict: bool = False) -> bool:
    """The IRM assignment: ``my_irm(S, S_all, beta=0.5)`` -> real mask ``[..., F, N]``, equal to
    :func:`mtass_lite.masks.ideal_ratio_mask` (``S``: one source ``[..., F, N]``; ``S_all``: every source,
    ``[..., K, F, N]``, the sources on axis −3)."""
    name = "ex02_irm (ideal ratio mask)"
    problems: list[str] = []
    for seed, batch, label in ((0, (), "S_all [3, F, N]"), (1, (2,), "a batch, S_all [2, 3, F, N]")):
        S_all, _ = _spectra(seed, batch)
        for k in range(S_all.shape[-3]):
            S = S_all[..., k, :, :]
            want = masks.ideal_ratio_mask(S, S_all)
            got, err = _call(my_irm, S, S_all)
            if not err and tuple(got.shape) != tuple(want.shape):
                err = f"shape {tuple(got.shape)}, expected {tuple(want.shape)} (one mask value per bin of S)"
            if not err and got.is_complex():
                err = "returns a complex tensor: the IRM is a real mask (powers have no phase)"
            if not err and _close(got, want):
                continue
            if batch:  # right on one example (checked first), wrong on a batch: the sum ran over the wrong axis
                return verdict(name, [f"correct on S_all [3, F, N] but not on {label}"
                                      + (f" ({err})" if err else "")
                                      + ": sum over the source axis −3 (S_all[..., K, F, N]), not axis 0"], strict)
            if err:
                return verdict(name, [err], strict)
            for cand, why in _irm_mistakes(S, S_all, 0.5):
                if _close(got, cand.to(want.dtype)):
                    return verdict(name, [why], strict)
            lo, hi = float(got.min()), float(got.max())
            if lo < -1e-6 or hi > 1 + 1e-6:
                return verdict(name, [f"values range over {lo:.3g} … {hi:.3g}: the IRM lies in [0, 1]"], strict)
            diff = float((got.to(want.dtype) - want).abs().max())
            return verdict(name, [f"differs from masks.ideal_ratio_mask by up to {diff:.3g} (source {k})"], strict)
    # the exponent: beta = 1 is the Wiener-like mask of exercise 2
    S_all, _ = _spectra(2)
    S = S_all[..., 0, :, :]
    if _accepts(my_irm, "beta"):
        got, err = _call(my_irm, S, S_all, beta=1.0)
        want = masks.ideal_ratio_mask(S, S_all, beta=1.0)
        if err:
            problems.append(f"with beta=1.0: {err}")
        elif not _close(got, want):
            if _close(got, masks.ideal_ratio_mask(S, S_all)):
                problems.append("ignores beta: with beta=1.0 it still returns the square-root mask")
            else:
                problems.append("wrong with beta=1.0: the mask is (|S|² / Σ_j |S_j|²)^beta")
    # silent bins: every source 0 -> 0 / 0
    S_all, _ = _spectra(3, silent_bin=True)
    got, err = _call(my_irm, S_all[0], S_all)
    if err:
        problems.append(f"with a silent bin: {err}")
    elif not bool(torch.isfinite(got).all()):
        problems.append("NaN where every source is silent (0 / 0): add a small eps to numerator and denominator, "
                        "as in section 1")
    return verdict(name, problems, strict)


# ---------------------------------------------------------------------------------------------- cIRM
def _cirm_mistakes(S, Y):
    d = Y.abs() ** 2
    M = S * Y.conj() / d
    return [
        (S * Y / d, "conjugate missing: S·Y / |Y|² is not S / Y; the cIRM is S·conj(Y) / |Y|²"),
        (S.conj() * Y / d, "conjugate on the wrong factor: conj(S)·Y / |Y|² = conj(S / Y), the phase is flipped"),
        (torch.complex(M.imag, M.real), "real and imaginary parts swapped"),
        (Y / S, "ratio upside down: Y / S instead of S / Y"),
        (S * Y.conj() / Y.abs(), "divides by |Y| instead of |Y|²"),
        (torch.complex(S.real / Y.real, S.imag / Y.imag), "divides Re by Re and Im by Im: that is the released "
                                                          "Re/Im-scaling mask, not the complex ratio S / Y"),
        (M.conj(), "returns conj(S / Y): the phase is flipped"),
    ]


def ex02_cirm(my_cirm, strict: bool = False) -> bool:
    """The cIRM assignment: ``my_cirm(S, Y, bound=None)`` -> complex mask ``[..., F, N]``, equal to
    :func:`mtass_lite.masks.complex_ratio_mask`: ``S / Y`` (so that ``M * Y`` rebuilds ``S``); with
    ``bound`` its *magnitude* is clipped to ``bound`` and its phase kept."""
    name = "ex02_cirm (complex ratio mask)"
    problems: list[str] = []
    for seed, batch, label in ((10, (), "S [3, F, N]"), (11, (2,), "a batch, S [2, 3, F, N]")):
        S_all, Y = _spectra(seed, batch)
        Yk = Y.unsqueeze(-3)
        want = masks.complex_ratio_mask(S_all, Yk)
        got, err = _call(my_cirm, S_all, Yk)
        if err:
            return verdict(name, [f"on {label}: {err}"], strict)
        if tuple(got.shape) != tuple(want.shape):
            return verdict(name, [f"on {label}: shape {tuple(got.shape)}, expected {tuple(want.shape)} "
                                  f"(S and Y broadcast: one mask value per bin of S)"], strict)
        if not got.is_complex():
            mag = S_all.abs() / Yk.abs()
            why = ("returns the magnitude ratio |S| / |Y|: the cIRM is complex (it also rotates the phase)"
                   if _close(got, mag) else "returns a real tensor: the cIRM is complex, S / Y")
            return verdict(name, [why], strict)
        if _close(got, want):
            continue
        for cand, why in _cirm_mistakes(S_all, Yk):
            if _close(got, cand):
                return verdict(name, [why], strict)
        if _close(got, masks.complex_ratio_mask(S_all, Yk, bound=1.0)):
            return verdict(name, ["clips the magnitude although bound=None: unbounded means S / Y exactly"], strict)
        rebuilt = got.to(Yk.dtype) * Yk
        err_db = 10 * torch.log10((S_all.abs() ** 2).sum() / ((rebuilt - S_all).abs() ** 2).sum().clamp_min(1e-30))
        return verdict(name, [f"M · Y does not rebuild S (SNR {float(err_db):.1f} dB): the cIRM is S / Y"], strict)
    # the bound
    S_all, Y = _spectra(12)
    Yk = Y.unsqueeze(-3)
    bound = 1.0
    want = masks.complex_ratio_mask(S_all, Yk, bound=bound)
    if not _accepts(my_cirm, "bound"):
        problems.append("takes no `bound` argument: my_cirm(S, Y, bound=None) clips |M| to bound when it is given")
    else:
        got, err = _call(my_cirm, S_all, Yk, bound=bound)
        if err:
            problems.append(f"with bound={bound}: {err}")
        elif not (got.is_complex() and _close(got, want)):
            M = masks.complex_ratio_mask(S_all, Yk)
            per_part = torch.complex(M.real.clamp(-bound, bound), M.imag.clamp(-bound, bound))
            if got.is_complex() and _close(got, M):
                problems.append(f"unbounded: bound={bound} is ignored (|M| reaches {float(M.abs().max()):.1f})")
            elif got.is_complex() and _close(got, per_part):
                problems.append("clips Re and Im separately (that is the Re/Im-scaling bound); the cIRM's bound "
                                "clips the magnitude |M| and keeps the phase")
            elif not got.is_complex():
                problems.append("with a bound it returns a real tensor: clip the magnitude, keep the phase")
            elif _close(got.abs(), want.abs()):
                problems.append("the bounded mask has the right magnitude but a wrong phase: scale M by "
                                "min(|M|, bound) / |M|, do not replace it")
            elif float(got.abs().max()) > bound * (1 + 1e-6):
                problems.append(f"bound={bound}: |M| still reaches {float(got.abs().max()):.2f}")
            else:
                problems.append(f"wrong with bound={bound}: clip |M| to bound, keep the phase")
    # a silent mixture bin
    S_all, Y = _spectra(13, silent_bin=True)
    got, err = _call(my_cirm, S_all, Y.unsqueeze(-3))
    if err:
        problems.append(f"with a silent mixture bin: {err}")
    elif not bool(torch.isfinite(got).all()):
        problems.append("inf/NaN where the mixture bin is 0 (S / Y divides by zero): compute "
                        "S·conj(Y) / (|Y|² + eps)")
    return verdict(name, problems, strict)
