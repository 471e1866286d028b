"""From unpacked corpora to pools of 10-second source segments, split so no source leaks.

The MTASS recipe (MTASS README §2; ``dataset_generation/load_split_*.py`` of Complex-MTASSNet):

* **speech** — per speaker, the speaker's files are concatenated, then cut into 10 s segments;
* **music** — per song, the *left channel* (DSD100; ``Corpus.channel``), resampled 44.1 → 16 kHz,
  then cut;
* **noise** — the clips are concatenated as a stream and cut (a segment may span two clips).

What this module does better than the original scripts:

* the **split is by source** (speaker / song / recording) before cutting, so no speaker or song
  appears in two of train/dev/test (the original cut first and split by folder);
* resampling is soxr HQ (:func:`mtass_lite.audio.resample`) instead of ``audioop.ratecv``;
* near-silent segments (RMS below ``min_rms_db``) are dropped instead of producing a division by
  zero at mixing time;
* each *unit* (a speaker, a song, a run of noise clips) is written atomically with a ``_done``
  marker, so an interrupted run resumes where it stopped, and units run in parallel;
* ``segments.csv`` records where every segment came from (files and sample offsets).
"""
from __future__ import annotations

import csv
import dataclasses
import json
import logging
import os
import re
import warnings
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
from tqdm.auto import tqdm

from .. import SAMPLE_RATE, TRACKS
from ..audio import AudioError, audio_info, load_audio, resample, save_audio
from .corpora import SPLITS, Corpus, Recipe, SourceFile, get_corpus, get_recipe

log = logging.getLogger(__name__)

# How each track is concatenated before cutting (MTASS scripts: per speaker folder, per song
# folder, and one stream per noise folder).
GROUPING = {"speech": "source", "music": "source", "noise": "stream"}
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
SEGMENT_FIELDS = ("path", "track", "split", "corpus", "unit", "source_ids", "origin", "rms_db", "gain")


class PrepareError(ValueError):
    """Corpora that cannot be split or cut as asked; the message says why."""


# --------------------------------------------------------------------------------------------
# Splitting by source
# --------------------------------------------------------------------------------------------

def _stable_int(text: str) -> int:
    return zlib.crc32(text.encode())


def assign_splits(
    files: Sequence[SourceFile],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
    use_official: bool = True,
    salt: str = "",
) -> dict[str, str]:
    """Map each ``source_id`` to ``'train'``, ``'dev'`` or ``'test'``.

    Sources whose corpus ships its own split (AISHELL-1: 340 / 40 / 20 speakers) keep it when
    ``use_official``; the others are shuffled with a generator seeded by ``(seed, salt)`` and cut
    by ``fractions`` (of sources, not of hours), each split getting at least one source.

    Raises:
        PrepareError: fewer than three splittable sources, or one source given two official splits.
    """
    if len(fractions) != 3 or min(fractions) < 0 or sum(fractions) <= 0:
        raise PrepareError(f"fractions must be three non-negative numbers, got {fractions}")
    official: dict[str, str] = {}
    free: set[str] = set()
    for f in files:
        if use_official and f.split is not None:
            if official.setdefault(f.source_id, f.split) != f.split:
                raise PrepareError(f"source {f.source_id} is in both {official[f.source_id]} and "
                                   f"{f.split} in its corpus")
        else:
            free.add(f.source_id)
    free -= official.keys()
    out = dict(official)
    if free:
        ids = sorted(free)
        rng = np.random.default_rng([seed, _stable_int(salt)])
        ids = [ids[i] for i in rng.permutation(len(ids))]
        total = sum(fractions)
        n = len(ids)
        n_dev = round(n * fractions[1] / total)
        n_test = round(n * fractions[2] / total)
        if n >= 3:  # every split needs a source unless the official ones already cover it
            covered = set(official.values())
            n_dev = max(n_dev, 0 if "dev" in covered or fractions[1] == 0 else 1)
            n_test = max(n_test, 0 if "test" in covered or fractions[2] == 0 else 1)
        n_train = n - n_dev - n_test
        for i, sid in enumerate(ids):
            out[sid] = "train" if i < n_train else "dev" if i < n_train + n_dev else "test"
    missing = [s for s, frac in zip(SPLITS, fractions) if frac > 0 and s not in out.values()]
    if missing:
        raise PrepareError(f"only {len(set(out))} source(s) ({', '.join(sorted(out)[:5])}...) for "
                           f"{salt or 'this track'}: split(s) {missing} would be empty. Add data or "
                           f"set that split's fraction to 0.")
    return out


