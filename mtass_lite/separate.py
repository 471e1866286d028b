"""Separate any recording into speech, music and noise, in constant model memory.

A trained model sees fixed-length training segments; a three-minute song is run through it in
overlapping chunks (default 10 s, the MTASS segment length, with 1 s overlap) that are cross-faded with
linear ramps summing to one, so memory does not grow with the file and chunk seams are smooth.

- :func:`iter_separate` / :func:`separate_array`: ``mixture[T] -> estimates[3, T]`` (16 kHz mono).
- :func:`separate_file`: read any length / sample rate / channel count (downmixed and resampled to
  16 kHz mono, block by block, with a note), write ``<out>/<name>/{speech,music,noise}.wav``.
- :func:`resolve_model`: shipped weights (``mtass_lite/pretrained/<name>_<size>.pt``, see
  :mod:`mtass_lite.shipped`; by default the best shipped model on the real test set) or a checkpoint
  written by :mod:`mtass_lite.train`.

Command line: ``python -m mtass_lite separate song.wav`` (``--model conv_tasnet``, ``--list``).
"""
from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf
import soxr
import torch

from . import SAMPLE_RATE, TRACKS
from .audio import AudioError, atomic_path, audio_info, to_mono
from .shipped import default_model, pretrained_path

log = logging.getLogger(__name__)

CHUNK_SECONDS = 10.0
OVERLAP_SECONDS = 1.0
# Chunks shorter than this are zero-padded before the model sees them: STFT front ends reflect-pad
# by n_fft / 2 samples and need some length to work with. The padding is cropped off the output.
MIN_SAMPLES = 4096


class PretrainedNotFoundError(FileNotFoundError):
    """No shipped weights for a model; the message says which file is missing and how to make one."""


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a parameter-free model)."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def chunk_bounds(length: int, chunk: int | None, overlap: int) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` covering ``[0, length)`` with chunks of ``chunk`` samples.

    Consecutive chunks overlap by at least ``overlap`` samples; the last chunk is aligned to the end
    of the signal (so every chunk has the full length and none is mostly padding).
    """
    if length <= 0:
        raise ValueError("cannot separate an empty signal")
    if chunk is None or length <= chunk:
        return [(0, length)]
    if not 0 <= overlap < chunk:
        raise ValueError(f"overlap ({overlap} samples) must be in [0, chunk={chunk})")
    hop = chunk - overlap
    starts = list(range(0, length - chunk, hop))  # every start whose chunk ends before the signal does
    starts.append(length - chunk)
    return [(s, s + chunk) for s in starts]


def _fade(n: int, device=None) -> torch.Tensor:
    """Linear fade-in ``[n]`` with ``fade[i] + fade[n-1-i] == 1`` (a cross-fade sums to one)."""
    return (torch.arange(n, device=device, dtype=torch.float32) + 0.5) / n


def _run_chunk(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x[L] -> [3, L]`` through ``model`` (zero-padding chunks shorter than :data:`MIN_SAMPLES`)."""
    n = x.shape[-1]
    if n < MIN_SAMPLES:
        x = torch.nn.functional.pad(x, (0, MIN_SAMPLES - n))
    y = model(x.unsqueeze(0))
    if y.dim() != 3 or y.shape[:2] != (1, 3) or y.shape[-1] != x.shape[-1]:
        raise RuntimeError(f"model returned shape {tuple(y.shape)} for input [1, {x.shape[-1]}]; "
                           f"the model contract is [B, T] -> [B, 3, T]")
    return y[0, :, :n].float()


