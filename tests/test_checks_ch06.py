"""Chapter 06 self-checks: the right answer passes, typical wrong answers fail and say why."""
import pytest
import torch

from mtass_lite import checks
from mtass_lite.checks import CheckFailed
from mtass_lite.models import build_model
from mtass_lite.models.gcrn import GatedConv2d
from mtass_lite.profile import count_params


class PlainConv2d(GatedConv2d):
    """The right answer to exercise 2: the gated layer without its gate."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.gate

    def forward(self, x):
        return self.conv(x)


class GateKept(GatedConv2d):
    def forward(self, x):
        return self.conv(x)


class Squashed(PlainConv2d):
    def forward(self, x):
        return torch.sigmoid(self.conv(x))


def test_ex06_2_plain_convolution():
    assert checks.ex06_2(PlainConv2d, strict=True)
    with pytest.raises(CheckFailed, match="still gated"):
        checks.ex06_2(GatedConv2d, strict=True)
    with pytest.raises(CheckFailed, match="gate's convolution is still there"):
        checks.ex06_2(GateKept, strict=True)
    with pytest.raises(CheckFailed, match="squashes"):
        checks.ex06_2(Squashed, strict=True)
    with pytest.raises(CheckFailed, match="the class itself"):
        checks.ex06_2(PlainConv2d(2, 4, (1, 3), (1, 2)), strict=True)


def test_ex06_3_bins_and_parameters():
    model = build_model("gcrn", "lite", n_fft=512, hop=256)
    n_params = count_params(model)
    assert checks.ex06_3(7, n_params, strict=True)
    with pytest.raises(CheckFailed, match="STFT's bins"):
        checks.ex06_3(257, n_params, strict=True)
    with pytest.raises(CheckFailed, match="halving five times"):
        checks.ex06_3(8, n_params, strict=True)
    with pytest.raises(CheckFailed, match="feature width"):
        checks.ex06_3(7 * 32, n_params, strict=True)
    with pytest.raises(CheckFailed, match="default 161-bin model"):
        checks.ex06_3(7, count_params(build_model("gcrn", "lite")), strict=True)
    with pytest.raises(CheckFailed, match="but not the larger output layers"):
        lite = build_model("gcrn", "lite")
        checks.ex06_3(7, count_params(lite) - count_params(lite.lstm) + count_params(model.lstm), strict=True)
