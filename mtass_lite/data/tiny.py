"""MTASS-tiny: a small MTASS-style dataset generated offline from what pip installs, bit-reproducible.

**A stand-in for running the pipeline, not the paper's data.** It follows the MTASS recipe
(:mod:`mtass_lite.data.mixing`) with synthetic sources in place of the paper's corpora:

===========  =========================================  ============================================
track        MTASS (paper)                              MTASS-tiny
===========  =========================================  ============================================
speech       AISHELL-1 + DiDiSpeech (Mandarin)          English sentences read by a Piper neural
                                                        voice varied per speaker (:mod:`~mtass_lite.
                                                        data.tts`), Mandarin ones by eSpeak NG
                                                        (:mod:`~mtass_lite.data.speech_synth`)
music        DSD100 mixtures (songs with vocals)        generated songs (often sung by voice
                                                        patches) and Bach chorales through a GM
                                                        SoundFont (:mod:`~mtass_lite.data.music_synth`)
noise        DNS-Challenge noise                        procedural coloured / modulated / impulsive /
                                                        hum / rain / wind (:mod:`~mtass_lite.data.noise_synth`)
===========  =========================================  ============================================

As in the paper, sources are rendered as long recordings (a speaker's sentences concatenated; a
whole piece; a noise scene) and cut into fixed segments, then mixed at SNRs ~ U(-5, 5) dB.

**Splits never share a source**: each sentence, voice variant and chorale belongs to one split
(:func:`split_of_index`: every 8th bank item is test, the next dev, the rest train); generated
songs and noise scenes have seeds that include the split.

**Default size** (:data:`TINY_DEFAULTS`): 400 train / 50 dev / 50 test mixtures of 6 s —
40 min + 5 min + 5 min = 0.83 h of mixtures (about 770 MB of float32 WAV). Why: a lite model
trained for minutes on two CPU cores sees a few thousand 4-s crops, so 400 distinct 6-s mixtures
(cut from ~44 min of speech, ~20 min of music and ~20 min of noise) are not the bottleneck;
50 test mixtures keep an SDRi evaluation of five models within minutes; and the whole set builds
in one to three minutes on two cores. The paper uses 10-s segments and 20,000 / 1,000 / 1,000 mixtures.

Use :func:`ensure_tiny` (build if missing, else return the root) or ``data_scripts/make_tiny.py``.

**Speech engine** (``speech``, :mod:`mtass_lite.data.tts`): ``"piper"`` (default: English speakers read
by a Piper voice shipped in a wheel, Mandarin eSpeak) or ``"espeak"`` (every speaker eSpeak NG — the
build every result before the switch was made on). The same plan gives the same sentences, pauses,
music, noise and SNRs either way. An eSpeak marker has no ``speech`` key (it predates the setting);
:func:`provenance` says which build a result was made on.
The build writes ``<root>/mtass_tiny.json`` last, with the settings, package versions and a hash
of the decoded audio and metadata; its presence says the build is complete.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .. import SAMPLE_RATE, TRACKS, data_root
from . import music_synth, noise_synth, speech_synth, tts
from .mixing import (
    Source, build_split, process_context, split_key, use_progress_bar, write_csv_atomic, write_json_atomic,
)
from .speech_synth import SpeakerSpec

SPLITS = ("train", "dev", "test")
TINY_DEFAULTS: dict[str, Any] = {"n_train": 400, "n_dev": 50, "n_test": 50, "segment_seconds": 6.0}
CONFIG_KEYS = ("seed", "n_train", "n_dev", "n_test", "segment_seconds")
MARKER = "mtass_tiny.json"
# Seconds of source audio per second of mixtures in a split (sources are reused across mixtures,
# as in MTASS where 20,000 mixtures draw from a few thousand segments per track).
SOURCE_FACTOR = {"speech": 1.0, "music": 0.5, "noise": 0.5}
SPEAKER_SECONDS = 40.0  # about how long each synthetic speaker talks
SECONDS_PER_SENTENCE = 3.2  # eSpeak reading one bank sentence plus the pause after it
PIECE_SECONDS = 36.0  # length of a generated song
NOISE_SECONDS = 20.0  # length of a noise scene
_SPLIT_OF_RESIDUE = {0: "test", 1: "dev"}


def split_of_index(index: int) -> str:
    """Split of bank item ``index`` (sentences, voice variants, chorales): ``k % 8 == 0`` test, ``== 1`` dev, else train."""
    return _SPLIT_OF_RESIDUE.get(index % 8, "train")


def _of_split(items, split: str) -> tuple:
    return tuple(x for k, x in enumerate(items) if split_of_index(k) == split)


def sentences_for_split(language: str, split: str) -> tuple[str, ...]:
    """The bank sentences of ``language`` (``"en"`` / ``"cmn"``) that ``split`` may use."""
    bank = {"en": speech_synth.ENGLISH_SENTENCES, "cmn": speech_synth.MANDARIN_SENTENCES}[language]
    return _of_split(bank, split)


def variants_for_split(split: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(female, male)`` eSpeak voice variants that ``split`` may use."""
    return _of_split(speech_synth.FEMALE_VARIANTS, split), _of_split(speech_synth.MALE_VARIANTS, split)


