"""Synthetic music for MTASS-tiny: arrangements rendered through a General-MIDI SoundFont.

MTASS's music track is whole songs (DSD100 mixtures): accompaniment *and* singing. Offline we
render two kinds of pieces with tinysoundfont and the ``TimGM6mb.sf2`` SoundFont that pretty_midi
ships:

* :func:`song` — a generated pop-style song: a chord progression in a random key and tempo, bass,
  a keyboard / guitar / string / pad part (block chords, pulses or arpeggios), a phrase-structured
  lead melody that is *sung* (choir aahs 52, voice oohs 53, synth voice 54, voice lead 85) more
  than half of the time, optional backing vocals, and drums most of the time.
* :func:`chorale` — a Bach chorale from music21's bundled (offline) corpus, voiced by a choir, a
  singer with instruments, or an instrumental ensemble.

Both return an :class:`Arrangement` (notes + programs); :func:`render` turns it into mono float32
audio. Everything is a pure function of the ``numpy.random.Generator`` passed in, and tinysoundfont
rendering is bit-identical, so pieces are reproducible from their seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE

DRUM_CHANNEL = 9
VOICE_PROGRAMS = (52, 53, 54, 85)  # GM: choir aahs, voice oohs, synth voice, lead 6 (voice)
LEAD_PROGRAMS = (11, 13, 40, 41, 56, 57, 60, 64, 65, 66, 68, 71, 73, 74, 80, 81)
BASS_PROGRAMS = (32, 33, 34, 35, 36, 38, 39)
HARMONY_PROGRAMS = (0, 1, 2, 4, 5, 6, 16, 17, 19, 24, 25, 26, 27, 46, 48, 49, 50, 88, 89, 90, 91, 92)
ENSEMBLE_PROGRAMS = (0, 6, 19, 40, 41, 42, 43, 48, 56, 57, 58, 60, 68, 69, 70, 71, 73)
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# Chord progressions as scale degrees (0 = tonic), one chord per bar.
PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 3), (0, 3, 0, 4), (0, 5, 1, 4),
              (3, 4, 0, 0), (0, 2, 3, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (0, 5, 3, 4)),
}
# GM drum keys
KICK, SNARE, CLAP, HAT, OPEN_HAT, CRASH, RIDE = 36, 38, 39, 42, 46, 49, 51
TOMS = (50, 48, 47, 45)


@dataclass(frozen=True)
class Note:
    """A note: ``start`` and ``duration`` in seconds, MIDI ``key`` and ``velocity``."""

    start: float
    duration: float
    channel: int
    key: int
    velocity: int


@dataclass
class Arrangement:
    """What to play: notes, one GM ``program`` per channel (channel 9 = drum kit), mixer settings.

    ``seconds`` is the rendered length (the last notes plus a release tail).
    """

    notes: list[Note]
    programs: dict[int, int]
    seconds: float
    volumes: dict[int, int] = field(default_factory=dict)  # MIDI CC7, 0-127
    pans: dict[int, int] = field(default_factory=dict)  # MIDI CC10, 0-127 (64 = centre)
    description: str = ""


def soundfont_path() -> Path:
    """pretty_midi's bundled General-MIDI SoundFont ``TimGM6mb.sf2``."""
    import pretty_midi

    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.exists():
        raise FileNotFoundError(f"TimGM6mb.sf2 not found in the pretty_midi package ({path.parent})")
    return path


