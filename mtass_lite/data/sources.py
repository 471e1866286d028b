"""Real recordings as a source kind: class-labelled folders become MTASS recipe pools, alone or
mixed with the synthetic (MTASS-tiny) pools.

A *source folder* holds recordings sorted by split and class::

    <root>/{train,dev,test}/{speech,music,noise}/*.{wav,flac,ogg}     (dev is optional)
    <root>/MANIFEST.tsv                                                 (optional; tab-separated)

(``../shared/data/realmini`` and ``../shared/data/realmore`` are two.) Each file belongs to a
**group** — the speaker, piece or recording it comes from — and no group may sit in two splits
(:func:`check_disjoint`), as the MTASS recipe splits by source before cutting
(:mod:`mtass_lite.data.prepare`). The group of a file is, first match wins:

* ``manifest:group`` — the MANIFEST's ``group`` column, as written;
* ``manifest:speaker_or_piece`` — realmore's ``speaker_or_piece`` column, as written;
* ``aishell1`` — an AISHELL-1 utterance id in a speech file name, ``BAC009S0252W0001`` ->
  ``aishell1_spkS0252``;
* ``librispeech`` — a LibriSpeech utterance id ``<speaker>-<chapter>-<utt>`` ending a speech file
  name, ``ls_testother_1688-142285-0001`` -> ``librispeech_spk1688``;
* ``vctk`` — a VCTK utterance ending a speech file name, ``p286_011`` -> ``vctk_p286``;
* ``cmu_arctic`` — a CMU ARCTIC speech file, ``cmu_arctic_us_aew_a0001`` -> ``arctic_aew``;
* ``file`` — anything else: the file is its own group, named by its stem.

The rule names match realmore's ``speaker_or_piece`` spelling, so a speaker found by a file-name
rule in one folder and by the manifest in another is the same group. Pass ``rules=`` for other
conventions (a :class:`GroupRule` is a regex and a template).

**Pools** (:func:`folder_pools`): one :class:`~mtass_lite.data.mixing.Source` per group, its id the
group, in group order. Speech groups are concatenated in memory (MTASS concatenates a speaker's
files before cutting; a 2-s AISHELL utterance alone would be redrawn as too short for a segment);
a music or noise group of one file is read from disk, several files are concatenated when drawn.
Bad files — unreadable, NaN/Inf, shorter than ``min_seconds`` (1 s), silent (mean power below the
recipe's ``min_power_db``, -60 dBFS) — are skipped and named in a :class:`PoolReport`; they never stop a build.

**Kinds** (:func:`mixed_pools`): ``{"real": pools, "synthetic": pools}`` and weights
``{"real": 0.7, "synthetic": 0.3}`` (or per track, ``{"real": {"speech": 0.8, "music": 0.4, ...}}``)
give each track a :class:`WeightedPool`: every stem of every mixture comes from kind *k* with
probability *w_k*, drawn independently per track from that track's seeded stream in
:func:`~mtass_lite.data.mixing.make_mixture` — so mixture *i* stays a pure function of
``(seed, split, i, pools)``. A track with a single kind of positive weight gets that kind's plain
list: the mixtures are then exactly those of the single-kind pools (today's behaviour).

**Builder** (:func:`build_real_set`, ``python -m mtass_lite mix``): writes an MTASS-layout dataset
(:class:`~mtass_lite.data.datasets.MTASSDataset` reads it) with
:func:`~mtass_lite.data.mixing.build_split` (atomic files, resumable), adds ``<track>_kind`` columns
to each ``metadata.csv``, writes ``<split>/sources.csv`` (every pool item with its files and
licences) and, last, ``mix_sources.json``: the kinds, folders, weights, seed, bad-file report.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import math
import os
import re
import sys
import warnings
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .. import SAMPLE_RATE, TRACKS, data_root
from ..audio import load_audio
from .mixing import (
    METADATA_COLUMNS, MIN_POWER_DB, Pools, Source, as_source, build_split, write_csv_atomic, write_json_atomic,
)

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
MANIFEST = "MANIFEST.tsv"
GROUP_COLUMNS = ("group", "speaker_or_piece")  # explicit group columns, first non-empty wins
MIN_SECONDS = 1.0
SYNTHETIC = "tiny"  # the source spec that means "render MTASS-tiny's synthetic pools"
MARKER = "mix_sources.json"
KIND_COLUMNS = tuple(f"{t}_kind" for t in TRACKS)
SOURCE_COLUMNS = ("kind", "track", "id", "seconds", "files", "license", "source_repo", "description")


class DisjointError(ValueError):
    """Two splits of a source set share a group (speaker / piece / recording)."""


# ---------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupRule:
    """A file-name rule: ``re.search(pattern, stem)`` on files of ``tracks`` -> ``match.expand(template)``."""

    name: str
    pattern: str
    template: str
    tracks: tuple[str, ...] = ("speech",)

    def apply(self, stem: str, track: str) -> str | None:
        if track not in self.tracks:
            return None
        m = re.search(self.pattern, stem)
        return m.expand(self.template) if m else None


GROUP_RULES: tuple[GroupRule, ...] = (
    GroupRule("aishell1", r"(?<![A-Za-z0-9])(?:BAC\d{3})?(S\d{4})W\d{4}", r"aishell1_spk\1"),
    GroupRule("librispeech", r"(?<![0-9])(\d+)-\d+-\d+$", r"librispeech_spk\1"),
    GroupRule("vctk", r"(?<![A-Za-z0-9])(p\d{3})_\d{3,5}$", r"vctk_\1"),
    GroupRule("cmu_arctic", r"arctic_(?:us_)?([a-z]{3,4})_[ab]\d{4}$", r"arctic_\1"),
)


def group_of(stem: str, track: str, manifest_row: Mapping[str, str] | None = None,
             rules: Sequence[GroupRule] = GROUP_RULES) -> tuple[str, str]:
    """``(group, rule name)`` of a file: a manifest group column, else the first matching rule, else the stem."""
    for col in GROUP_COLUMNS:
        value = ((manifest_row or {}).get(col) or "").strip()
        if value:
            return value, f"manifest:{col}"
    for rule in rules:
        group = rule.apply(stem, track)
        if group:
            return group, rule.name
    return stem, "file"


@dataclass(frozen=True, eq=False)
class FileEntry:
    """One recording of a source folder. ``path`` is ``root / folder_split / track / name`` as given
    (not resolved: the path is part of a pool's fingerprint); ``split`` is where it is used (a
    train file held out for dev has ``split == "dev"``)."""

    path: Path
    root: Path
    split: str
    track: str
    group: str
    rule: str
    meta: Mapping[str, str] = field(default_factory=dict)


def _as_roots(roots) -> list[Path]:
    if isinstance(roots, (str, os.PathLike)):
        return [Path(roots)]
    return [Path(r) for r in roots]


def read_manifest(root: str | os.PathLike) -> tuple[dict[str, dict[str, str]], list[str]]:
    """``({"train/speech/x.flac": row, ...}, notes)`` from ``<root>/MANIFEST.tsv`` (empty when absent)."""
    path = Path(root) / MANIFEST
    if not path.exists():
        return {}, []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t")
        if not reader.fieldnames or "file" not in reader.fieldnames:
            return {}, [f"{path}: no 'file' column, manifest ignored"]
        rows = list(reader)
    return {Path(r["file"]).as_posix(): r for r in rows if r.get("file")}, []


def scan_folders(roots, rules: Sequence[GroupRule] = GROUP_RULES) -> tuple[list[FileEntry], list[str]]:
    """Every audio file of ``roots`` (a folder or a list) with its split, track and group; and notes.

    Order: roots as given, then split, track, file name. Nothing is decoded.

    Raises:
        FileNotFoundError: a root is missing or holds no ``<split>/<track>`` folder.
    """
    entries, notes = [], []
    for root in _as_roots(roots):
        if not root.is_dir():
            raise FileNotFoundError(f"no source folder at {root}")
        manifest, m_notes = read_manifest(root)
        notes += m_notes
        found, seen = False, set()
        for split in SPLITS:
            for track in TRACKS:
                d = root / split / track
                if not d.is_dir():
                    continue
                found = True
                files = sorted(p for p in d.iterdir()
                               if p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith(".") and p.is_file())
                for p in files:
                    rel = f"{split}/{track}/{p.name}"
                    seen.add(rel)
                    row = manifest.get(rel, {})
                    if row and (row.get("class", track) != track or row.get("split", split) != split):
                        notes.append(f"{root / rel}: the manifest says class={row.get('class')} "
                                     f"split={row.get('split')}; the folder wins")
                    group, rule = group_of(p.stem, track, row, rules)
                    entries.append(FileEntry(p, root, split, track, group, rule, row))
        if not found:
            raise FileNotFoundError(f"{root} holds no <split>/<track> folders: expected "
                                    f"{root}/{{train,test}}/{{speech,music,noise}}/*.wav|flac|ogg")
        missing = sorted(set(manifest) - seen)
        if missing:
            notes.append(f"{root / MANIFEST}: {len(missing)} listed file(s) not on disk, e.g. {missing[0]}")
    return entries, notes


def holdout_dev(entries: Sequence[FileEntry], fraction: float, seed: int = 0) -> tuple[list[FileEntry], list[str]]:
    """Move a ``fraction`` of each track's train groups (at least one, never the last) to dev —
    only when no entry is in dev already. The choice is a pure function of the group names and
    ``seed`` (crc32 order), so adding files does not move other groups."""
    entries = list(entries)
    if fraction <= 0 or any(e.split == "dev" for e in entries):
        return entries, []
    chosen, notes = set(), []
    for track in TRACKS:
        groups = sorted({e.group for e in entries if e.split == "train" and e.track == track})
        if len(groups) < 2:
            continue
        n = min(len(groups) - 1, max(1, round(fraction * len(groups))))
        order = sorted(groups, key=lambda g: (zlib.crc32(f"{seed}|{track}|{g}".encode()), g))
        chosen |= {(track, g) for g in order[:n]}
        notes.append(f"dev: {n} of {len(groups)} train {track} groups held out ({', '.join(sorted(order[:n]))})")
    return [dataclasses.replace(e, split="dev") if (e.track, e.group) in chosen else e for e in entries], notes


def check_disjoint(source, rules: Sequence[GroupRule] = GROUP_RULES) -> dict[str, int]:
    """Refuse a source set whose splits share a group; return ``{split: number of groups}``.

    Args:
        source: a folder, a list of folders (checked together: a speaker in realmini's train and
            realmore's test is a leak too) or :class:`FileEntry` items.

    Raises:
        DisjointError: naming every shared group and (some of) its files in each split.
    """
    entries = list(source) if _are_entries(source) else scan_folders(source, rules)[0]
    where: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for e in entries:
        where[(e.track, e.group)][e.split].append(str(e.path))
    shared = {k: v for k, v in where.items() if len(v) > 1}
    if shared:
        lines = []
        for (track, group), by_split in sorted(shared.items())[:20]:
            parts = [f"{s}: " + ", ".join(Path(f).name for f in files[:3]) + (" ..." if len(files) > 3 else "")
                     for s, files in sorted(by_split.items(), key=lambda kv: SPLITS.index(kv[0]))]
            lines.append(f"  {track} group {group!r} — " + "; ".join(parts))
        more = f"\n  ... and {len(shared) - 20} more" if len(shared) > 20 else ""
        raise DisjointError(
            f"{len(shared)} group(s) (speaker / piece / recording) occur in more than one split — a model "
            f"would be tested on sources it trained on. Move their files into one split (or give them "
            f"distinct `group` values in MANIFEST.tsv if they are not the same source):\n"
            + "\n".join(lines) + more)
    counts: dict[str, set] = defaultdict(set)
    for e in entries:
        counts[e.split].add((e.track, e.group))
    return {s: len(counts[s]) for s in SPLITS if s in counts}


def _are_entries(source) -> bool:
    if isinstance(source, (str, os.PathLike)):
        return False
    source = list(source)
    return bool(source) and all(isinstance(e, FileEntry) for e in source)


# ---------------------------------------------------------------------------------------------
# Pools from folders
# ---------------------------------------------------------------------------------------------
@dataclass
class BadFile:
    path: str
    reason: str


@dataclass
class PoolReport:
    """What :func:`folder_pools` used and skipped for one split.

    ``groups[track][group]`` lists the files used, ``seconds[track][group]`` their duration,
    ``provenance[track][group]`` the manifest's ``license`` and ``source_repo`` values, ``bad`` the
    skipped files with the reason, ``notes`` anything else worth knowing.
    """

    split: str
    roots: list[str]
    groups: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    provenance: dict[str, dict[str, dict[str, list[str]]]] = field(default_factory=dict)
    bad: list[BadFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{track: {"groups", "files", "minutes"}}``."""
        return {t: {"groups": len(self.groups.get(t, {})),
                    "files": sum(len(v) for v in self.groups.get(t, {}).values()),
                    "minutes": round(sum(self.seconds.get(t, {}).values()) / 60, 2)} for t in TRACKS}

    def to_json(self) -> dict[str, Any]:
        return {"split": self.split, "roots": self.roots, "summary": self.summary(),
                "bad_files": [dataclasses.asdict(b) for b in self.bad], "notes": self.notes}

    def __str__(self) -> str:
        s = self.summary()
        lines = [f"{self.split}: " + "; ".join(f"{t} {s[t]['groups']} groups / {s[t]['files']} files / "
                                                f"{s[t]['minutes']:.1f} min" for t in TRACKS)]
        lines += [f"  skipped {b.path}: {b.reason}" for b in self.bad]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


class FolderPools(dict):
    """The ``{"speech": [...], "music": [...], "noise": [...]}`` pools, with the :class:`PoolReport` as ``.report``."""

    report: PoolReport


@dataclass(frozen=True)
class ConcatLoader:
    """Picklable ``() -> [T]``: the files of one group read at 16 kHz and concatenated."""

    paths: tuple[str, ...]

    def __call__(self) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "resampled" notes, once per draw otherwise
            return np.concatenate([load_audio(p) for p in self.paths])


def check_file(path: str | os.PathLike, min_seconds: float = MIN_SECONDS,
               min_power_db: float = MIN_POWER_DB) -> tuple[np.ndarray | None, str | None]:
    """``(audio [T] at 16 kHz, None)`` for a usable file, ``(None, reason)`` for a bad one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = load_audio(path)
    except Exception as e:  # any decoder failure is a bad file, not a crashed build
        return None, f"unreadable ({e.__cause__ or e})"
    if not np.all(np.isfinite(x)):
        return None, "non-finite samples (NaN or Inf)"
    if x.size < min_seconds * SAMPLE_RATE:
        return None, f"too short ({x.size / SAMPLE_RATE:.2f} s < {min_seconds:g} s)"
    power = float(np.mean(np.square(x, dtype=np.float64)))
    power_db = 10 * math.log10(power) if power > 0 else -math.inf
    if power_db < min_power_db:
        return None, f"silent (mean power {power_db:.1f} dBFS < {min_power_db:g} dBFS)"
    return x, None


def pools_from_entries(entries: Sequence[FileEntry], split: str, *, in_memory: Iterable[str] = ("speech",),
                       min_seconds: float = MIN_SECONDS, min_power_db: float = MIN_POWER_DB,
                       roots: Sequence[str] | None = None, notes: Sequence[str] = ()) -> FolderPools:
    """The pools of ``split`` from scanned entries (see :func:`folder_pools`); decodes each file once to check it."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    in_memory = set(in_memory)
    roots = [str(r) for r in (roots if roots is not None else dict.fromkeys(e.root for e in entries))]
    report = PoolReport(split, roots, notes=list(notes))
    pools = FolderPools({t: [] for t in TRACKS})
    for track in TRACKS:
        by_group: dict[str, list[tuple[FileEntry, np.ndarray]]] = defaultdict(list)
        for e in entries:
            if e.split != split or e.track != track:
                continue
            x, reason = check_file(e.path, min_seconds, min_power_db)
            if reason:
                report.bad.append(BadFile(str(e.path), reason))
                continue
            by_group[e.group].append((e, x if track in in_memory else x.size))  # keep only what is used
        report.groups[track], report.seconds[track], report.provenance[track] = {}, {}, {}
        for group in sorted(by_group):
            items = by_group[group]
            files = [str(e.path) for e, _ in items]
            sizes = [x.size if isinstance(x, np.ndarray) else int(x) for _, x in items]
            if track in in_memory:  # MTASS: a speaker's files concatenated before cutting
                src = Source(id=group, audio=np.concatenate([x for _, x in items]))
            elif len(files) == 1:
                src = Source(id=group, path=files[0])
            else:
                src = Source(id=group, loader=ConcatLoader(tuple(files)))
            pools[track].append(src)
            report.groups[track][group] = files
            report.seconds[track][group] = round(sum(sizes) / SAMPLE_RATE, 3)
            report.provenance[track][group] = {
                c: sorted({e.meta.get(c, "") for e, _ in items} - {""}) for c in ("license", "source_repo")}
    if report.bad:
        log.warning("%s: skipped %d bad file(s): %s", split, len(report.bad),
                    "; ".join(f"{Path(b.path).name} ({b.reason})" for b in report.bad))
    pools.report = report
    return pools


def folder_pools(roots, split: str, *, rules: Sequence[GroupRule] = GROUP_RULES,
                 in_memory: Iterable[str] = ("speech",), check: bool = True, dev_from_train: float = 0.0,
                 seed: int = 0, min_seconds: float = MIN_SECONDS, min_power_db: float = MIN_POWER_DB) -> FolderPools:
    """Source pools of ``split`` from one folder or several (merged: a group spans folders).

    Args:
        roots: ``<root>/{train,dev,test}/{speech,music,noise}/*.{wav,flac,ogg}`` (+ ``MANIFEST.tsv``).
        rules: file-name group rules (after a manifest ``group`` / ``speaker_or_piece`` column).
        in_memory: tracks whose groups are concatenated in memory (default speech, as MTASS does).
        check: run :func:`check_disjoint` over all splits first (raises :class:`DisjointError`).
        dev_from_train: when no folder has a dev split, hold out this fraction of train groups
            (:func:`holdout_dev`); 0 keeps the folders' splits as they are.

    Returns:
        ``{"speech": [Source...], "music": [...], "noise": [...]}`` — one item per group, id = group,
        sorted by group; ``.report`` is the :class:`PoolReport` (bad files skipped, with reasons).
        A track with no usable file gets an empty list (the builder says which).
    """
    entries, notes = scan_folders(roots, rules)
    entries, held = holdout_dev(entries, dev_from_train, seed)
    if check:
        check_disjoint(entries)
    return pools_from_entries(entries, split, in_memory=in_memory, min_seconds=min_seconds,
                              min_power_db=min_power_db, roots=[str(r) for r in _as_roots(roots)],
                              notes=notes + held)


# ---------------------------------------------------------------------------------------------
# Several kinds in one recipe
# ---------------------------------------------------------------------------------------------
class WeightedPool(Sequence):
    """A track's pool made of several kinds: :meth:`draw` picks kind *k* with probability ``weights[k]``,
    then an item of it uniformly. ``len`` / indexing see the kinds' items one after another.

    :func:`~mtass_lite.data.mixing.draw_segment` calls :meth:`draw` with the track's own seeded
    stream, so the kind of each stem is part of the pure function ``(seed, split, index, pools)``.
    With one kind no kind is drawn: the stream is used exactly as for the plain list.
    """

    def __init__(self, parts: Mapping[str, Sequence[Source]], weights: Mapping[str, float]):
        kinds = [k for k in parts if weights.get(k, 0) > 0 and len(parts[k])]
        if not kinds:
            raise ValueError("a WeightedPool needs a kind with items and a positive weight")
        total = float(sum(weights[k] for k in kinds))
        self.kinds = tuple(kinds)
        self.weights = {k: float(weights[k]) / total for k in kinds}
        self.parts = tuple([as_source(x, f"{k}{i}") for i, x in enumerate(parts[k])] for k in kinds)
        self._cum = np.cumsum([self.weights[k] for k in kinds])
        self._owner: dict[str, str] = {}
        for k, part in zip(kinds, self.parts):
            for s in part:
                if self._owner.setdefault(s.id, k) != k:
                    raise ValueError(f"source id {s.id!r} is in kinds {self._owner[s.id]!r} and {k!r}: ids must "
                                     f"say which kind a stem came from")

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def __getitem__(self, i):
        flat = [s for p in self.parts for s in p]
        return flat[i]

    def draw(self, rng: np.random.Generator) -> Source:
        k = 0 if len(self.parts) == 1 else min(int(np.searchsorted(self._cum, rng.random(), side="right")),
                                               len(self.parts) - 1)
        part = self.parts[k]
        return part[int(rng.integers(len(part)))]

    def kind_of(self, source_id: str) -> str:
        return self._owner[source_id]

    def fingerprint_lines(self) -> Iterable[str]:
        """For :func:`~mtass_lite.data.mixing.pool_fingerprint`: the weights, then every item with its kind."""
        yield "weights " + json.dumps(self.weights, sort_keys=True)
        for k, part in zip(self.kinds, self.parts):
            for s in part:
                yield f"{k}|{s.fingerprint()}"

    def __repr__(self) -> str:
        return "WeightedPool(" + ", ".join(f"{k}: {len(p)} items, w={self.weights[k]:.3g}"
                                           for k, p in zip(self.kinds, self.parts)) + ")"


def track_weights(weights: Mapping[str, Any] | None, kinds: Sequence[str]) -> dict[str, dict[str, float]]:
    """``{track: {kind: weight}}`` (not normalised) from ``{kind: w}`` or ``{kind: {track: w}}``.

    ``None`` weighs every kind equally; a kind missing from ``weights`` (or a track missing from a
    per-track mapping) has weight 0.
    """
    if weights is None:
        weights = {k: 1.0 for k in kinds}
    unknown = set(weights) - set(kinds)
    if unknown:
        raise ValueError(f"weights for unknown kinds {sorted(unknown)}; kinds are {list(kinds)}")
    out = {t: {} for t in TRACKS}
    for k in kinds:
        w = weights.get(k, 0.0)
        per = dict(w) if isinstance(w, Mapping) else {t: w for t in TRACKS}
        if set(per) - set(TRACKS):
            raise ValueError(f"weights of {k!r}: unknown tracks {sorted(set(per) - set(TRACKS))}")
        for t in TRACKS:
            v = float(per.get(t, 0.0))
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"weight of {k!r} for {t} must be finite and >= 0, got {v}")
            out[t][k] = v
    return out


