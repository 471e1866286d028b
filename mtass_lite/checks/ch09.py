"""Self-checks for chapter 09 (D3Net): ``checks.ex09_1(model)`` ... ``checks.ex09_4(low, full, params, gmac)``.

Every check rebuilds what it compares with through the library (:func:`mtass_lite.models.build_model`,
:mod:`mtass_lite.profile`) and names what differs.
"""
from __future__ import annotations

import functools
import json
import math

import torch
from torch import nn

from mtass_lite import SAMPLE_RATE
from mtass_lite.models import build_model, model_config
from mtass_lite.models.d3net import D2Block, D3Net
from mtass_lite.profile import PAPER_TABLE, count_params, macs_per_second

from ._core import verdict


def _forward_shape_problem(model: nn.Module) -> str | None:
    """``None`` when ``model`` maps a short mixture ``[1, T]`` to ``[1, 3, T]``."""
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.randn(1, 4000, generator=torch.Generator().manual_seed(0)))
    except Exception as err:  # report, do not crash the student's notebook
        return f"the forward pass fails: {type(err).__name__}: {err}"
    finally:
        model.train(was)
    if tuple(out.shape) != (1, 3, 4000):
        return f"output shape {tuple(out.shape)} for a [1, 4000] mixture, expected (1, 3, 4000)"
    return None


def _d2_dilations(model: nn.Module) -> list[int]:
    return [conv.dilation[0] for m in model.modules() if isinstance(m, D2Block) for conv in m.convs]


def ex09_1(model: nn.Module, strict: bool = False) -> bool:
    """Exercise 1: the lite D3Net **without** multi-dilation (every D2-block conv at dilation 1),
    otherwise the lite configuration (same shared network, same parameter count)."""
    name = "ex09_1 (lite D3Net without multi-dilation)"
    if not isinstance(model, D3Net):
        return verdict(name, [f"expected a D3Net, got {type(model).__name__}"], strict)
    problems = []
    dilated = [d for d in _d2_dilations(model) if d != 1]
    if dilated:
        problems.append(f"still multi-dilated: {len(dilated)} D2-block convolutions have dilation > 1 "
                        f"(pass dilated=False)")
    ref = D3Net(**model_config("d3net", "lite"), dilated=False)
    if model.shared != ref.shared:
        problems.append(f"shared={model.shared}: the lite model shares one network across the tracks "
                        f"(keep model_config('d3net', 'lite') and change only `dilated`)")
    n, n_ref = count_params(model), count_params(ref)
    if n != n_ref:
        problems.append(f"{n:,} parameters, the lite configuration has {n_ref:,} (dilation changes no "
                        f"weight count: start from model_config('d3net', 'lite'))")
    shape = _forward_shape_problem(model)
    if shape:
        problems.append(shape)
    return verdict(name, problems, strict)


def ex09_2(model: nn.Module, strict: bool = False) -> bool:
    """Exercise 2: the lite D3Net with one network per track (``shared=False``), otherwise lite."""
    name = "ex09_2 (lite D3Net, one network per track)"
    if not isinstance(model, D3Net):
        return verdict(name, [f"expected a D3Net, got {type(model).__name__}"], strict)
    problems = []
    ref = build_model("d3net", "lite", shared=False)
    if model.shared or len(model.nets) != len(ref.nets):
        problems.append(f"{len(model.nets)} network(s) (shared={model.shared}): one per track means "
                        f"{len(ref.nets)} (pass shared=False)")
    if _d2_dilations(model.nets[0]) != _d2_dilations(ref.nets[0]):
        problems.append("the dilations differ from the lite model's: change only `shared`")
    n, n_ref = count_params(model), count_params(ref)
    if n != n_ref:
        lite = count_params(build_model("d3net", "lite"))
        hint = " (that is the shared lite model)" if n == lite else " (start from model_config('d3net', 'lite'))"
        problems.append(f"{n:,} parameters, the lite configuration with shared=False has {n_ref:,}{hint}")
    shape = _forward_shape_problem(model)
    if shape:
        problems.append(shape)
    return verdict(name, problems, strict)


def ex09_3(splits, cutoffs_khz=None, size: str = "lite", strict: bool = False) -> bool:
    """Exercise 3: the ``band_split`` values you chose build a D3Net of ``size``; optionally, for each,
    the frequency (kHz) where the low band ends, ``cutoffs_khz``."""
    name = "ex09_3 (band_split values)"
    splits = list(splits)
    problems = []
    if not splits:
        return verdict(name, ["no band_split values given"], strict)
    n_fft = build_model("d3net", size).stft.n_fft
    for s in splits:
        if isinstance(s, bool) or not isinstance(s, int):
            problems.append(f"band_split={s!r} is not an integer number of bins")
            continue
        if s == 88:
            problems.append("band_split=88 is the default: choose other values")
            continue
        try:
            build_model("d3net", size, band_split=s)
        except ValueError as err:
            problems.append(f"band_split={s} does not build at {size} size: {err}")
    if cutoffs_khz is not None:
        cutoffs = list(cutoffs_khz)
        if len(cutoffs) != len(splits):
            problems.append(f"{len(cutoffs)} cutoffs for {len(splits)} band_split values")
        else:
            for s, c in zip(splits, cutoffs):
                if isinstance(s, bool) or not isinstance(s, int):
                    continue
                want = s * SAMPLE_RATE / n_fft / 1000  # each bin is SAMPLE_RATE / n_fft Hz wide
                if math.isclose(c, want, rel_tol=1e-3):
                    continue
                if math.isclose(c, want * 1000, rel_tol=1e-3):
                    problems.append(f"band_split={s}: {c:g} is in Hz, give kHz ({want:g})")
                elif math.isclose(c, 2 * want, rel_tol=1e-3):
                    problems.append(f"band_split={s}: {c:g} kHz is twice too high: a bin is sample_rate / n_fft "
                                    f"= {SAMPLE_RATE / n_fft:g} Hz wide, not sample_rate / (n_fft / 2)")
                elif math.isclose(c, want / 2, rel_tol=1e-3):
                    problems.append(f"band_split={s}: {c:g} kHz is half the cutoff: a bin is sample_rate / n_fft "
                                    f"= {SAMPLE_RATE / n_fft:g} Hz wide (the Nyquist frequency is not the sample rate)")
                else:
                    problems.append(f"band_split={s}: cutoff {c:g} kHz, expected {want:g} kHz "
                                    f"(bins × sample_rate / n_fft)")
    return verdict(name, problems, strict)


