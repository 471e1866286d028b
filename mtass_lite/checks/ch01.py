"""Self-checks for chapter 01 (the STFT): ``checks.ex01_1(n_frames)``.

The check computes the answer with the library's STFT (:func:`mtass_lite.stft.stft`) on the chapter's
test mixture (MTASS-tiny test item 0) and names the usual slips: the hop-256 count, frames without
centring, an off-by-one.
"""
from __future__ import annotations

import numbers

from ._core import verdict


def ex01_1(n_frames, hop: int = 128, index: int = 0, root=None, strict: bool = False) -> bool:
    """Exercise 1: the number of STFT frames of the chapter's test mixture (test item ``index``) at hop 128
    (``n_fft`` 512, centred frames as in :func:`mtass_lite.stft.stft`)."""
    from mtass_lite import stft as S
    from mtass_lite.data.datasets import MTASSDataset
    from mtass_lite.data.tiny import ensure_tiny

    name = f"ex01_1 (frames of test mixture {index} at hop {hop})"
    mix, _ = MTASSDataset(root if root is not None else ensure_tiny(progress=False), "test")[index]
    T = mix.shape[-1]
    right = int(S.stft(mix, hop=hop).shape[-1])
    if isinstance(n_frames, bool) or not isinstance(n_frames, numbers.Real):
        return verdict(name, [f"expected a number of frames, got {type(n_frames).__name__}"], strict)
    if float(n_frames) != int(n_frames):
        return verdict(name, [f"{n_frames} is not a whole number of frames (frames start every {hop} samples: "
                              f"count them, do not divide T / hop)"], strict)
    n = int(n_frames)
    if n == right:
        return verdict(name, [], strict)
    default_hop = int(S.stft(mix).shape[-1])
    uncentred = 1 + (T - S.N_FFT) // hop
    if n == default_hop:
        problem = f"{n} is the frame count at the default hop {S.HOP}; at hop {hop} there are about twice as many"
    elif n == uncentred:
        problem = (f"{n} counts frames without centring (no n_fft/2 padding on each side); the library's frames "
                   f"are centred, frame n on sample n·hop")
    elif n == T // hop or n == -(-T // hop):
        problem = (f"{n} is off by one: centred frames sit on samples 0, {hop}, …, {(T // hop) * hop} "
                   f"of the {T}-sample mixture")
    elif n == S.N_FFT // 2 + 1:
        problem = f"{n} is the number of frequency bins F (the first axis of [F, N]), not of frames N"
    else:
        problem = f"{n} frames; the STFT of this {T}-sample mixture at hop {hop} has a different count"
    return verdict(name, [problem], strict)