def effective_weights(pools_by_kind: Mapping[str, Pools], weights: Mapping[str, Any] | None = None
                      ) -> dict[str, dict[str, float]]:
    """``{track: {kind: probability}}`` over the kinds that have items for the track (renormalised).

    Raises:
        ValueError: a track has no items in any kind of positive weight.
    """
    raw = track_weights(weights, list(pools_by_kind))
    out = {}
    for t in TRACKS:
        live = {k: w for k, w in raw[t].items() if w > 0 and len(pools_by_kind[k].get(t, ()))}
        if not live:
            have = ", ".join(f"{k}: {len(pools_by_kind[k].get(t, ()))} items, weight {raw[t][k]:g}" for k in raw[t])
            raise ValueError(f"no {t} sources with a positive weight ({have})")
        total = sum(live.values())
        out[t] = {k: w / total for k, w in live.items()}
        dropped = [k for k, w in raw[t].items() if w > 0 and k not in live]
        if dropped:
            log.info("%s: no items of kind(s) %s; their weight goes to %s", t, dropped, list(live))
    return out


def mixed_pools(pools_by_kind: Mapping[str, Pools],
                weights: Mapping[str, Any] | None = None) -> dict[str, Sequence[Source]]:
    """One pools mapping from several kinds: ``{"real": pools, "synthetic": pools}`` + weights.

    Each track gets a :class:`WeightedPool` (or, when one kind alone has items and weight, that
    kind's plain list — so ``{"real": 1, "synthetic": 0}`` mixes exactly as the real pools alone).
    No seed here: kinds are drawn inside :func:`~mtass_lite.data.mixing.make_mixture` from each
    mixture's seeded streams. Kinds without items for a track give their weight to the others.
    """
    eff = effective_weights(pools_by_kind, weights)
    out: dict[str, Sequence[Source]] = {}
    for t in TRACKS:
        if len(eff[t]) == 1:
            (k,) = eff[t]
            out[t] = [as_source(x, f"{t}{i}") for i, x in enumerate(pools_by_kind[k][t])]
        else:
            out[t] = WeightedPool({k: pools_by_kind[k][t] for k in eff[t]}, eff[t])
    return out


