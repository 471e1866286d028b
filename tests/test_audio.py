import numpy as np
import pytest
import soundfile as sf

from mtass_lite import audio


def test_roundtrip_float(tmp_path):
    x = np.random.default_rng(0).uniform(-2, 2, 1600).astype(np.float32)
    p = tmp_path / "a.wav"
    assert audio.save_audio(p, x) == 1.0  # float WAV holds |x| > 1 unchanged
    np.testing.assert_array_equal(audio.load_audio(p), x)


def test_pcm_write_scales_instead_of_wrapping(tmp_path):
    x = np.array([0.0, 1.5, -3.0, 0.5], dtype=np.float32)
    with pytest.warns(UserWarning, match="scaled"):
        g = audio.save_audio(tmp_path / "b.wav", x, subtype="PCM_16")
    y = audio.load_audio(tmp_path / "b.wav")
    assert g == pytest.approx(0.999 / 3.0)
    np.testing.assert_allclose(y, x * g, atol=1e-4)  # signs kept: nothing wrapped


def test_stereo_downmix_and_resample(tmp_path):
    t = np.arange(44100) / 44100
    left, right = np.sin(2 * np.pi * 440 * t), np.zeros_like(t)
    sf.write(tmp_path / "s.wav", np.stack([left, right], 1), 44100)
    with pytest.warns(UserWarning, match="resampled 44100 Hz -> 16000 Hz"):
        y = audio.load_audio(tmp_path / "s.wav")
    assert y.shape == (16000,) and y.dtype == np.float32
    assert np.max(np.abs(y)) == pytest.approx(0.5, abs=0.01)
    assert audio.load_audio(tmp_path / "s.wav", sr=None, mono=False).shape == (44100, 2)


def test_clear_errors_name_the_file(tmp_path):
    with pytest.raises(audio.AudioError, match="not found: .*missing.wav"):
        audio.load_audio(tmp_path / "missing.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(audio.AudioError, match="bad.wav"):
        audio.load_audio(bad)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0), 16000)
    with pytest.raises(audio.AudioError, match="no samples"):
        audio.load_audio(empty)


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "x.wav"
    with pytest.raises(RuntimeError):
        with audio.atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert not target.exists() and list(tmp_path.iterdir()) == []