def iter_separate(
    model: torch.nn.Module,
    mixture,
    chunk_seconds: float | None = CHUNK_SECONDS,
    overlap: float = OVERLAP_SECONDS,
    sample_rate: int = SAMPLE_RATE,
) -> Iterator[np.ndarray]:
    """Yield the separated signal ``[3, n]`` block by block, in order, as soon as it is final.

    Chunk ``j`` is weighted by a window that fades in over its overlap with chunk ``j-1`` and out
    over its overlap with chunk ``j+1``; the two ramps of an overlap sum to one (linear cross-fade),
    so a model that is exactly chunk-invariant gives exactly the unchunked output.

    Args:
        mixture: ``[T]`` numpy array or tensor at ``sample_rate``.
        chunk_seconds: chunk length; ``None`` runs the whole signal at once.
        overlap: seconds shared by consecutive chunks.
    """
    x = torch.as_tensor(np.asarray(mixture, dtype=np.float32) if not isinstance(mixture, torch.Tensor) else mixture)
    if x.dim() != 1:
        raise ValueError(f"expected a mono mixture [T], got shape {tuple(x.shape)}")
    chunk = None if chunk_seconds is None else int(round(chunk_seconds * sample_rate))
    bounds = chunk_bounds(x.shape[0], chunk, int(round(overlap * sample_rate)))
    device = model_device(model)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            # pending / pending_w: weighted sum of chunk outputs and of their weights over
            # [pending_start, prev_end). Dividing by the weight sum keeps the cross-fade exact even
            # where the end-aligned last chunk overlaps more than two chunks.
            pending = pending_w = None
            pending_start = prev_end = 0
            for j, (s, e) in enumerate(bounds):
                y = _run_chunk(model, x[s:e].to(device, torch.float32)).cpu()
                w = torch.ones(e - s)
                if j > 0:  # fade in over the overlap with the previous chunk
                    ov = prev_end - s
                    w[:ov] *= _fade(ov)
                if j + 1 < len(bounds):  # fade out over the overlap with the next chunk
                    ov = e - bounds[j + 1][0]
                    w[e - s - ov:] *= 1 - _fade(ov)
                if pending is None:
                    pending, pending_w, pending_start = y * w, w, s
                else:  # add the part overlapping what is pending, append the rest
                    ov = prev_end - s
                    pending[:, s - pending_start:] += y[:, :ov] * w[:ov]
                    pending_w[s - pending_start:] += w[:ov]
                    pending = torch.cat([pending, y[:, ov:] * w[ov:]], dim=1)
                    pending_w = torch.cat([pending_w, w[ov:]])
                # Samples before the next chunk's start receive no more contributions: emit them.
                done = (bounds[j + 1][0] if j + 1 < len(bounds) else e) - pending_start
                yield (pending[:, :done] / pending_w[:done]).numpy()
                pending, pending_w = pending[:, done:].clone(), pending_w[done:].clone()
                pending_start += done
                prev_end = e
    finally:
        model.train(was_training)