def synthetic_pools(split: str, n_mixtures: int, segment_seconds: float, seed: int = 0, workers: int = 2,
                    progress: bool = False) -> tuple[dict[str, list[Source]], list[dict[str, Any]]]:
    """MTASS-tiny's synthetic pools for ``split`` (:func:`~mtass_lite.data.tiny.plan_split` sized for
    ``n_mixtures``, then :func:`~mtass_lite.data.tiny.render_pools`) -> ``(pools, source rows)``.
    Costs about a minute per 400 mixtures' worth on two cores."""
    from .tiny import plan_split, render_pools

    plan = plan_split(split, seed, max(1, int(n_mixtures)), segment_seconds)
    return render_pools(plan, segment_seconds, workers, progress)


# ---------------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------------
def _kind_spec(kind: str, spec) -> tuple[str, Any]:
    """``("folders", [Path...])``, ``("synthetic", None)``, ``("callable", f)`` or ``("pools", {split: pools})``."""
    if isinstance(spec, str) and spec == SYNTHETIC:
        return "synthetic", None
    if isinstance(spec, (str, os.PathLike)):
        return "folders", [Path(spec).resolve()]
    if callable(spec):
        return "callable", spec
    if isinstance(spec, Mapping):
        return "pools", spec
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(r, (str, os.PathLike)) for r in spec):
        return "folders", [Path(r).resolve() for r in spec]
    raise TypeError(f"source kind {kind!r}: give folder root(s), {SYNTHETIC!r}, a callable "
                    f"(split, n_mixtures, segment_seconds, seed) -> pools, or {{split: pools}}")


