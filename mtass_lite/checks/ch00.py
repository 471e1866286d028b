"""Self-checks for chapter 00 (the tour): ``checks.ex00_2(mixture_id)``.

The check reads the test split's ``metadata.csv`` through :func:`mtass_lite.data.datasets.read_metadata`
(MTASS-tiny by default) and names what differs.
"""
from __future__ import annotations

from pathlib import Path

from ._core import resolve_mixture_id, verdict


def ex00_2(mixture_id, root: str | Path | None = None, strict: bool = False) -> bool:
    """Exercise 2: the id (or index) of the test mixture with the lowest music SNR (``snr_music``:
    the speech level over the music's, in dB — the lowest is the mixture where the music is loudest
    relative to the speech)."""
    from mtass_lite.data.datasets import read_metadata
    from mtass_lite.data.tiny import ensure_tiny

    name = "ex00_2 (test mixture with the lowest music SNR)"
    rows = read_metadata(root if root is not None else ensure_tiny(progress=False), "test")
    ids = [r["id"] for r in rows]
    uid = resolve_mixture_id(mixture_id, ids)
    if uid is None:
        return verdict(name, [f"{mixture_id!r} is not a test mixture (ids {ids[0]} ... {ids[-1]}, "
                              f"or indices 0 ... {len(ids) - 1})"], strict)
    music = {r["id"]: float(r["snr_music"]) for r in rows}
    noise = {r["id"]: float(r["snr_noise"]) for r in rows}
    lowest = min(music, key=music.get)
    if uid == lowest:
        return verdict(name, [], strict)
    problems = []
    as_text = min(rows, key=lambda r: r["snr_music"])["id"]  # the trap: metadata values are strings
    if uid == max(music, key=music.get):
        problems.append(f"test {uid} has the highest music SNR ({music[uid]:+.2f} dB: the music is quietest "
                        f"relative to the speech), not the lowest")
    elif uid == min(noise, key=noise.get):
        problems.append(f"test {uid} has the lowest noise SNR ({noise[uid]:+.2f} dB), not the lowest music SNR "
                        f"(read the column snr_music)")
    elif uid == as_text:
        problems.append(f"test {uid} is the smallest snr_music compared as text: read_metadata returns strings, "
                        f"convert them with float() before comparing")
    else:
        problems.append(f"test {uid} has music SNR {music[uid]:+.2f} dB; the lowest in the test split is "
                        f"{music[lowest]:+.2f} dB")
    return verdict(name, problems, strict)
