"""Downloading and unpacking corpus archives: resumable, verified, atomic.

Three promises, each tested offline against a local HTTP server (``tests/test_download.py``):

* **Resumable.** Bytes go to ``<file>.part``; an interrupted transfer (dropped connection, Ctrl-C,
  killed process) restarts with an HTTP ``Range: bytes=<n>-`` request where the server allows it,
  and from zero where it does not (a ``200`` answer to a range request).
* **Verified.** A finished file is checked against the md5 / sha256 / byte size the corpus
  publishes (:mod:`mtass_lite.data.corpora`) before it is renamed into place. A truncated or
  corrupted archive is never used silently: it is moved aside as ``<file>.corrupt`` and fetched
  again once from scratch, then reported with :class:`ChecksumError`.
* **Atomic.** Archives are unpacked into a temporary folder beside the target and renamed onto it
  only when every member came out, with a ``.complete`` marker inside; a half-extracted tree is
  never mistaken for a finished one.

Only the standard library does HTTP (``urllib``); tqdm draws the progress bars.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import shutil
import socket
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from tqdm.auto import tqdm

log = logging.getLogger(__name__)

USER_AGENT = "mtass-lite-downloader/0.1 (+https://github.com/; research corpus fetcher)"
COMPLETE_MARKER = ".complete"
CHUNK_BYTES = 1 << 20


class DownloadError(RuntimeError):
    """A file that could not be fetched; the message names the URL and what to do."""


class ChecksumError(DownloadError):
    """A fetched file whose size or digest disagrees with the published one."""


class ArchiveError(DownloadError):
    """An archive that cannot be unpacked (truncated, corrupted, or unsafe member paths)."""


def cache_dir() -> Path:
    """Where archives and unpacked corpora are kept: ``$MTASS_CACHE`` or ``~/.cache/mtass_lite``."""
    return Path(os.environ.get("MTASS_CACHE", Path.home() / ".cache" / "mtass_lite")).expanduser()


def format_bytes(n: int | None) -> str:
    """``1536`` -> ``'1.5 KiB'``; ``None`` -> ``'?'``."""
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # unreachable


# --------------------------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------------------------

def file_digests(path: str | os.PathLike, algorithms: Iterable[str] = ("md5", "sha256"),
                 progress: bool = False) -> dict[str, str]:
    """Hex digests of ``path`` for each algorithm, reading the file once."""
    path = Path(path)
    hashers = {a: hashlib.new(a) for a in algorithms}
    with open(path, "rb") as f, tqdm(total=path.stat().st_size, unit="B", unit_scale=True,
                                      unit_divisor=1024, desc=f"verify {path.name}",
                                      disable=not progress, leave=False) as bar:
        while block := f.read(CHUNK_BYTES):
            for h in hashers.values():
                h.update(block)
            bar.update(len(block))
    return {a: h.hexdigest() for a, h in hashers.items()}


@dataclass(frozen=True)
class Expected:
    """What a finished file must match; any field may be unknown (``None``)."""

    size: int | None = None
    md5: str | None = None
    sha256: str | None = None

    @property
    def has_digest(self) -> bool:
        return bool(self.md5 or self.sha256)

    def describe(self) -> str:
        parts = []
        if self.md5:
            parts.append(f"md5 {self.md5}")
        if self.sha256:
            parts.append(f"sha256 {self.sha256}")
        if self.size is not None:
            parts.append(f"{self.size} bytes")
        return ", ".join(parts) or "nothing published (unverified)"


def verify_file(path: str | os.PathLike, expected: Expected, progress: bool = False,
                use_record: bool = True) -> None:
    """Raise :class:`ChecksumError` unless ``path`` matches ``expected``.

    Digests decide when the corpus publishes them; the byte size alone decides otherwise. A size
    mismatch with a matching digest only warns (a registry size may be rounded or stale).
    A sidecar ``<file>.verified`` json remembers a success (size + mtime), so a 15 GB archive is
    hashed once, not at every run (``use_record=False`` hashes anyway).
    """
    path = Path(path)
    if not path.exists():
        raise ChecksumError(f"{path} does not exist")
    size = path.stat().st_size
    if not expected.has_digest:
        if expected.size is not None and size != expected.size:
            raise ChecksumError(f"{path.name}: {size} bytes, expected {expected.size} "
                                f"(truncated or a different file)")
        return
    sidecar = path.with_name(path.name + ".verified")
    stamp = {"size": size, "mtime_ns": path.stat().st_mtime_ns,
             "md5": expected.md5, "sha256": expected.sha256}
    try:
        if use_record and json.loads(sidecar.read_text()) == stamp:
            return
    except (OSError, ValueError):
        pass
    algorithms = [a for a in ("md5", "sha256") if getattr(expected, a)]
    got = file_digests(path, algorithms, progress=progress)
    for a in algorithms:
        want = getattr(expected, a).lower()
        if got[a] != want:
            raise ChecksumError(f"{path.name}: {a} {got[a]} != published {want} "
                                f"({size} bytes; truncated or corrupted download)")
    if expected.size is not None and size != expected.size:
        log.warning("%s: digest matches but size %d != registry size %d", path.name, size, expected.size)
    sidecar.write_text(json.dumps(stamp))


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

_TRANSIENT = (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout,
              TimeoutError)


def _open(url: str, start: int, timeout: float):
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if start > 0:
        req.add_header("Range", f"bytes={start}-")
    return urllib.request.urlopen(req, timeout=timeout)


def _content_range_start(value: str | None) -> int | None:
    """``'bytes 100-999/1000'`` -> ``100``."""
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None


def _transfer(url: str, part: Path, timeout: float, progress: bool, desc: str) -> None:
    """One attempt: append to ``part`` from its current size; raise on any interruption."""
    start = part.stat().st_size if part.exists() else 0
    try:
        resp = _open(url, start, timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and start > 0:
            # Range not satisfiable: ``part`` already holds the whole file (the caller verifies).
            log.info("%s: server says the partial file is already complete", part.name)
            return
        raise
    with resp:
        status = getattr(resp, "status", 200)
        if start > 0 and status == 206 and _content_range_start(resp.headers.get("Content-Range")) == start:
            mode = "ab"
            log.info("%s: resuming at byte %d", part.name, start)
        elif status == 206:
            # Bytes from somewhere else than asked: appending them would corrupt the file.
            part.unlink(missing_ok=True)
            raise http.client.HTTPException(f"unexpected Content-Range {resp.headers.get('Content-Range')!r} "
                                            f"for a request from byte {start}; restarting from zero")
        else:
            if start > 0:
                log.warning("%s: server ignored the range request (HTTP %s); restarting from zero",
                            part.name, status)
            start, mode = 0, "wb"
        length = resp.headers.get("Content-Length")
        total = start + int(length) if length is not None else None
        received = start
        with open(part, mode) as f, tqdm(total=total, initial=start, unit="B", unit_scale=True,
                                         unit_divisor=1024, desc=desc, disable=not progress) as bar:
            while True:
                block = resp.read(CHUNK_BYTES)
                if not block:
                    break
                f.write(block)
                received += len(block)
                bar.update(len(block))
        if total is not None and received < total:
            # urllib returns b"" on a connection closed early; it must not pass as success.
            raise http.client.IncompleteRead(b"", total - received)


def fetch(
    url: str,
    dest: str | os.PathLike,
    expected: Expected = Expected(),
    mirrors: Sequence[str] = (),
    retries: int = 5,
    backoff: float = 2.0,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``), verify it, rename it into place.

    Args:
        expected: published size / md5 / sha256; unknown fields are skipped (say so to users).
        mirrors: further URLs for the same bytes, tried in order when one fails.
        retries: attempts per URL after transient errors (each resumes where the last stopped).
        backoff: seconds before the first retry, doubled each time (0 in tests).

    Returns:
        ``dest``, verified. An existing verified ``dest`` is returned without network access.

    Raises:
        ChecksumError: the file arrived whole but does not match (after one fresh re-fetch).
        DownloadError: every URL failed; the message lists why.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if dest.exists():
        try:
            verify_file(dest, expected, progress=progress)
            return dest
        except ChecksumError as e:
            bad = dest.with_name(dest.name + ".corrupt")
            log.warning("cached %s failed verification (%s); moved to %s and fetching again", dest, e, bad)
            os.replace(dest, bad)

    errors: list[str] = []
    fresh_refetch_done = False
    for source in [url, *mirrors]:
        attempt = 0
        while attempt <= retries:
            try:
                _transfer(source, part, timeout, progress, desc=dest.name)
            except urllib.error.HTTPError as e:
                errors.append(f"{source}: HTTP {e.code} {e.reason}")
                if e.code in (401, 403, 404, 410):
                    break  # permanent for this URL: try the next mirror
                attempt += 1
            except _TRANSIENT as e:
                errors.append(f"{source}: {type(e).__name__}: {e}")
                attempt += 1
                log.warning("%s: transfer interrupted (%s); attempt %d/%d resumes at byte %d",
                            dest.name, e, attempt, retries, part.stat().st_size if part.exists() else 0)
            else:
                try:
                    verify_file(part, expected, progress=progress)
                except ChecksumError as e:
                    bad = dest.with_name(dest.name + ".corrupt")
                    os.replace(part, bad)
                    errors.append(f"{source}: {e}")
                    if fresh_refetch_done:
                        raise ChecksumError(
                            f"{dest.name} from {source} does not match the published checksum twice "
                            f"in a row ({e}). The bad copy is kept at {bad}. The server may hold a "
                            f"different version than the registry: check the corpus page, or pass "
                            f"another mirror / local copy (see data_scripts/download.py --help)."
                        ) from e
                    fresh_refetch_done = True
                    log.warning("%s failed verification (%s); fetching once more from scratch", dest.name, e)
                    continue
                os.replace(part, dest)
                sidecar = part.with_name(part.name + ".verified")
                if sidecar.exists():
                    os.replace(sidecar, dest.with_name(dest.name + ".verified"))
                return dest
            if attempt <= retries and backoff > 0:
                time.sleep(backoff * 2 ** (attempt - 1))
    raise DownloadError(f"could not download {dest.name}; kept {part.stat().st_size if part.exists() else 0} "
                        f"bytes in {part} for a later resume. Errors:\n  " + "\n  ".join(errors[-8:]))


# --------------------------------------------------------------------------------------------
# Unpacking
# --------------------------------------------------------------------------------------------

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar", ".zip")


def archive_stem(name: str) -> str:
    """``'dev-clean.tar.gz'`` -> ``'dev-clean'``."""
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def _safe_member(name: str, archive: Path) -> None:
    p = Path(name)
    if p.is_absolute() or ".." in p.parts:
        raise ArchiveError(f"{archive.name}: unsafe member path {name!r}; refusing to unpack")


def _unpack_into(archive: Path, target: Path) -> None:
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:  # reading a member checks its CRC
            for member in z.namelist():
                _safe_member(member, archive)
            z.extractall(target)
        return
    with tarfile.open(archive) as t:

        def checked():
            # Members are checked as the stream reaches them: listing them first would decompress
            # a 15 GB .tgz twice.
            for m in t:
                _safe_member(m.name, archive)
                if (m.issym() or m.islnk()) and (Path(m.linkname).is_absolute()
                                                 or ".." in Path(m.linkname).parts):
                    raise ArchiveError(f"{archive.name}: link {m.name} -> {m.linkname} leaves the archive")
                yield m

        if hasattr(tarfile, "data_filter"):
            t.extractall(target, members=checked(), filter="data")
        else:  # Python < 3.11.4: members are checked by ``checked``
            t.extractall(target, members=checked())


def extract(archive: str | os.PathLike, dest: str | os.PathLike, progress: bool = True) -> Path:
    """Unpack ``archive`` into the folder ``dest`` atomically; return ``dest``.

    A ``dest`` that holds the ``.complete`` marker is returned as is. Otherwise the archive is
    unpacked into ``.<dest>.tmp-*`` beside it, the marker is written, and the folder is renamed onto
    ``dest`` (a stale incomplete ``dest`` is removed first).

    Raises:
        ArchiveError: the archive is truncated or corrupted (delete it and fetch again: the
            message says so), or a member would land outside ``dest``.
    """
    archive, dest = Path(archive), Path(dest)
    if (dest / COMPLETE_MARKER).exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        if progress:
            print(f"unpacking {archive.name} -> {dest}", flush=True)
        try:
            _unpack_into(archive, tmp)
        except ArchiveError:
            raise
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as e:
            raise ArchiveError(
                f"{archive} cannot be unpacked ({type(e).__name__}: {e}); it is truncated or corrupted. "
                f"Delete it and run the download again."
            ) from e
        (tmp / COMPLETE_MARKER).write_text(json.dumps({"archive": archive.name,
                                                       "size": archive.stat().st_size}))
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def extract_nested(folder: str | os.PathLike, pattern: str = "*.tar.gz", remove: bool = False,
                   progress: bool = True) -> list[Path]:
    """Unpack archives found inside an unpacked corpus (AISHELL-1 ships one ``.tar.gz`` per speaker).

    Each inner archive is unpacked into a temporary folder and its top-level entries are moved into
    the archive's own folder; a ``.<name>.done`` marker makes a rerun skip it. Returns the archives
    unpacked now.
    """
    folder = Path(folder)
    done_now = []
    inner = sorted(folder.rglob(pattern))
    for arc in tqdm(inner, desc=f"unpack inner archives in {folder.name}", disable=not progress or not inner):
        marker = arc.with_name(f".{arc.name}.done")
        if marker.exists():
            continue
        tmp = Path(tempfile.mkdtemp(prefix=f".{arc.name}.tmp-", dir=arc.parent))
        try:
            try:
                _unpack_into(arc, tmp)
            except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as e:
                raise ArchiveError(f"inner archive {arc} cannot be unpacked ({e})") from e
            _merge_tree(tmp, arc.parent)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        marker.write_text("")
        if remove:
            arc.unlink()
        done_now.append(arc)
    return done_now


def _merge_tree(src: Path, dst: Path) -> None:
    """Move everything under ``src`` into ``dst``, merging folders that already exist."""
    for entry in src.iterdir():
        target = dst / entry.name
        if entry.is_dir() and target.is_dir():
            _merge_tree(entry, target)
        else:
            if target.exists():
                if target.is_dir():
                    shutil.rmtree(target)
                else:
                    target.unlink()
            os.replace(entry, target)
