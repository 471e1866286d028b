"""The real corpora behind MTASS, and an open alternative: where to get them and how to read them.

Each :class:`Corpus` records its download URLs (with mirrors), the sizes and checksums its
publisher lists, its licence, and an *adapter* that walks the unpacked files and yields
:class:`SourceFile` records ``(path, source_id, split)``. The source id is the unit that must never
cross train/dev/test (a speaker for speech, a song for music, a recording for noise);
:mod:`mtass_lite.data.prepare` cuts and splits by it.

Checksums are the publishers' own (OpenSLR's ``md5sum.txt``); where a corpus publishes none, the
entry says so (``md5=None``) and only the byte size is checked, when even that is known. Nothing
here is invented: see ``docs/real_data.md`` for where each number comes from.

Recipes (:data:`RECIPES`) say which corpora feed each track:

* ``paper`` — the MTASS recipe (Zhang et al., MTASS README §2): AISHELL-1 (+ DiDiSpeech, manual
  download) speech, DSD100 *Mixtures* music (left channel, 44.1 → 16 kHz), DNS-Challenge noise.
* ``open`` — LibriSpeech dev-clean + test-clean speech, MUSAN music and MUSAN noise (≈ 11.8 GB).
* ``open-mini`` — LibriSpeech dev-clean, the DSD100 sample subset and ESC-50 (≈ 1.2 GB): a quick
  check of the whole pipeline on real recordings, too small to train on.

Tests override URLs and checksums with :func:`dataclasses.replace` or :func:`with_base_url`.

Two small three-track sets of real recordings, ``realmini`` and ``realmore``, are not archives but
lists of files in public GitHub repositories (repository, commit, path, licence, SHA-256);
:data:`REAL_SETS` registers them and :func:`build_real_set` fetches, verifies and converts them
(:mod:`mtass_lite.data.real_corpora`; ``python -m mtass_lite fetch-real realmini``).
"""
from __future__ import annotations

import csv
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple, Sequence

from .. import TRACKS
from .download import (DownloadError, Expected, archive_stem, cache_dir, extract, extract_nested,
                       fetch, format_bytes)

SPLITS = ("train", "dev", "test")


class SourceFile(NamedTuple):
    """One audio file of a corpus.

    Attributes:
        path: the file.
        source_id: what must stay within one split (``'aishell1-S0002'``, ``'dsd100-<song>'``).
        split: the corpus's own train/dev/test assignment when it has one (AISHELL-1), else None.
    """

    path: Path
    source_id: str
    split: str | None = None


Adapter = Callable[[Sequence[Path]], Iterator[SourceFile]]


@dataclass(frozen=True)
class Archive:
    """One downloadable file. ``size`` in bytes; ``md5`` / ``sha256`` as published, else None."""

    url: str
    size: int | None = None
    md5: str | None = None
    sha256: str | None = None
    mirrors: tuple[str, ...] = ()
    filename: str = ""

    def __post_init__(self):
        if not self.filename:
            object.__setattr__(self, "filename", self.url.rstrip("/").rsplit("/", 1)[-1])

    @property
    def expected(self) -> Expected:
        return Expected(size=self.size, md5=self.md5, sha256=self.sha256)

    @property
    def check(self) -> str:
        """What verifies it: ``'md5'``, ``'sha256'``, ``'size'`` or only the HTTP ``'length'``."""
        if self.md5:
            return "md5"
        if self.sha256:
            return "sha256"
        return "size" if self.size is not None else "length"  # only the server's Content-Length


