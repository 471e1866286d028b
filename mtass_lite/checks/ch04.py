"""Self-checks for chapter 04 (building the dataset): ``checks.ex04_2(low_db, high_db)``,
``checks.ex04_3(pad_or_redraw)``.

Both compare with the library's recipe (:mod:`mtass_lite.data.mixing`): its SNR range
``SNR_RANGE_DB`` and what :func:`~mtass_lite.data.mixing.draw_segment` does with a short item.
"""
from __future__ import annotations

import math

from ._core import verdict

_TOL_DB = 0.05


def _near(a: float, b: float, tol: float = _TOL_DB) -> bool:
    return abs(a - b) <= tol


def ex04_2(low_db, high_db, snr_range_db=None, strict: bool = False) -> bool:
    """Exercise 2: the range ``[low_db, high_db]`` (dB) of the music-to-noise ratio
    ``10 log10(E_music / E_noise)`` of the recipe's mixtures.

    ``snr_range_db``: the ``(a, b)`` of the recipe's U(a, b) SNR draws (default: the library's
    :data:`~mtass_lite.data.mixing.SNR_RANGE_DB`, i.e. MTASS's U(-5, 5) dB; exercise 1's U(-10, 0)
    works too)."""
    from mtass_lite.data import mixing

    a, b = (float(v) for v in (snr_range_db if snr_range_db is not None else mixing.SNR_RANGE_DB))
    name = f"ex04_2 (range of the music-to-noise ratio for SNRs ~ U({a:g}, {b:g}) dB)"
    try:
        lo, hi = float(low_db), float(high_db)
    except (TypeError, ValueError):
        return verdict(name, [f"give two numbers in dB, got {low_db!r} and {high_db!r}"], strict)
    # snr_music = 10 log10(E_s/E_m), snr_noise = 10 log10(E_s/E_n)  =>  MNR = snr_noise - snr_music
    true_lo, true_hi = a - b, b - a
    width = b - a
    if _near(lo, true_lo) and _near(hi, true_hi):
        return verdict(name, [], strict)
    problems = []
    if _near(lo, true_hi) and _near(hi, true_lo):
        problems.append(f"low and high are swapped: the range is [{true_lo:g}, {true_hi:g}] dB")
    elif _near(lo, a) and _near(hi, b):
        problems.append(f"[{a:g}, {b:g}] dB is the range of each SNR; the music-to-noise ratio is "
                        f"snr_noise - snr_music, the difference of two independent draws, so its range is "
                        f"twice as wide")
    elif lo > 0 and hi > 0 and _near(10 * math.log10(lo), true_lo, 0.1) and _near(10 * math.log10(hi), true_hi, 0.1):
        problems.append("these are linear power ratios, not dB: take 10·log10 of them")
    elif lo > 0 and hi > 0 and _near(20 * math.log10(lo), true_lo, 0.1) and _near(20 * math.log10(hi), true_hi, 0.1):
        problems.append("these are linear amplitude ratios, not dB: take 20·log10 of them")
    elif _near(lo, 2 * true_lo) and _near(hi, 2 * true_hi):
        problems.append("twice the true range: a power ratio in dB is 10·log10, not 20·log10 "
                        "(the SNRs are already power ratios in dB: subtract them)")
    elif _near(lo, 0.0) and (_near(hi, true_hi) or _near(hi, width)):
        problems.append("the ratio is negative whenever the noise is louder than the music: the range is "
                        "symmetric about 0 dB")
    elif _near(hi, 0.0) and _near(lo, true_lo):
        problems.append("the ratio is positive whenever the music is louder than the noise: the range is "
                        "symmetric about 0 dB")
    elif true_lo < lo <= hi < true_hi and min(lo - true_lo, true_hi - hi) < 0.3 * width:
        problems.append(f"[{lo:g}, {hi:g}] dB looks like the extremes observed in a metadata.csv; the recipe's "
                        f"range is wider: its ends need both SNRs at opposite ends of U({a:g}, {b:g}) at once, "
                        f"which is rare (the difference of two uniform draws has a triangular distribution)")
    else:
        problems.append(f"[{lo:g}, {hi:g}] dB is not the range; write the ratio E_music / E_noise in terms of "
                        f"snr_music and snr_noise (both relative to the speech), then take the extremes")
    return verdict(name, problems, strict)


