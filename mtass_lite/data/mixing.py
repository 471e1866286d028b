"""The MTASS mixing recipe: speech + music + noise at random SNRs, written as a dataset split.

Recipe (MTASS dataset generation, see the MTASS README, "Mixing"): every source corpus is cut into
fixed-length segments (10 s in the paper); for each mixture one speech, one music and one noise
segment are picked at random, ``snr_music`` and ``snr_noise`` are drawn from U(-5, 5) dB, both
*relative to the unscaled speech over the whole clip*, and the other two stems are scaled by
:func:`mix_at_snr`'s gain ``g = sqrt(E_speech / (E_other * 10^(snr/10)))``. The written targets are
the scaled stems and the mixture is their exact sum.

What this implementation does better than the original scripts:

* **Reproducible**: mixture ``i`` is a pure function of ``(seed, split, i, pools)`` —
  :func:`make_mixture` seeds ``numpy.random.SeedSequence([seed, crc32(split), i])`` — so the
  output does not depend on the number of worker processes or on resuming.
* **No clipping, no wrap-around**: if the mixture (or any stem) would peak above ``peak_ceiling``
  (0.99), *all* stems are scaled together (SNRs unchanged) and ``clip_scale`` is logged.
* **No division by zero**: a silent or near-silent segment (mean power below ``min_power_db``)
  is redrawn and the redraw counted in the metadata.
* **Short sources**: a source shorter than the segment is zero-padded at the end (``*_pad``
  samples in the metadata) if it fills at least ``min_fill`` of it, otherwise redrawn.
* **Resumable**: every file is written atomically; an interrupted :func:`build_split` skips the
  ids whose four files exist, and ``metadata.csv`` is written last, atomically, from the
  deterministic specs.

Pools: a *source pool* is a list of :class:`Source` items per track. An item is an array in memory
(synthetic data), a callable returning one, or an audio file (wav/flac/... at any rate; resampled
to 16 kHz, averaged to mono or one ``channel`` picked), optionally a window ``start``/``length``
of it. An item longer than the segment is read at a seeded random offset. :func:`make_pools`
builds the ``{"speech": [...], "music": [...], "noise": [...]}`` mapping from paths, arrays or items.
A track's pool may also be an object with ``draw(rng) -> Source`` (e.g.
:class:`mtass_lite.data.sources.WeightedPool`, several source kinds drawn with weights); it is used
as it is, and :func:`pool_fingerprint` reads its ``fingerprint_lines()``.
"""
from __future__ import annotations

import csv
import io
import json
import math
import multiprocessing as mp
import os
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .. import SAMPLE_RATE, TRACKS
from ..audio import atomic_path, audio_info, load_audio, resample, save_audio

SEGMENT_SECONDS = 10.0  # MTASS cuts every corpus into 10-s segments
SNR_RANGE_DB = (-5.0, 5.0)  # music and noise SNRs w.r.t. speech, drawn uniformly
PEAK_CEILING = 0.99
MIN_POWER_DB = -60.0  # mean power (dBFS) below which a segment counts as silent
MIN_FILL = 0.5
MAX_REDRAWS = 100
METADATA_COLUMNS = (
    "id", "index", "seed", "split", "num_samples",
    "speech_id", "speech_offset", "speech_pad", "speech_redraws",
    "music_id", "music_offset", "music_pad", "music_redraws",
    "noise_id", "noise_offset", "noise_pad", "noise_redraws",
    "snr_music", "snr_noise", "gain_music", "gain_noise", "clip_scale", "redraws",
)


class SilentSourceError(ValueError):
    """A signal with (near) zero energy where a level reference is needed."""