@dataclass(frozen=True)
class Corpus:
    """A source corpus for one track.

    Attributes:
        track: ``'speech'``, ``'music'`` or ``'noise'``.
        archives: what to download (empty for corpora that need a manual request).
        adapter: ``adapter(roots) -> SourceFile...`` over the unpacked folders (or a user's copy).
        channel: ``'mean'`` downmixes; ``'left'`` keeps the left channel, as the MTASS scripts did
            for DSD100 (``audioop.tomono(x, 2, 1, 0)``).
        manual: how to obtain it when it cannot be downloaded automatically.
        post_extract: run once on each unpacked folder (AISHELL-1 nests one archive per speaker).
        approx: a rough size of what it holds, for ``--list``.
        download_hint: the rough download size where the publisher gives no exact one.
    """

    name: str
    title: str
    track: str
    licence: str
    homepage: str
    adapter: Adapter
    archives: tuple[Archive, ...] = ()
    channel: str = "mean"
    manual: str | None = None
    post_extract: Callable[[Path], None] | None = None
    approx: str = ""
    download_hint: str = ""
    citation: str = ""
    notes: str = ""

    def __post_init__(self):
        if self.track not in TRACKS:
            raise ValueError(f"{self.name}: track must be one of {TRACKS}, got {self.track!r}")
        if self.channel not in ("mean", "left"):
            raise ValueError(f"{self.name}: channel must be 'mean' or 'left'")

    @property
    def size(self) -> int | None:
        """Total published download size in bytes, or None if any archive's size is unknown."""
        sizes = [a.size for a in self.archives]
        return None if not sizes or any(s is None for s in sizes) else sum(sizes)

    @property
    def downloadable(self) -> bool:
        return bool(self.archives)

    def files(self, roots: Sequence[str | os.PathLike]) -> list[SourceFile]:
        """All source files under the unpacked ``roots``, sorted by path (deterministic)."""
        roots = [Path(r) for r in roots]
        missing = [r for r in roots if not r.is_dir()]
        if missing:
            raise FileNotFoundError(f"{self.name}: folder(s) not found: {', '.join(map(str, missing))}")
        out = sorted(self.adapter(roots), key=lambda f: str(f.path))
        if not out:
            raise FileNotFoundError(
                f"{self.name}: no audio files found under {', '.join(map(str, roots))}. "
                f"Is this an unpacked {self.title}? {self.notes or self.manual or ''}".strip())
        return out


@dataclass(frozen=True)
class Recipe:
    """Which corpora feed each track; ``optional`` ones join only when the user supplies them."""

    name: str
    description: str
    speech: tuple[str, ...]
    music: tuple[str, ...]
    noise: tuple[str, ...]
    optional: tuple[str, ...] = field(default=())

    def corpora(self, track: str) -> tuple[str, ...]:
        return getattr(self, track)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(n for t in TRACKS for n in self.corpora(t) if n not in self.optional)


# --------------------------------------------------------------------------------------------
# Adapters: unpacked layout -> SourceFile records
# --------------------------------------------------------------------------------------------

AUDIO_EXTENSIONS = (".wav", ".flac")


def _audio_under(roots: Sequence[Path], ext: Sequence[str] = AUDIO_EXTENSIONS) -> Iterator[Path]:
    for root in roots:
        for p in root.rglob("*"):
            if p.suffix.lower() in ext and p.is_file() and not p.name.startswith("."):
                yield p


def librispeech_files(roots: Sequence[Path]) -> Iterator[SourceFile]:
    """``LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac``; one speaker,
    one source. The subsets are speaker-disjoint, so dev-clean and test-clean pool freely."""
    for p in _audio_under(roots, (".flac",)):
        yield SourceFile(p, f"librispeech-{p.parent.parent.name}")


def aishell1_files(roots: Sequence[Path]) -> Iterator[SourceFile]:
    """``data_aishell/wav/{train,dev,test}/<speaker>/BAC009<speaker>W<n>.wav``: 400 speakers,
    split 340 / 40 / 20 by the corpus itself (kept as each file's ``split``)."""
    for p in _audio_under(roots, (".wav",)):
        split = p.parent.parent.name
        yield SourceFile(p, f"aishell1-{p.parent.name}", split if split in SPLITS else None)


def speaker_folder_files(prefix: str) -> Adapter:
    """Speech laid out as ``[<split>/]<speaker>/[SESSION*/]*.wav`` (DiDiSpeech, or your own).

    The speaker is the first folder below the root (below ``<split>`` when that is
    train/dev/test); a ``SESSION0``-style folder under it is looked through, as the MTASS speech
    script did for DiDiSpeech.
    """

    def adapter(roots: Sequence[Path]) -> Iterator[SourceFile]:
        for root in roots:
            for p in _audio_under([root]):
                parts = p.relative_to(root).parts[:-1]
                split = parts[0] if parts and parts[0] in SPLITS else None
                rest = parts[1:] if split else parts
                speaker = rest[0] if rest else p.stem
                yield SourceFile(p, f"{prefix}-{speaker}", split)

    return adapter


