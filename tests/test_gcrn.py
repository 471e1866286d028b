"""GCRN: shapes, reload, gradients, scale equivariance, and the paper-size parameter / MAC pins."""
import pytest
import torch
from torch import nn

from _model_checks import (check_estimates_scale_with_the_mixture, check_gradients_reach_every_parameter,
                           check_output_shape, check_state_dict_round_trip)
from mtass_lite.models import build_model
from mtass_lite.models.gcrn import GroupedLSTM
from mtass_lite.profile import PAPER_TABLE, count_params, macs_per_second

TINY = dict(n_fft=64, hop=32, channels=(4, 4, 8))  # 33 bins -> 16 -> 7 -> 3; LSTM on 8 x 3 = 24 features


def tiny(**kw):
    torch.manual_seed(0)
    return build_model("gcrn", "lite", **{**TINY, **kw})


@pytest.mark.parametrize("length", [16001, 12345, 3])
def test_output_shape_and_length(length):
    check_output_shape(tiny(), length)


def test_decoder_restores_any_bin_count():
    # the transposed convs' output padding follows the encoder's sizes (161 bins need one, 257 not)
    for n_fft in (320, 512):
        model = tiny(n_fft=n_fft, hop=n_fft // 2, channels=(2, 2, 2, 2, 2)).eval()
        with torch.no_grad():
            assert model(torch.randn(1, 4000)).shape == (1, 3, 4000)


def test_state_dict_round_trip_gives_identical_outputs():
    check_state_dict_round_trip(tiny())


def test_gradients_reach_every_parameter():
    check_gradients_reach_every_parameter(tiny())


def test_estimates_scale_with_the_mixture():
    # the mixture is normalised by its RMS and the estimates scaled back: a louder input, louder output
    check_estimates_scale_with_the_mixture(tiny())


def test_grouped_lstm_groups_are_independent_in_the_first_layer():
    lstm = GroupedLSTM(8, groups=2, layers=1)
    x = torch.randn(1, 5, 8, requires_grad=True)
    lstm.lstms[0][0](x[..., :4])[0].sum().backward()  # group 0's LSTM sees features 0-3 only
    assert x.grad[..., 4:].abs().sum() == 0 and x.grad[..., :4].abs().sum() > 0
    # two groups of 512 units need half the weight matrices of one 1024-unit LSTM (paper Sec. III-C)
    def weights(m):
        return sum(p.numel() for name, p in m.named_parameters() if "weight_" in name)

    assert weights(GroupedLSTM(1024, groups=2, layers=1)) == weights(nn.LSTM(1024, 1024)) // 2


def test_paper_param_count():
    n = count_params(build_model("gcrn", "paper"))  # counting is cheap: no forward
    assert n == 9_876_452  # measured: 161 bins, 3 tracks x (Re, Im) output layers
    assert n == pytest.approx(PAPER_TABLE["gcrn"]["params_m"] * 1e6, rel=0.02)  # table: 9.88 M


def test_paper_macs_per_second():
    model = build_model("gcrn", "paper")
    macs = macs_per_second(model, seconds=1.0)
    # FlopCounterMode + analytic LSTMs: 1.67 G, below the table's 2.5 G (see the module docstring) ...
    assert macs == pytest.approx(1.6728e9, rel=1e-3)
    # ... which counts transposed convs per output position, as thop does: 2.43 G
    table = macs_per_second(model, seconds=1.0, convention="thop")
    assert table == pytest.approx(PAPER_TABLE["gcrn"]["gmac_per_s"] * 1e9, rel=0.10)
