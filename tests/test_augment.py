import math

import numpy as np
import pytest
import torch

from mtass_lite.data.augment import AUGMENTS, augment_batch, speed_perturb, synthetic_rir
from mtass_lite.data.mixing import PEAK_CEILING
from mtass_lite.train import TrainConfig


def _batch(B=4, T=1600, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 0.1 * torch.randn(B, 3, T, generator=g)


def _snr_db(ref, other):
    return 10 * math.log10(float(ref.pow(2).sum()) / float(other.pow(2).sum()))


def test_none_is_identity():
    tgt = _batch()
    mix, out = augment_batch(tgt, "none", seed=0, step=1)
    assert out is tgt
    assert torch.equal(mix, tgt.sum(1))


@pytest.mark.parametrize("kind", [k for k in AUGMENTS if k != "none"])
def test_mixture_is_sum_of_targets_and_deterministic(kind):
    tgt = _batch()
    mix, out = augment_batch(tgt, kind, seed=3, step=7)
    assert out.shape == tgt.shape and mix.shape == (4, 1600)
    torch.testing.assert_close(mix, out.sum(1))
    mix2, out2 = augment_batch(tgt, kind, seed=3, step=7)
    assert torch.equal(out, out2)  # a pure function of (seed, step): resuming is exact
    _, out3 = augment_batch(tgt, kind, seed=3, step=8)
    assert not torch.equal(out, out3)


def test_remix_recombines_stems_at_recipe_snrs():
    tgt = _batch(B=8)
    _, out = augment_batch(tgt, "remix", seed=0, step=1)
    for b in range(8):
        for k in (1, 2):
            assert -5.0 - 1e-3 <= _snr_db(out[b, 0], out[b, k]) <= 5.0 + 1e-3
        # the speech stays item b's speech (scaled by the overall level)
        ratio = out[b, 0] / tgt[b, 0]
        torch.testing.assert_close(ratio, ratio.mean().expand_as(ratio), rtol=1e-4, atol=1e-5)
    # music comes from a permutation of the batch: each output music is a scaled input music
    src = tgt[:, 1] / tgt[:, 1].norm(dim=-1, keepdim=True)
    got = out[:, 1] / out[:, 1].norm(dim=-1, keepdim=True)
    match = (got @ src.T).abs()
    assert torch.all(match.max(1).values > 0.9999)
    assert sorted(match.argmax(1).tolist()) == list(range(8))


def test_peak_guard_and_silent_speech():
    tgt = _batch(B=2)
    tgt[0, 0] = 0.0  # silent speech crop: no SNR can be set, the stems keep their relative levels
    tgt[1] *= 50.0  # would clip
    for kind in ("remix_eq", "remix_speed_reverb"):
        mix, out = augment_batch(tgt, kind, seed=1, step=1)
        assert torch.all(torch.isfinite(out))
        assert float(mix.abs().max()) <= PEAK_CEILING + 1e-6
        assert float(out.abs().max()) <= PEAK_CEILING + 1e-6


def test_bad_arguments():
    with pytest.raises(ValueError, match="augment must be one of"):
        augment_batch(_batch(), "mixup", seed=0, step=1)
    with pytest.raises(ValueError, match="batch, 3, time"):
        augment_batch(torch.zeros(2, 1600), "remix", seed=0, step=1)
    with pytest.raises(ValueError, match="augment must be one of"):
        TrainConfig(augment="mixup")
    assert set(AUGMENTS) == {"none", "remix", "remix_eq", "remix_speed", "remix_reverb", "remix_speed_reverb"}


def _peak_hz(x, sr=16000):
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return np.argmax(spec) * sr / x.size


@pytest.mark.parametrize("factor", [0.8, 1.0, 1.25])
def test_speed_perturb_moves_pitch_and_keeps_length(factor):
    sr, T = 16000, 16000
    x = np.sin(2 * np.pi * 440.0 * np.arange(T) / sr).astype(np.float32)
    y = speed_perturb(x, factor)
    assert y.shape == (T,) and y.dtype == np.float32
    assert abs(_peak_hz(y) - 440.0 * factor) <= 2.0
    q = T // 4  # no zero padding at the end: the output is full length
    assert 0.8 < np.sum(y[-q:] ** 2) / np.sum(y[:q] ** 2) < 1.25


def test_synthetic_rir_decay_and_drr():
    rng = np.random.default_rng(0)
    sr, rt60, drr = 16000, 0.5, 6.0
    h = synthetic_rir(rng, rt60, drr)
    assert h.shape == (int(rt60 * sr),) and h[0] == 1.0
    tail = h[1:]
    assert abs(10 * np.log10(1.0 / np.sum(tail ** 2)) - drr) < 1e-6
    # energy of the first and the last 50 ms of the tail: ~60 dB * 0.4 s / 0.5 s = 48 dB apart
    w = int(0.05 * sr)
    e_early, e_late = np.sum(h[32:32 + w] ** 2), np.sum(h[-w:] ** 2)
    assert 40.0 < 10 * np.log10(e_early / e_late) < 56.0


def test_speed_and_reverb_change_the_stems_as_documented():
    tgt = _batch(B=4, T=8000)
    _, remix = augment_batch(tgt, "remix", seed=5, step=2)
    _, speed = augment_batch(tgt, "remix_speed", seed=5, step=2)
    # the same permutation draws come first, so the speech stems differ only by the perturbation
    c = torch.nn.functional.cosine_similarity(remix[:, 0], speed[:, 0], dim=-1)
    assert torch.all(c < 0.9)  # white noise resampled by >= 2 % decorrelates
    _, rev = augment_batch(tgt, "remix_reverb", seed=5, step=2)
    c = torch.nn.functional.cosine_similarity(remix, rev, dim=-1)  # [B, 3]
    assert torch.all(c > 0.2)  # the direct path survives: a reverberant stem still resembles the dry one
    assert torch.any(c < 0.99) and torch.any(c > 0.9999)  # some stems got a room, some stayed dry