# --------------------------------------------------------------------------------------------
# Reading and cutting
# --------------------------------------------------------------------------------------------

def read_source(path: str | os.PathLike, channel: str = "mean", sr: int = SAMPLE_RATE) -> np.ndarray:
    """A corpus file as mono float32 ``[T]`` at ``sr``: the channel mean, or the left channel."""
    file_sr = audio_info(path).samplerate
    x = load_audio(path, sr=None, mono=False)  # [T, C]
    x = x[:, 0] if channel == "left" else x.mean(axis=1)
    return resample(np.ascontiguousarray(x, dtype=np.float32), file_sr, sr)


def cut_segments(chunks: Iterable[tuple[str, np.ndarray]], n: int
                 ) -> Iterator[tuple[np.ndarray, list[tuple[str, int, int]]]]:
    """Concatenate ``(tag, x[T])`` chunks and cut the stream into ``n``-sample segments.

    Yields ``(segment [n], origin)`` where origin lists the ``(tag, offset, length)`` pieces the
    segment was built from. The tail shorter than ``n`` is dropped, as in the MTASS scripts.
    """
    buf: list[tuple[str, int, np.ndarray]] = []
    have = 0
    for tag, x in chunks:
        if len(x):
            buf.append((tag, 0, x))
            have += len(x)
        while have >= n:
            pieces, need = [], n
            while need:
                t, off, y = buf[0]
                take = min(need, len(y))
                pieces.append((t, off, y[:take]))
                if take == len(y):
                    buf.pop(0)
                else:
                    buf[0] = (t, off + take, y[take:])
                need -= take
            have -= n
            yield np.concatenate([p[2] for p in pieces]), [(t, o, len(p)) for t, o, p in pieces]


def rms_db(x: np.ndarray) -> float:
    """Root-mean-square level in dB relative to full scale (-inf for digital silence)."""
    ms = float(np.mean(np.square(x, dtype=np.float64)))
    return 10 * np.log10(ms) if ms > 0 else float("-inf")


@dataclass(frozen=True)
class Unit:
    """What one worker concatenates and cuts: a speaker, a song, or a run of noise clips.

    ``source_ids[i]`` is the source of ``files[i]``.
    """

    track: str
    split: str
    corpus: str
    unit_id: str
    channel: str
    files: tuple[str, ...]
    source_ids: tuple[str, ...]


def _safe_name(text: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60]
    return f"{safe}-{_stable_int(text):08x}"


def plan_units(corpus: Corpus, files: Sequence[SourceFile], splits: dict[str, str],
               noise_files_per_unit: int = 64) -> list[Unit]:
    """Group a corpus's files into units for its track's :data:`GROUPING`."""
    by_split_source: dict[tuple[str, str], list[SourceFile]] = {}
    for f in files:
        by_split_source.setdefault((splits[f.source_id], f.source_id), []).append(f)
    units = []
    if GROUPING[corpus.track] == "source":
        for (split, sid), group in sorted(by_split_source.items()):
            units.append(Unit(corpus.track, split, corpus.name, _safe_name(sid), corpus.channel,
                              tuple(str(f.path) for f in group), tuple(f.source_id for f in group)))
    else:
        for split in SPLITS:
            stream = [f for (s, _), g in sorted(by_split_source.items()) if s == split for f in g]
            stream.sort(key=lambda f: str(f.path))
            for k in range(0, len(stream), noise_files_per_unit):
                run = stream[k:k + noise_files_per_unit]
                units.append(Unit(corpus.track, split, corpus.name,
                                  f"{corpus.name}-{split}-{k // noise_files_per_unit:05d}", corpus.channel,
                                  tuple(str(f.path) for f in run), tuple(f.source_id for f in run)))
    return units


