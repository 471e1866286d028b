"""Demucs v2: resampling, valid lengths, shapes, reload, gradients, and the paper-size pins."""
import math

import pytest
import torch

from _model_checks import (check_estimates_scale_with_the_mixture, check_gradients_reach_every_parameter,
                           check_output_shape, check_state_dict_round_trip)
from mtass_lite.models import build_model
from mtass_lite.models.demucs import center_trim, downsample2, upsample2
from mtass_lite.profile import PAPER_TABLE, count_params, macs_per_second

TINY = dict(channels=4, depth=3, lstm_layers=1, resample=True, first_kernel_size=None, first_stride=None)


def tiny(**kw):
    torch.manual_seed(0)
    return build_model("demucs", "lite", **{**TINY, **kw})


def tone(freq, n, sr):
    return torch.sin(2 * math.pi * freq * torch.arange(n) / sr)


def test_upsample2_interpolates_a_band_limited_signal():
    x = tone(1000, 4000, 16000)
    y = upsample2(x)
    assert y.shape == (8000,) and torch.equal(y[0::2], x)  # the original samples are kept
    inner = slice(200, -200)  # away from the zero-padded edges
    assert (y - tone(1000, 8000, 32000))[inner].abs().max() < 1e-3


def test_downsample2_inverts_upsample2_and_rejects_the_upper_band():
    x = tone(1000, 4000, 16000)
    assert (downsample2(upsample2(x)) - x)[200:-200].abs().max() < 1e-3
    # a 12 kHz tone at 32 kHz lies above the new Nyquist (8 kHz): attenuated by more than 50 dB
    assert downsample2(tone(12000, 8000, 32000))[200:-200].abs().max() < 10 ** (-50 / 20)
    assert downsample2(torch.ones(2, 7)).shape == (2, 4)


def test_center_trim():
    x = torch.arange(10)
    assert center_trim(x, 6).tolist() == [2, 3, 4, 5, 6, 7]
    with pytest.raises(ValueError):
        center_trim(x, 11)


@pytest.mark.parametrize("size", ["paper", "lite"])
def test_valid_length_leaves_no_sample_over(size):
    model = build_model("demucs", size, channels=2, lstm_layers=0)  # same strides, cheap to build
    for length in (1, 1000, 16001, 64000):
        n = model.valid_length(length)
        assert n >= length and model.valid_length(n) == n
        m = 2 * n if model.resample else n
        for K, S in zip(model.kernels, model.strides):
            assert (m - K) % S == 0, (length, n)
            m = (m - K) // S + 1


@pytest.mark.parametrize("length", [16001, 12345, 3])
def test_output_shape_and_length(length):
    check_output_shape(tiny(), length)


def test_lite_has_a_long_first_stride():
    model = build_model("demucs", "lite")
    assert model.strides[0] > model.strides[1] and not model.resample
    assert model(torch.randn(1, 5000)).shape == (1, 3, 5000)


def test_state_dict_round_trip_gives_identical_outputs():
    check_state_dict_round_trip(tiny())


def test_gradients_reach_every_parameter():
    check_gradients_reach_every_parameter(tiny())


def test_estimates_scale_with_the_mixture():
    check_estimates_scale_with_the_mixture(tiny())


def test_paper_param_count():
    n = count_params(build_model("demucs", "paper"))  # ~1 GB of weights, no forward
    assert n == 243_312_259  # 64 channels, depth 6, 1x1 decoder rewrite conv, mono in, 3 tracks out
    assert n == pytest.approx(PAPER_TABLE["demucs"]["params_m"] * 1e6, rel=0.02)  # table: 243.32 M


def test_paper_macs_per_second():
    model = build_model("demucs", "paper")
    macs = macs_per_second(model, seconds=1.0)
    # FlopCounterMode + analytic BiLSTM (1.17 G of it): 3.40 G, below the table's 5.6 G ...
    assert macs == pytest.approx(3.4025e9, rel=1e-3)
    # ... which counts transposed convs per output position (4x for stride 4), as thop does: 5.54 G
    table = macs_per_second(model, seconds=1.0, convention="thop")
    assert table == pytest.approx(PAPER_TABLE["demucs"]["gmac_per_s"] * 1e9, rel=0.10)