def dsd100_files(roots: Sequence[Path]) -> Iterator[SourceFile]:
    """``DSD100/Mixtures/{Dev,Test}/<song>/mixture.wav``: one song, one source. The stems under
    ``Sources/`` are not used (MTASS wants whole songs as the music track)."""
    for p in _audio_under(roots, (".wav",)):
        if p.name == "mixture.wav" and "Mixtures" in p.parts:
            yield SourceFile(p, f"dsd100-{p.parent.name}")


def dns_noise_files(roots: Sequence[Path]) -> Iterator[SourceFile]:
    """DNS-Challenge ``datasets/noise/*.wav`` (16 kHz clips from AudioSet, Freesound, DEMAND)."""
    for p in _audio_under(roots, (".wav",)):
        yield SourceFile(p, f"dns-{p.stem}")


def musan_files(kind: str) -> Adapter:
    """``musan/<kind>/<collection>/<kind>-<collection>-NNNN.wav`` (kind ``music`` or ``noise``)."""

    def adapter(roots: Sequence[Path]) -> Iterator[SourceFile]:
        for p in _audio_under(roots, (".wav",)):
            if kind in p.parts[:-1]:
                yield SourceFile(p, f"musan-{p.stem}")

    return adapter


# ESC-50 classes left out of the noise track: voice-like human sounds could pass for speech and a
# bell peal for music, which would blur the three-way definition of the MTASS README (§1).
ESC50_EXCLUDED = ("crying_baby", "laughing", "church_bells")


def esc50_files(roots: Sequence[Path], excluded: Sequence[str] = ESC50_EXCLUDED) -> Iterator[SourceFile]:
    """ESC-50 ``audio/<fold>-<freesound id>-<take>-<class>.wav`` + ``meta/esc50.csv``.

    Clips cut from one Freesound recording (``src_file``) share a source id, so they never
    straddle two splits.
    """
    for root in roots:
        for meta in root.rglob("esc50.csv"):
            audio = meta.parent.parent / "audio"
            with open(meta, newline="") as f:
                for row in csv.DictReader(f):
                    if row["category"] in excluded:
                        continue
                    p = audio / row["filename"]
                    if p.exists():
                        yield SourceFile(p, f"esc50-{row['src_file']}")


def _aishell1_post_extract(folder: Path) -> None:
    # data_aishell.tgz holds data_aishell/wav/S0002.tar.gz ... one archive per speaker.
    extract_nested(folder, "*.tar.gz", remove=True)


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------

_OPENSLR_MIRRORS = ("https://us.openslr.org", "https://openslr.elda.org", "https://openslr.magicdatatech.com")


def _openslr(resource: int, filename: str, size: int | None, md5: str | None,
             sha256: str | None = None) -> Archive:
    path = f"/resources/{resource}/{filename}"
    return Archive(url=f"https://www.openslr.org{path}", size=size, md5=md5, sha256=sha256,
                   mirrors=tuple(m + path for m in _OPENSLR_MIRRORS))


_LIBRISPEECH_LICENCE = "CC BY 4.0"
_LIBRISPEECH_CITE = "Panayotov et al., LibriSpeech: an ASR corpus based on public domain audio books, ICASSP 2015"