def chorales_for_split(split: str) -> tuple[str, ...]:
    """The music21 Bach pieces that ``split`` may use."""
    return _of_split(music_synth.chorale_names(), split)


@dataclass(frozen=True)
class MusicSpec:
    """A piece to render: a generated ``song`` of ``seconds`` or the chorale ``piece``, from ``entropy``."""

    id: str
    kind: str
    entropy: tuple[int, ...]
    piece: str
    seconds: float
    level_db: float


@dataclass(frozen=True)
class NoiseSpec:
    """A noise scene: generator ``kinds`` (:data:`~mtass_lite.data.noise_synth.NOISE_TYPES`), ``seconds``, ``entropy``."""

    id: str
    kinds: tuple[str, ...]
    entropy: tuple[int, ...]
    seconds: float
    level_db: float


@dataclass
class SplitPlan:
    """What a split's source pools are made of (cheap to compute: nothing is rendered)."""

    split: str
    speakers: list[SpeakerSpec]
    music: list[MusicSpec]
    noise: list[NoiseSpec]


def plan_split(split: str, seed: int, n_mixtures: int, segment_seconds: float) -> SplitPlan:
    """The speakers, pieces and noise scenes of one split: a pure function of its arguments.

    Pool sizes follow :data:`SOURCE_FACTOR` times the split's mixture duration, with at least
    two recordings per track (one English and one Mandarin speaker, a song and a chorale).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    total = n_mixtures * segment_seconds
    base = [int(seed), split_key(split)]
    rng = np.random.default_rng(base + [0])

    # Speech: alternate English and Mandarin speakers; each reads sentences of its split's bank.
    target = max(total * SOURCE_FACTOR["speech"], 2 * segment_seconds)
    n_speakers = max(2, math.ceil(target / SPEAKER_SECONDS))
    n_sentences = max(2, math.ceil(target / n_speakers / SECONDS_PER_SENTENCE))
    female, male = variants_for_split(split)
    speakers = []
    for k in range(n_speakers):
        language = ("en", "cmn")[k % 2]
        bank = sentences_for_split(language, split)
        order = np.concatenate([rng.permutation(len(bank)) for _ in range(math.ceil(n_sentences / len(bank)))])
        variants = female if rng.random() < 0.5 else male
        variant = variants[int(rng.integers(len(variants)))]
        accent = speech_synth.ENGLISH_ACCENTS[int(rng.integers(len(speech_synth.ENGLISH_ACCENTS)))] \
            if language == "en" else "cmn"
        speakers.append(SpeakerSpec(
            id=f"{split}_spk{k:03d}_{language}",
            language=language,
            voice=f"{accent}+{variant}",
            rate=int(rng.integers(140, 196) if language == "en" else rng.integers(125, 176)),
            pitch=int(rng.integers(30, 71)),
            pitch_range=int(rng.integers(25, 86)),
            sentences=tuple(bank[j] for j in order[:n_sentences]),
            pauses_ms=tuple(int(v) for v in rng.integers(250, 901, n_sentences)),
            level_db=round(float(rng.uniform(-35, -25)), 2),
        ))

    # Music: two generated songs for each chorale.
    target = max(total * SOURCE_FACTOR["music"], 2 * segment_seconds)
    n_pieces = max(2, math.ceil(target / PIECE_SECONDS))
    chorales = chorales_for_split(split)
    chorale_order = rng.permutation(len(chorales))
    music, n_chorales = [], 0
    for k in range(n_pieces):
        is_chorale = k % 3 == 1
        piece = chorales[chorale_order[n_chorales % len(chorales)]] if is_chorale else ""
        n_chorales += is_chorale
        music.append(MusicSpec(
            id=f"{split}_{'chorale' if is_chorale else 'song'}{k:03d}",
            kind="chorale" if is_chorale else "song",
            entropy=tuple(base + [1, k]),
            piece=piece,
            seconds=max(segment_seconds + 2, min(PIECE_SECONDS, target / n_pieces)),
            level_db=round(float(rng.uniform(-28, -18)), 2),
        ))

    # Noise: primary generator types in rotation (every type appears), a second one 40 % of the time.
    target = max(total * SOURCE_FACTOR["noise"], 2 * segment_seconds)
    n_noise = max(2, math.ceil(target / NOISE_SECONDS))
    names = sorted(noise_synth.NOISE_TYPES)
    start = int(rng.integers(len(names)))
    noise = []
    for k in range(n_noise):
        kinds = (names[(start + k) % len(names)],)
        if rng.random() < 0.4:
            second = names[int(rng.integers(len(names)))]
            kinds += (second,) if second != kinds[0] else ()
        noise.append(NoiseSpec(
            id=f"{split}_noise{k:03d}_{'+'.join(kinds)}",
            kinds=kinds,
            entropy=tuple(base + [2, k]),
            seconds=max(segment_seconds, min(NOISE_SECONDS, target / n_noise)),
            level_db=round(float(rng.uniform(-35, -20)), 2),
        ))
    return SplitPlan(split, speakers, music, noise)


def _set_level(x: np.ndarray, level_db: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x * (10 ** (level_db / 20) / max(rms, 1e-12))).astype(np.float32)


def render_music(spec: MusicSpec, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, str]:
    """Render one piece -> (float32 ``[T]`` at ``level_db`` RMS, description)."""
    rng = np.random.default_rng(list(spec.entropy))
    arrangement = music_synth.chorale(spec.piece, rng) if spec.kind == "chorale" else music_synth.song(rng, spec.seconds)
    # An excerpt of at most `seconds` (plus the release tail), so long chorales do not crowd the pool.
    x = music_synth.render(arrangement, sr)[: int(round((spec.seconds + 1.5) * sr))]
    return _set_level(x, spec.level_db), arrangement.description


def render_noise(spec: NoiseSpec, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, str]:
    """Render one noise scene -> (float32 ``[T]`` at ``level_db`` RMS, description)."""
    rng = np.random.default_rng(list(spec.entropy))
    x, kinds = noise_synth.make_noise(rng, int(round(spec.seconds * sr)), sr, spec.kinds)
    return _set_level(x, spec.level_db), "noise " + "+".join(kinds)


def _render_task(spec) -> tuple[np.ndarray, str]:
    return render_music(spec) if isinstance(spec, MusicSpec) else render_noise(spec)


def cut_segments(recording_id: str, x: np.ndarray, segment_samples: int) -> list[Source]:
    """Cut a recording into back-to-back segments (the remainder is dropped, as in MTASS).

    A recording shorter than one segment stays whole (the mixer pads or redraws it).
    """
    n = len(x) // segment_samples
    if n == 0:
        return [Source(f"{recording_id}_s00", audio=x)]
    return [Source(f"{recording_id}_s{j:02d}", audio=x[j * segment_samples:(j + 1) * segment_samples])
            for j in range(n)]


def _speaker_description(spec: SpeakerSpec) -> str:
    return (f"voice={spec.voice} rate={spec.rate} pitch={spec.pitch} "
            f"range={spec.pitch_range} level={spec.level_db}dB")


def render_speech(speakers: list[SpeakerSpec], speech: str = tts.DEFAULT_ENGINE, workers: int = 2,
                  progress: bool = False) -> tuple[list[np.ndarray], list[str]]:
    """Render ``speakers`` with the speech engine ``speech`` -> (recordings, descriptions), in plan order.

    ``"espeak"``: every speaker with eSpeak NG. ``"piper"``: English speakers with the Piper voice
    (:mod:`mtass_lite.data.tts`, optional packages), Mandarin speakers with eSpeak NG.
    """
    tts.check_engine(speech)
    if speech == "espeak":
        return (speech_synth.render_speakers(speakers, workers=workers, progress=progress),
                [_speaker_description(s) for s in speakers])
    tts.require(speech)
    neural = [k for k, s in enumerate(speakers) if s.language == "en"]
    others = [k for k, s in enumerate(speakers) if s.language != "en"]
    out: list[Any] = [None] * len(speakers)
    descriptions = [_speaker_description(s) for s in speakers]
    for k, x in zip(neural, tts.render_speakers([speakers[k] for k in neural], workers=workers, progress=progress)):
        out[k] = x
        descriptions[k] = tts.piper_settings(speakers[k]).description()
    if others:
        for k, x in zip(others, speech_synth.render_speakers([speakers[k] for k in others], workers=workers,
                                                             progress=progress)):
            out[k] = x
    return out, descriptions


def render_pools(plan: SplitPlan, segment_seconds: float, workers: int = 2,
                 progress: bool = False, speech: str = tts.DEFAULT_ENGINE,
                 ) -> tuple[dict[str, list[Source]], list[dict[str, Any]]]:
    """Render a plan's recordings and cut them -> (pools for :func:`~mtass_lite.data.mixing.build_split`, source rows).

    ``speech``: the speech engine (:data:`mtass_lite.data.tts.ENGINES`; see :func:`render_speech`).
    """
    from tqdm.auto import tqdm

    seg = int(round(segment_seconds * SAMPLE_RATE))
    speech_audio, speech_descriptions = render_speech(plan.speakers, speech, workers, use_progress_bar(progress))
    specs = plan.music + plan.noise
    if plan.music:
        music_synth.chorale_names()  # import music21 once in the parent: forked workers inherit it
    with process_context().Pool(max(1, workers)) as pool:
        rendered = list(tqdm(pool.imap(_render_task, specs, chunksize=1), total=len(specs),
                             desc="music+noise", disable=not use_progress_bar(progress), leave=False))
    pools: dict[str, list[Source]] = {t: [] for t in TRACKS}
    rows = []
    for spec, x, description in zip(plan.speakers, speech_audio, speech_descriptions):
        pools["speech"] += cut_segments(spec.id, x, seg)
        rows.append({"track": "speech", "id": spec.id, "language": spec.language,
                     "seconds": round(len(x) / SAMPLE_RATE, 3), "segments": max(1, len(x) // seg),
                     "description": description, "text": " ".join(spec.sentences)})
    for spec, (x, description) in zip(specs, rendered):
        track = "music" if isinstance(spec, MusicSpec) else "noise"
        pools[track] += cut_segments(spec.id, x, seg)
        rows.append({"track": track, "id": spec.id, "language": "",
                     "seconds": round(len(x) / SAMPLE_RATE, 3), "segments": max(1, len(x) // seg),
                     "description": f"{description} level={spec.level_db}dB", "text": ""})
    return pools, rows


def default_tiny_root() -> Path:
    """``mtass_lite.data_root() / "mtass_tiny"`` (``<repo>/data/mtass_tiny`` unless ``MTASS_DATA_ROOT`` is set)."""
    return data_root() / "mtass_tiny"


def content_hash(root: str | Path) -> str:
    """SHA-256 over every split's metadata, sources and *decoded* audio samples.

    Decoded samples rather than file bytes: libsndfile stamps float WAVs with a PEAK chunk that
    holds the write time, so identical audio can differ in a few header bytes.
    """
    root = Path(root)
    h = hashlib.sha256()
    for split in SPLITS:
        d = root / split
        if not d.is_dir():
            continue
        for name in ("metadata.csv", "sources.csv"):
            if (d / name).exists():
                h.update(f"{split}/{name}\n".encode())
                h.update((d / name).read_bytes())
        for track in ("mixture",) + TRACKS:
            for f in sorted((d / track).glob("*.wav")):
                x, sr = sf.read(str(f), dtype="float32")
                h.update(f"{split}/{track}/{f.name}:{sr}:{x.shape}\n".encode())
                h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()


def _versions(speech: str = tts.DEFAULT_ENGINE) -> dict[str, str]:
    out = {}
    for pkg in ("numpy", "scipy", "soxr", "soundfile", "espeakng-loader", "tinysoundfont", "pretty_midi", "music21"):
        try:
            out[pkg] = importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:
            out[pkg] = "missing"
    return {**out, **tts.versions(speech)}


def marker_config(seed: int, n_train: int, n_dev: int, n_test: int, segment_seconds: float,
            speech: str = tts.DEFAULT_ENGINE) -> dict[str, Any]:
    """The marker's ``config``: a ``speech`` key for every engine but eSpeak (``tts.UNMARKED_ENGINE``), so
    the markers of every eSpeak build stay valid whichever engine is the default."""
    return {"seed": int(seed), "n_train": int(n_train), "n_dev": int(n_dev), "n_test": int(n_test),
            "segment_seconds": float(segment_seconds), **tts.engine_key(speech)}


def read_marker(root: str | Path) -> dict | None:
    """The completion marker ``<root>/mtass_tiny.json`` as a dict, or None."""
    path = Path(root) / MARKER
    return json.loads(path.read_text()) if path.exists() else None


def provenance(root: str | Path) -> dict | None:
    """What a result made on the MTASS-tiny build at ``root`` was made on: its speech engine and content
    hash (``{"speech": ..., "content_sha256": ...}``), or None when ``root`` is not a finished build.
    Results carry it so that numbers from builds with different speech are never pooled or compared."""
    marker = read_marker(root)
    if not marker:
        return None
    return {"speech": marker["config"].get("speech", tts.UNMARKED_ENGINE),
            "content_sha256": marker.get("content_sha256")}


def build_text(root: str | Path) -> str:
    """One line for results files: what the MTASS-tiny build at ``root`` is made of (its speech engine)."""
    speech = (provenance(root) or {}).get("speech", tts.UNMARKED_ENGINE)
    voices = ("English speech from the Piper neural voice, Mandarin from eSpeak NG" if speech == "piper"
              else f"{tts.ENGINE_NAMES[speech]} speech")
    return f"MTASS-tiny (synthetic: {voices}, SoundFont music, procedural noise)"


def _looks_like_tiny(root: Path) -> bool:
    return (root / MARKER).exists() or any((root / s / "build_config.json").exists() for s in SPLITS)


@contextlib.contextmanager
def _build_lock(root: Path):
    """Serialise builds of one root across processes (two notebooks calling :func:`ensure_tiny`)."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as f:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; builds are still atomic per file
            yield
            return
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build_tiny(
    root: str | Path | None = None,
    seed: int = 0,
    n_train: int = TINY_DEFAULTS["n_train"],
    n_dev: int = TINY_DEFAULTS["n_dev"],
    n_test: int = TINY_DEFAULTS["n_test"],
    segment_seconds: float = TINY_DEFAULTS["segment_seconds"],
    workers: int = 2,
    progress: bool = True,
    force: bool = False,
    speech: str = tts.DEFAULT_ENGINE,
) -> dict[str, Any]:
    """Generate MTASS-tiny into ``root`` (default :func:`default_tiny_root`) and return its marker dict.

    The same arguments always give the same audio (whatever ``workers``). An interrupted build
    resumes: the sources are re-rendered from the seed and finished mixtures are skipped.
    ``force`` deletes a previous MTASS-tiny build at ``root`` first. Prints the build time.
    ``speech``: ``"piper"`` (default; English speakers read by a neural voice, :mod:`mtass_lite.data.tts`)
    or ``"espeak"`` (every speaker eSpeak NG, the build before the switch) — into another root.

    Returns:
        the marker: ``config``, ``versions``, ``content_sha256``, ``build_seconds``, ``hours``,
        ``megabytes``, ``mixtures`` per split, ``sources`` per split and track.
    """
    root = Path(root) if root is not None else default_tiny_root()
    with _build_lock(root):
        return _build_tiny(root, seed, n_train, n_dev, n_test, segment_seconds, workers, progress, force, speech)


