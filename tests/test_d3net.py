"""D3Net: multi-dilated blocks, band split, shapes, reload, gradients, and the paper-size pins."""
import math

import pytest
import torch
from torch import nn

from _model_checks import (check_estimates_scale_with_the_mixture, check_gradients_reach_every_parameter,
                           check_output_shape, check_state_dict_round_trip)
from mtass_lite.models import build_model
from mtass_lite.models.d3net import RELEASED_FULL, RELEASED_LOW, D2Block
from mtass_lite.profile import PAPER_TABLE, count_params, macs_per_second


def band(growth, n_layers=2, n_blocks=1, init=2):
    return dict(init_features=init, growth=growth, n_layers=[n_layers] * len(growth), n_blocks=[n_blocks] * len(growth))


# 64-point STFT: 32 modelled bins, low band 0-15 and middle band 16-31 (one pooling level each), full
# band with two pooling levels and D3 blocks of two D2 blocks.
TINY = dict(n_fft=64, hop=32, band_split=16, low=band([2, 3, 2]), middle=band([2, 2, 2], n_layers=1),
            full=band([2, 3, 4, 3, 2], n_blocks=2), final_growth=2, final_layers=2, shared=False)


def tiny(**kw):
    torch.manual_seed(0)
    return build_model("d3net", "lite", **{**TINY, **kw})


@pytest.mark.parametrize("dilated, reach", [(True, 7), (False, 3)])
def test_d2_block_receptive_field_grows_with_multi_dilation(dilated, reach):
    # 3 layers of 3x3 convs; the i-th layer's features enter later layers with dilation 2**i, so the
    # output reaches 1 + 2 + 4 = 7 frames either side (3 without dilation). Positive weights and input
    # keep every ReLU open, so the gradient's support is exactly the receptive field.
    block = D2Block(1, growth=2, n_layers=3, dilated=dilated).eval()
    with torch.no_grad():
        for conv in block.convs:
            conv.weight.abs_()
            conv.bias.fill_(0.1)
    x = torch.rand(1, 1, 41, 3).add(0.1).requires_grad_()
    out = block(x)
    assert out.shape == (1, 2, 41, 3)
    out[0, :, 20, 1].sum().backward()
    frames = x.grad[0, 0].abs().sum(-1).nonzero().flatten().tolist()
    assert frames == list(range(20 - reach, 20 + reach + 1))


@pytest.mark.parametrize("length", [16001, 12345, 3])
@pytest.mark.parametrize("shared", [False, True])
def test_output_shape_and_length(length, shared):
    check_output_shape(tiny(shared=shared), length)


def test_band_widths_must_fit_the_pooling():
    with pytest.raises(ValueError, match="low band"):
        tiny(band_split=15)


class MixtureMagnitude(nn.Module):
    """Stand-in separator: the (normalised) mixture magnitude to the first track, 0 to the others."""

    def forward(self, mag):  # [B, 1, N, F] -> [B, 3, N, F]
        return torch.cat([mag, torch.zeros_like(mag), torch.zeros_like(mag)], dim=1)


class Fixed(nn.Module):
    """Stand-in separator returning given magnitudes ``[1, 3, N, F]`` (in the network's units)."""

    def __init__(self, mags):
        super().__init__()
        self.mags = mags

    def forward(self, mag):
        return self.mags[:, :, :mag.shape[2]]


def two_tones(n=4000):
    t = torch.arange(n) / 16000
    return (torch.sin(2 * math.pi * 440 * t) + 0.5 * torch.sin(2 * math.pi * 1500 * t))[None]


def with_net(model, net):
    model.nets = nn.ModuleList([net])
    return model.eval()


def test_a_magnitude_equal_to_the_mixture_gives_the_mixture_back_without_postfilter():
    # "none": the estimate is the network's magnitude with the mixture's phase, and the Nyquist bin is
    # the mixture's for every track (as in the release), so |X| for a track returns x exactly
    model = with_net(tiny(shared=True, postfilter="none"), MixtureMagnitude())
    x = two_tones()
    est = model(x)
    assert (est[:, 0] - x).pow(2).sum() / x.pow(2).sum() < 1e-10
    # the other tracks hold only the mixture's Nyquist bin (the tones' leakage there is ~ -50 dB)
    assert est[:, 1:].pow(2).sum() / x.pow(2).sum() < 1e-4