CORPORA: dict[str, Corpus] = {c.name: c for c in [
    # --- the paper's recipe ---------------------------------------------------------------------
    Corpus(
        name="aishell1", title="AISHELL-1 (OpenSLR 33)", track="speech",
        archives=(_openslr(33, "data_aishell.tgz", 15_582_913_665, "2f494334227864a8a8fec932999db9d8"),),
        licence="Apache-2.0", homepage="https://www.openslr.org/33/",
        adapter=aishell1_files, post_extract=_aishell1_post_extract,
        approx="~178 h Mandarin, 400 speakers, 16 kHz",
        citation="Bu et al., AISHELL-1: an open-source Mandarin speech corpus and a speech "
                 "recognition baseline, O-COCOSDA 2017",
        notes="The archive nests one .tar.gz per speaker (data_aishell/wav/S*.tar.gz); the downloader "
              "unpacks them too (a copy given with --corpus-dir must already be unpacked). Unpacking "
              "needs ~2x the archive size on disk for a while.",
    ),
    Corpus(
        name="didispeech", title="DiDiSpeech", track="speech",
        licence="DiDi research data licence, granted on application (read its terms)",
        homepage="https://outreach.didichuxing.com/research/opendata/",
        adapter=speaker_folder_files("didispeech"),
        manual=("DiDiSpeech is not a public download: apply at "
                "https://outreach.didichuxing.com/research/opendata/, resample to 16 kHz if needed "
                "and pass its folder with `--corpus-dir didispeech=/path/to/DiDi_Speech_WAV_16k` "
                "(layout [<split>/]<speaker>/[SESSION0/]*.wav)."),
        approx="~800 h Mandarin, 6,000 speakers (48 kHz originals)",
        citation="Guo et al., DiDiSpeech: a large scale Mandarin speech corpus, ICASSP 2021",
    ),
    Corpus(
        name="dsd100", title="DSD100 (SiSEC 2016 MUS)", track="music",
        archives=(Archive(url="http://liutkus.net/DSD100.zip"),),
        licence="research use; songs from Mike Senior's 'Mixing Secrets' library (see its terms)",
        homepage="https://sigsep.github.io/datasets/dsd100.html",
        adapter=dsd100_files, channel="left", download_hint="~14 GB",
        approx="100 songs, ~6-7 h, 44.1 kHz stereo",
        citation="Liutkus et al., The 2016 Signal Separation Evaluation Campaign, LVA/ICA 2017",
        notes="No checksum or exact size is published: the download is checked only for completeness "
              "against the server's Content-Length and by unpacking it.",
    ),
    Corpus(
        name="dns_noise", title="DNS-Challenge noise (ICASSP 2021)", track="noise",
        archives=(Archive(url="https://dns3public.blob.core.windows.net/dns3archive/datasets/"
                              "datasets.noise.tar.bz2"),),
        licence="CC BY 4.0 (DNS-Challenge); clips drawn from AudioSet, Freesound and DEMAND",
        homepage="https://github.com/microsoft/DNS-Challenge",
        adapter=dns_noise_files, download_hint="~20 GB unpacked",
        approx="~65,000 clips, ~180 h, 16 kHz",
        citation="Reddy et al., ICASSP 2021 Deep Noise Suppression Challenge, ICASSP 2021",
        notes="URL from the DNS-Challenge download-dns-challenge-2.sh script; no checksum or size is "
              "published. Microsoft has moved these blobs before: if it fails, fetch the noise "
              "folder with that repository's current script and pass --corpus-dir dns_noise=DIR.",
    ),
    # --- the open recipe ------------------------------------------------------------------------
    Corpus(
        name="librispeech_dev_clean", title="LibriSpeech dev-clean (OpenSLR 12)", track="speech",
        archives=(_openslr(12, "dev-clean.tar.gz", 337_926_286, "42e2234ba48799c1f50f24a7926300a1",
                           "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3"),),
        licence=_LIBRISPEECH_LICENCE, homepage="https://www.openslr.org/12/",
        adapter=librispeech_files, approx="5.4 h English, 40 speakers, 16 kHz FLAC",
        citation=_LIBRISPEECH_CITE,
    ),
    Corpus(
        name="librispeech_test_clean", title="LibriSpeech test-clean (OpenSLR 12)", track="speech",
        archives=(_openslr(12, "test-clean.tar.gz", 346_663_984, "32fa31d27d2e1cad72775fee3f4849a9",
                           "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23"),),
        licence=_LIBRISPEECH_LICENCE, homepage="https://www.openslr.org/12/",
        adapter=librispeech_files, approx="5.4 h English, 40 speakers, 16 kHz FLAC",
        citation=_LIBRISPEECH_CITE,
    ),
    Corpus(
        name="librispeech_train_clean_100", title="LibriSpeech train-clean-100 (OpenSLR 12)",
        track="speech",
        archives=(_openslr(12, "train-clean-100.tar.gz", 6_387_309_499, "2a93770f6d5c6c964bc36631d331a522",
                           "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2"),),
        licence=_LIBRISPEECH_LICENCE, homepage="https://www.openslr.org/12/",
        adapter=librispeech_files, approx="100.6 h English, 251 speakers, 16 kHz FLAC",
        citation=_LIBRISPEECH_CITE,
    ),
    Corpus(
        name="musan_music", title="MUSAN music (OpenSLR 17)", track="music",
        archives=(_openslr(17, "musan.tar.gz", 11_086_114_085, "0c472d4fc0c5141eca47ad1ffeb2a7df"),),
        licence="CC BY 4.0 as listed by OpenSLR; per-file terms in the corpus LICENSE files",
        homepage="https://www.openslr.org/17/",
        adapter=musan_files("music"), approx="~42 h of music, ~660 pieces, 16 kHz",
        citation="Snyder, Chen and Povey, MUSAN: a music, speech, and noise corpus, arXiv:1510.08484",
        notes="Shares musan.tar.gz with musan_noise (downloaded once).",
    ),
    Corpus(
        name="musan_noise", title="MUSAN noise (OpenSLR 17)", track="noise",
        archives=(_openslr(17, "musan.tar.gz", 11_086_114_085, "0c472d4fc0c5141eca47ad1ffeb2a7df"),),
        licence="CC BY 4.0 as listed by OpenSLR; per-file terms in the corpus LICENSE files",
        homepage="https://www.openslr.org/17/",
        adapter=musan_files("noise"), approx="~6 h of noise, ~930 recordings, 16 kHz",
        citation="Snyder, Chen and Povey, MUSAN: a music, speech, and noise corpus, arXiv:1510.08484",
        notes="Shares musan.tar.gz with musan_music (downloaded once).",
    ),
    Corpus(
        name="dsd100subset", title="DSD100 sample subset", track="music",
        archives=(Archive(url="https://www.loria.fr/~aliutkus/DSD100subset.zip"),),
        licence="research use; songs from Mike Senior's 'Mixing Secrets' library (see its terms)",
        homepage="https://sigsep.github.io/datasets/dsd100.html",
        adapter=dsd100_files, channel="left", approx="4 songs x 30 s, 44.1 kHz stereo",
        download_hint="~120 MB",
        citation="Liutkus et al., The 2016 Signal Separation Evaluation Campaign, LVA/ICA 2017",
        notes="No checksum or exact size is published.",
    ),
    Corpus(
        name="esc50", title="ESC-50", track="noise",
        archives=(Archive(url="https://github.com/karoldvl/ESC-50/archive/master.zip",
                          filename="ESC-50-master.zip"),),
        licence="CC BY-NC 3.0", homepage="https://github.com/karolpiczak/ESC-50",
        adapter=esc50_files, download_hint="~0.6-0.9 GB",
        approx=f"2,000 x 5 s clips, 50 classes ({len(ESC50_EXCLUDED)} left out), 44.1 kHz",
        citation="Piczak, ESC: dataset for environmental sound classification, ACM MM 2015",
        notes="A GitHub branch archive: no checksum, and it cannot resume (no Range support); "
              f"classes {', '.join(ESC50_EXCLUDED)} are left out of the noise track.",
    ),
]}

RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("paper", "The MTASS paper's corpora: AISHELL-1 (+ DiDiSpeech if you have it), "
                    "DSD100 mixtures, DNS-Challenge noise",
           speech=("aishell1", "didispeech"), music=("dsd100",), noise=("dns_noise",),
           optional=("didispeech",)),
    Recipe("open", "Open and direct: LibriSpeech dev-clean + test-clean, MUSAN music, MUSAN noise",
           speech=("librispeech_dev_clean", "librispeech_test_clean", "librispeech_train_clean_100"),
           music=("musan_music",), noise=("musan_noise",),
           optional=("librispeech_train_clean_100",)),
    Recipe("open-mini", "A ~1.2 GB smoke test on real recordings: LibriSpeech dev-clean, "
                        "DSD100 subset (4 songs), ESC-50",
           speech=("librispeech_dev_clean",), music=("dsd100subset",), noise=("esc50",)),
]}


def get_corpus(name: str) -> Corpus:
    try:
        return CORPORA[name]
    except KeyError:
        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(CORPORA)}") from None


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise KeyError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}") from None


def with_base_url(corpus: Corpus, base_url: str) -> Corpus:
    """The same corpus fetched from ``<base_url>/<filename>`` (a local mirror, or a test server)."""
    base = base_url.rstrip("/")
    return dataclasses.replace(corpus, archives=tuple(
        dataclasses.replace(a, url=f"{base}/{a.filename}", mirrors=()) for a in corpus.archives))


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------

