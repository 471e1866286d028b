"""Chapter 10 self-checks: the right answer passes, typical wrong answers fail and say why."""
import pytest
import torch

from mtass_lite import checks
from mtass_lite.checks import CheckFailed
from mtass_lite.models.complex_mtassnet import ComplexMTASSNet
from mtass_lite.stft import ri_unstack


class Bounded(ComplexMTASSNet):
    def apply_masks(self, masks, X):
        return super().apply_masks(torch.tanh(masks), X)


class Unbounded(ComplexMTASSNet):
    pass


class TanhOnEstimate(ComplexMTASSNet):
    def apply_masks(self, masks, X):
        return torch.tanh(super().apply_masks(masks, X))


class Sigmoid(ComplexMTASSNet):
    def apply_masks(self, masks, X):
        return super().apply_masks(torch.sigmoid(masks), X)


def test_ex10_2_bounded_masks():
    assert checks.ex10_2(Bounded, strict=True)
    with pytest.raises(CheckFailed, match="not bounded"):
        checks.ex10_2(Unbounded, strict=True)
    with pytest.raises(CheckFailed, match="applied to the estimate"):
        checks.ex10_2(TanhOnEstimate, strict=True)
    with pytest.raises(CheckFailed, match="sigmoid"):
        checks.ex10_2(Sigmoid, strict=True)
    with pytest.raises(CheckFailed, match="subclass"):
        checks.ex10_2(torch.nn.Module, strict=True)


def compensation(model, mixture):
    with torch.no_grad():
        sp = model.spectra(mixture[None])
    return ri_unstack(sp["estimate"][0] - sp["stage1"][0]).abs()


def test_ex10_4_compensation():
    assert checks.ex10_4(compensation, strict=True)
    with pytest.raises(CheckFailed, match="difference of magnitudes"):
        checks.ex10_4(lambda m, x: (ri_unstack(m.spectra(x[None])["estimate"][0]).abs()
                                    - ri_unstack(m.spectra(x[None])["stage1"][0]).abs()).detach(), strict=True)
    with pytest.raises(CheckFailed, match=r"\[Re; Im\] stacked"):
        checks.ex10_4(lambda m, x: (m.spectra(x[None])["estimate"][0] - m.spectra(x[None])["stage1"][0]).abs().detach(),
                      strict=True)
    with pytest.raises(CheckFailed, match="out of order"):
        checks.ex10_4(lambda m, x: compensation(m, x).flip(0), strict=True)


def zero_init_stage2(model):
    with torch.no_grad():
        for net in model.stage2:
            net.conv_out.weight.zero_()
            net.conv_out.bias.zero_()


def test_ex10_5_zero_init():
    assert checks.ex10_5(zero_init_stage2, strict=True)

    def weight_only(model):
        with torch.no_grad():
            for net in model.stage2:
                net.conv_out.weight.zero_()

    with pytest.raises(CheckFailed, match="bias is not zero"):
        checks.ex10_5(weight_only, strict=True)

    def first_only(model):
        with torch.no_grad():
            model.stage2[0].conv_out.weight.zero_()
            model.stage2[0].conv_out.bias.zero_()

    with pytest.raises(CheckFailed, match=r"stage2\[1\].conv_out.weight is not zero"):
        checks.ex10_5(first_only, strict=True)

    def conv_in(model):
        with torch.no_grad():
            for net in model.stage2:
                net.conv_in.weight.zero_()
                net.conv_in.bias.zero_()

    with pytest.raises(CheckFailed, match="conv_out.weight is not zero"):
        checks.ex10_5(conv_in, strict=True)
