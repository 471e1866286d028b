"""Synthetic speech for MTASS-tiny: eSpeak NG (through the ``espeakng-loader`` wheel), English and Mandarin.

MTASS's speech is Mandarin read speech (AISHELL-1, DiDiSpeech). Offline we read a bank of short
English and Mandarin sentences with eSpeak NG's formant synthesiser, with many voice variants
(male, female, old, young), accents and pitch / range / rate settings. A *speaker* is one voice
setting reading several sentences, with pauses between them; like the paper, a speaker's
utterances are concatenated and later cut into fixed-length segments (:mod:`mtass_lite.data.tiny`).

Determinism (see PITFALLS.md): within one process eSpeak NG's output drifts from one utterance to
the next, but the *first* utterance of a fresh process is bit-identical. So the library is
initialised in the parent and every synthesis call runs in a freshly forked child
(``maxtasksperchild=1``) — :func:`synthesize` and :func:`render_speakers` do this for you.
Breathy variants (f2, f3, f5, Alicia...) also add random noise from a generator seeded at
initialisation time, so each call seeds it (``espeak_ng_SetRandSeed`` and libc ``srand``) first.

eSpeak NG produces 22,050 Hz int16; we convert to float32 and resample to 16 kHz with soxr.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE
from ..audio import resample
from .mixing import process_context

# A few dozen simple sentences per language. MTASS-tiny gives each sentence to exactly one split
# (:func:`mtass_lite.data.tiny.split_of_index`), so no test sentence is ever heard in training.
ENGLISH_SENTENCES: tuple[str, ...] = (
    "The quick brown fox jumps over the lazy dog.",
    "Please close the window before you leave the room.",
    "The train to the city leaves at half past seven.",
    "My sister bought a new bicycle last weekend.",
    "It will probably rain again tomorrow afternoon.",
    "Could you pass me the salt and the pepper, please?",
    "We walked along the river until the sun went down.",
    "The museum is closed on Mondays and public holidays.",
    "He forgot his umbrella on the bus this morning.",
    "Fresh bread smells wonderful early in the morning.",
    "The children were playing football in the park.",
    "I have to finish this report by Friday evening.",
    "Turn left at the second traffic light.",
    "She speaks three languages and is learning a fourth.",
    "The coffee in this little shop is excellent.",
    "Our flight was delayed by almost two hours.",
    "The old bridge was built more than a century ago.",
    "Do you know where I can find a good bookshop?",
    "The meeting has been moved to next Thursday.",
    "A cold wind was blowing from the north.",
    "They painted the kitchen a bright shade of yellow.",
    "Remember to water the plants while I am away.",
    "The library opens at nine in the morning.",
    "We need two more chairs for the dinner party.",
    "The doctor told him to get plenty of rest.",
    "Music was drifting through the open windows.",
    "This road leads straight down to the harbour.",
    "The cat slept all afternoon in a patch of sunlight.",
    "Can you call me back in about ten minutes?",
    "The price of vegetables has gone up again.",
    "He read the letter twice and then put it away.",
    "The garden is full of roses in early summer.",
    "Please write your name at the top of the page.",
    "The storm knocked down several trees last night.",
    "I would like a table for four, near the window.",
    "The students listened carefully to the lecture.",
    "Our neighbours have a very friendly old dog.",
    "The shop on the corner sells fresh fruit every day.",
    "She was born in a small village by the sea.",
    "Let us meet at the station at noon.",
    "The mountains looked blue in the evening light.",
    "Nobody expected the game to end in a draw.",
    "He always takes the stairs instead of the lift.",
    "The soup needs a little more salt.",
    "We watched the boats sail slowly out of the bay.",
    "The printer on the second floor is out of paper.",
    "Winter evenings are long and quiet here.",
    "I found my keys under a pile of newspapers.",
)

MANDARIN_SENTENCES: tuple[str, ...] = (
    "今天天气很好，我们去公园散步吧。",
    "请把窗户关上，外面风很大。",
    "我每天早上七点起床。",
    "这家饭馆的菜又便宜又好吃。",
    "火车下午三点从北京出发。",
    "他的妹妹在大学学习历史。",
    "明天可能会下雨，记得带伞。",
    "我们周末一起去看电影好吗？",
    "图书馆星期一不开门。",
    "请问去火车站怎么走？",
    "孩子们在操场上踢足球。",
    "这本书我已经看了两遍了。",
    "她会说三种语言。",
    "我想买一斤苹果和两斤香蕉。",
    "会议改到下个星期四了。",
    "这条河的水非常清。",
    "晚上的城市特别安静。",
    "他忘了把钥匙放在哪里。",
    "医生让他多喝水，多休息。",
    "我们坐公共汽车去上班。",
    "这座桥已经有一百多年的历史了。",
    "春天来了，花园里开满了花。",
    "请在纸的上面写上你的名字。",
    "昨天晚上的风把树吹倒了。",
    "我想订一张四个人的桌子。",
    "学生们认真地听老师讲课。",
    "邻居家有一只很可爱的小狗。",
    "街角的商店每天都卖新鲜水果。",
    "她出生在海边的一个小村子。",
    "我们中午在车站见面吧。",
    "山在傍晚的阳光下显得很蓝。",
    "他每天都走楼梯，不坐电梯。",
    "这个汤需要再放一点盐。",
    "二楼的打印机没有纸了。",
    "冬天的晚上又长又安静。",
    "我在一堆报纸下面找到了钥匙。",
    "妈妈在厨房里做晚饭。",
    "这个问题其实很简单。",
    "飞机晚点了差不多两个小时。",
    "他每天晚上都给家里打电话。",
)

# eSpeak NG voice variants that sound like people (robotic, echoing, whispering and joke
# variants left out). MTASS-tiny gives each variant to one split: test voices are never trained on.
FEMALE_VARIANTS: tuple[str, ...] = (
    "f1", "f2", "f3", "f4", "f5", "Alicia", "Andrea", "Annie", "anika", "aunty", "belinda",
    "grandma", "linda", "steph", "steph2", "shelby",
)
MALE_VARIANTS: tuple[str, ...] = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "Alex", "Andy", "Denis", "Diogo", "Gene",
    "Henrique", "Hugo", "Jacky", "Lee", "Mario", "Michael", "Mike", "antonio", "boris", "ed",
    "gustave", "grandpa", "iven", "marcelo", "max", "michel", "miguel", "paul", "pedro",
    "quincy", "rob", "robert", "sandro", "travis", "victor", "klatt", "klatt3", "david", "edward",
)
# Accents for English speakers; Mandarin uses eSpeak's "cmn" voice.
ENGLISH_ACCENTS: tuple[str, ...] = (
    "en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan",
)
LANGUAGES: dict[str, str] = {"en": "English", "cmn": "Mandarin"}

ESPEAK_RATE = 22_050  # Hz, eSpeak NG's output rate


@dataclass(frozen=True)
class SpeakerSpec:
    """One synthetic speaker reading ``sentences`` in one voice setting.

    ``voice`` is an eSpeak voice name with a variant (``"en-us+f3"``, ``"cmn+m2"``); ``rate`` in
    words per minute (eSpeak default 175), ``pitch`` and ``pitch_range`` on eSpeak's 0-100 scale
    (default 50); ``pauses_ms`` the silence after each sentence; ``level_db`` the RMS of the
    whole recording in dBFS.
    """

    id: str
    language: str
    voice: str
    rate: int
    pitch: int
    pitch_range: int
    sentences: tuple[str, ...]
    pauses_ms: tuple[int, ...]
    level_db: float

    def ssml(self) -> str:
        """The text eSpeak reads: sentences separated by SSML ``<break>`` pauses."""
        return "".join(f'{s}<break time="{p}ms"/>' for s, p in zip(self.sentences, self.pauses_ms))


# ---------------------------------------------------------------------------------------------
# eSpeak NG through ctypes
# ---------------------------------------------------------------------------------------------
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8, _SSML = 0x1, 0x10
_PARAM = {"rate": 1, "pitch": 3, "range": 4}
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

_lib = None
_callback = None  # keep a reference: ctypes must not garbage-collect the C callback
_chunks: list[np.ndarray] = []


def _collect(wav, n_samples, events) -> int:
    if n_samples > 0 and wav:
        _chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
    return 0  # 0 = keep synthesising


def espeak_data_path() -> Path:
    import espeakng_loader
    return Path(espeakng_loader.get_data_path())


def _espeak():
    """Load and initialise libespeak-ng once per process (call it in the parent before forking)."""
    global _lib, _callback
    if _lib is None:
        import espeakng_loader
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(espeak_data_path()).encode(),
                                   _INITIALIZE_DONT_EXIT)
        if sr != ESPEAK_RATE:
            raise RuntimeError(f"eSpeak NG failed to initialise (returned {sr}); check espeakng-loader")
        _callback = _CALLBACK(_collect)
        lib.espeak_SetSynthCallback(_callback)
        _lib = lib
    return _lib


def available_variants() -> set[str]:
    """Names of the voice variants shipped with this eSpeak NG data (``espeak-ng-data/voices/!v``)."""
    return {p.name for p in (espeak_data_path() / "voices" / "!v").iterdir()}


def _seed_random(seed: int) -> None:
    """Seed eSpeak's random generators: voices with ``breath`` (f2, f3, f5, Alicia...) add random noise.

    eSpeak NG draws it from libc ``rand()`` / its own generator, whose state otherwise depends on
    when the parent initialised the library, so those voices changed from run to run.
    """
    seed = int(seed) & 0x7FFFFFFF
    _espeak().espeak_ng_SetRandSeed(seed)
    try:
        libc = ctypes.CDLL(None) if sys.platform != "win32" else ctypes.CDLL(ctypes.util.find_library("c"))
        libc.srand(ctypes.c_uint(seed))
    except (OSError, AttributeError, TypeError):  # no reachable libc: eSpeak's own seed still applies
        pass


def _synthesize_here(text: str, voice: str, rate: int, pitch: int, pitch_range: int,
                     ssml: bool, seed: int = 0) -> np.ndarray:
    """Synthesise in *this* process -> int16 ``[T]`` at 22,050 Hz. Only deterministic in a fresh process."""
    lib = _espeak()
    _chunks.clear()
    _seed_random(seed)
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise ValueError(f"eSpeak NG has no voice {voice!r}")
    for name, value in (("rate", rate), ("pitch", pitch), ("range", pitch_range)):
        lib.espeak_SetParameter(_PARAM[name], int(value), 0)
    data = text.encode("utf-8") + b"\0"
    flags = _CHARS_UTF8 | (_SSML if ssml else 0)
    err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, flags, None, None)
    if err != 0:
        raise RuntimeError(f"espeak_Synth failed with error {err} for voice {voice!r}")
    lib.espeak_Synchronize()
    out = np.concatenate(_chunks) if _chunks else np.zeros(0, np.int16)
    _chunks.clear()
    return out


def _check_variant(voice: str) -> None:
    # eSpeak silently falls back to the plain voice for an unknown "+variant": refuse instead.
    if "+" in voice:
        variant = voice.split("+", 1)[1]
        if variant not in available_variants():
            raise ValueError(f"unknown eSpeak NG voice variant {variant!r} in {voice!r}")


def _to_float_16k(x_int16: np.ndarray, sr: int) -> np.ndarray:
    return resample(x_int16.astype(np.float32) / 32768.0, ESPEAK_RATE, sr)


def _render_speaker_task(args: tuple[SpeakerSpec, int]) -> np.ndarray:
    spec, sr = args
    seed = zlib.crc32(f"{spec.id}|{spec.voice}".encode())
    x = _to_float_16k(_synthesize_here(spec.ssml(), spec.voice, spec.rate, spec.pitch,
                                       spec.pitch_range, ssml=True, seed=seed), sr)
    if x.size == 0:
        raise RuntimeError(f"eSpeak NG produced no audio for speaker {spec.id}")
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x * (10 ** (spec.level_db / 20) / max(rms, 1e-12))).astype(np.float32)


def _synthesize_task(args: tuple) -> np.ndarray:
    text, voice, rate, pitch, pitch_range, sr, seed = args
    return _to_float_16k(_synthesize_here(text, voice, rate, pitch, pitch_range, ssml=False, seed=seed), sr)


def synthesize(text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50,
               pitch_range: int = 50, sr: int = SAMPLE_RATE, seed: int = 0) -> np.ndarray:
    """Speak ``text`` -> float32 ``[T]`` at ``sr`` (bit-identical on every call).

    Runs eSpeak NG in a fresh child process (see the module docstring for why).
    ``voice`` is e.g. ``"en-us"``, ``"en-gb-x-rp+f3"`` or ``"cmn+m2"`` (Mandarin); ``seed`` sets
    the breath noise of breathy variants.
    """
    _check_variant(voice)
    _espeak()  # initialise in the parent: a forked child starts from this fresh state
    with process_context().Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(_synthesize_task, ((text, voice, rate, pitch, pitch_range, sr, seed),))


def render_speakers(specs: list[SpeakerSpec], workers: int = 2, sr: int = SAMPLE_RATE,
                    progress: bool = False) -> list[np.ndarray]:
    """Synthesise each speaker's concatenated sentences -> list of float32 ``[T_k]`` at ``sr``.

    Every speaker is rendered in its own fresh child process (``maxtasksperchild=1``), ``workers``
    at a time, so the output does not depend on ``workers`` or on the order.
    """
    from tqdm.auto import tqdm

    for spec in specs:
        _check_variant(spec.voice)
    _espeak()
    with process_context().Pool(max(1, workers), maxtasksperchild=1) as pool:
        it = pool.imap(_render_speaker_task, [(s, sr) for s in specs], chunksize=1)
        return list(tqdm(it, total=len(specs), desc="speech", disable=not progress, leave=False))


def language_of_voice(voice: str) -> str:
    """``"cmn"`` for Mandarin voices, ``"en"`` for English ones."""
    return "cmn" if re.match(r"^cmn\b", voice) else "en"
