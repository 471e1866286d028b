"""Small sets of real recordings anyone can fetch: realmini and realmore, file by file from GitHub.

Two folders of real speech / music / noise (16 kHz mono 16-bit FLAC, ``{train,test}/<track>/``)
were gathered from public GitHub repositories. Their ``MANIFEST.tsv`` — shipped here under
``mtass_lite/data/manifests/<set>/`` — records for every file the source repository, the full
commit, the path, the licence and the SHA-256 of the *original* file. That is enough to rebuild
either folder on any machine:

1. fetch each original from ``https://raw.githubusercontent.com/<repo>/<commit>/<path>``
   (:func:`raw_url`) with :func:`mtass_lite.data.download.fetch` — resumable, verified against the
   manifest's SHA-256, renamed into place only when it matches; a Git LFS pointer is recognised
   and the content is fetched from ``media.githubusercontent.com`` instead;
2. convert it (:func:`convert_original`) exactly as the shared folders were made: channels
   averaged, soxr HQ resampling to 16 kHz, leading / trailing samples with ``|x| < 1e-4`` trimmed
   (realmore only: realmini was not trimmed), peak-scaled to 0.99 only where it exceeded 0.99,
   written as PCM-16 FLAC at the manifest's ``file`` path, atomically;
3. write ``MANIFEST.tsv``, the set's README (and SOURCES), and an ``ATTRIBUTION.md`` built from
   the manifest (:func:`attribution_markdown`): per repository and commit, the licence and the
   files — what CC BY asks a copy to carry — then a ``.complete`` marker.

``--mirror DIR`` reads the originals from a local folder laid out ``DIR/<repo>/<commit>/<path>``
instead of the network (CI, offline machines). The download cache
(``$MTASS_CACHE/originals``) has that very layout, so a finished download *is* a mirror.

Command line: ``python -m mtass_lite fetch-real realmini --out data/realmini``.
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence
from urllib.parse import quote

import numpy as np
import soundfile as sf
from tqdm.auto import tqdm

from .. import SAMPLE_RATE, TRACKS
from ..audio import AudioError, atomic_path, resample, to_mono
from .download import COMPLETE_MARKER, ChecksumError, DownloadError, Expected, cache_dir, fetch, file_digests

log = logging.getLogger(__name__)

MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"
RAW_BASE_URL = "https://raw.githubusercontent.com"
LFS_BASE_URL = "https://media.githubusercontent.com/media"
MANIFEST_COLUMNS = ("file", "class", "split", "seconds", "source_repo", "source_path", "license",
                    "source_commit", "source_sha256")
SPLITS = ("train", "dev", "test")
TRIM_THRESHOLD = 1e-4   # realmore/SOURCES.md: "leading/trailing digital silence (|x|<1e-4) trimmed"
PEAK = 0.99             # "peak-scaled to 0.99 only where the resampled signal exceeded 0.99"
SECONDS_TOLERANCE = 0.02  # the manifest's seconds are rounded to 10 ms
_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file, line and column."""


@dataclass(frozen=True)
class ManifestRow:
    """One file of a set: where it goes, and the original it is made from.

    Attributes:
        file: output path relative to the set's root, ``<split>/<track>/<name>.flac``.
        track: ``'speech'``, ``'music'`` or ``'noise'`` (the manifest's ``class``).
        group: speaker / recording / song (realmore's ``speaker_or_piece``; '' where not given).
    """

    file: str
    track: str
    split: str
    seconds: float
    repo: str
    path: str
    licence: str
    commit: str
    sha256: str
    group: str = ""


@dataclass(frozen=True)
class RealSet:
    """A set rebuilt from a manifest. ``trim_silence`` says how its files were converted."""

    name: str
    title: str
    trim_silence: bool

    @property
    def folder(self) -> Path:
        return MANIFEST_DIR / self.name

    @property
    def manifest(self) -> Path:
        return self.folder / "MANIFEST.tsv"

    def rows(self) -> list[ManifestRow]:
        return read_manifest(self.manifest)


REAL_SETS: dict[str, RealSet] = {s.name: s for s in [
    # realmini was not trimmed: 227 of its originals are rebuilt byte for byte from its FLACs
    # (tests/test_real_corpora.py), leading and trailing near-silence included.
    RealSet("realmini", "real speech (incl. Mandarin AISHELL-1), songs with vocals and noise",
            trim_silence=False),
    RealSet("realmore", "read English speech from 250 LibriSpeech speakers, a little music "
                        "and noise", trim_silence=True),
]}


