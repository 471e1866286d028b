import math

import pytest
import torch

from mtass_lite.data.augment import AUGMENTS, augment_batch
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


@pytest.mark.parametrize("kind", ["remix", "remix_eq"])
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
    mix, out = augment_batch(tgt, "remix_eq", seed=1, step=1)
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
    assert set(AUGMENTS) == {"none", "remix", "remix_eq"}