def _split_counts(n_mixtures) -> dict[str, int]:
    if isinstance(n_mixtures, Mapping):
        counts = {s: int(n_mixtures.get(s, 0)) for s in SPLITS}
    else:
        counts = dict(zip(SPLITS, (int(n) for n in n_mixtures)))
        if len(counts) != 3:
            raise ValueError(f"n_mixtures: give (train, dev, test) or a {{split: n}} mapping, got {n_mixtures!r}")
    if min(counts.values()) < 0 or counts.get("train", 0) < 1:
        raise ValueError(f"need at least one train mixture and no negative counts: {counts}")
    return counts


def _is_complete(out_root: Path, counts: Mapping[str, int]) -> bool:
    for split, n in counts.items():
        if n == 0:
            continue
        d = out_root / split
        if not (d / "metadata.csv").exists():
            return False
        if any(sum(1 for _ in (d / t).glob("*.wav")) != n for t in ("mixture",) + TRACKS):
            return False
    return True


def build_real_set(
    out_root: str | os.PathLike,
    sources: Mapping[str, Any],
    weights: Mapping[str, Any] | None = None,
    n_mixtures: Sequence[int] | Mapping[str, int] = (1200, 100, 100),
    seed: int = 0,
    segment_seconds: float = 6.0,
    workers: int = 2,
    progress: bool = True,
    *,
    rules: Sequence[GroupRule] = GROUP_RULES,
    dev_from_train: float = 0.1,
    in_memory: Iterable[str] = ("speech",),
    min_seconds: float = MIN_SECONDS,
    min_power_db: float = MIN_POWER_DB,
) -> dict[str, Any]:
    """Mix an MTASS-layout dataset from real folders and/or synthetic pools; return its marker dict.

    Args:
        sources: ``{kind: spec}``, a spec being folder root(s) (``["../shared/data/realmini", ...]``,
            merged into one kind; checked for disjoint groups all together), ``"tiny"`` (MTASS-tiny's
            synthetic pools rendered for each split, :func:`synthetic_pools`), a callable
            ``(split, n_mixtures, segment_seconds, seed) -> pools`` or a ``{split: pools}`` mapping.
        weights: ``{kind: w}`` or ``{kind: {track: w}}`` (see :func:`mixed_pools`); default equal.
        n_mixtures: ``(train, dev, test)`` or ``{split: n}``; a split with 0 is not built.
        dev_from_train: folders without a dev split lend this fraction of their train groups to dev.

    The same arguments give the same dataset; an interrupted build resumes (finished mixtures are
    kept); different settings into the same root raise. ``<out_root>/mix_sources.json`` is written
    last: its presence says the build is complete.

    Raises:
        DisjointError: the folders' splits share a group.
        ValueError: a split has no sources for a track, or the root was built with other settings.
    """
    out_root = Path(out_root)
    counts = _split_counts(n_mixtures)
    specs = {k: _kind_spec(k, v) for k, v in sources.items() if v is not None}
    if not specs:
        raise ValueError("no sources given")
    requested = track_weights(weights, list(specs))
    specs = {k: v for k, v in specs.items() if any(requested[t][k] > 0 for t in TRACKS)}  # weight 0: not loaded
    if not specs:
        raise ValueError(f"every kind has weight 0: {weights}")
    from .tts import engine_key  # the synthetic pools' speech engine: a build mixed with another one is refused

    config = {
        "sources": {k: ({"type": "folders", "roots": [str(r) for r in v]} if kind == "folders" else
                        {"type": "synthetic", "generator": "mtass_tiny", **engine_key()} if kind == "synthetic" else
                        {"type": kind, "name": getattr(v, "__qualname__", type(v).__name__)})
                    for k, (kind, v) in specs.items()},
        "weights": {t: {k: requested[t][k] for k in specs} for t in TRACKS},
        "n_mixtures": counts, "seed": int(seed), "segment_seconds": float(segment_seconds),
        "rules": [dataclasses.asdict(r) | {"tracks": list(r.tracks)} for r in rules],
        "group_columns": list(GROUP_COLUMNS), "dev_from_train": float(dev_from_train),
        "in_memory": sorted(set(in_memory)), "min_seconds": float(min_seconds), "min_power_db": float(min_power_db),
    }
    marker_path = out_root / MARKER
    if marker_path.exists():
        old = json.loads(marker_path.read_text())
        if old.get("config") != config:
            raise ValueError(f"{out_root} was mixed with other settings ({marker_path}); delete it or "
                             f"build into another root")
        if _is_complete(out_root, counts):
            print(f"{out_root}: complete, nothing to do")
            return old
    marker_path.unlink(missing_ok=True)  # incomplete until rewritten at the end

    # Folders: scan once, hold out dev groups per kind, check every folder kind together.
    entries, notes = {}, {}
    for k, (kind, roots) in specs.items():
        if kind == "folders":
            found, n1 = scan_folders(roots, rules)
            entries[k], n2 = holdout_dev(found, dev_from_train, seed)
            notes[k] = n1 + n2
    groups = check_disjoint([e for es in entries.values() for e in es]) if entries else {}

    # Requested synthetic share of each split, to size its render (the plan grows with n).
    norm = {t: sum(requested[t][k] for k in specs) for t in TRACKS}
    share = {k: max(requested[t][k] / norm[t] for t in TRACKS if norm[t] > 0) for k in specs}

    splits_info = {}
    for split, n in counts.items():
        if n == 0:
            continue
        pools_by_kind: dict[str, Pools] = {}
        reports, source_rows = {}, []
        for k, (kind, spec) in specs.items():
            if kind == "folders":
                pools = pools_from_entries(entries[k], split, in_memory=in_memory, min_seconds=min_seconds,
                                           min_power_db=min_power_db, roots=[str(r) for r in spec], notes=notes[k])
                reports[k] = pools.report
                for t in TRACKS:
                    for s in pools[t]:
                        prov = pools.report.provenance[t][s.id]
                        source_rows.append({"kind": k, "track": t, "id": s.id,
                                            "seconds": pools.report.seconds[t][s.id],
                                            "files": ";".join(pools.report.groups[t][s.id]),
                                            "license": " | ".join(prov["license"]),
                                            "source_repo": ";".join(prov["source_repo"]), "description": ""})
            else:
                if kind == "synthetic":
                    pools, rows = synthetic_pools(split, math.ceil(n * share[k]), segment_seconds, seed,
                                                  workers, progress)
                    described = {r["id"]: r["description"] for r in rows}
                elif kind == "callable":
                    pools, described = spec(split, n, segment_seconds, seed), {}
                else:
                    pools, described = spec.get(split, {t: [] for t in TRACKS}), {}
                pools = {t: [as_source(x, f"{t}{i}") for i, x in enumerate(pools.get(t, ()))] for t in TRACKS}
                for t in TRACKS:
                    for s in pools[t]:
                        rec = s.id.rsplit("_s", 1)[0]
                        source_rows.append({"kind": k, "track": t, "id": s.id,
                                            "seconds": round(s.num_samples() / SAMPLE_RATE, 3),
                                            "files": s.path or "", "license": "", "source_repo": "",
                                            "description": described.get(s.id, described.get(rec, ""))})
            pools_by_kind[k] = pools
        try:
            eff = effective_weights(pools_by_kind, {k: {t: requested[t][k] for t in TRACKS} for k in specs})
        except ValueError as e:
            raise ValueError(f"split {split}: {e}") from None
        mixed = mixed_pools(pools_by_kind, {k: {t: requested[t][k] for t in TRACKS} for k in specs})
        split_dir = build_split(out_root, split, mixed, n, seed, segment_seconds, workers=workers, progress=progress)

        # Which kind each stem came from, as extra metadata columns (ids are unique across kinds).
        with open(split_dir / "metadata.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            for t in TRACKS:
                pool = mixed[t]
                single = next(iter(eff[t]))
                row[f"{t}_kind"] = pool.kind_of(row[f"{t}_id"]) if isinstance(pool, WeightedPool) else single
        write_csv_atomic(split_dir / "metadata.csv", rows, METADATA_COLUMNS + KIND_COLUMNS)
        write_csv_atomic(split_dir / "sources.csv", source_rows, SOURCE_COLUMNS)
        splits_info[split] = {
            "mixtures": n,
            "weights": eff,
            "stems_per_kind": {t: {k: sum(r[f"{t}_kind"] == k for r in rows) for k in eff[t]} for t in TRACKS},
            "pool_items": {k: {t: len(p[t]) for t in TRACKS} for k, p in pools_by_kind.items()},
            "folders": {k: r.to_json() for k, r in reports.items()},
        }
        del pools_by_kind, mixed
    bad = [b | {"split": s, "kind": k} for s, info in splits_info.items()
           for k, r in info["folders"].items() for b in r["bad_files"]]
    marker = {"config": config, "groups_per_split": groups, "splits": splits_info, "bad_files": bad}
    write_json_atomic(marker_path, marker)
    return marker


# ---------------------------------------------------------------------------------------------
# Command line: python -m mtass_lite mix
# ---------------------------------------------------------------------------------------------
def _parse_share(text: str) -> float | dict[str, float]:
    """``"0.3"`` or ``"speech=0.2,music=0.6,noise=0.3"`` -> a share in [0, 1] (or one per track)."""
    try:
        if "=" in text:
            out = {}
            for part in text.split(","):
                k, v = part.split("=", 1)
                out[k.strip()] = float(v)
            if set(out) != set(TRACKS):
                raise ValueError
            values = list(out.values())
        else:
            out = float(text)
            values = [out]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share like 0.3 or speech=0.2,music=0.6,noise=0.3, got {text!r}")
    if not all(0 <= v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"shares must lie in [0, 1], got {text!r}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mtass_lite mix``: mix a dataset from real folders and/or synthetic sources."""
    ap = argparse.ArgumentParser(
        prog="python -m mtass_lite mix",
        description="Mix an MTASS-layout dataset (train/dev/test) with the MTASS recipe from folders of real "
                    "recordings (<root>/{train,dev,test}/{speech,music,noise}/*.wav|flac|ogg + optional "
                    "MANIFEST.tsv), alone or with MTASS-tiny's synthetic sources. Splits must not share a "
                    "speaker / piece / recording; bad files are skipped and listed in <out>/mix_sources.json.",
        epilog="example: python -m mtass_lite mix --real ../shared/data/realmini ../shared/data/realmore "
               "--synthetic 0.3 --out data/mix_real --mixtures 1200 100 100")
    ap.add_argument("--real", nargs="+", default=[], metavar="DIR", help="source folders (merged into one kind)")
    ap.add_argument("--synthetic", type=_parse_share, default=None, metavar="SHARE",
                    help="share of stems from synthetic sources: 0.3, or per track speech=0.2,music=0.6,noise=0.3 "
                         "(the rest are real); 1 when no --real is given (default: 0 with --real)")
    ap.add_argument("--out", default=None, help="dataset root (default: <data root>/mix_real)")
    ap.add_argument("--mixtures", nargs=3, type=int, default=[1200, 100, 100], metavar=("TRAIN", "DEV", "TEST"),
                    help="mixtures per split (default: 1200 100 100)")
    ap.add_argument("--seed", type=int, default=0, help="mixing seed")
    ap.add_argument("--segment-seconds", type=float, default=6.0, help="mixture length")
    ap.add_argument("--dev-from-train", type=float, default=0.1,
                    help="folders without dev: share of train groups held out for dev")
    ap.add_argument("--workers", type=int, default=2, help="worker processes")
    ap.add_argument("--check", action="store_true",
                    help="only scan the folders (groups, disjoint splits, bad files) and print the report")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    a = ap.parse_args(argv)
    if not a.real and a.synthetic is None:
        ap.error("give --real DIR [DIR ...] and/or --synthetic SHARE")
    try:
        if a.check:
            if not a.real:
                ap.error("--check needs --real")
            found, notes = scan_folders(a.real)
            found, held = holdout_dev(found, a.dev_from_train, a.seed)
            print("groups per split:", check_disjoint(found))
            for split in SPLITS:
                print(pools_from_entries(found, split, notes=(notes + held) if split == "train" else ()).report)
            return 0
        syn = a.synthetic if a.real else (a.synthetic or 1.0)
        sources: dict[str, Any] = {}
        weights: dict[str, Any] = {}
        if a.real:
            sources["real"] = a.real
            weights["real"] = {t: 1 - syn[t] for t in TRACKS} if isinstance(syn, dict) else 1 - (syn or 0.0)
        if syn:
            sources["synthetic"] = SYNTHETIC
            weights["synthetic"] = syn
        out = Path(a.out) if a.out else data_root() / "mix_real"
        marker = build_real_set(out, sources, weights, a.mixtures, a.seed, a.segment_seconds, a.workers,
                                progress=not a.no_progress, dev_from_train=a.dev_from_train)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for split, info in marker["splits"].items():
        kinds = "; ".join(f"{t} " + ", ".join(f"{k} {n}" for k, n in info["stems_per_kind"][t].items())
                          for t in TRACKS)
        print(f"{split}: {info['mixtures']} mixtures ({kinds})")
    if marker["bad_files"]:
        print(f"skipped {len(marker['bad_files'])} bad file(s):")
        for b in marker["bad_files"]:
            print(f"  {b['path']}: {b['reason']}")
    print(f"mixed dataset ready at {out} (sources and weights in {out / MARKER})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