# ---------------------------------------------------------------------------------------------
# Sources and pools
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Source:
    """One item of a source pool: a waveform in memory, a callable, or (a window of) an audio file.

    Exactly one of ``audio`` (float ``[T]`` at 16 kHz), ``loader`` (``() -> [T]``) or ``path`` is set.
    For files, ``start``/``length`` select a window in 16-kHz samples (e.g. one pre-cut 10-s
    segment of a long recording; ``length=None`` runs to the end) and ``channel`` picks one channel
    (the paper takes DSD100's left channel) instead of averaging them.
    """

    id: str
    path: str | None = None
    audio: np.ndarray | None = field(default=None, repr=False)
    loader: Callable[[], np.ndarray] | None = field(default=None, repr=False)
    start: int = 0
    length: int | None = None
    channel: int | None = None

    def __post_init__(self):
        if sum(x is not None for x in (self.path, self.audio, self.loader)) != 1:
            raise ValueError(f"Source {self.id!r}: give exactly one of path, audio, loader")

    def _file_rate_and_frames(self) -> tuple[int, int]:
        key = str(self.path)
        if key not in _INFO_CACHE:
            info = audio_info(self.path)
            _INFO_CACHE[key] = (info.samplerate, info.frames)
        return _INFO_CACHE[key]

    def num_samples(self) -> int:
        """Length at 16 kHz, in samples."""
        if self.audio is not None:
            total = len(self.audio)
        elif self.loader is not None:
            total = len(self._loaded())
        else:
            sr, frames = self._file_rate_and_frames()
            total = int(math.floor(frames * SAMPLE_RATE / sr))
        total = max(0, total - self.start)
        return total if self.length is None else min(total, self.length)

    def _loaded(self) -> np.ndarray:
        key = id(self)
        if key not in _LOADER_CACHE:
            _LOADER_CACHE.clear()  # keep one loaded item: pools may be large
            _LOADER_CACHE[key] = np.asarray(self.loader(), dtype=np.float32)
        return _LOADER_CACHE[key]

    def read(self, offset: int = 0, frames: int | None = None) -> np.ndarray:
        """Samples ``[offset, offset + frames)`` of the item at 16 kHz -> float32 ``[frames]`` (or shorter at the end)."""
        n = self.num_samples()
        frames = n - offset if frames is None else min(frames, n - offset)
        if frames <= 0 or offset < 0:
            return np.zeros(0, np.float32)
        begin = self.start + offset
        if self.path is None:
            x = self.audio if self.audio is not None else self._loaded()
            return np.asarray(x[begin:begin + frames], dtype=np.float32)
        sr, _ = self._file_rate_and_frames()
        if sr == SAMPLE_RATE:
            x = load_audio(self.path, sr=None, mono=self.channel is None, start=begin, frames=frames)
        else:  # read the window at the file's rate, then resample (deterministic)
            f0 = int(math.floor(begin * sr / SAMPLE_RATE))
            f1 = int(math.ceil((begin + frames) * sr / SAMPLE_RATE))
            x = load_audio(self.path, sr=None, mono=self.channel is None, start=f0, frames=f1 - f0)
        if self.channel is not None:
            x = x[:, self.channel]
        if sr != SAMPLE_RATE:
            x = resample(np.ascontiguousarray(x), sr, SAMPLE_RATE)
        x = np.asarray(x[:frames], dtype=np.float32)
        return np.pad(x, (0, frames - x.size)) if x.size < frames else x

    def fingerprint(self) -> str:
        """What identifies the item in a build config (not its samples)."""
        return f"{self.id}|{self.path or ''}|{self.start}|{self.length}|{self.channel}"


_INFO_CACHE: dict[str, tuple[int, int]] = {}
_LOADER_CACHE: dict[int, np.ndarray] = {}

Pools = Mapping[str, Sequence[Source]]


def as_source(item: Any, default_id: str | None = None) -> Source:
    """A :class:`Source` from a Source, a path (str / Path; its id is the path), an array ``[T]`` at
    16 kHz or a callable returning one (their id is ``default_id``)."""
    if isinstance(item, Source):
        return item
    if isinstance(item, (str, os.PathLike)):
        return Source(id=str(item), path=str(item))  # the path: unique, and says where it came from
    if isinstance(item, np.ndarray):
        if item.ndim != 1:
            raise ValueError(f"array sources must be mono [T], got shape {item.shape}")
        return Source(id=default_id or "array", audio=item)
    if callable(item):
        return Source(id=default_id or getattr(item, "__name__", "callable"), loader=item)
    raise TypeError(f"cannot make a Source from {type(item).__name__}")


def make_pools(speech: Iterable, music: Iterable, noise: Iterable) -> dict[str, list[Source]]:
    """``{"speech": [...], "music": [...], "noise": [...]}`` of :class:`Source` from paths / arrays / items.

    Arrays and callables get ids ``<track><k>``; a path's id is the path (give :class:`Source`
    items to choose ids, windows or channels).
    """
    pools = {}
    for track, items in zip(TRACKS, (speech, music, noise)):
        pool = [as_source(x, f"{track}{k}") for k, x in enumerate(items)]
        if not pool:
            raise ValueError(f"the {track} pool is empty")
        pools[track] = pool
    return pools


