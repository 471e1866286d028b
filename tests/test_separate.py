"""mtass_lite.separate: chunked overlap-add, any file in (rate, channels, length), clear refusals."""
import logging

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from _tiny_helpers import TinySeparator
from mtass_lite.audio import AudioError, load_audio
from mtass_lite.separate import (PretrainedNotFoundError, chunk_bounds, resolve_model, separate_array,
                                 separate_file)
from mtass_lite.train import build_model_from_spec, save_weights


class Pointwise(nn.Module):
    """Each track is a fixed fraction of the mixture (exactly chunk-invariant; stems sum to the input)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("share", torch.tensor([0.5, 0.3, 0.2]))

    def forward(self, x):
        return x.unsqueeze(1) * self.share[:, None]


@pytest.mark.parametrize("length,chunk,overlap", [(100, 30, 5), (61, 30, 5), (30, 30, 5), (10, 30, 5),
                                                   (95, 30, 0), (1000, 300, 299)])
def test_chunk_bounds_cover_the_signal_with_enough_overlap(length, chunk, overlap):
    b = chunk_bounds(length, chunk, overlap)
    assert b[0][0] == 0 and b[-1][1] == length
    assert all(e - s == min(chunk, length) for s, e in b)
    for (s0, e0), (s1, e1) in zip(b, b[1:]):
        assert s0 < s1 and e0 - s1 >= overlap


def test_chunked_equals_unchunked_for_a_chunk_invariant_model():
    x = np.random.default_rng(0).standard_normal(16000 * 3 + 123).astype(np.float32)
    m = Pointwise()
    full = separate_array(m, x, chunk_seconds=None)
    np.testing.assert_allclose(full, x[None] * np.array([[0.5], [0.3], [0.2]], np.float32), rtol=1e-6)
    for chunk, overlap in [(1.0, 0.25), (0.7, 0.5), (1.3, 0.0)]:
        np.testing.assert_allclose(separate_array(m, x, chunk, overlap), full, rtol=1e-5, atol=1e-7)


def test_chunked_is_close_to_unchunked_for_a_limited_receptive_field():
    torch.manual_seed(0)
    m = TinySeparator(kernel=9).eval()  # receptive field 17 samples: only chunk edges differ
    x = np.random.default_rng(1).standard_normal(16000 * 2 + 77).astype(np.float32) * 0.1
    full = separate_array(m, x, chunk_seconds=None)
    chunked = separate_array(m, x, chunk_seconds=0.5, overlap=0.1)
    err = np.abs(chunked - full).max() / np.abs(full).max()
    assert err < 1e-3, err
    # Without overlap, the seams show (the check above is not vacuous).
    seams = separate_array(m, x, chunk_seconds=0.5, overlap=0.0)
    assert np.abs(seams - full).max() / np.abs(full).max() > 10 * err


@pytest.mark.parametrize("length", [1, 7, 255, 4095, 16001, 23457])
def test_odd_lengths_keep_their_length(length):
    x = np.random.default_rng(length).standard_normal(length).astype(np.float32)
    y = separate_array(TinySeparator().eval(), x, chunk_seconds=0.5, overlap=0.1)
    assert y.shape == (3, length) and y.dtype == np.float32 and np.isfinite(y).all()
    np.testing.assert_allclose(separate_array(Pointwise(), x, 0.5, 0.1), Pointwise()(torch.from_numpy(x)[None])[0],
                               rtol=1e-6)


def test_model_mode_is_restored():
    m = TinySeparator().train()
    separate_array(m, np.zeros(1000, np.float32))
    assert m.training


def test_separate_file_resamples_and_downmixes_a_stereo_44k_file(tmp_path, caplog):
    rng = np.random.default_rng(0)
    n = int(44100 * 1.5) + 11
    stereo = (0.1 * rng.standard_normal((n, 2))).astype(np.float32)
    path = tmp_path / "song.wav"
    sf.write(path, stereo, 44100)
    with caplog.at_level(logging.INFO, logger="mtass_lite"):
        paths = separate_file(path, Pointwise(), tmp_path / "out", chunk_seconds=0.5, overlap=0.1)
    assert "resampled 44100 Hz -> 16000 Hz" in caplog.text and "downmixed 2 channels" in caplog.text
    assert set(paths) == {"speech", "music", "noise"}
    assert paths["speech"] == tmp_path / "out" / "song" / "speech.wav"
    with pytest.warns(UserWarning, match="resampled"):
        want = load_audio(path)  # the library's reader: downmix + resample of the whole file
    stems = []
    for p in paths.values():
        info = sf.info(p)
        assert info.samplerate == 16000 and info.channels == 1 and info.frames == want.shape[0]
        stems.append(sf.read(p, dtype="float32")[0])
    np.testing.assert_allclose(np.sum(stems, 0), want, atol=1e-6)


def test_unreadable_empty_and_missing_files_are_refused_by_name(tmp_path):
    bad = tmp_path / "garbage.wav"
    bad.write_bytes(b"this is not audio" * 10)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 1), np.float32), 16000)
    for f in (bad, empty, tmp_path / "missing.wav"):
        with pytest.raises(AudioError, match=f.name):
            separate_file(f, Pointwise(), tmp_path / "out")
    assert not (tmp_path / "out" / "garbage").exists()


def test_model_choice(tmp_path, monkeypatch):
    import mtass_lite.shipped as sh

    monkeypatch.setattr(sh, "PRETRAINED_DIR", tmp_path / "pretrained")
    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path / "results"))  # no model card: the built-in default
    with pytest.raises(PretrainedNotFoundError, match=r"complex_mtassnet_lite\.pt.*\n.*mtass_lite train"):
        resolve_model("complex_mtassnet")
    with pytest.raises(PretrainedNotFoundError, match=r"complex_mtassnet_lite\.pt"):
        resolve_model()  # neither name nor checkpoint: the default shipped model, no longer an error
    with pytest.raises(PretrainedNotFoundError, match=r"conv_tasnet_paper\.pt.*\n.*--preset full"):
        resolve_model("conv_tasnet", size="paper")
    m = build_model_from_spec("_tiny_helpers:TinySeparator", config={"channels": 3})
    save_weights(m, tmp_path / "pretrained" / "tiny_lite.pt")
    loaded = resolve_model("tiny")
    assert isinstance(loaded, TinySeparator) and not loaded.training
    for a, b in zip(loaded.state_dict().values(), m.state_dict().values()):
        assert torch.equal(a, b)
    assert isinstance(resolve_model(checkpoint=tmp_path / "pretrained" / "tiny_lite.pt"), TinySeparator)
    save_weights(m, tmp_path / "pretrained" / "tiny_paper.pt")
    assert isinstance(resolve_model("tiny", size="paper"), TinySeparator)
