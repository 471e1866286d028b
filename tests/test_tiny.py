"""MTASS-tiny: generators, disjoint splits, bit-identical rebuilds, resume, ensure_tiny."""
from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
import soundfile as sf

from mtass_lite import SAMPLE_RATE, TRACKS
from mtass_lite.data import music_synth, noise_synth, speech_synth, tiny
from mtass_lite.data.datasets import MTASSDataset

SMALL = dict(seed=0, n_train=6, n_dev=2, n_test=2, segment_seconds=2.0)
# The build mechanics (layout, determinism, resume, reuse) do not depend on the speech engine; eSpeak builds
# them in seconds, the neural voice (one forked process per speaker) in minutes. tests/test_tts.py renders
# with the neural voice (deterministic, worker-independent) and checks the engine in the marker.
ENGINE = "espeak"


def rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20)


def decoded(root) -> dict[str, object]:
    out = {}
    for f in sorted(root.rglob("*")):
        rel = str(f.relative_to(root))
        if f.suffix == ".wav":
            out[rel] = sf.read(str(f), dtype="float32")[0]
        elif f.suffix == ".csv":
            out[rel] = f.read_bytes()
    return out


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) else a[k] == b[k] for k in a)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny") / "a"
    marker = tiny.build_tiny(root, workers=2, progress=False, speech=ENGINE, **SMALL)
    return root, marker


def test_speech_synth_english_and_mandarin_16k():
    en = speech_synth.synthesize("Hello, this is a test.", "en-us+f3")
    zh = speech_synth.synthesize("今天天气很好。", "cmn+m2")
    for x in (en, zh):
        assert x.dtype == np.float32 and x.ndim == 1
        assert 0.5 * SAMPLE_RATE < x.size < 4 * SAMPLE_RATE
        assert rms_db(x) > -40 and np.abs(x).max() <= 1.0
    np.testing.assert_array_equal(en, speech_synth.synthesize("Hello, this is a test.", "en-us+f3"))
    with pytest.raises(ValueError, match="variant"):
        speech_synth.synthesize("Hello", "en-us+nonexistent")


def test_music_renders_songs_and_chorales():
    rng = np.random.default_rng(0)
    arrangement = music_synth.song(rng, seconds=3.0)
    x = music_synth.render(arrangement)
    assert x.dtype == np.float32 and x.shape == (int(round(arrangement.seconds * SAMPLE_RATE)),)
    assert arrangement.seconds >= 3.0 and rms_db(x) > -40
    np.testing.assert_array_equal(x, music_synth.render(music_synth.song(np.random.default_rng(0), 3.0)))
    voiced = [music_synth.song(np.random.default_rng(s), 2.0).programs[0] for s in range(12)]
    assert any(p in music_synth.VOICE_PROGRAMS for p in voiced)  # sung melodies occur
    chorale = music_synth.chorale(tiny.chorales_for_split("test")[0], np.random.default_rng(1))
    assert len(chorale.notes) > 20 and chorale.seconds > 5


@pytest.mark.parametrize("kind", sorted(noise_synth.NOISE_TYPES))
def test_noise_generators(kind):
    n = SAMPLE_RATE
    x = noise_synth.NOISE_TYPES[kind](np.random.default_rng(0), n, SAMPLE_RATE)
    assert x.dtype == np.float32 and x.shape == (n,) and np.all(np.isfinite(x))
    assert rms_db(x) == pytest.approx(0.0, abs=0.01)
    np.testing.assert_array_equal(x, noise_synth.NOISE_TYPES[kind](np.random.default_rng(0), n, SAMPLE_RATE))
    assert not np.array_equal(x, noise_synth.NOISE_TYPES[kind](np.random.default_rng(1), n, SAMPLE_RATE))


