"""Audio I/O: read any file to mono float32 at 16 kHz, write atomically without clipping.

Chapter 00 uses these to listen; every dataset script and ``separate`` goes through them.
"""
from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf
import soxr

from . import SAMPLE_RATE

log = logging.getLogger(__name__)


class AudioError(ValueError):
    """An audio file that cannot be used; the message names the file and says why."""


def to_mono(x: np.ndarray) -> np.ndarray:
    """Average the channels: ``[T]`` stays, ``[T, C]`` (soundfile's layout) becomes ``[T]``."""
    x = np.asarray(x)
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise ValueError(f"expected [T] or [T, C] audio, got shape {x.shape}")
    return x.mean(axis=1)


def resample(x: np.ndarray, sr_in: int, sr_out: int = SAMPLE_RATE) -> np.ndarray:
    """High-quality resampling with soxr (``[T]`` or ``[T, C]``); a no-op when the rates match."""
    if sr_in == sr_out:
        return x
    return soxr.resample(x, sr_in, sr_out, quality="HQ").astype(np.float32, copy=False)


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """soundfile's header info, with an :class:`AudioError` naming the file when unreadable."""
    try:
        return sf.info(str(path))
    except Exception as e:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise AudioError(f"cannot read audio file {path}: {e}") from e


def load_audio(
    path: str | os.PathLike,
    sr: int | None = SAMPLE_RATE,
    mono: bool = True,
    start: int = 0,
    frames: int = -1,
) -> np.ndarray:
    """Read ``path`` as float32.

    Args:
        sr: target rate; a file at another rate is resampled with soxr (and a warning says so).
            ``None`` keeps the file's rate.
        mono: downmix multichannel files by averaging (logged).
        start, frames: read a window, in samples *of the file's own rate*.

    Returns:
        ``[T]`` when ``mono`` else ``[T, C]``.

    Raises:
        AudioError: the file is missing, unreadable or holds no samples.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"audio file not found: {path}")
    try:
        x, file_sr = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
    except Exception as e:
        raise AudioError(f"cannot read audio file {path}: {e}") from e
    if x.shape[0] == 0:
        raise AudioError(f"audio file {path} holds no samples")
    if mono:
        if x.shape[1] > 1:
            log.info("%s: downmixed %d channels to mono", path.name, x.shape[1])
        x = to_mono(x)
    if sr is not None and file_sr != sr:
        warnings.warn(f"{path.name}: resampled {file_sr} Hz -> {sr} Hz", stacklevel=2)
        x = resample(x, file_sr, sr)
    return np.ascontiguousarray(x, dtype=np.float32)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    A process killed mid-write leaves at most a ``.tmp`` file, never a half-written target, so
    interrupted builds can resume by checking which targets exist.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_audio(
    path: str | os.PathLike,
    x: np.ndarray,
    sr: int = SAMPLE_RATE,
    subtype: str = "FLOAT",
) -> float:
    """Write ``x`` (``[T]`` or ``[T, C]``) atomically; return the gain applied (1.0 unless clipping).

    Integer formats (``PCM_16``...) cannot hold |x| > 1: the original MTASS scripts wrapped such
    values around. Here the whole signal is scaled down to peak 0.999 instead, with a warning.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.size == 0:
        raise AudioError(f"refusing to write empty audio to {path}")
    if not np.all(np.isfinite(x)):
        raise AudioError(f"refusing to write non-finite samples to {path}")
    gain = 1.0
    peak = float(np.max(np.abs(x)))
    if subtype.startswith("PCM") and peak > 1.0:
        gain = 0.999 / peak
        warnings.warn(f"{Path(path).name}: peak {peak:.3f} > 1, scaled by {gain:.4f} to avoid clipping", stacklevel=2)
        x = x * gain
    channels = 1 if x.ndim == 1 else x.shape[1]
    with atomic_path(path) as tmp:
        with sf.SoundFile(str(tmp), "w", sr, channels, subtype=subtype, format=_format_for(path)) as f:
            # libsndfile stamps float WAVs with a PEAK chunk holding the write time; turning it off
            # makes identical audio give identical bytes (MTASS-tiny rebuilds bit-identically).
            sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
            f.write(x)
    return gain


_SFC_SET_ADD_PEAK_CHUNK = 0x1050  # libsndfile's command id (sndfile.h)


def _format_for(path: str | os.PathLike) -> str:
    ext = Path(path).suffix.lower().lstrip(".")
    return {"wav": "WAV", "flac": "FLAC", "ogg": "OGG"}.get(ext, "WAV")
