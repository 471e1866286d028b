"""Self-checks for chapter 12 (listening and error analysis): ``checks.ex12_1(mixture_id)``,
``checks.ex12_2(corr, depends)``, ``checks.ex12_4(per_speaker)``.

Every check reads the per-mixture scores chapter 12 writes, ``results/ch12_error_analysis.json``
(:func:`mtass_lite.results.read_json`), and the test split's metadata, and names what differs.
"""
from __future__ import annotations

import math
import re

import numpy as np

from mtass_lite import TRACKS

from ._core import resolve_mixture_id, verdict

MODELS = ("complex_mtassnet", "conv_tasnet")
LABELS = {"complex_mtassnet": "Complex-MTASSNet", "conv_tasnet": "Conv-TasNet"}


def _scores() -> dict[str, dict[str, dict]]:
    """``{model: {id: item}}`` from ``results/ch12_error_analysis.json``."""
    from mtass_lite.results import read_json

    out: dict[str, dict[str, dict]] = {}
    for it in read_json("ch12_error_analysis")["items"]:
        out.setdefault(it["model"], {})[str(it["id"])] = it
    return out


def ex12_1(mixture_id, strict: bool = False) -> bool:
    """Exercise 1: the id (or index) of a test mixture where the shipped Conv-TasNet has a higher
    speech SDRi than the shipped Complex-MTASSNet."""
    name = "ex12_1 (Conv-TasNet beats Complex-MTASSNet on speech)"
    scores = _scores()
    ids = sorted(scores["conv_tasnet"])
    uid = resolve_mixture_id(mixture_id, ids)
    if uid is None:
        return verdict(name, [f"{mixture_id!r} is not a test mixture of results/ch12_error_analysis.json "
                              f"(ids {ids[0]} ... {ids[-1]}, or indices 0 ... {len(ids) - 1})"], strict)
    ct, cm = scores["conv_tasnet"][uid], scores["complex_mtassnet"][uid]
    if ct["sdri_speech"] > cm["sdri_speech"]:
        return verdict(name, [], strict)
    avg = {m: np.mean([s[f"sdri_{t}"] for t in TRACKS]) for m, s in (("ct", ct), ("cm", cm))}
    problem = (f"on test {uid} Complex-MTASSNet wins on speech ({cm['sdri_speech']:+.2f} dB SDRi against "
               f"Conv-TasNet's {ct['sdri_speech']:+.2f} dB)")
    if avg["ct"] > avg["cm"]:
        problem += "; Conv-TasNet wins there on the average over the tracks, not on speech"
    elif ct["si_sdri_speech"] > cm["si_sdri_speech"]:
        problem += "; Conv-TasNet wins there on speech SI-SDRi, not SDRi"
    return verdict(name, [problem], strict)


def _corr_with(model: str, x_of) -> dict[str, float]:
    items = list(_scores()[model].values())
    x = np.array([x_of(it) for it in items], dtype=float)
    return {t: float(np.corrcoef(x, [it[f"sdri_{t}"] for it in items])[0, 1]) for t in TRACKS}