@pytest.mark.parametrize("shared", [False, True])
def test_postfilter_tracks_sum_to_the_mixture(shared):
    model = tiny(shared=shared).eval()
    assert model.postfilter == "wiener"  # the default
    x = torch.randn(2, 3000)
    with torch.no_grad():
        est = model(x)
    torch.testing.assert_close(est.sum(1), x, rtol=0, atol=1e-5)


def test_postfilter_in_bins_where_every_estimate_is_zero():
    # estimates all 0 in some bins (and everywhere for one item): no NaN, a third of the mixture per
    # track there, and the tracks still sum to the mixture
    model = tiny(shared=True)
    n_frames = model.stft.n_frames(3000)
    torch.manual_seed(1)
    mags = torch.rand(1, 3, 128, model.valid_bins) + 0.1
    mags[..., 5:9] = 0  # bins 5-8: all three estimates 0
    model = with_net(model, Fixed(mags))
    x = torch.randn(1, 3000)
    with torch.no_grad():
        spec = model.spectra(x)
        S = model.estimate_stfts(spec)
        est = model(x)
    assert torch.isfinite(S).all() and torch.isfinite(est).all()
    X = spec["mixture"]
    torch.testing.assert_close(S[:, :, 5:9], (X[:, None, 5:9] / 3).expand(-1, 3, -1, -1), rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(S.sum(1), X, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(est.sum(1), x, rtol=0, atol=1e-5)
    assert S.shape[-1] == n_frames
    # all estimates 0 everywhere: every track is mixture / 3
    model = with_net(model, Fixed(torch.zeros_like(mags)))
    with torch.no_grad():
        est = model(x)
    torch.testing.assert_close(est, (x / 3)[:, None].expand(-1, 3, -1), rtol=0, atol=1e-6)


def test_postfilter_is_a_ratio_mask_and_gives_the_nyquist_bin_a_third():
    model = tiny()
    x = torch.randn(2, 2000)
    with torch.no_grad():
        spec = model.spectra(x)
        S = model.estimate_stfts(spec)
    power, X = spec["magnitude"].pow(2), spec["mixture"]
    torch.testing.assert_close(S, power / power.sum(1, keepdim=True) * X[:, None], rtol=1e-4, atol=1e-6)
    nyquist = model.stft.n_bins - 1
    torch.testing.assert_close(S[:, :, nyquist], (X[:, None, nyquist] / 3).expand(-1, 3, -1))


def test_postfilter_none_is_the_magnitude_with_the_mixture_phase():
    model = tiny(postfilter="none").eval()
    x = torch.randn(2, 2345)
    with torch.no_grad():
        spec = model.spectra(x)
        S = torch.polar(spec["magnitude"], spec["mixture"].angle()[:, None])
        torch.testing.assert_close(model(x), model.stft.inverse(S, 2345))


@pytest.mark.parametrize("postfilter", ["wiener", "none"])
def test_forward_is_built_on_spectra(postfilter):
    model = tiny(postfilter=postfilter).eval()
    x = torch.randn(2, 4321)
    with torch.no_grad():
        expected = model.stft.inverse(model.estimate_stfts(model.spectra(x)), 4321)
        assert torch.equal(model(x), expected)


def test_postfilter_can_be_switched_on_a_built_model():
    model = tiny().eval()
    none = tiny(postfilter="none").eval()
    none.load_state_dict(model.state_dict())  # no parameter depends on the post-filter
    x = torch.randn(2, 3000)
    with torch.no_grad():
        on = model(x)
        model.postfilter = "none"
        assert torch.equal(model(x), none(x))
        assert not torch.allclose(model(x), on)
        model.postfilter = "wiener"
        assert torch.equal(model(x), on)
    with pytest.raises(ValueError, match="postfilter"):
        model.postfilter = "mwf"
    with pytest.raises(ValueError, match="postfilter"):
        tiny(postfilter="norbert")


@pytest.mark.parametrize("length", [16000, 12345, 300])
def test_spectra_shapes_match_the_stft_of_the_targets(length):
    torch.manual_seed(0)
    model = build_model("d3net", "lite").eval()
    x, targets = torch.randn(2, length), torch.randn(2, 3, length)
    with torch.no_grad():
        spec = model.spectra(x)
    T = model.stft(targets).abs()
    assert spec["magnitude"].shape == T.shape == (2, 3, 257, length // 256 + 1)
    assert spec["mixture"].shape == (2, 257, length // 256 + 1) and spec["mixture"].is_complex()
    assert spec["scale"].shape == (2, 1, 1)
    assert (spec["magnitude"] >= 0).all()


@pytest.mark.parametrize("gain", [1.0, 0.01])
def test_spectra_magnitudes_are_in_the_scale_of_the_target_stft(gain):
    # a network that returns its input for track 0: spectra gives |stft(x)|, our normalisation undone
    model = with_net(tiny(shared=True), MixtureMagnitude())
    x = gain * two_tones(3000)
    with torch.no_grad():
        spec = model.spectra(x)
    mag = spec["magnitude"]
    torch.testing.assert_close(mag[:, 0], model.stft(x).abs(), rtol=1e-5, atol=1e-6 * gain)
    torch.testing.assert_close(spec["mixture"], model.stft(x))
    # tracks 1-2: 0 except the Nyquist bin, which holds the mixture's magnitude for every track
    assert mag[:, 1:, :-1].abs().max() == 0
    torch.testing.assert_close(mag[:, :, -1], model.stft(x).abs()[:, None, -1].expand(-1, 3, -1))


def test_output_scale_and_bias_start_at_one_as_in_the_release():
    for model in (tiny(), build_model("d3net", "lite")):
        for net in model.nets:
            assert torch.equal(net.out_bias, torch.ones_like(net.out_bias))  # release: decode_bias = 1
            assert torch.equal(net.out_scale, torch.ones_like(net.out_scale))  # release: decode_scale = 1


def test_untrained_model_starts_near_mixture_over_three():
    # bias 1 and a small gated output: the three estimates are nearly equal, so the post-filter gives
    # each track about a third of the mixture
    torch.manual_seed(0)
    model = build_model("d3net", "lite").eval()
    x = torch.randn(1, 8000)
    with torch.no_grad():
        est = model(x)
    err = (est - x[:, None] / 3).pow(2).sum() / (x[:, None] / 3).pow(2).sum()
    assert err < 0.1


def test_state_dict_round_trip_gives_identical_outputs():
    check_state_dict_round_trip(tiny())


@pytest.mark.parametrize("postfilter", ["wiener", "none"])
@pytest.mark.parametrize("shared", [False, True])
def test_gradients_reach_every_parameter(shared, postfilter):
    check_gradients_reach_every_parameter(tiny(shared=shared, postfilter=postfilter))


@pytest.mark.parametrize("postfilter", ["wiener", "none"])
def test_estimates_scale_with_the_mixture(postfilter):
    check_estimates_scale_with_the_mixture(tiny(postfilter=postfilter))


def test_paper_param_count():
    model = build_model("d3net", "paper")  # counting is cheap: no forward
    n = count_params(model)
    assert len(model.nets) == 3  # one network per track, as the original trains one per source
    assert n == 7_866_591  # the released vocals configuration, every growth rate minus one
    assert n == pytest.approx(PAPER_TABLE["d3net"]["params_m"] * 1e6, rel=0.02)  # table: 7.93 M
    released = build_model("d3net", "paper", low=RELEASED_LOW, full=RELEASED_FULL)
    assert count_params(released) == 8_881_377  # +12 %: why the preset is one growth step thinner


def test_lite_param_count():
    assert count_params(build_model("d3net", "lite")) == 20_110
    # the output stage has no parameters
    assert count_params(build_model("d3net", "lite", postfilter="none")) == 20_110


def test_paper_macs_per_second():
    macs = macs_per_second(build_model("d3net", "paper"), seconds=1.0)
    # Measured: 15.8 GMAC/s, 4.5x the table's 3.5 G (see the module docstring: no D3Net with the released
    # growth profile and ~7.9 M weights costs 3.5 G on 16,000 time-frequency bins per second).
    assert macs == pytest.approx(15.760e9, rel=1e-3)
    assert macs / (PAPER_TABLE["d3net"]["gmac_per_s"] * 1e9) == pytest.approx(4.5, abs=0.1)