def test_split_pools_are_disjoint():
    plans = {s: tiny.plan_split(s, 0, n, 6.0) for s, n in zip(tiny.SPLITS, (400, 50, 50))}
    keys = {
        "sentences": lambda p: {x for sp in p.speakers for x in sp.sentences},
        "variants": lambda p: {sp.voice.split("+")[1] for sp in p.speakers},
        "voice settings": lambda p: {(sp.voice, sp.rate, sp.pitch, sp.pitch_range) for sp in p.speakers},
        "chorales": lambda p: {m.piece for m in p.music if m.kind == "chorale"},
        "music seeds": lambda p: {m.entropy for m in p.music},
        "noise seeds": lambda p: {n.entropy for n in p.noise},
    }
    for name, get in keys.items():
        sets = {s: get(p) for s, p in plans.items()}
        assert all(sets.values()), name
        for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
            assert not sets[a] & sets[b], f"{name} shared by {a} and {b}"
    for plan in plans.values():
        assert {sp.language for sp in plan.speakers} == {"en", "cmn"}
        assert {m.kind for m in plan.music} == {"song", "chorale"}
    assert {k for n in plans["train"].noise for k in n.kinds} == set(noise_synth.NOISE_TYPES)
    assert tiny.plan_split("train", 1, 400, 6.0).speakers != plans["train"].speakers


def test_build_layout_and_contents(built):
    root, marker = built
    assert marker["config"] == SMALL and tiny.is_complete(root)
    assert marker["hours"] == pytest.approx(10 * 2.0 / 3600, abs=1e-3)
    for split, n in zip(tiny.SPLITS, (6, 2, 2)):
        ds = MTASSDataset(root, split)
        assert len(ds) == n
        mix, tgt = ds[0]
        assert mix.shape == (2 * SAMPLE_RATE,) and tgt.shape == (3, 2 * SAMPLE_RATE)
        assert float((mix - tgt.sum(0)).abs().max()) == 0.0
        for t in range(3):
            assert rms_db(tgt[t].numpy()) > -70, TRACKS[t]
        with open(root / split / "sources.csv", newline="", encoding="utf-8") as f:
            sources = list(csv.DictReader(f))
        speech = [r for r in sources if r["track"] == "speech"]
        assert {r["language"] for r in speech} == {"en", "cmn"}
        assert any(r["description"].startswith("voice=cmn+") for r in speech)
        assert any(r["description"].startswith("voice=en") for r in speech)


def test_rebuild_is_identical_and_worker_independent(built, tmp_path):
    root, marker = built
    again = tiny.build_tiny(tmp_path / "b", workers=1, progress=False, speech=ENGINE, **SMALL)
    assert again["content_sha256"] == marker["content_sha256"]
    assert same(decoded(root), decoded(tmp_path / "b"))


def test_interrupted_build_resumes(built, tmp_path):
    root, marker = built
    copy = tmp_path / "c"
    shutil.copytree(root, copy)
    (copy / tiny.MARKER).unlink()
    (copy / "dev" / "metadata.csv").unlink()
    for f in list((copy / "train" / "music").glob("*.wav"))[:3]:
        f.unlink()
    (copy / "test" / "noise" / ".000001.x.tmp.wav").write_bytes(b"partial")
    assert not tiny.is_complete(copy)
    again = tiny.build_tiny(copy, workers=2, progress=False, speech=ENGINE, **SMALL)
    assert again["content_sha256"] == marker["content_sha256"]
    assert same(decoded(root), decoded(copy))


def test_ensure_tiny_reuses_a_complete_build(built):
    root, marker = built
    assert tiny.ensure_tiny(root, speech=ENGINE) == root
    assert tiny.ensure_tiny(root, n_train=6, seed=0, speech=ENGINE) == root
    assert tiny.read_marker(root) == marker  # not rebuilt
    with pytest.raises(ValueError, match="built with"):
        tiny.ensure_tiny(root, n_train=7, speech=ENGINE)
    with pytest.raises(ValueError, match="built with"):  # the default engine is not this build's
        tiny.ensure_tiny(root)
    with pytest.raises(ValueError, match="force"):
        tiny.build_tiny(root, progress=False, speech=ENGINE, **{**SMALL, "seed": 1})