def _library_pad(n_item: int, segment_seconds: float):
    """What the recipe does with one non-silent item of ``n_item`` samples: pad (samples) or None (redrawn)."""
    import numpy as np

    from mtass_lite.data import mixing

    cfg = mixing.MixConfig(segment_seconds=segment_seconds, max_redraws=0)
    audio = (0.1 * np.random.default_rng(0).standard_normal(n_item)).astype(np.float32)
    try:
        _, info = mixing.draw_segment(np.random.default_rng(0), [mixing.Source("item", audio=audio)], cfg)
    except RuntimeError:
        return None
    return int(info["pad"])


# (item seconds, segment seconds): short, long, exactly half, exactly full, the paper's 10 s.
_CASES_04_3 = ((1.0, 3.0), (2.0, 3.0), (1.5, 3.0), (1.4, 3.0), (2.9, 3.0), (3.0, 3.0), (5.0, 3.0),
               (0.5, 1.0), (0.75, 2.0), (4.0, 10.0), (6.0, 10.0), (12.0, 10.0))


def ex04_3(pad_or_redraw, strict: bool = False) -> bool:
    """Exercise 3: ``pad_or_redraw(item_seconds, segment_seconds)`` -> the number of zero *samples*
    (16 kHz) that the recipe appends to a (non-silent) item of that length, or ``None`` if the item is
    redrawn. Compared with :func:`mtass_lite.data.mixing.draw_segment` on short, long and boundary lengths."""
    from mtass_lite import SAMPLE_RATE

    name = "ex04_3 (what the recipe does with a short item)"
    wrong = []  # (item_s, seg_s, expected, got)
    for item_s, seg_s in _CASES_04_3:
        expected = _library_pad(int(round(item_s * SAMPLE_RATE)), seg_s)
        try:
            got = pad_or_redraw(item_s, seg_s)
        except Exception as err:  # noqa: BLE001 - report any failure of the student's function
            return verdict(name, [f"pad_or_redraw({item_s:g}, {seg_s:g}) raised {type(err).__name__}: {err}"], strict)
        if got is not None:
            try:
                got = float(got)
            except (TypeError, ValueError):
                return verdict(name, [f"pad_or_redraw({item_s:g}, {seg_s:g}) returned {got!r}: return a number "
                                      f"of samples or None"], strict)
        same = (got is None and expected is None) or (
            got is not None and expected is not None and abs(got - expected) < 0.5)
        if not same:
            wrong.append((item_s, seg_s, expected, got))
    if not wrong:
        return verdict(name, [], strict)

    def case(w):
        item_s, seg_s, expected, got = w
        exp = "redrawn (None)" if expected is None else f"padded with {expected} samples"
        return f"a {item_s:g}-s item in a {seg_s:g}-s segment is {exp}, you returned {got!r}"

    problems = []
    short_redrawn = [w for w in wrong if w[2] is None]
    padded = [w for w in wrong if w[2] is not None and w[2] > 0]
    long_items = [w for w in wrong if w[2] == 0]
    if short_redrawn and all(w[3] is not None for w in short_redrawn):
        if [w for w in short_redrawn if w[0] == 1.4 and w[1] == 3.0] and len(short_redrawn) == 1:
            problems.append("the threshold is off: an item is redrawn when it fills less than min_fill = 50 % of "
                            "the segment (" + case(short_redrawn[0]) + ")")
        else:
            problems.append("an item shorter than min_fill (50 %) of the segment is redrawn, not padded: "
                            + case(short_redrawn[0]))
    if padded:
        if all(w[3] is None for w in padded):
            if all(w[0] / w[1] == 0.5 for w in padded):
                problems.append("an item that fills exactly half the segment is padded (the rule redraws only "
                                "items shorter than min_fill × segment): " + case(padded[0]))
            else:
                problems.append("an item that fills at least half the segment is zero-padded at the end, not "
                                "redrawn: " + case(padded[0]))
        elif all(w[3] is not None and abs(w[3] * SAMPLE_RATE - w[2]) < 0.5 for w in padded):
            problems.append(f"give the padding in samples at {SAMPLE_RATE} Hz, not in seconds: " + case(padded[0]))
        else:
            problems.append("wrong padding: the item is zero-padded up to the segment length, "
                            "segment − item samples: " + case(padded[0]))
    if long_items:
        problems.append("an item at least as long as the segment is read at a random offset, with no padding "
                        "(0): " + case(long_items[0]))
    return verdict(name, problems, strict)
