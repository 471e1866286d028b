"""Conv-TasNet: shapes, reload, gradients, and the paper-size parameter / MAC pins."""
import pytest
import torch

from _model_checks import (check_gradients_reach_every_parameter,
                           check_output_shape, check_state_dict_round_trip)
from mtass_lite.models import build_model
from mtass_lite.models.conv_tasnet import CONFIGS, torchaudio_param_count
from mtass_lite.profile import PAPER_TABLE, count_params, macs_per_second

TINY = dict(N=16, L=8, B=8, H=16, P=3, X=2, R=2)


def tiny(**kw):
    torch.manual_seed(0)
    return build_model("conv_tasnet", "lite", **{**TINY, **kw})


@pytest.mark.parametrize("length", [16001, 12345, 8, 3])
def test_output_shape_and_length(length):
    check_output_shape(tiny(), length)


def test_state_dict_round_trip_gives_identical_outputs():
    check_state_dict_round_trip(tiny())


def test_gradients_reach_every_parameter():
    check_gradients_reach_every_parameter(tiny())


def test_masks_of_one_give_decoder_of_encoder():
    # Saturate every mask at 1: each estimate is then decoder(encoder(x)), a linear map without bias.
    model = tiny().eval()
    with torch.no_grad():
        model.mask_conv[1].weight.zero_()
        model.mask_conv[1].bias.fill_(50.0)
        x = torch.randn(1, 400)
        est, est2 = model(x), model(2 * x)
        direct = model.decoder(model.encoder(x.unsqueeze(1)))[:, 0, :400]
    torch.testing.assert_close(est[:, 0], direct)
    torch.testing.assert_close(est[:, 2], direct)
    torch.testing.assert_close(est2, 2 * est)


def test_sources_of_a_mixture_use_separate_masks():
    model = tiny().eval()
    with torch.no_grad():
        est = model(torch.randn(1, 1000))
    assert not torch.allclose(est[:, 0], est[:, 1])


def test_paper_param_count_equals_torchaudio_and_the_paper():
    model = build_model("conv_tasnet", "paper")  # counting is cheap: no forward
    n = count_params(model)
    # torchaudio.models.ConvTasNet(num_sources=3, enc_kernel_size=32, enc_num_feats=512, msk_kernel_size=3,
    # msk_num_feats=128, msk_num_hidden_feats=512, msk_num_layers=8, msk_num_stacks=3), counted from its
    # source (see torchaudio_param_count): 5,067,313.
    assert torchaudio_param_count(L=32) == 5_067_313
    assert n == 5_067_313
    assert n == pytest.approx(PAPER_TABLE["conv_tasnet"]["params_m"] * 1e6, rel=0.02)
    # Luo & Mesgarani's L=16 (8 kHz) setting: torchaudio's default-sized model with 3 sources.
    assert torchaudio_param_count(L=16) == 5_050_929
    assert count_params(build_model("conv_tasnet", "paper", L=16)) == 5_050_929


@pytest.mark.parametrize("size", ["paper", "lite"])
def test_torchaudio_count_formula_matches_every_preset(size):
    cfg = {k: v for k, v in CONFIGS[size].items() if k in ("N", "L", "B", "H", "P", "X", "R")}
    assert count_params(build_model("conv_tasnet", size)) == torchaudio_param_count(3, **cfg)


def test_paper_macs_per_second():
    macs = macs_per_second(build_model("conv_tasnet", "paper"), seconds=1.0)
    assert macs == pytest.approx(PAPER_TABLE["conv_tasnet"]["gmac_per_s"] * 1e9, rel=0.10)
    assert macs == pytest.approx(5.0226e9, rel=1e-3)  # measured: 2-ms window at 16 kHz, 1001 frames/s


def test_odd_encoder_length_is_rejected():
    with pytest.raises(ValueError):
        tiny(L=7)
