"""Self-checks for chapter 08 (Demucs): ``checks.ex08_3(extra_params)``.

The check counts through the library (:func:`mtass_lite.models.build_model`,
:func:`mtass_lite.profile.count_params`) and names what a wrong count missed or added.
"""
from __future__ import annotations

from mtass_lite.models import build_model, model_config
from mtass_lite.profile import count_params

from ._core import verdict


def _widths(size: str) -> list[int]:
    """Channels ``C`` of each level of the Demucs preset ``size`` (the decoder's rewrite conv is C -> 2C)."""
    cfg = model_config("demucs", size)
    return [int(cfg["channels"] * cfg["growth"] ** i) for i in range(cfg["depth"])]


def ex08_3(extra_params: int, strict: bool = False) -> bool:
    """Exercise 3: how many parameters ``context=3`` adds to the lite Demucs (the decoder's rewrite conv
    ``Conv1d(C, 2C, context)`` at every level), against the default ``context=1``."""
    name = "ex08_3 (extra parameters of context=3, lite Demucs)"
    want = count_params(build_model("demucs", "lite", context=3)) - count_params(build_model("demucs", "lite"))
    try:
        got = int(extra_params)
    except (TypeError, ValueError):
        return verdict(name, [f"expected an integer, got {extra_params!r}"], strict)
    if got == want:
        return verdict(name, [], strict)
    widths = _widths("lite")
    per_tap = sum(c * 2 * c for c in widths)  # one kernel tap of Conv1d(C, 2C) at every level
    paper_extra = 2 * sum(c * 2 * c for c in _widths("paper"))
    if got == paper_extra:
        msg = (f"{got:,} is the paper-size model's count (channels {_widths('paper')}); the lite model has "
               f"channels {widths}")
    elif got == per_tap:
        msg = (f"{got:,} is half the answer: kernel 3 instead of 1 adds two taps per weight, each C x 2C "
               f"(or you counted C outputs instead of 2C)")
    elif got == 3 * per_tap:
        msg = f"{got:,} counts all three taps of the new conv; the 1-tap conv was already there: count the extra two"
    elif got == 2 * want:
        msg = f"{got:,} is twice the answer: context applies to the decoder's rewrite conv only, not the encoder's"
    elif any(got == want - 2 * c * 2 * c for c in widths):
        c = next(c for c in widths if got == want - 2 * c * 2 * c)
        msg = f"{got:,} leaves out the level with C={c}: the {len(widths)} decoder levels have widths {widths}"
    elif got in (want + sum(2 * c for c in widths), want + 2 * sum(2 * c for c in widths)):
        msg = f"{got:,} adds biases: a wider kernel adds weights only, the bias (2C per conv) is already there"
    else:
        msg = (f"{got:,} is off by {got - want:+,} ({got / want - 1:+.1%}); each of the {len(widths)} levels "
               f"(channels {widths}) adds 2 taps x C x 2C weights")
    return verdict(name, [msg], strict)