def render(arrangement: Arrangement, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Render with tinysoundfont -> mono float32 ``[round(seconds * sr)]`` (mean of the stereo pair)."""
    import tinysoundfont
    from tinysoundfont.midi import ControlChange, Event, NoteOff, NoteOn, ProgramChange

    synth = tinysoundfont.Synth(samplerate=sr)  # a fresh synth per piece: no state carried over
    synth.sfload(str(soundfont_path()))
    seq = tinysoundfont.Sequencer(synth)
    timed = []  # (time, order, event): at equal times set-up first, then note-offs, then note-ons
    for ch, program in arrangement.programs.items():
        timed.append((0.0, 0, Event(ProgramChange(program), t=0.0, channel=ch, persistent=False)))
        for cc, values in ((7, arrangement.volumes), (10, arrangement.pans)):
            if ch in values:
                timed.append((0.0, 0, Event(ControlChange(cc, values[ch]), t=0.0, channel=ch, persistent=False)))
    for n in arrangement.notes:
        start = max(0.0, n.start)
        timed.append((start, 2, Event(NoteOn(n.key, n.velocity), t=start, channel=n.channel, persistent=False)))
        end = start + max(n.duration, 0.01)
        timed.append((end, 1, Event(NoteOff(n.key), t=end, channel=n.channel, persistent=False)))
    timed.sort(key=lambda e: (e[0], e[1]))
    seq.add([e for _, _, e in timed])
    n_samples = int(round(arrangement.seconds * sr))
    stereo = np.frombuffer(synth.generate(n_samples), dtype=np.float32)[: 2 * n_samples]
    return stereo.reshape(-1, 2).mean(axis=1).astype(np.float32)


def _pitch(scale: tuple[int, ...], base: int, degree: int) -> int:
    """MIDI key of scale ``degree`` (may exceed 6 or be negative) above ``base``."""
    octave, step = divmod(degree, 7)
    return base + 12 * octave + scale[step]


def _melody_phrase(rng: np.random.Generator, bars: int, beats_per_bar: int) -> list[tuple[float, float, int]]:
    """A phrase as (onset_beats, duration_beats, scale_degree_offset), ending on a long note."""
    rhythms = ((1, 1, 1, 1), (2, 1, 1), (1, 1, 2), (0.5, 0.5, 1, 1, 1), (1.5, 0.5, 2), (1, 0.5, 0.5, 2),
               (3, 1), (0.5, 0.5, 0.5, 0.5, 1, 1))
    notes, degree, t = [], int(rng.integers(0, 5)), 0.0
    for bar in range(bars):
        pattern = (4,) if bar == bars - 1 else rhythms[rng.integers(len(rhythms))]
        for dur in pattern:
            if rng.random() < 0.1 and bar < bars - 1:  # a breath
                t += dur
                continue
            step = int(rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]))
            degree = int(np.clip(degree + step, -2, 9))
            notes.append((t, dur, degree))
            t += dur
    return notes


def song(rng: np.random.Generator, seconds: float) -> Arrangement:
    """A generated song of about ``seconds`` (whole bars) with sung or played melody, bass, harmony, drums."""
    mode = "major" if rng.random() < 0.65 else "minor"
    scale = MAJOR if mode == "major" else MINOR
    progression = PROGRESSIONS[mode][rng.integers(len(PROGRESSIONS[mode]))]
    tempo = float(rng.uniform(76, 140))
    beat = 60.0 / tempo
    bar = 4 * beat
    n_bars = max(2, int(np.ceil(seconds / bar)))
    tonic = int(rng.integers(0, 12))
    sung = rng.random() < 0.55
    programs = {
        0: int(rng.choice(VOICE_PROGRAMS if sung else LEAD_PROGRAMS)),
        1: int(rng.choice(BASS_PROGRAMS)),
        2: int(rng.choice(HARMONY_PROGRAMS)),
    }
    backing = rng.random() < 0.35
    if backing:  # backing vocals: sustained chord tones on a choir patch
        programs[3] = int(rng.choice((52, 53)))
    drums = rng.random() < 0.8
    if drums:
        programs[DRUM_CHANNEL] = 0
    notes: list[Note] = []
    jitter = lambda: float(rng.normal(0, 0.004))  # noqa: E731 - human timing, ~4 ms
    vel = lambda v: int(np.clip(v + rng.integers(-8, 9), 20, 127))  # noqa: E731
    harmony_style = ("block", "pulse", "arpeggio")[rng.integers(3)]
    bass_style = ("half", "eighths", "root_fifth")[rng.integers(3)]

    for b in range(n_bars):
        t0 = b * bar
        degree = progression[b % len(progression)]
        chord = [_pitch(scale, 60 + tonic - 12 * (tonic > 5), degree + k) for k in (0, 2, 4)]
        root = _pitch(scale, 36 + tonic, degree)
        # bass
        if bass_style == "half":
            hits = [(0, 2, root), (2, 2, root)]
        elif bass_style == "eighths":
            hits = [(k * 0.5, 0.45, root) for k in range(8)]
        else:
            hits = [(0, 1.5, root), (1.5, 0.5, root), (2, 2, _pitch(scale, 36 + tonic, degree + 4))]
        notes += [Note(t0 + o * beat + jitter(), d * beat, 1, k, vel(95)) for o, d, k in hits]
        # harmony
        if harmony_style == "block":
            notes += [Note(t0 + jitter(), bar * 0.98, 2, k, vel(70)) for k in chord]
        elif harmony_style == "pulse":
            notes += [Note(t0 + q * beat + jitter(), beat * 0.6, 2, k, vel(72)) for q in range(4) for k in chord]
        else:
            arp = chord + [chord[0] + 12, chord[2] + 12 - 12 * (chord[2] > 72)]
            notes += [Note(t0 + e * beat / 2 + jitter(), beat * 0.9, 2, arp[e % len(arp)], vel(70)) for e in range(8)]
        if backing:
            notes += [Note(t0, bar * 0.95, 3, k + 12 * (k < 60), vel(55)) for k in chord[1:]]
        if drums:
            for e in range(8):  # eighth-note grid
                t = t0 + e * beat / 2 + jitter()
                if e in (0, 4) or (e == 6 and rng.random() < 0.3):
                    notes.append(Note(t, 0.1, DRUM_CHANNEL, KICK, vel(105)))
                if e in (2, 6):
                    notes.append(Note(t, 0.1, DRUM_CHANNEL, SNARE if rng.random() < 0.8 else CLAP, vel(95)))
                if b % 4 == 3 and e >= 4 and rng.random() < 0.5:  # fill
                    notes.append(Note(t, 0.15, DRUM_CHANNEL, int(rng.choice(TOMS)), vel(90)))
                else:
                    notes.append(Note(t, 0.05, DRUM_CHANNEL, OPEN_HAT if e % 2 and rng.random() < 0.15 else HAT, vel(70)))
            if b % 8 == 0:
                notes.append(Note(t0, 1.0, DRUM_CHANNEL, CRASH, vel(90)))

    # Melody: phrases A and B of four bars, sung/played A B A B'..., strong beats on chord tones.
    phrases = [_melody_phrase(rng, 4, 4) for _ in range(2)]
    melody_base = 60 + tonic - 12 * (tonic > 5) + (12 if programs[0] in (40, 73, 74, 80, 81) else 0)
    for p_idx, start_bar in enumerate(range(0, n_bars, 4)):
        phrase = phrases[p_idx % 2]
        for onset, dur, deg in phrase:
            bar_idx = start_bar + int(onset // 4)
            if bar_idx >= n_bars:
                break
            chord_deg = progression[bar_idx % len(progression)]
            if onset % 2 == 0:  # beats 1 and 3: snap to the nearest chord tone
                tones = [chord_deg + k + 7 * o for k in (0, 2, 4) for o in (-1, 0, 1)]
                deg = min(tones, key=lambda c: (abs(c - deg), c))
            key = _pitch(scale, melody_base, deg)
            notes.append(Note(start_bar * bar + onset * beat + jitter(), dur * beat * 0.95, 0, key, vel(100)))

    volumes = {ch: int(rng.integers(80, 121)) for ch in programs}
    volumes[0] = int(rng.integers(105, 128))
    pans = {ch: int(rng.integers(34, 95)) for ch in programs}
    pans[0] = 64
    description = (f"song {mode} key={tonic} tempo={tempo:.0f} melody={programs[0]}{' sung' if sung else ''} "
                   f"bass={programs[1]} harmony={programs[2]}/{harmony_style}"
                   f"{' backing=' + str(programs[3]) if backing else ''}{' drums' if drums else ''}")
    return Arrangement(notes, programs, n_bars * bar + 1.5, volumes, pans, description)


@lru_cache(maxsize=1)
def chorale_names() -> tuple[str, ...]:
    """Sorted names (``"bwv66.6"``...) of the Bach pieces in music21's bundled corpus."""
    from music21 import corpus

    names = {Path(p).stem for p in corpus.getComposer("bach") if Path(p).suffix in (".mxl", ".xml")}
    return tuple(sorted(n for n in names if n.startswith("bwv")))


def chorale(name: str, rng: np.random.Generator, max_parts: int = 8) -> Arrangement:
    """A Bach piece from music21's corpus (``"bwv66.6"``), at a random tempo, key shift and voicing.

    Voicings: ``choir`` (every part on choir aahs / voice oohs), ``sung`` (the top part sung, the
    others played) or ``instrumental`` (a random ensemble).
    """
    from music21 import corpus

    score = corpus.parse(f"bach/{name}")
    qpm = float(rng.uniform(60, 96))
    quarter = 60.0 / qpm
    shift = int(rng.integers(-4, 5))
    voicing = ("choir", "sung", "instrumental")[rng.choice(3, p=[0.35, 0.35, 0.3])]
    notes, programs = [], {}
    parts = [p for p in score.parts if len(p.flatten().notes)][:max_parts]
    for k, part in enumerate(parts):
        ch = k if k < DRUM_CHANNEL else k + 1
        if voicing == "choir":
            programs[ch] = int(rng.choice((52, 53)))
        elif voicing == "sung":
            programs[ch] = int(rng.choice(VOICE_PROGRAMS)) if k == 0 else int(rng.choice(ENSEMBLE_PROGRAMS))
        else:
            programs[ch] = int(rng.choice(ENSEMBLE_PROGRAMS))
        for n in part.flatten().stripTies().notes:
            for p in n.pitches:
                notes.append(Note(float(n.offset) * quarter + float(rng.normal(0, 0.004)),
                                  float(n.quarterLength) * quarter * 0.97, ch,
                                  int(np.clip(p.midi + shift, 0, 127)),
                                  int(np.clip(85 + rng.integers(-10, 11), 1, 127))))
    if not notes:
        raise ValueError(f"music21 corpus piece bach/{name} holds no notes")
    end = max(n.start + n.duration for n in notes)
    volumes = {ch: int(rng.integers(90, 121)) for ch in programs}
    pans = {ch: int(rng.integers(30, 99)) for ch in programs}
    description = f"chorale {name} {voicing} tempo={qpm:.0f} shift={shift} programs={sorted(programs.values())}"
    return Arrangement(notes, programs, end + 1.5, volumes, pans, description)