def separate_array(
    model: torch.nn.Module,
    mixture,
    chunk_seconds: float | None = CHUNK_SECONDS,
    overlap: float = OVERLAP_SECONDS,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """``mixture[T] -> estimates[3, T]`` float32 (tracks in :data:`mtass_lite.TRACKS` order), chunked.

    See :func:`iter_separate` for the chunking; model memory depends on ``chunk_seconds`` only.
    """
    n = int(np.asarray(mixture).shape[-1]) if not isinstance(mixture, torch.Tensor) else mixture.shape[-1]
    out = np.empty((3, n), dtype=np.float32)
    pos = 0
    for block in iter_separate(model, mixture, chunk_seconds, overlap, sample_rate):
        out[:, pos:pos + block.shape[1]] = block
        pos += block.shape[1]
    assert pos == n, (pos, n)
    return out


def read_mono(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE,
              block_seconds: float = 30.0) -> tuple[np.ndarray, list[str]]:
    """Read ``path`` block by block, downmix to mono and resample to ``sample_rate`` (soxr, HQ).

    Streaming keeps memory at the 16 kHz mono signal plus one block, whatever the file's rate and
    channel count (a 1-hour 44.1 kHz stereo file is 1.3 GB as float32; its 16 kHz mono is 230 MB).
    soxr's stream gives the same samples as :func:`mtass_lite.audio.resample` on the whole file.

    Returns:
        ``(x[T] float32, notes)`` where notes say what was converted (for the user to read).

    Raises:
        AudioError: the file is missing, unreadable or holds no samples (the message names it).
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file not found: {path}")
    info = audio_info(path)
    if info.frames == 0:
        raise AudioError(f"audio file {path} holds no samples")
    notes = []
    if info.channels > 1:
        notes.append(f"{path.name}: downmixed {info.channels} channels to mono (channel average)")
    stream = None
    if info.samplerate != sample_rate:
        notes.append(f"{path.name}: resampled {info.samplerate} Hz -> {sample_rate} Hz (soxr HQ)")
        stream = soxr.ResampleStream(info.samplerate, sample_rate, 1, dtype="float32", quality="HQ")
    parts = []
    try:
        with sf.SoundFile(str(path)) as f:
            for block in f.blocks(blocksize=int(block_seconds * info.samplerate), dtype="float32", always_2d=True):
                m = np.ascontiguousarray(to_mono(block), dtype=np.float32)
                parts.append(stream.resample_chunk(m) if stream is not None else m)
    except AudioError:
        raise
    except Exception as e:  # a header that reads but a body that does not
        raise AudioError(f"cannot read audio file {path}: {e}") from e
    if stream is not None:
        parts.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    x = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    if x.size == 0:
        raise AudioError(f"audio file {path} holds no samples")
    if not np.all(np.isfinite(x)):
        raise AudioError(f"audio file {path} holds non-finite samples (NaN or Inf)")
    return x, notes


def separate_file(
    path: str | os.PathLike,
    model: torch.nn.Module,
    out_dir: str | os.PathLike = "separated",
    chunk_seconds: float | None = CHUNK_SECONDS,
    overlap: float = OVERLAP_SECONDS,
) -> dict[str, Path]:
    """Separate one audio file; write ``<out_dir>/<name>/{speech,music,noise}.wav`` (16 kHz mono).

    Any length, sample rate and channel count is accepted: the input is downmixed and resampled to
    16 kHz mono (a note is logged, see :func:`read_mono`). Stems are written as 32-bit float WAV, block
    by block as chunks become final, each file atomically (a ``.tmp`` renamed when complete): float
    keeps the stems summing to the model's output without clipping.

    Returns:
        ``{track: path}`` for the three tracks.

    Raises:
        AudioError: unreadable or empty input, naming the file.
    """
    path = Path(path)
    x, notes = read_mono(path)
    for note in notes:
        log.warning(note)
    stem_dir = Path(out_dir) / path.stem
    paths = {t: stem_dir / f"{t}.wav" for t in TRACKS}
    with contextlib.ExitStack() as stack:
        tmps = {t: stack.enter_context(atomic_path(p)) for t, p in paths.items()}
        writers = {t: stack.enter_context(sf.SoundFile(str(tmps[t]), "w", SAMPLE_RATE, 1, subtype="FLOAT",
                                                       format="WAV")) for t in TRACKS}
        for block in iter_separate(model, x, chunk_seconds, overlap):
            if not np.all(np.isfinite(block)):
                raise RuntimeError(f"the model produced non-finite samples while separating {path}")
            for k, t in enumerate(TRACKS):
                writers[t].write(block[k])
        for w in writers.values():  # close before atomic_path renames the temporary files
            w.close()
    log.debug("%s: wrote %s", path.name, ", ".join(str(p) for p in paths.values()))
    return paths


def resolve_model(name: str | None = None, checkpoint: str | os.PathLike | None = None,
                  device: str = "auto", size: str = "lite") -> torch.nn.Module:
    """A model ready to separate: from ``checkpoint`` if given, else the shipped weights of ``name``.

    With neither, the default shipped model (:func:`mtass_lite.shipped.default_model`: the model card's
    best on the real test set, else Complex-MTASSNet lite).

    Args:
        name: a shipped name (``mtass_lite/pretrained/<name>_<size>.pt``; ``separate --list`` shows them).
        size: the size part of the shipped file name (default ``lite``).

    Raises:
        PretrainedNotFoundError: ``name`` has no shipped weights (the message says how to train them).
    """
    from .checkpoint import load_checkpoint, resolve_device

    if checkpoint is None:
        if name is None:
            name, size = default_model()
        checkpoint = pretrained_path(name, size)
        if not Path(checkpoint).exists():
            preset = "fast" if size == "lite" else "full"
            raise PretrainedNotFoundError(
                f"no pretrained weights for {name!r} ({size}): {checkpoint} is missing "
                f"(`python -m mtass_lite separate --list` shows what ships). Train a model with\n"
                f"  python -m mtass_lite train --model {name} --preset {preset} --out runs/{name}\n"
                f"then separate with --checkpoint runs/{name}/best.pt"
            )
    model, _ = load_checkpoint(checkpoint, map_location="cpu")
    return model.to(resolve_device(device)).eval()