# ---------------------------------------------------------------------------------------------
# The recipe
# ---------------------------------------------------------------------------------------------
def energy(x: np.ndarray) -> float:
    """Sum of squares over the whole clip, in float64."""
    return float(np.sum(np.square(x, dtype=np.float64)))


def mix_at_snr(reference: np.ndarray, other: np.ndarray, snr_db: float) -> tuple[np.ndarray, float]:
    """Scale ``other`` so that ``10 log10(E_reference / E_scaled) == snr_db`` over the whole clip.

    MTASS: ``g = sqrt(E_speech / (E_other * 10^(snr/10)))`` with the *unscaled* speech as reference.

    Returns:
        ``(g * other`` as float32 ``[T]``, ``g)``.

    Raises:
        SilentSourceError: either signal has zero energy (the original scripts divided by zero here).
    """
    e_ref, e_other = energy(reference), energy(other)
    if not (e_ref > 0 and e_other > 0) or not (math.isfinite(e_ref) and math.isfinite(e_other)):
        raise SilentSourceError(f"cannot set an SNR with energies reference={e_ref:g}, other={e_other:g}")
    gain = math.sqrt(e_ref / (e_other * 10 ** (snr_db / 10)))
    return (np.asarray(other, dtype=np.float64) * gain).astype(np.float32), gain


def peak_guard(stems: np.ndarray, ceiling: float = PEAK_CEILING) -> tuple[np.ndarray, np.ndarray, float]:
    """The recipe's clip guard: ``stems [3, T]`` -> ``(mixture [T], targets [3, T], clip_scale)``, float32.

    If the mixture or any stem peaks above ``ceiling``, everything is scaled together (SNRs unchanged)
    rather than letting a writer wrap or clip; the mixture is the exact float32 sum of the targets.
    """
    stems = np.asarray(stems, dtype=np.float64)
    peak = max(float(np.abs(stems.sum(0)).max()), float(np.abs(stems).max()))
    clip_scale = ceiling / peak if peak > ceiling else 1.0
    targets = (stems * clip_scale).astype(np.float32)
    return targets[0] + targets[1] + targets[2], targets, clip_scale


@dataclass(frozen=True)
class MixConfig:
    """Settings of the recipe (defaults = MTASS, plus the guards described in the module docstring)."""

    segment_seconds: float = SEGMENT_SECONDS
    snr_range_db: tuple[float, float] = SNR_RANGE_DB
    peak_ceiling: float = PEAK_CEILING
    min_power_db: float = MIN_POWER_DB
    min_fill: float = MIN_FILL
    max_redraws: int = MAX_REDRAWS
    sample_rate: int = SAMPLE_RATE

    @property
    def segment_samples(self) -> int:
        return int(round(self.segment_seconds * self.sample_rate))

    def to_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass
class Mixture:
    """One mixed example: ``mixture [T]``, ``targets [3, T]`` (TRACKS order, float32) and its metadata row."""

    mixture: np.ndarray
    targets: np.ndarray
    row: dict[str, Any]


def draw_segment(rng: np.random.Generator, pool: Sequence[Source], cfg: MixConfig,
                 track: str = "source") -> tuple[np.ndarray, dict[str, Any]]:
    """Pick a segment ``[T]`` from ``pool``: a random item, a random offset if it is longer than T.

    Redraws (counted) a segment that is silent (mean power < ``min_power_db``) or an item shorter
    than ``min_fill * T``; pads a shorter one with zeros at the end.
    """
    T = cfg.segment_samples
    min_power = 10 ** (cfg.min_power_db / 10)
    for redraws in range(cfg.max_redraws + 1):
        # a pool with its own draw (several source kinds, weighted) picks the item itself
        item = pool.draw(rng) if hasattr(pool, "draw") else pool[int(rng.integers(len(pool)))]
        n = item.num_samples()
        offset = int(rng.integers(0, n - T + 1)) if n > T else 0
        if n < cfg.min_fill * T:
            continue
        x = item.read(offset, T)
        pad = T - x.size
        if pad:
            x = np.pad(x, (0, pad))
        if not np.all(np.isfinite(x)) or energy(x) / T < min_power:
            continue
        return x, {"id": item.id, "offset": offset, "pad": pad, "redraws": redraws}
    raise RuntimeError(
        f"no usable {track} segment after {cfg.max_redraws + 1} draws from a pool of {len(pool)} items: "
        f"they are silent (below {cfg.min_power_db} dBFS) or shorter than {cfg.min_fill:.0%} of the "
        f"{cfg.segment_seconds} s segment"
    )