def _unit_marker(out_dir: Path, unit: Unit, settings: tuple) -> Path:
    # The marker name hashes the unit's files and the cutting settings: a rerun with other files
    # or settings redoes the unit instead of trusting a stale record.
    key = _stable_int(json.dumps([unit.channel, unit.files, unit.source_ids, list(settings)]))
    return out_dir / "_done" / unit.track / unit.split / f"{unit.corpus}--{unit.unit_id}--{key:08x}.json"


def segment_unit(unit: Unit, out_dir: str | os.PathLike, segment_samples: int,
                 min_rms_db: float = -60.0, subtype: str = "PCM_16") -> list[dict]:
    """Cut one unit into ``<out_dir>/<track>/<split>/<unit>_<k>.wav``; return the segment records.

    Idempotent: a unit with a ``_done`` marker returns its recorded segments without work.
    Unreadable files are skipped with a warning (large corpora hold a few).
    """
    out_dir = Path(out_dir)
    marker = _unit_marker(out_dir, unit, (segment_samples, min_rms_db, subtype))
    if marker.exists():
        return json.loads(marker.read_text())
    seg_dir = out_dir / unit.track / unit.split
    path_to_source = dict(zip(unit.files, unit.source_ids))

    def chunks():
        for path in unit.files:
            try:
                yield path, read_source(path, unit.channel)
            except AudioError as e:
                log.warning("skipping unreadable file: %s", e)

    records = []
    for segment, origin in cut_segments(chunks(), segment_samples):
        level = rms_db(segment)
        if level < min_rms_db:
            continue
        path = seg_dir / f"{unit.corpus}--{unit.unit_id}_{len(records):04d}.wav"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a resampled peak above 1: scaled, recorded as gain
            gain = save_audio(path, segment, SAMPLE_RATE, subtype=subtype)
        sources = dict.fromkeys(path_to_source[t] for t, _, _ in origin)
        records.append({
            "path": str(path.relative_to(out_dir)), "track": unit.track, "split": unit.split,
            "corpus": unit.corpus, "unit": unit.unit_id, "source_ids": ";".join(sources),
            "origin": ";".join(f"{t}@{o}+{n}" for t, o, n in origin),
            "rms_db": round(level, 2), "gain": round(gain, 6),
        })
    marker.parent.mkdir(parents=True, exist_ok=True)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(records))
    os.replace(tmp, marker)
    return records


