"""Self-checks for chapter 10 (Complex-MTASSNet): ``checks.ex10_2(MyBoundedNet)``,
``checks.ex10_4(compensation)``, ``checks.ex10_5(zero_init_stage2)``.

Each check builds a *small* Complex-MTASSNet (same code as the lite and paper models, narrower) and
compares the student's answer with the library on it; the message names what differs.
"""
from __future__ import annotations

import torch
from torch import Tensor

from mtass_lite.models.complex_mtassnet import MASK_TYPES, ComplexMTASSNet
from mtass_lite.stft import ri_unstack

from ._core import verdict

# a narrow Complex-MTASSNet: every part present, fast to build and run
SMALL = dict(hidden=16, dilations=(1, 3), n_repeats=1, tcn_channels=16, tcn_hidden=8, tcn_repeats=1,
             tcn_blocks=2, dropout=0.0)


def _small(cls=ComplexMTASSNet, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    return cls(**{**SMALL, **overrides}).eval()


def _close(a, b) -> bool:
    return tuple(a.shape) == tuple(b.shape) and torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def ex10_2(cls, strict: bool = False) -> bool:
    """Exercise 2: a subclass of ``ComplexMTASSNet`` whose ``apply_masks`` bounds the heads' masks
    with ``torch.tanh`` before applying them, for every ``mask_type``."""
    name = "ex10_2 (tanh-bounded masks)"
    if not (isinstance(cls, type) and issubclass(cls, ComplexMTASSNet)):
        return verdict(name, [f"expected a subclass of ComplexMTASSNet (the class, not an instance), got {cls!r}"],
                       strict)
    problems, wrong_types = [], []
    g = torch.Generator().manual_seed(0)
    for mask_type in MASK_TYPES:
        try:
            student = _small(cls, mask_type=mask_type)
        except Exception as err:
            return verdict(name, [f"{cls.__name__}(**config) fails: {type(err).__name__}: {err} (keep the "
                                  f"parent's constructor arguments)"], strict)
        ref = _small(mask_type=mask_type)
        F, n = 9, 7
        X = torch.complex(torch.randn(2, F, n, generator=g), torch.randn(2, F, n, generator=g))
        channels = F if mask_type == "magnitude" else 2 * F
        M = 3 * torch.randn(2, 3, channels, n, generator=g)  # large masks, so that bounding them matters
        with torch.no_grad():
            try:
                got = student.apply_masks(M.clone(), X)
            except Exception as err:
                problems.append(f"apply_masks fails for mask_type={mask_type!r}: {type(err).__name__}: {err}")
                continue
            want = ref.apply_masks(torch.tanh(M), X)
            if _close(got, want):
                continue
            wrong_types.append(mask_type)
            if tuple(got.shape) != tuple(want.shape):
                problems.append(f"mask_type={mask_type!r}: output shape {tuple(got.shape)}, expected {tuple(want.shape)}")
            elif _close(got, ref.apply_masks(M, X)):
                problems.append(f"mask_type={mask_type!r}: the masks are not bounded (apply torch.tanh to them "
                                f"before super().apply_masks)")
            elif _close(got, torch.tanh(ref.apply_masks(M, X))):
                problems.append(f"mask_type={mask_type!r}: tanh is applied to the estimate [Re; Im], not to the mask")
            elif _close(got, ref.apply_masks(torch.sigmoid(M), X)):
                problems.append(f"mask_type={mask_type!r}: sigmoid bounds the masks to (0, 1), so they can no "
                                f"longer flip a sign; tanh bounds them to (-1, 1)")
            elif _close(got, ref.apply_masks(M.clamp(-1, 1), X)):
                problems.append(f"mask_type={mask_type!r}: clamp bounds the masks but passes no gradient "
                                f"beyond ±1; use torch.tanh")
            else:
                problems.append(f"mask_type={mask_type!r}: apply_masks differs from the library's applied to "
                                f"torch.tanh(masks)")
    if wrong_types and len(wrong_types) < len(MASK_TYPES) and "ri_scaling" not in wrong_types:
        problems.append("right for some mask types only: bound the masks and let super().apply_masks handle "
                        "the mask type")
    return verdict(name, problems, strict)


def _reference_compensation(model: ComplexMTASSNet, mixture: Tensor) -> Tensor:
    with torch.no_grad():
        sp = model.spectra(mixture[None])
        return ri_unstack(sp["estimate"][0] - sp["stage1"][0]).abs()  # [3, F, N]


def ex10_4(fn, strict: bool = False) -> bool:
    """Exercise 4: ``fn(model, mixture[T]) -> [3, F, N]``, the magnitude of what stage 2 adds to each
    track's spectrum, ``|Ŝ_k − Ŝ_k^(1)|`` (from ``model.spectra``; model in eval mode)."""
    name = "ex10_4 (stage-2 compensation)"
    model = _small()
    mixture = torch.randn(4000, generator=torch.Generator().manual_seed(1))
    want = _reference_compensation(model, mixture)
    try:
        got = fn(model, mixture.clone())
    except Exception as err:
        return verdict(name, [f"fn(model, mixture) fails: {type(err).__name__}: {err}"], strict)
    got = torch.as_tensor(got).detach()
    problems = []
    if got.is_complex():
        problems.append("returned the complex difference: take its magnitude (.abs())")
    elif _close(got, want):
        pass
    elif got.dim() == want.dim() + 1 and _close(got.squeeze(0), want):
        problems.append(f"shape {tuple(got.shape)}: drop the batch dimension, expected {tuple(want.shape)}")
    elif tuple(got.shape[-2:]) == (2 * want.shape[-2], want.shape[-1]):
        problems.append(f"shape {tuple(got.shape)}: that is [Re; Im] stacked; combine them into one magnitude "
                        f"per bin (mtass_lite.stft.ri_unstack, then .abs()), expected {tuple(want.shape)}")
    elif tuple(got.shape) != tuple(want.shape):
        problems.append(f"shape {tuple(got.shape)}, expected {tuple(want.shape)} (tracks, bins, frames)")
    else:
        with torch.no_grad():
            sp = model.spectra(mixture[None])
            s1, est = ri_unstack(sp["stage1"][0]), ri_unstack(sp["estimate"][0])
        if _close(got, want ** 2):
            problems.append("squared magnitude (power): take .abs() of the complex difference")
        elif _close(got, (est.abs() - s1.abs()).abs()) or _close(got, est.abs() - s1.abs()):
            problems.append("difference of magnitudes, not the magnitude of the difference: stage 2 also "
                            "changes phase")
        elif _close(got, want.flip(0)) or any(_close(got, want[list(p)]) for p in ((1, 0, 2), (0, 2, 1), (2, 1, 0))):
            problems.append("the tracks are out of order (speech, music, noise)")
        elif _close(got, ri_unstack(sp["mixture"][0] - sp["stage1"][0]).abs()):
            problems.append("that is the stage-2 *input* (mixture − stage 1), not what stage 2 adds")
        else:
            problems.append("values differ from |estimate − stage1| of model.spectra (is the model in eval mode, "
                            "and the difference taken per track?)")
    return verdict(name, problems, strict)


def ex10_5(fn, strict: bool = False) -> bool:
    """Exercise 5: ``fn(model)`` zero-initialises the last 1×1 conv (``conv_out``, weight and bias) of
    each stage-2 network in place, so that stage 2 starts as the identity, and leaves the rest alone."""
    name = "ex10_5 (stage 2 starts as the identity)"
    model = _small()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        out = fn(model)
    except Exception as err:
        return verdict(name, [f"fn(model) fails: {type(err).__name__}: {err}"], strict)
    if isinstance(out, ComplexMTASSNet) and out is not model:
        model = out
    problems = []
    state = model.state_dict()
    for k, net in enumerate(model.stage2):
        if net.conv_out.weight.detach().abs().max() != 0:
            problems.append(f"stage2[{k}].conv_out.weight is not zero")
        if net.conv_out.bias is not None and net.conv_out.bias.detach().abs().max() != 0:
            problems.append(f"stage2[{k}].conv_out.bias is not zero: stage 2 would add a constant")
    changed_s1 = [k for k in before if k.startswith("stage1.") and not torch.equal(before[k], state[k])]
    if changed_s1:
        problems.append(f"stage 1 changed ({len(changed_s1)} tensors, e.g. {changed_s1[0]}): touch stage 2 only")
    changed_other = [k for k in before if k.startswith("stage2.") and ".conv_out." not in k
                     and not torch.equal(before[k], state[k])]
    if changed_other:
        problems.append(f"more than conv_out changed in stage 2 ({len(changed_other)} tensors, e.g. "
                        f"{changed_other[0]}): with its input weights zero too, stage 2 gets no gradient to learn from")
    if not problems:
        with torch.no_grad():
            sp = model.spectra(torch.randn(1, 4000, generator=torch.Generator().manual_seed(2)))
        if not torch.equal(sp["estimate"], sp["stage1"]):
            problems.append("the estimate still differs from stage 1's: stage 2 is not the identity")
    return verdict(name, problems, strict)