def split_key(split: str) -> int:
    """A stable integer for a split name (mixes the split into each mixture's seed)."""
    return zlib.crc32(split.encode("utf-8"))


def make_mixture(index: int, pools: Pools, seed: int, split: str = "train",
                 cfg: MixConfig | None = None, mixture_id: str | None = None) -> Mixture:
    """Mixture ``index`` of a split: a pure function of ``(seed, split, index, pools, cfg)``.

    Independent random streams (``SeedSequence([seed, crc32(split), index]).spawn(4)``) pick the
    speech, music and noise segments and the two SNRs, so a redraw in one track does not change
    the others.
    """
    cfg = cfg or MixConfig()
    streams = [np.random.default_rng(s) for s in
               np.random.SeedSequence([int(seed), split_key(split), int(index)]).spawn(4)]
    snr_music, snr_noise = (float(v) for v in streams[3].uniform(*cfg.snr_range_db, size=2))
    segs, info = {}, {}
    for track, rng in zip(TRACKS, streams):
        segs[track], info[track] = draw_segment(rng, pools[track], cfg, track)
    speech = segs["speech"].astype(np.float64)
    music, gain_music = mix_at_snr(speech, segs["music"], snr_music)
    noise, gain_noise = mix_at_snr(speech, segs["noise"], snr_noise)
    stems = np.stack([speech, music.astype(np.float64), noise.astype(np.float64)])
    mixture, targets, clip_scale = peak_guard(stems, cfg.peak_ceiling)
    row = {
        "id": mixture_id or f"{index:06d}", "index": index, "seed": seed, "split": split,
        "num_samples": cfg.segment_samples,
    }
    for track in TRACKS:
        for k in ("id", "offset", "pad", "redraws"):
            row[f"{track}_{k}"] = info[track][k]
    row.update(snr_music=round(snr_music, 6), snr_noise=round(snr_noise, 6),
               gain_music=float(f"{gain_music:.8g}"), gain_noise=float(f"{gain_noise:.8g}"),
               clip_scale=float(f"{clip_scale:.8g}"),
               redraws=sum(info[t]["redraws"] for t in TRACKS))
    return Mixture(mixture, targets, row)


# ---------------------------------------------------------------------------------------------
# Writing a split
# ---------------------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(pools: Pools, seed: int, split: str, cfg: MixConfig, split_dir: str, id_format: str) -> None:
    _WORKER.update(pools=pools, seed=seed, split=split, cfg=cfg, split_dir=Path(split_dir), id_format=id_format)


def _mix_and_write(index: int) -> dict[str, Any]:
    w = _WORKER
    mixture_id = w["id_format"].format(index=index)
    paths = {t: w["split_dir"] / t / f"{mixture_id}.wav" for t in ("mixture",) + TRACKS}
    mix = make_mixture(index, w["pools"], w["seed"], w["split"], w["cfg"], mixture_id)
    if not all(p.exists() for p in paths.values()):  # resume: complete ids are skipped
        for track, x in zip(("mixture",) + TRACKS, (mix.mixture, *mix.targets)):
            save_audio(paths[track], x, w["cfg"].sample_rate, subtype="FLOAT")
    return mix.row


def use_progress_bar(progress: bool) -> bool:
    """Show tqdm bars only when asked and stderr is a terminal (no bar noise in notebooks, logs, CI)."""
    return bool(progress) and sys.stderr.isatty()


def process_context():
    """Worker processes: forked on Linux (children share the parent's pools and libraries without
    copying), the platform's default (spawn) elsewhere, where forking a process that loaded system
    frameworks is unsafe. Outputs do not depend on it."""
    return mp.get_context("fork" if sys.platform.startswith("linux") else None)


def pool_fingerprint(pools: Pools) -> str:
    """A short hash of the pools' item ids, paths and windows (not their samples)."""
    h = zlib.crc32(b"")
    for track in TRACKS:
        pool = pools[track]
        lines = pool.fingerprint_lines() if hasattr(pool, "fingerprint_lines") else (i.fingerprint() for i in pool)
        for line in lines:
            h = zlib.crc32(f"{track}|{line}\n".encode(), h)
    return f"{h:08x}"