def prepare_segments(
    sources: Sequence[tuple[Corpus, Sequence[SourceFile]]],
    out_dir: str | os.PathLike,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
    segment_seconds: float = 10.0,
    workers: int = 1,
    progress: bool = True,
    min_rms_db: float = -60.0,
    subtype: str = "PCM_16",
    use_official: bool = True,
    noise_files_per_unit: int = 64,
) -> dict[str, dict[str, list[Path]]]:
    """Split every track's sources, cut them into segments, and return the pools.

    Args:
        sources: ``(corpus, corpus.files(...))`` pairs; several corpora may feed one track and
            are split together (sources pooled per track).
        out_dir: receives ``<track>/<split>/*.wav``, ``segments.csv`` (one row per segment) and
            ``splits.csv`` (which split each source went to).
        workers: processes cutting units in parallel (1 = in this process).

    Returns:
        ``pools[split][track]`` — sorted lists of segment paths, ready for mixing.

    Raises:
        PrepareError: a track with no corpus, a split left empty, or a source in two splits.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    segment_samples = int(round(segment_seconds * SAMPLE_RATE))
    by_track: dict[str, list[tuple[Corpus, Sequence[SourceFile]]]] = {t: [] for t in TRACKS}
    for corpus, files in sources:
        by_track[corpus.track].append((corpus, files))
    units: list[Unit] = []
    split_rows = []
    for track in TRACKS:
        if not by_track[track]:
            raise PrepareError(f"no corpus for the {track} track")
        pooled = [f for _, files in by_track[track] for f in files]
        splits = assign_splits(pooled, fractions, seed, use_official, salt=track)
        counts: dict[str, int] = {}
        for f in pooled:
            counts[f.source_id] = counts.get(f.source_id, 0) + 1
        owner = {f.source_id: c.name for c, files in by_track[track] for f in files}
        split_rows += [{"source_id": s, "track": track, "corpus": owner[s], "split": splits[s],
                        "n_files": counts[s]} for s in sorted(splits)]
        for corpus, files in by_track[track]:
            units += plan_units(corpus, files, splits, noise_files_per_unit)
    _write_csv(out_dir / "splits.csv", split_rows, ("source_id", "track", "corpus", "split", "n_files"))

    records: list[dict] = []
    args = (out_dir, segment_samples, min_rms_db, subtype)
    bar = tqdm(total=len(units), desc="cutting segments", unit="unit", disable=not progress)
    if workers <= 1:
        for u in units:
            records += segment_unit(u, *args)
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(segment_unit, u, *args) for u in units]
            for fut in as_completed(futures):
                records += fut.result()
                bar.update()
    bar.close()
    records.sort(key=lambda r: r["path"])
    _write_csv(out_dir / "segments.csv", records, SEGMENT_FIELDS)

    pools: dict[str, dict[str, list[Path]]] = {s: {t: [] for t in TRACKS} for s in SPLITS}
    seen: dict[str, str] = {}
    for r in records:
        pools[r["split"]][r["track"]].append(out_dir / r["path"])
        for sid in r["source_ids"].split(";"):
            if seen.setdefault(sid, r["split"]) != r["split"]:
                raise PrepareError(f"source {sid} reached both {seen[sid]} and {r['split']}")
    empty = [f"{s}/{t}" for s in SPLITS for t in TRACKS
             if not pools[s][t] and fractions[SPLITS.index(s)] > 0]
    if empty:
        raise PrepareError(f"no segments for {', '.join(empty)}: the sources there are shorter than "
                           f"{segment_seconds:g} s or silent (below {min_rms_db:g} dBFS)")
    return pools


def read_pools(out_dir: str | os.PathLike) -> dict[str, dict[str, list[Path]]]:
    """The pools written by :func:`prepare_segments`, read back from ``segments.csv``."""
    out_dir = Path(out_dir)
    if not (out_dir / "segments.csv").exists():
        raise PrepareError(f"no {out_dir / 'segments.csv'}: cut the segments first (prepare_mtass.py "
                           f"--stage segments, or the default --stage all)")
    pools: dict[str, dict[str, list[Path]]] = {s: {t: [] for t in TRACKS} for s in SPLITS}
    with open(out_dir / "segments.csv", newline="") as f:
        for r in csv.DictReader(f):
            pools[r["split"]][r["track"]].append(out_dir / r["path"])
    return pools


def _write_csv(path: Path, rows: Sequence[dict], fields: Sequence[str]) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fields))
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# The whole recipe: corpora -> segments -> mixed splits
# --------------------------------------------------------------------------------------------

DEFAULT_MIXTURES = {"train": 20_000, "dev": 1_000, "test": 1_000}  # MTASS: "normally" (readme.txt)
SEGMENTS_DIRNAME = "_sources"


def default_out_root(recipe: str) -> Path:
    """``$MTASS_DATA_ROOT/mtass`` for the paper's recipe (where ``MTASS_MODE=full`` looks),
    ``$MTASS_DATA_ROOT/mtass_<recipe>`` for the others."""
    from .. import data_root

    return data_root() / ("mtass" if recipe == "paper" else f"mtass_{recipe.replace('-', '_')}")


def resolve_corpora(recipe: str | Recipe, corpus_dirs: dict[str, str | os.PathLike] | None = None,
                    overrides: dict[str, Corpus] | None = None) -> list[tuple[Corpus, list[Path] | None]]:
    """The recipe's corpora, each with the folder(s) to read, or None where it must be fetched.

    ``corpus_dirs[name]`` points at a copy you already have (unpacked, any parent folder of the
    layout the adapter expects); optional corpora (DiDiSpeech) join only when given there.
    ``overrides[name]`` replaces a registry entry (another mirror, a test server).
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    corpus_dirs = dict(corpus_dirs or {})
    overrides = dict(overrides or {})
    unknown = set(corpus_dirs) - {n for t in TRACKS for n in recipe.corpora(t)}
    if unknown:
        raise PrepareError(f"--corpus-dir names {sorted(unknown)} are not in recipe {recipe.name!r} "
                           f"({', '.join(n for t in TRACKS for n in recipe.corpora(t))})")
    out = []
    for track in TRACKS:
        for name in recipe.corpora(track):
            corpus = overrides.get(name) or get_corpus(name)
            if name in corpus_dirs:
                out.append((corpus, [Path(corpus_dirs[name]).expanduser()]))
            elif name in recipe.optional:
                continue
            elif not corpus.downloadable:
                raise PrepareError(f"{corpus.title} is needed by recipe {recipe.name!r}. {corpus.manual}")
            else:
                out.append((corpus, None))
    return out


