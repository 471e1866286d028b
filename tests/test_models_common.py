"""mtass_lite.models.common: length helpers, gLN / cLN, Conv-TasNet and gated TCN blocks."""
import pytest
import torch

from mtass_lite.models.common import (ConvBNReLU, CumulativeLayerNorm, GatedTCN, GatedTCNBlock, GlobalLayerNorm,
                                      TCNBlock, make_norm, pad_to_multiple, same_padding, trim_to_length)


@pytest.mark.parametrize("length", [1, 7, 8, 9, 16001])
def test_pad_to_multiple_and_trim(length):
    x = torch.randn(2, length)
    y, n_pad = pad_to_multiple(x, 8)
    assert y.shape[-1] % 8 == 0 and y.shape[-1] - length == n_pad < 8
    assert torch.equal(y[..., :length], x) and not y[..., length:].any()
    assert torch.equal(trim_to_length(y, length), x)
    assert trim_to_length(x, length + 3).shape[-1] == length + 3


def test_pad_to_multiple_with_extra():
    y, n_pad = pad_to_multiple(torch.randn(1, 20), 8, extra=3)
    assert (y.shape[-1] - 3) % 8 == 0 and n_pad == 7


def test_global_layer_norm_matches_its_definition():
    # Conv-TasNet eq. (13): statistics over channels and time together, per example.
    x = torch.randn(3, 5, 11) * 4 + 2
    norm = GlobalLayerNorm(5)
    with torch.no_grad():
        norm.weight.uniform_()
        norm.bias.uniform_()
    mean = x.mean((1, 2), keepdim=True)
    var = x.var((1, 2), unbiased=False, keepdim=True)
    expected = (x - mean) / (var + 1e-8).sqrt() * norm.weight[:, None] + norm.bias[:, None]
    torch.testing.assert_close(norm(x), expected, rtol=1e-4, atol=1e-5)


def test_cumulative_layer_norm_is_causal_and_ends_like_gln():
    x = torch.randn(2, 4, 30)
    cln, gln = CumulativeLayerNorm(4), GlobalLayerNorm(4)
    y = cln(x)
    x2 = x.clone()
    x2[..., 20:] += 5  # change the future only
    torch.testing.assert_close(cln(x2)[..., :20], y[..., :20])
    # at the last frame the cumulative statistics are the global ones
    torch.testing.assert_close(y[..., -1], gln(x)[..., -1], rtol=1e-4, atol=1e-5)


def test_make_norm_rejects_unknown():
    assert isinstance(make_norm("BN", 3), torch.nn.BatchNorm1d)
    with pytest.raises(ValueError):
        make_norm("LN", 3)


@pytest.mark.parametrize("dilation", [1, 4])
def test_tcn_block_shapes_and_no_residual(dilation):
    x = torch.randn(2, 8, 50)
    res, skip = TCNBlock(8, 16, 3, dilation, skip_channels=6)(x)
    assert res.shape == (2, 8, 50) and skip.shape == (2, 6, 50)
    res, skip = TCNBlock(8, 16, 3, dilation, residual=False)(x)
    assert res is None and skip.shape == (2, 8, 50)


def test_tcn_block_receptive_field():
    # BatchNorm in eval mode does not mix frames (gLN would), so only the dilated conv's taps show
    block = TCNBlock(2, 4, 3, dilation=4, norm="BN").eval()
    x = torch.zeros(1, 2, 41, requires_grad=True)
    block(x)[1][0, :, 20].sum().backward()
    touched = x.grad.abs().sum(1)[0].nonzero().flatten().tolist()
    assert touched == [16, 20, 24]
    assert same_padding(3, 4) == 4


def test_conv_bn_relu_keeps_length():
    assert ConvBNReLU(4, 6, kernel_size=3, dilation=5)(torch.randn(2, 4, 17)).shape == (2, 6, 17)


def test_gated_tcn_block_is_residual_and_gated():
    block = GatedTCNBlock(8, 4, 3, dilation=2).eval()
    x = torch.randn(2, 8, 20)
    with torch.no_grad():
        block.out_conv.weight.zero_()
    torch.testing.assert_close(block(x), x)  # zero output conv -> identity


def test_gated_tcn_dilations_and_shapes():
    net = GatedTCN(10, 6, channels=8, hidden_channels=4, repeats=2, blocks=3)
    assert [b.value[0].dilation[0] for b in net.blocks] == [1, 2, 4, 1, 2, 4]
    assert net(torch.randn(2, 10, 33)).shape == (2, 6, 33)


def test_shared_model_checks_catch_broken_models():
    """tests/_model_checks.py must fail on the faults it exists to catch (else every model test is hollow)."""
    from _model_checks import (check_estimates_scale_with_the_mixture, check_gradients_reach_every_parameter,
                               check_output_shape)

    class Broken(torch.nn.Module):
        def __init__(self, crop=0, bias=0.0):
            super().__init__()
            self.gain = torch.nn.Parameter(torch.ones(3, 1))
            self.unused = torch.nn.Parameter(torch.zeros(1))
            self.crop, self.bias = crop, bias

        def forward(self, x):
            y = self.gain * x.unsqueeze(1) + self.bias
            return y[..., : x.shape[-1] - self.crop]

    check_output_shape(Broken(), 101)
    with pytest.raises(AssertionError):
        check_output_shape(Broken(crop=1), 101)  # one sample short
    with pytest.raises(AssertionError, match="unused"):
        check_gradients_reach_every_parameter(Broken())
    check_estimates_scale_with_the_mixture(Broken())
    with pytest.raises(AssertionError):
        check_estimates_scale_with_the_mixture(Broken(bias=0.1))  # an offset does not scale