def write_csv_atomic(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write ``rows`` as CSV with a header, atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")


def write_json_atomic(path: Path, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def build_split(
    out_root: str | os.PathLike,
    split: str,
    pools: Pools,
    n_mixtures: int,
    seed: int,
    segment_seconds: float = SEGMENT_SECONDS,
    workers: int = 2,
    progress: bool = True,
    *,
    snr_range_db: tuple[float, float] = SNR_RANGE_DB,
    peak_ceiling: float = PEAK_CEILING,
    min_power_db: float = MIN_POWER_DB,
    min_fill: float = MIN_FILL,
    max_redraws: int = MAX_REDRAWS,
    id_format: str = "{index:06d}",
) -> Path:
    """Mix ``n_mixtures`` examples and write ``<out_root>/<split>/{mixture,speech,music,noise}/<id>.wav``.

    Files are float32 WAV at 16 kHz; ``metadata.csv`` (columns :data:`METADATA_COLUMNS`) is written
    last. ``build_config.json`` records the settings: resuming into a split built with other
    settings (seed, segment length, SNR range, pools...) raises instead of mixing two recipes.
    Changing only ``n_mixtures`` is allowed — mixture ``i`` does not depend on it — and ids beyond
    the new count are removed.

    Args:
        pools: ``{"speech": [Source...], "music": [...], "noise": [...]}`` (see :func:`make_pools`).
        seed: with ``split`` and the index, determines every random choice.
        workers: processes (0 or 1: mix in this process). The output does not depend on it.
        progress: show a tqdm bar (only when stderr is a terminal).

    Returns:
        ``<out_root>/<split>``.
    """
    cfg = MixConfig(segment_seconds, tuple(snr_range_db), peak_ceiling, min_power_db, min_fill, max_redraws)
    pools = {t: pools[t] if hasattr(pools[t], "draw") else [as_source(x, f"{t}{k}") for k, x in enumerate(pools[t])]
             for t in TRACKS}
    for t in TRACKS:
        if not pools[t]:
            raise ValueError(f"the {t} pool is empty")
    split_dir = Path(out_root) / split
    config = {"split": split, "seed": int(seed), "mix": cfg.to_json(), "id_format": id_format,
              "pools": {t: len(pools[t]) for t in TRACKS}, "pool_fingerprint": pool_fingerprint(pools)}
    config_path = split_dir / "build_config.json"
    if not config_path.exists() and any((split_dir / "mixture").glob("*.wav")):
        raise ValueError(f"{split_dir} holds mixtures that build_split did not write; use another root")
    if config_path.exists():
        old = json.loads(config_path.read_text())
        if old != config:
            raise ValueError(
                f"{split_dir} was built with different settings ({config_path}); delete the folder "
                f"or build into another root to use these ones"
            )
    for track in ("mixture",) + TRACKS:
        (split_dir / track).mkdir(parents=True, exist_ok=True)
        for tmp in (split_dir / track).glob(".*.tmp*"):  # leftovers of an interrupted atomic write
            tmp.unlink()
    write_json_atomic(config_path, config)

    from tqdm.auto import tqdm

    bar = tqdm(total=n_mixtures, desc=f"mix {split}", unit="mix", disable=not use_progress_bar(progress))
    init_args = (pools, int(seed), split, cfg, str(split_dir), id_format)
    rows: list[dict[str, Any]] = []
    if workers <= 1 or n_mixtures < 2:
        _init_worker(*init_args)
        for i in range(n_mixtures):
            rows.append(_mix_and_write(i))
            bar.update()
    else:
        chunk = max(1, min(16, n_mixtures // (4 * workers)))
        with process_context().Pool(workers, initializer=_init_worker, initargs=init_args) as pool:
            for row in pool.imap(_mix_and_write, range(n_mixtures), chunksize=chunk):
                rows.append(row)
                bar.update()
    bar.close()
    _WORKER.clear()

    keep = {row["id"] for row in rows}
    for track in ("mixture",) + TRACKS:
        for f in (split_dir / track).glob("*.wav"):
            if f.stem not in keep:
                f.unlink()
    write_csv_atomic(split_dir / "metadata.csv", rows, METADATA_COLUMNS)
    return split_dir