def ex12_2(corr, depends=None, model: str = "complex_mtassnet", strict: bool = False) -> bool:
    """Exercise 2: ``corr`` = ``{track: Pearson r}`` of ``model``'s per-mixture SDRi with the
    music-to-noise ratio ``snr_noise - snr_music`` (dB) on the test split; optionally ``depends``,
    the tracks whose SDRi follows it clearly (|r| >= 0.5)."""
    name = f"ex12_2 (SDRi against snr_noise - snr_music, {LABELS.get(model, model)})"
    if model not in MODELS:
        return verdict(name, [f"model {model!r}: choose one of {MODELS}"], strict)
    try:
        given = {t: float(corr[t]) for t in TRACKS}
    except (KeyError, TypeError, ValueError, IndexError):
        return verdict(name, [f"give one correlation per track as a mapping with keys {TRACKS}"], strict)
    want = _corr_with(model, lambda it: it["snr_noise"] - it["snr_music"])

    def close(a, b):
        return all(math.isclose(a[t], b[t], abs_tol=0.01) for t in TRACKS)

    problems = []
    if not close(given, want):
        other = next(m for m in MODELS if m != model)
        if close(given, {t: -r for t, r in want.items()}):
            problems.append("sign flipped: those are correlations with snr_music - snr_noise (the noise-to-music "
                            "ratio), not snr_noise - snr_music")
        elif close(given, _corr_with(model, lambda it: it["snr_music"])):
            problems.append("those are correlations with snr_music alone, not with snr_noise - snr_music")
        elif close(given, _corr_with(model, lambda it: it["snr_noise"])):
            problems.append("those are correlations with snr_noise alone, not with snr_noise - snr_music")
        elif close(given, _corr_with(other, lambda it: it["snr_noise"] - it["snr_music"])):
            problems.append(f"those are {LABELS[other]}'s correlations: pass model={other!r} or use "
                            f"{LABELS[model]}'s rows")
        else:
            problems.append("r " + ", ".join(f"{t} {given[t]:+.2f}" for t in TRACKS) + "; expected "
                            + ", ".join(f"{t} {want[t]:+.2f}" for t in TRACKS)
                            + " (Pearson r over the test mixtures of results/ch12_error_analysis.json)")
    if depends is not None:
        chosen = {depends} if isinstance(depends, str) else set(depends)
        unknown = chosen - set(TRACKS)
        if unknown:
            problems.append(f"{sorted(unknown)} are not tracks {TRACKS}")
        strong = {t for t in TRACKS if abs(want[t]) >= 0.5}
        for t in TRACKS:
            if t in strong and t not in chosen:
                problems.append(f"{t} follows it too (r = {want[t]:+.2f})")
            elif t in chosen and t not in strong:
                problems.append(f"{t} hardly follows it (r = {want[t]:+.2f}, |r| < 0.5)")
    return verdict(name, problems, strict)


def _speaker_of(speech_id: str) -> str:
    return re.sub(r"_s\d+$", "", speech_id)


def _per_speaker(model: str, tracks=TRACKS) -> dict[str, float]:
    from mtass_lite.data.datasets import read_metadata
    from mtass_lite.data.tiny import ensure_tiny

    speaker = {r["id"]: _speaker_of(r["speech_id"]) for r in read_metadata(ensure_tiny(progress=False), "test")}
    groups: dict[str, list[float]] = {}
    for uid, it in _scores()[model].items():
        groups.setdefault(speaker[uid], []).append(float(np.mean([it[f"sdri_{t}"] for t in tracks])))
    return {s: float(np.mean(v)) for s, v in groups.items()}


def ex12_4(per_speaker, model: str = "complex_mtassnet", strict: bool = False) -> bool:
    """Exercise 4: ``per_speaker`` = ``{speaker: mean SDRi}`` of ``model`` over the test mixtures of each
    speaker (speaker = ``speech_id`` without its ``_sNN`` segment suffix; SDRi averaged over the three
    tracks), e.g. ``table.groupby("speaker").sdri_avg.mean()`` in chapter 12."""
    name = f"ex12_4 (average SDRi per speaker, {LABELS.get(model, model)})"
    if model not in MODELS:
        return verdict(name, [f"model {model!r}: choose one of {MODELS}"], strict)
    try:
        given = {str(k): float(v) for k, v in dict(per_speaker).items()}
    except (TypeError, ValueError):
        return verdict(name, ["give a mapping speaker -> mean SDRi (a dict or a pandas Series)"], strict)
    want = _per_speaker(model)
    problems = []
    missing, extra = sorted(set(want) - set(given)), sorted(set(given) - set(want))
    if missing:
        problems.append(f"missing speakers {missing}")
    if extra:
        hint = (" (keep the speaker, drop the _sNN segment suffix of speech_id)"
                if any(re.search(r"_s\d+$", s) for s in extra) else "")
        problems.append(f"unknown speakers {extra}{hint}")
    common = [s for s in want if s in given]
    if common and not all(math.isclose(given[s], want[s], abs_tol=0.01) for s in common):
        other = next(m for m in MODELS if m != model)

        def matches(ref):
            return all(math.isclose(given[s], ref[s], abs_tol=0.01) for s in common if s in ref)

        if matches(_per_speaker(model, ("speech",))):
            problems.append("those are speech SDRi averages: average the three tracks' SDRi first")
        elif matches(_per_speaker(other)):
            problems.append(f"those are {LABELS[other]}'s averages, not {LABELS[model]}'s")
        else:
            wrong = [s for s in common if not math.isclose(given[s], want[s], abs_tol=0.01)]
            problems.append(", ".join(f"{s}: {given[s]:+.2f} dB, expected {want[s]:+.2f}" for s in wrong[:4])
                            + (f" (and {len(wrong) - 4} more)" if len(wrong) > 4 else ""))
    return verdict(name, problems, strict)