def build_recipe(
    recipe: str | Recipe,
    out_root: str | os.PathLike | None = None,
    *,
    cache: str | os.PathLike | None = None,
    corpus_dirs: dict[str, str | os.PathLike] | None = None,
    overrides: dict[str, Corpus] | None = None,
    n_mixtures: dict[str, int] | None = None,
    seed: int = 0,
    segment_seconds: float = 10.0,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    workers: int = 1,
    progress: bool = True,
    min_rms_db: float = -60.0,
    stages: Sequence[str] = ("download", "segments", "mix"),
    fetch_kwargs: dict | None = None,
) -> Path:
    """Build an MTASS-style dataset from real corpora; return its root.

    ``download`` fetches, verifies and unpacks the corpora (cached under ``$MTASS_CACHE``),
    ``segments`` splits them by source and cuts them into ``<root>/_sources/`` (+
    ``segments.csv``, ``splits.csv``), ``mix`` writes ``<root>/<split>/...`` with
    :func:`mtass_lite.data.mixing.build_split` (defaults 20,000 / 1,000 / 1,000 mixtures).
    Every stage resumes after an interruption; ``<root>/recipe.json`` records what was used.
    """
    from .corpora import fetch_corpus
    from .mixing import Source, build_split

    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    out_root = Path(out_root) if out_root is not None else default_out_root(recipe.name)
    seg_dir = out_root / SEGMENTS_DIRNAME
    n_mixtures = {**DEFAULT_MIXTURES, **(n_mixtures or {})}
    bad = set(stages) - {"download", "segments", "mix"}
    if bad:
        raise PrepareError(f"unknown stage(s) {sorted(bad)}")
    chosen = resolve_corpora(recipe, corpus_dirs, overrides)

    sources = []
    for corpus, roots in chosen:
        if roots is None:
            if "download" in stages:
                roots = fetch_corpus(corpus, cache, progress=progress, **(fetch_kwargs or {}))
            else:
                from .corpora import extracted_path
                roots = [extracted_path(a, cache) for a in corpus.archives]
        sources.append((corpus, roots))
    info = {
        "recipe": recipe.name, "description": recipe.description, "seed": seed,
        "segment_seconds": segment_seconds, "split_fractions": list(fractions),
        "n_mixtures": n_mixtures, "min_rms_db": min_rms_db,
        "corpora": [{"name": c.name, "title": c.title, "track": c.track, "licence": c.licence,
                     "homepage": c.homepage, "channel": c.channel, "roots": [str(r) for r in roots],
                     "archives": [dataclasses.asdict(a) for a in c.archives]} for c, roots in sources],
    }
    if "segments" in stages:
        listed = [(c, c.files(roots)) for c, roots in sources]
        pools = prepare_segments(listed, seg_dir, fractions, seed, segment_seconds, workers, progress,
                                 min_rms_db)
    elif "mix" in stages:
        pools = read_pools(seg_dir)
    else:
        return out_root
    info["segments"] = {s: {t: len(pools[s][t]) for t in TRACKS} for s in SPLITS}
    if "mix" in stages:
        for split in SPLITS:
            if n_mixtures.get(split, 0) > 0:
                # Source ids = segment file stems, so metadata.csv names the segments of segments.csv.
                pool = {t: [Source(id=p.stem, path=str(p)) for p in pools[split][t]] for t in TRACKS}
                build_split(out_root, split, pool, n_mixtures[split], seed,
                            segment_seconds=segment_seconds, workers=workers, progress=progress)
    out_root.mkdir(parents=True, exist_ok=True)
    tmp = out_root / "recipe.json.tmp"
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, out_root / "recipe.json")
    return out_root
