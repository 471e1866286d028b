"""The MTASS mixing recipe: SNRs, exact sums, clip guard, redraws, padding, files, resume, determinism."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mtass_lite import SAMPLE_RATE, TRACKS
from mtass_lite.data.mixing import (
    METADATA_COLUMNS, MixConfig, SilentSourceError, Source, build_split, make_mixture, make_pools, mix_at_snr,
)

SEG = 0.25  # seconds: tests stay fast
T = int(SEG * SAMPLE_RATE)


def snr_db(ref: np.ndarray, other: np.ndarray) -> float:
    return 10 * math.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum(other.astype(np.float64) ** 2))


def noise_pool(name: str, n_items: int, length: int, scale: float = 0.05, seed: int = 0) -> list[Source]:
    rng = np.random.default_rng(seed)
    return [Source(f"{name}{k}", audio=(scale * rng.standard_normal(length)).astype(np.float32)) for k in range(n_items)]


@pytest.fixture
def pools():
    return {"speech": noise_pool("s", 4, 2 * T, seed=1), "music": noise_pool("m", 3, T, seed=2),
            "noise": noise_pool("n", 3, 3 * T, seed=3)}


def read_split(split_dir: Path) -> tuple[bytes, dict[str, np.ndarray]]:
    audio = {str(f.relative_to(split_dir)): sf.read(str(f), dtype="float32")[0]
             for f in sorted(split_dir.glob("*/*.wav"))}
    return (split_dir / "metadata.csv").read_bytes(), audio


def test_mix_at_snr_sets_the_ratio_over_the_whole_clip():
    rng = np.random.default_rng(0)
    ref, other = rng.standard_normal(8000), 3 * rng.standard_normal(8000)
    for snr in (-5.0, 0.0, 3.7):
        scaled, gain = mix_at_snr(ref, other, snr)
        assert scaled.dtype == np.float32
        assert abs(snr_db(ref, scaled) - snr) < 1e-4
        assert gain == pytest.approx(math.sqrt(np.sum(ref ** 2) / (np.sum(other ** 2) * 10 ** (snr / 10))))


def test_mix_at_snr_refuses_silence_instead_of_dividing_by_zero():
    with pytest.raises(SilentSourceError):
        mix_at_snr(np.ones(100), np.zeros(100), 0.0)
    with pytest.raises(SilentSourceError):
        mix_at_snr(np.zeros(100), np.ones(100), 0.0)


def test_mixture_is_the_sum_of_targets_and_snrs_match(pools):
    cfg = MixConfig(segment_seconds=SEG)
    for i in range(5):
        m = make_mixture(i, pools, seed=7, split="train", cfg=cfg)
        assert m.mixture.shape == (T,) and m.targets.shape == (3, T)
        assert m.mixture.dtype == np.float32 and m.targets.dtype == np.float32
        np.testing.assert_array_equal(m.mixture, m.targets.sum(0))
        assert -5 <= m.row["snr_music"] <= 5 and -5 <= m.row["snr_noise"] <= 5
        assert abs(snr_db(m.targets[0], m.targets[1]) - m.row["snr_music"]) < 0.01
        assert abs(snr_db(m.targets[0], m.targets[2]) - m.row["snr_noise"]) < 0.01
        assert m.row["clip_scale"] == 1.0
        # speech is written unscaled (the reference)
        item = next(s for s in pools["speech"] if s.id == m.row["speech_id"])
        np.testing.assert_array_equal(m.targets[0], item.read(m.row["speech_offset"], T))


def test_same_seed_same_mixture_other_seed_or_split_differs(pools):
    cfg = MixConfig(segment_seconds=SEG)
    a = make_mixture(3, pools, seed=1, split="train", cfg=cfg)
    b = make_mixture(3, pools, seed=1, split="train", cfg=cfg)
    np.testing.assert_array_equal(a.mixture, b.mixture)
    assert a.row == b.row
    c = make_mixture(3, pools, seed=2, split="train", cfg=cfg)
    d = make_mixture(3, pools, seed=1, split="test", cfg=cfg)
    assert not np.array_equal(a.mixture, c.mixture) and not np.array_equal(a.mixture, d.mixture)


def test_clip_guard_scales_all_stems_and_keeps_snrs():
    loud = {"speech": [Source("s", audio=np.full(T, 0.9, np.float32) * np.sign(np.sin(np.arange(T))))],
            "music": noise_pool("m", 1, T, scale=0.5), "noise": noise_pool("n", 1, T, scale=0.5, seed=5)}
    cfg = MixConfig(segment_seconds=SEG, peak_ceiling=0.99)
    m = make_mixture(0, loud, seed=0, cfg=cfg)
    assert m.row["clip_scale"] < 1.0
    assert np.abs(m.mixture).max() <= 0.99 + 1e-6 and np.abs(m.targets).max() <= 0.99 + 1e-6
    assert abs(snr_db(m.targets[0], m.targets[1]) - m.row["snr_music"]) < 0.01
    assert abs(snr_db(m.targets[0], m.targets[2]) - m.row["snr_noise"]) < 0.01
    np.testing.assert_array_equal(m.mixture, m.targets.sum(0))
    # the speech target is the unscaled speech times the logged clip scale
    np.testing.assert_allclose(m.targets[0], loud["speech"][0].audio * m.row["clip_scale"], rtol=1e-6)


def test_silent_segments_are_redrawn_and_counted():
    silent = [Source(f"quiet{k}", audio=np.full(T, 1e-5, np.float32)) for k in range(5)]
    music = silent + noise_pool("m", 1, T)
    p = {"speech": noise_pool("s", 1, T), "music": music, "noise": noise_pool("n", 1, T)}
    cfg = MixConfig(segment_seconds=SEG)
    rows = [make_mixture(i, p, seed=0, cfg=cfg).row for i in range(12)]
    assert all(r["music_id"] == "m0" for r in rows)
    assert sum(r["music_redraws"] for r in rows) > 0
    assert all(r["redraws"] == r["speech_redraws"] + r["music_redraws"] + r["noise_redraws"] for r in rows)
    p["music"] = silent
    with pytest.raises(RuntimeError, match="no usable music segment"):
        make_mixture(0, p, seed=0, cfg=cfg)


def test_short_sources_are_padded_or_redrawn_and_recorded():
    cfg = MixConfig(segment_seconds=SEG, min_fill=0.5)
    short = Source("short", audio=(0.05 * np.random.default_rng(0).standard_normal(int(0.7 * T))).astype(np.float32))
    p = {"speech": noise_pool("s", 1, T), "music": [short], "noise": noise_pool("n", 1, T)}
    m = make_mixture(0, p, seed=0, cfg=cfg)
    assert m.row["music_pad"] == T - int(0.7 * T) and m.row["music_redraws"] == 0
    assert np.all(m.targets[1, int(0.7 * T):] == 0) and m.mixture.shape == (T,)
    too_short = Source("tiny", audio=np.ones(int(0.2 * T), np.float32) * 0.1)
    p["music"] = [too_short, short]
    rows = [make_mixture(i, p, seed=0, cfg=cfg).row for i in range(10)]
    assert all(r["music_id"] == "short" for r in rows) and sum(r["music_redraws"] for r in rows) > 0


def test_file_sources_offset_channel_and_resampling(tmp_path):
    rng = np.random.default_rng(0)
    stereo = (0.1 * rng.standard_normal((3 * 44_100, 2))).astype(np.float32)
    path = tmp_path / "song.flac"
    sf.write(str(path), stereo, 44_100, subtype="PCM_24")
    left = Source("song", path=str(path), channel=0)
    assert left.num_samples() == 3 * SAMPLE_RATE
    x = left.read(1000, 4000)
    assert x.shape == (4000,) and x.dtype == np.float32
    mono = make_pools([path], [path], [path])["speech"][0]
    assert mono.id == str(path) and mono.read(0, 10).shape == (10,)
    window = Source("seg", path=str(path), start=16_000, length=8_000)
    assert window.num_samples() == 8_000 and window.read(7_990, 100).shape == (10,)
    # a file longer than the segment is read at a seeded random offset
    p = {"speech": [left], "music": [Source("m", path=str(path), channel=1)], "noise": [window]}
    offsets = {make_mixture(i, p, seed=0, cfg=MixConfig(segment_seconds=SEG)).row["speech_offset"] for i in range(6)}
    assert len(offsets) > 1 and all(0 <= o <= 3 * SAMPLE_RATE - T for o in offsets)


def test_build_split_writes_layout_metadata_and_is_worker_independent(tmp_path, pools):
    d1 = build_split(tmp_path / "a", "dev", pools, 6, seed=3, segment_seconds=SEG, workers=2, progress=False)
    d2 = build_split(tmp_path / "b", "dev", pools, 6, seed=3, segment_seconds=SEG, workers=1, progress=False)
    assert d1 == tmp_path / "a" / "dev"
    for track in ("mixture",) + TRACKS:
        assert sorted(f.name for f in (d1 / track).glob("*.wav")) == [f"{i:06d}.wav" for i in range(6)]
    info = sf.info(str(d1 / "mixture" / "000000.wav"))
    assert info.samplerate == SAMPLE_RATE and info.subtype == "FLOAT" and info.frames == T
    with open(d1 / "metadata.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == METADATA_COLUMNS and [r["id"] for r in rows] == [f"{i:06d}" for i in range(6)]
    meta1, audio1 = read_split(d1)
    meta2, audio2 = read_split(d2)
    assert meta1 == meta2 and audio1.keys() == audio2.keys()
    assert all(np.array_equal(audio1[k], audio2[k]) for k in audio1)
    mix = audio1["mixture/000002.wav"]
    np.testing.assert_array_equal(mix, sum(audio1[f"{t}/000002.wav"] for t in TRACKS))
    # a different seed gives different mixtures
    d3 = build_split(tmp_path / "c", "dev", pools, 6, seed=4, segment_seconds=SEG, workers=1, progress=False)
    assert read_split(d3)[0] != meta1


def test_interrupted_build_resumes_to_the_same_result(tmp_path, pools):
    d = build_split(tmp_path, "train", pools, 8, seed=0, segment_seconds=SEG, workers=1, progress=False)
    meta, audio = read_split(d)
    # simulate a crash: metadata not written yet, some files missing, an atomic write's leftover
    (d / "metadata.csv").unlink()
    (d / "speech" / "000003.wav").unlink()
    (d / "mixture" / "000005.wav").unlink()
    (d / "music" / ".000006.abc.tmp.wav").write_bytes(b"half a file")
    build_split(tmp_path, "train", pools, 8, seed=0, segment_seconds=SEG, workers=2, progress=False)
    meta2, audio2 = read_split(d)
    assert meta2 == meta and audio2.keys() == audio.keys()
    assert all(np.array_equal(audio[k], audio2[k]) for k in audio)
    assert not list(d.glob("*/.*tmp*"))
    # fewer mixtures: the extra ids go; other settings: refused
    build_split(tmp_path, "train", pools, 5, seed=0, segment_seconds=SEG, workers=1, progress=False)
    assert len(list((d / "noise").glob("*.wav"))) == 5
    with pytest.raises(ValueError, match="different settings"):
        build_split(tmp_path, "train", pools, 5, seed=1, segment_seconds=SEG, workers=1, progress=False)