@functools.lru_cache(maxsize=16)
def _paper_counts(spec: str) -> tuple[int, int, float]:
    """(params, params of one network, GMAC/s) of the paper-size D3Net with the overrides in ``spec``
    (JSON), cached: a paper-size MAC count takes a second or two."""
    torch.manual_seed(0)
    model = build_model("d3net", "paper", **json.loads(spec))
    return count_params(model), count_params(model.nets[0]), macs_per_second(model) / 1e9


def _doubles(growth: list[int]) -> bool:
    """Growth rates ``g, 2g, 4g, ... (bottleneck) ..., 4g, 2g, g``: doubling at each pooling level."""
    L = len(growth) // 2
    return len(growth) % 2 == 1 and all(growth[i] == growth[0] * 2 ** (L - abs(L - i)) for i in range(len(growth)))


def ex09_4(low: dict, full: dict, params: float, gmac_per_s: float, middle: dict | None = None,
           strict: bool = False) -> bool:
    """Exercise 4: a paper-size D3Net (one network per track) whose ``low`` and ``full`` U-Nets have
    growth rates doubling at each pooling level, its parameter count ``params`` and its cost
    ``gmac_per_s`` (GMAC per second of audio, :func:`mtass_lite.profile.macs_per_second` / 1e9),
    with ``params`` within 5 % of the MTASS table's 7.93 M."""
    name = "ex09_4 (D3Net with doubling growth rates)"
    problems = []
    for band, cfg in (("low", low), ("full", full)) + ((("middle", middle),) if middle is not None else ()):
        growth = list(cfg.get("growth", [])) if isinstance(cfg, dict) else []
        if not _doubles(growth):
            problems.append(f"{band}-band growth rates {growth} do not double at each pooling level "
                            f"(g, 2g, 4g, ... down to the bottleneck, then the mirror image up)")
    if problems:  # the counts below are for the profile the exercise asks for: fix it first
        return verdict(name, problems, strict)
    try:
        spec = json.dumps({"low": low, "full": full, **({"middle": middle} if middle else {})}, sort_keys=True)
        n, one_net, g = _paper_counts(spec)
    except Exception as err:
        problems.append(f"the configuration does not build: {type(err).__name__}: {err}")
        return verdict(name, problems, strict)
    n_nets = n // one_net
    if not math.isclose(params, n, rel_tol=0.005):
        if math.isclose(params, one_net, rel_tol=0.005):
            problems.append(f"params {params:,.0f} is one network: the paper size has one per track "
                            f"(shared=False), {n:,} in all")
        elif math.isclose(params, n / 1e6, rel_tol=0.005):
            problems.append(f"params {params:g} is in millions: give the count ({n:,})")
        else:
            problems.append(f"params {params:,.0f}, the library counts {n:,} for this configuration")
    table = PAPER_TABLE["d3net"]
    if abs(n / (table["params_m"] * 1e6) - 1) > 0.05:
        problems.append(f"{n / 1e6:.2f} M parameters is {n / (table['params_m'] * 1e6) - 1:+.0%} off the table's "
                        f"{table['params_m']} M: pick the starting growth rates so that the count lands within "
                        f"5 % (the two bands may start at different rates)")
    if not math.isclose(gmac_per_s, g, rel_tol=0.01):
        if math.isclose(gmac_per_s, 2 * g, rel_tol=0.01):
            problems.append(f"{gmac_per_s:.3g} GMAC/s is twice the count: FLOPs, not MACs (one MAC is a "
                            f"multiply and an add)")
        elif math.isclose(gmac_per_s, g * 1e9, rel_tol=0.01):
            problems.append(f"{gmac_per_s:.3g} is MAC/s: give GMAC/s ({g:.3g})")
        elif math.isclose(gmac_per_s, g / n_nets, rel_tol=0.01):
            problems.append(f"{gmac_per_s:.3g} GMAC/s is one network: all {n_nets} run, {g:.3g} in all")
        else:
            problems.append(f"{gmac_per_s:.3g} GMAC/s, the library counts {g:.3g} "
                            f"(mtass_lite.profile.macs_per_second on 1 s of audio)")
    return verdict(name, problems, strict)