def get_real_set(name: str) -> RealSet:
    try:
        return REAL_SETS[name]
    except KeyError:
        raise KeyError(f"unknown real set {name!r}; known: {', '.join(REAL_SETS)}") from None


# --------------------------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------------------------

_HEX40 = re.compile(r"[0-9a-f]{40}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def _safe_relative(path: str) -> bool:
    p = PurePosixPath(path)
    return bool(path) and not p.is_absolute() and ".." not in p.parts and "\\" not in path


def read_manifest(path: str | os.PathLike) -> list[ManifestRow]:
    """Parse and check a ``MANIFEST.tsv`` (tab-separated, header row; extra columns are allowed).

    Raises:
        ManifestError: a column is missing, or a row has a bad split / class / commit / SHA-256 /
            path (named with its line number).
    """
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t")  # csv quoting: a licence may hold quotes
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ManifestError(f"{path}: missing column(s) {', '.join(missing)}")
        rows, seen = [], set()
        for line, r in enumerate(reader, start=2):
            def bad(what: str) -> ManifestError:
                return ManifestError(f"{path}:{line}: {what} ({r.get('file')!r})")

            file, track, split = r["file"], r["class"], r["split"]
            if track not in TRACKS:
                raise bad(f"class {track!r} is not one of {TRACKS}")
            if split not in SPLITS:
                raise bad(f"split {split!r} is not one of {SPLITS}")
            if not _safe_relative(file) or not file.startswith(f"{split}/{track}/") or not file.endswith(".flac"):
                raise bad(f"file must be {split}/{track}/<name>.flac")
            if file in seen:
                raise bad("file listed twice")
            seen.add(file)
            if not _REPO.fullmatch(r["source_repo"]):
                raise bad(f"source_repo {r['source_repo']!r} is not owner/name")
            if not _HEX40.fullmatch(r["source_commit"].lower()):
                raise bad(f"source_commit {r['source_commit']!r} is not a full 40-hex commit")
            if not _HEX64.fullmatch(r["source_sha256"].lower()):
                raise bad(f"source_sha256 {r['source_sha256']!r} is not 64 hex digits")
            if not _safe_relative(r["source_path"]):
                raise bad(f"source_path {r['source_path']!r} is not a relative path")
            try:
                seconds = float(r["seconds"])
            except ValueError:
                raise bad(f"seconds {r['seconds']!r} is not a number") from None
            if not r["license"].strip():
                raise bad("no licence")
            rows.append(ManifestRow(file=file, track=track, split=split, seconds=seconds,
                                    repo=r["source_repo"], path=r["source_path"], licence=r["license"].strip(),
                                    commit=r["source_commit"].lower(), sha256=r["source_sha256"].lower(),
                                    group=(r.get("speaker_or_piece") or "").strip()))
    if not rows:
        raise ManifestError(f"{path}: no rows")
    return rows


def write_manifest(rows: Sequence[ManifestRow], path: str | os.PathLike) -> Path:
    """Write ``rows`` as a ``MANIFEST.tsv`` (the standard columns, plus ``speaker_or_piece`` when
    any row has a group). Tests use it to make tiny manifests."""
    cols = list(MANIFEST_COLUMNS)
    with_group = any(r.group for r in rows)
    if with_group:
        cols.insert(cols.index("source_commit"), "speaker_or_piece")
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            values = {"file": r.file, "class": r.track, "split": r.split, "seconds": f"{r.seconds:.2f}",
                      "source_repo": r.repo, "source_path": r.path, "license": r.licence,
                      "speaker_or_piece": r.group, "source_commit": r.commit, "source_sha256": r.sha256}
            w.writerow([values[c] for c in cols])
    return path


# --------------------------------------------------------------------------------------------
# Where originals come from
# --------------------------------------------------------------------------------------------

def raw_url(repo: str, commit: str, path: str, base_url: str = RAW_BASE_URL) -> str:
    """The raw-file address of ``path`` in GitHub repository ``repo`` at ``commit``.

    ``raw_url('librosa/librosa-data', 'ec42e60...', "audio/Let's Go (live).ogg")`` ->
    ``'https://raw.githubusercontent.com/librosa/librosa-data/ec42e60.../audio/Let%27s%20Go%20%28live%29.ogg'``.
    Every path segment is percent-encoded (``/`` kept); ``base_url`` points elsewhere (a mirror
    served over HTTP with the same ``<repo>/<commit>/<path>`` layout, or a test server).
    """
    return f"{base_url.rstrip('/')}/{quote(repo, safe='/')}/{quote(commit, safe='')}/{quote(path, safe='/')}"


def lfs_url(repo: str, commit: str, path: str, base_url: str = LFS_BASE_URL) -> str:
    """Where GitHub serves the content of a Git LFS file (raw.githubusercontent gives the pointer)."""
    return raw_url(repo, commit, path, base_url)


def mirror_path(mirror: str | os.PathLike, row: ManifestRow) -> Path:
    """``<mirror>/<repo>/<commit>/<path>``: the layout of ``--mirror`` and of the download cache."""
    return Path(mirror, *row.repo.split("/"), row.commit, *PurePosixPath(row.path).parts)


def originals_cache(cache: str | os.PathLike | None = None) -> Path:
    """Downloaded originals: ``<cache>/originals`` (a valid ``--mirror`` once filled)."""
    return Path(cache or cache_dir()) / "originals"


def _is_lfs_pointer(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return path.stat().st_size < 1024 and f.read(len(_LFS_POINTER)) == _LFS_POINTER
    except OSError:
        return False


def _describe(row: ManifestRow) -> str:
    return f"{row.file} (original {row.repo}@{row.commit[:10]}:{row.path})"


def fetch_original(row: ManifestRow, cache: str | os.PathLike | None = None, base_url: str = RAW_BASE_URL,
                   lfs_base_url: str = LFS_BASE_URL, **fetch_kwargs) -> Path:
    """Download one original into the cache, verified by the manifest's SHA-256; return its path.

    A file already in the cache and verified costs no request. If the raw address answers with a
    Git LFS pointer (a small text file, so the checksum fails), the content is fetched from
    ``lfs_base_url`` instead.

    Raises:
        ChecksumError: what arrived does not match the manifest (the message names the file; the
            bad copy is kept beside it as ``.corrupt``).
        DownloadError: every attempt failed (the partial ``.part`` is kept for a resume).
    """
    dest = mirror_path(originals_cache(cache), row)
    expected = Expected(sha256=row.sha256)
    fetch_kwargs.setdefault("progress", False)
    try:
        try:
            return fetch(raw_url(row.repo, row.commit, row.path, base_url), dest, expected, **fetch_kwargs)
        except ChecksumError:
            bad = dest.with_name(dest.name + ".corrupt")
            if not _is_lfs_pointer(bad):
                raise
            log.info("%s is stored with Git LFS; fetching its content from %s", row.path, lfs_base_url)
            bad.unlink()
            return fetch(lfs_url(row.repo, row.commit, row.path, lfs_base_url), dest, expected, **fetch_kwargs)
    except ChecksumError as e:
        raise ChecksumError(f"{_describe(row)}: {e}") from e
    except DownloadError as e:
        raise DownloadError(f"{_describe(row)}: {e}") from e


def mirrored_original(row: ManifestRow, mirror: str | os.PathLike) -> Path:
    """The original in a local mirror, checked against the manifest's SHA-256 (nothing is written)."""
    src = mirror_path(mirror, row)
    if not src.is_file():
        raise DownloadError(f"{_describe(row)}: not in the mirror (looked for {src})")
    got = file_digests(src, ("sha256",))["sha256"]
    if got != row.sha256:
        raise ChecksumError(f"{_describe(row)}: {src} has sha256 {got} != manifest {row.sha256} "
                            f"(the mirror holds a different version of this file)")
    return src


# --------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------

def convert_audio(x: np.ndarray, sr: int, trim_silence: bool) -> np.ndarray:
    """``[T]`` or ``[T, C]`` at ``sr`` -> ``[T']`` float at 16 kHz, as the shared folders were made.

    Channels averaged, soxr HQ resampling, (``trim_silence``) leading and trailing samples with
    ``|x| < 1e-4`` removed, then scaled to a 0.99 peak only if the peak exceeded 0.99.
    """
    y = to_mono(np.asarray(x, dtype=np.float64))
    y = np.asarray(resample(y, sr, SAMPLE_RATE), dtype=np.float64)
    if trim_silence:
        loud = np.flatnonzero(np.abs(y) >= TRIM_THRESHOLD)
        y = y[loud[0]: loud[-1] + 1] if loud.size else y[:0]
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > PEAK:
        y = y * (PEAK / peak)
    return y


def convert_original(src: str | os.PathLike, dest: str | os.PathLike, trim_silence: bool) -> float:
    """Convert one original (wav / flac / ogg / mp3: whatever libsndfile reads) to 16 kHz mono
    PCM-16 FLAC at ``dest``, atomically; return its duration in seconds.

    Raises:
        AudioError: the original cannot be decoded, or nothing is left after trimming.
    """
    src = Path(src)
    try:
        x, sr = sf.read(str(src), dtype="float64", always_2d=True)
    except Exception as e:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise AudioError(f"cannot decode {src}: {e}") from e
    y = convert_audio(x, sr, trim_silence)
    if y.size == 0:
        raise AudioError(f"{src}: no samples left after trimming silence")
    with atomic_path(dest) as tmp:
        sf.write(str(tmp), y, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return y.size / SAMPLE_RATE


# --------------------------------------------------------------------------------------------
# Licences and attribution
# --------------------------------------------------------------------------------------------

def attribution_markdown(rows: Sequence[ManifestRow], name: str, trim_silence: bool, title: str = "") -> str:
    """``ATTRIBUTION.md``: per source repository and commit, its licence(s) and files.

    CC BY asks a copy to credit the author, name the licence, link the source and say what was
    changed; the licence strings are the manifest's (they name the author where CC BY applies).
    """
    changes = ("channels averaged, resampled to 16 kHz (soxr HQ), "
               + ("leading/trailing digital silence (|x| < 1e-4) trimmed, " if trim_silence else "")
               + "peak-scaled to 0.99 where it exceeded 0.99, stored as 16-bit FLAC")
    by_repo: OrderedDict[tuple[str, str], list[ManifestRow]] = OrderedDict()
    for r in sorted(rows, key=lambda r: (r.repo.lower(), r.commit, r.path)):
        by_repo.setdefault((r.repo, r.commit), []).append(r)
    out = [f"# {name} — licences and attribution", ""] + ([f"{name}: {title}.", ""] if title else []) + [
           f"{len(rows)} files, each made from an original file in a public GitHub repository at the "
           f"commit shown (its SHA-256 is in MANIFEST.tsv). Changes made: {changes}. "
           "The licence of each file is listed below as its source states it; keep this file with any "
           "copy, and credit the authors named here when you publish results or audio made from them.", "",
           "| repository | commit | files | licence(s) |", "|---|---|---|---|"]
    for (repo, commit), rs in by_repo.items():
        licences = list(OrderedDict.fromkeys(r.licence for r in rs))
        out.append(f"| [{repo}](https://github.com/{repo}) | `{commit[:10]}` | {len(rs)} | "
                   + "; ".join(lic.replace("|", "/") for lic in licences) + " |")
    for (repo, commit), rs in by_repo.items():
        out += ["", f"## {repo}", "",
                f"Source: https://github.com/{repo}/tree/{commit} (commit `{commit}`)", ""]
        for lic in OrderedDict.fromkeys(r.licence for r in rs):
            files = [r for r in rs if r.licence == lic]
            out.append(f"Licence: {lic}")
            out.append("")
            out += [f"- `{r.path}` → `{r.file}`" for r in files]
            out.append("")
        while out[-1] == "":
            out.pop()
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Building a set
# --------------------------------------------------------------------------------------------

def _manifest_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _done(out: Path, row: ManifestRow) -> bool:
    """A converted file is renamed into place only when whole: existing and readable means done."""
    target = out / row.file
    if not target.is_file():
        return False
    try:
        info = sf.info(str(target))
    except Exception:
        return False
    return info.samplerate == SAMPLE_RATE and info.channels == 1 and info.frames > 0


def build_real_set(
    name: str | RealSet,
    out: str | os.PathLike | None = None,
    *,
    manifest: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    base_url: str = RAW_BASE_URL,
    lfs_base_url: str = LFS_BASE_URL,
    workers: int = 4,
    progress: bool = True,
    **fetch_kwargs,
) -> Path:
    """Fetch, verify and convert every file of a set into ``out``; return ``out``.

    Args:
        name: ``'realmini'``, ``'realmore'`` or a :class:`RealSet`.
        out: the set's root (default ``<data root>/<name>``); it ends up laid out like the shared
            folder: ``{train,test}/{speech,music,noise}/*.flac``, ``MANIFEST.tsv``, ``README.md``,
            plus ``ATTRIBUTION.md`` and a ``.complete`` marker.
        manifest: another ``MANIFEST.tsv`` to build from (a subset, or a test's tiny one).
        mirror: read originals from ``<mirror>/<repo>/<commit>/<path>`` — no network at all.
        cache: where downloaded originals are kept (default ``$MTASS_CACHE``); they are what a
            rerun reuses and can serve as a mirror later.
        base_url, lfs_base_url: replace ``https://raw.githubusercontent.com`` /
            ``https://media.githubusercontent.com/media`` (same ``<repo>/<commit>/<path>`` below).
        workers: files fetched and converted at once (threads; the output does not depend on it).
        fetch_kwargs: ``retries``, ``backoff``, ``timeout`` for :func:`~mtass_lite.data.download.fetch`.

    A rerun resumes: converted files are kept, downloaded originals are reused, a finished set
    (``.complete`` for the same manifest) returns at once.

    Raises:
        ChecksumError: an original does not match the manifest's SHA-256 (the message names the
            file; nothing is written for it, the others are kept).
        DownloadError: an original could not be fetched (or is missing from the mirror).
        ManifestError: the manifest is malformed.
    """
    from .. import data_root

    rs = get_real_set(name) if isinstance(name, str) else name
    manifest = Path(manifest) if manifest is not None else rs.manifest
    rows = read_manifest(manifest)
    out = Path(out) if out is not None else data_root() / rs.name
    marker = out / COMPLETE_MARKER
    stamp = {"set": rs.name, "manifest_sha256": _manifest_digest(manifest), "files": len(rows)}
    try:
        if json.loads(marker.read_text()) == stamp:
            return out
    except (OSError, ValueError):
        pass
    marker.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)

    todo = [r for r in rows if not _done(out, r)]
    off: list[str] = []
    stop = threading.Event()  # after a failure, files not yet started are left for the rerun

    def one(row: ManifestRow) -> bool:
        if stop.is_set():
            return False
        try:
            if mirror is not None:
                src = mirrored_original(row, mirror)
            else:
                src = fetch_original(row, cache, base_url, lfs_base_url, **fetch_kwargs)
            try:
                seconds = convert_original(src, out / row.file, rs.trim_silence)
            except AudioError as e:
                raise AudioError(f"{_describe(row)}: {e}") from e
        except (DownloadError, AudioError):
            stop.set()
            raise
        if abs(seconds - row.seconds) > SECONDS_TOLERANCE:
            off.append(f"{row.file}: {seconds:.3f} s, manifest {row.seconds:.2f} s")
        return True

    if todo:
        log.info("%s: %d of %d files to fetch and convert into %s", rs.name, len(todo), len(rows), out)
        errors: list[Exception] = []
        skipped = 0
        with ThreadPoolExecutor(max(1, workers)) as pool, \
                tqdm(total=len(todo), desc=f"{rs.name}", unit="file", disable=not progress) as bar:
            for fut in [pool.submit(one, r) for r in todo]:
                try:
                    skipped += not fut.result()
                except (DownloadError, AudioError) as e:
                    errors.append(e)
                bar.update(1)
        if errors:
            for e in errors[1:]:
                log.error("%s", e)
            log.error("%s: %d file(s) failed, %d not attempted after the failure; the %d converted are "
                      "kept (rerun to resume)", rs.name, len(errors), skipped, len(todo) - len(errors) - skipped)
            raise errors[0]
    if off:
        log.warning("%s: %d file(s) differ in length from the manifest (a different decoder?):\n  %s",
                    rs.name, len(off), "\n  ".join(off[:20]))

    shutil.copyfile(manifest, out / ".MANIFEST.tsv.tmp")
    os.replace(out / ".MANIFEST.tsv.tmp", out / "MANIFEST.tsv")
    if manifest == rs.manifest:  # the set's own README / SOURCES describe the whole set only
        for extra in sorted(rs.folder.glob("*.md")):
            _write_text(out / extra.name, extra.read_text(encoding="utf-8"))
    _write_text(out / "ATTRIBUTION.md", attribution_markdown(rows, rs.name, rs.trim_silence, rs.title))
    _write_text(marker, json.dumps(stamp))
    return out


def real_set_table(names: Iterable[str] | None = None) -> str:
    """A plain-text table: files, repositories and minutes per split and track, from the manifests."""
    lines = []
    for n in names or REAL_SETS:
        rs = get_real_set(n)
        rows = rs.rows()
        repos = len({r.repo for r in rows})
        lines.append(f"{rs.name}: {len(rows)} files from {repos} repositories, "
                     f"{sum(r.seconds for r in rows) / 60:.1f} min -- {rs.title}")
        for split in SPLITS:
            mins = {t: sum(r.seconds for r in rows if r.split == split and r.track == t) / 60 for t in TRACKS}
            if any(mins.values()):
                lines.append(f"  {split:<5} " + "  ".join(f"{t} {m:4.1f} min" for t, m in mins.items()))
    return "\n".join(lines)


__all__ = ["REAL_SETS", "RealSet", "ManifestRow", "ManifestError", "get_real_set", "read_manifest",
           "write_manifest", "raw_url", "lfs_url", "mirror_path", "originals_cache", "fetch_original",
           "mirrored_original", "convert_audio", "convert_original", "attribution_markdown",
           "build_real_set", "real_set_table"]