def archive_path(archive: Archive, cache: str | os.PathLike | None = None) -> Path:
    return Path(cache or cache_dir()) / "archives" / archive.filename


def extracted_path(archive: Archive, cache: str | os.PathLike | None = None) -> Path:
    return Path(cache or cache_dir()) / "extracted" / archive_stem(archive.filename)


def fetch_corpus(corpus: Corpus, cache: str | os.PathLike | None = None, unpack: bool = True,
                 progress: bool = True, **fetch_kwargs) -> list[Path]:
    """Download, verify and unpack every archive of ``corpus``; return the unpacked folders.

    Everything lives under ``cache`` (default ``$MTASS_CACHE`` or ``~/.cache/mtass_lite``):
    ``archives/<file>`` and ``extracted/<file stem>/``. Reruns cost nothing once done.

    Raises:
        DownloadError: for a manual-only corpus (the message says how to get it), or when a
            download fails or does not verify.
    """
    if not corpus.downloadable:
        raise DownloadError(f"{corpus.title} cannot be downloaded automatically. {corpus.manual}")
    roots = []
    for a in corpus.archives:
        target = extracted_path(a, cache)
        if not (unpack and (target / ".complete").exists()):  # else unpacked before: no network
            path = fetch(a.url, archive_path(a, cache), a.expected, mirrors=a.mirrors,
                         progress=progress, **fetch_kwargs)
            if not unpack:
                roots.append(path)
                continue
            extract(path, target, progress=progress)
        if corpus.post_extract is not None:
            corpus.post_extract(target)  # idempotent: finishes an interrupted run, else no-op
        roots.append(target)
    return roots


def recipe_download_size(recipe: str | Recipe) -> tuple[int, bool]:
    """``(bytes, complete)``: the published size of a recipe's required archives, each counted
    once (MUSAN feeds two tracks); ``complete`` is False when some size is unpublished."""
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    archives = {a.filename: a for n in recipe.required for a in get_corpus(n).archives}
    sizes = [a.size for a in archives.values()]
    return sum(s for s in sizes if s), all(s is not None for s in sizes)


def corpus_table(names: Sequence[str] | None = None) -> str:
    """A plain-text table of corpora: name, track, download size, check, licence."""
    rows = [("corpus", "track", "download", "check", "recipes", "licence")]
    for c in (get_corpus(n) for n in (names or CORPORA)):
        recipes = ",".join(r.name + ("(optional)" if c.name in r.optional else "")
                           for r in RECIPES.values() if c.name in r.corpora(c.track)) or "-"
        if not c.downloadable:
            size, check = "manual", "-"
        else:
            size = format_bytes(c.size) if c.size is not None else f"{c.download_hint or '?'} (unpublished)"
            check = "+".join(sorted({a.check for a in c.archives}))
        rows.append((c.name, c.track, size, check, recipes, c.licence))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r[:5], widths)) + "  " + r[5] for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Three-track sets fetched file by file from GitHub (realmini, realmore): see real_corpora
# --------------------------------------------------------------------------------------------

from .real_corpora import REAL_SETS, build_real_set, get_real_set, real_set_table  # noqa: E402,F401