def _build_tiny(root: Path, seed: int, n_train: int, n_dev: int, n_test: int, segment_seconds: float,
                workers: int, progress: bool, force: bool, speech: str = tts.DEFAULT_ENGINE) -> dict[str, Any]:
    config = marker_config(seed, n_train, n_dev, n_test, segment_seconds, speech)
    tts.require(speech)  # before deleting anything: a missing optional package says how to install it
    if min(n_train, n_dev, n_test) < 1 or segment_seconds <= 0:
        raise ValueError(f"need at least one mixture per split and a positive segment length: {config}")
    if force and root.exists():
        if not _looks_like_tiny(root) and any(root.iterdir()):
            raise ValueError(f"refusing to delete {root}: it does not look like an MTASS-tiny build")
        shutil.rmtree(root)
    marker = read_marker(root)
    if marker is not None and marker["config"] != config:
        raise ValueError(f"{root} holds MTASS-tiny built with {marker['config']}; use force=True "
                         f"(--force) to rebuild it with {config}, or another root")
    (root / MARKER).unlink(missing_ok=True)  # incomplete until the marker is rewritten at the end
    t0 = time.perf_counter()
    sources = {}
    for split, n in zip(SPLITS, (n_train, n_dev, n_test)):
        plan = plan_split(split, seed, n, segment_seconds)
        pools, rows = render_pools(plan, segment_seconds, workers, progress, speech)
        sources[split] = {t: len(pools[t]) for t in TRACKS}
        build_split(root, split, pools, n, seed, segment_seconds, workers=workers, progress=progress)
        write_csv_atomic(root / split / "sources.csv", rows,
                         ("track", "id", "language", "seconds", "segments", "description", "text"))
        del pools
    build_seconds = time.perf_counter() - t0
    n_total = n_train + n_dev + n_test
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    marker = {
        "config": config,
        "versions": _versions(speech),
        "content_sha256": content_hash(root),
        "build_seconds": round(build_seconds, 1),
        "workers": workers,
        "mixtures": dict(zip(SPLITS, (n_train, n_dev, n_test))),
        "sources": sources,
        "hours": round(n_total * segment_seconds / 3600, 3),
        "megabytes": round(size / 1e6, 1),
    }
    write_json_atomic(root / MARKER, marker)
    print(f"MTASS-tiny built in {build_seconds:.1f} s at {root}: {n_train}/{n_dev}/{n_test} mixtures of "
          f"{segment_seconds:g} s ({marker['hours']:.2f} h of mixtures, {marker['megabytes']:.0f} MB)"
          + f", speech: {speech}")
    return marker


def is_complete(root: str | Path) -> bool:
    """True when ``root`` holds a finished MTASS-tiny build (marker + every split's metadata and mixtures)."""
    root = Path(root)
    marker = read_marker(root)
    if marker is None:
        return False
    for split in SPLITS:
        n = marker["mixtures"][split]
        if not (root / split / "metadata.csv").exists():
            return False
        if any(sum(1 for _ in (root / split / t).glob("*.wav")) != n for t in ("mixture",) + TRACKS):
            return False
    return True


def ensure_tiny(root: str | Path | None = None, **kwargs) -> Path:
    """Return the MTASS-tiny root, building it first if it is missing or incomplete.

    Settings given (``seed``, ``n_train``, ``n_dev``, ``n_test``, ``segment_seconds``) must match the
    existing build, and so must its speech engine (``speech``, default ``tts.DEFAULT_ENGINE``), otherwise a
    ValueError says to rebuild; ``workers``/``progress`` only affect building.
    """
    root = Path(root) if root is not None else default_tiny_root()
    if not is_complete(root):
        with _build_lock(root):
            if not is_complete(root):  # another process may have finished it while we waited
                settings = {**TINY_DEFAULTS, "seed": 0, "workers": 2, "progress": True, "force": False, **kwargs}
                _build_tiny(root, **settings)
    have = read_marker(root)["config"]
    wanted = {k: kwargs[k] for k in CONFIG_KEYS if k in kwargs}
    # the speech engine is always checked: a build of another engine (e.g. one made before the default
    # changed) would silently give every trained number of the course another value
    wanted["speech"] = tts.check_engine(kwargs.get("speech", tts.DEFAULT_ENGINE))
    if any(have.get(k, tts.UNMARKED_ENGINE) != v if k == "speech" else
           have[k] != (float(v) if k == "segment_seconds" else int(v)) for k, v in wanted.items()):
        raise ValueError(f"{root} holds MTASS-tiny built with {have}, not {wanted}: rebuild with "
                         f"build_tiny(..., force=True) / make_tiny.py --force, or use another root")
    return root


def describe(plan: SplitPlan) -> dict[str, Any]:
    """Plan summary (for chapters): counts and the languages / voices / pieces / noise types used."""
    return {
        "speakers": len(plan.speakers),
        "languages": sorted({s.language for s in plan.speakers}),
        "voices": sorted({s.voice for s in plan.speakers}),
        "pieces": [asdict(m) for m in plan.music],
        "noise_types": sorted({k for n in plan.noise for k in n.kinds}),
    }
