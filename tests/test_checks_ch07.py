"""Chapter 07 self-checks: the library's block (and a correct re-implementation) passes; broken blocks
fail and the message names what is broken."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mtass_lite import checks
from mtass_lite.checks import CheckFailed
from mtass_lite.models.common import GlobalLayerNorm, TCNBlock
from mtass_lite.models.conv_tasnet import ConvTasNet


class OwnNames(nn.Module):
    """A correct block with its own attribute names (weights are copied by shape, in creation order)."""

    def __init__(self, io_channels, hidden_channels, kernel_size=3, dilation=1, skip_channels=None):
        super().__init__()
        self.inp = nn.Conv1d(io_channels, hidden_channels, 1)
        self.act1, self.norm1 = nn.PReLU(), GlobalLayerNorm(hidden_channels)
        self.depthwise = nn.Conv1d(hidden_channels, hidden_channels, kernel_size, dilation=dilation,
                                   padding=dilation * (kernel_size - 1) // 2, groups=hidden_channels)
        self.act2, self.norm2 = nn.PReLU(), GlobalLayerNorm(hidden_channels)
        self.res = nn.Conv1d(hidden_channels, io_channels, 1)
        self.skip = nn.Conv1d(hidden_channels, skip_channels or io_channels, 1)

    def forward(self, x):
        y = self.norm2(self.act2(self.depthwise(self.norm1(self.act1(self.inp(x))))))
        return self.res(y), self.skip(y)


class NoResidual(TCNBlock):
    def forward(self, x):
        return None, self.skip_out(self.conv_layers(x))


class NoSkip(OwnNames):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.skip

    def forward(self, x):
        y = self.norm2(self.act2(self.depthwise(self.norm1(self.act1(self.inp(x))))))
        return self.res(y), self.res(y)


class UnscaledPadding(TCNBlock):  # dilation applied, padding (P-1)/2: the length shrinks
    def __init__(self, io_channels, hidden_channels, kernel_size=3, dilation=1, skip_channels=None):
        super().__init__(io_channels, hidden_channels, kernel_size, dilation, skip_channels)
        self.conv_layers[3].padding = ((kernel_size - 1) // 2,)


class Causal(TCNBlock):  # left padding only: same length, other values
    def forward(self, x):
        c = self.conv_layers
        h = c[2](c[1](c[0](x)))
        d, P = c[3].dilation[0], c[3].kernel_size[0]
        h = F.conv1d(F.pad(h, (d * (P - 1), 0)), c[3].weight, c[3].bias, dilation=d, groups=h.shape[1])
        y = c[5](c[4](h))
        return self.res_out(y), self.skip_out(y)


class NoDilation(TCNBlock):
    def __init__(self, io_channels, hidden_channels, kernel_size=3, dilation=1, skip_channels=None):
        super().__init__(io_channels, hidden_channels, kernel_size, 1, skip_channels)


class NoNorm(OwnNames):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.norm1 = self.norm2 = nn.Identity()


class NormFirst(OwnNames):
    def forward(self, x):
        y = self.act2(self.norm2(self.depthwise(self.act1(self.norm1(self.inp(x))))))
        return self.res(y), self.skip(y)


class FullConv(OwnNames):
    def __init__(self, io_channels, hidden_channels, kernel_size=3, dilation=1, skip_channels=None):
        super().__init__(io_channels, hidden_channels, kernel_size, dilation, skip_channels)
        self.depthwise = nn.Conv1d(hidden_channels, hidden_channels, kernel_size, dilation=dilation,
                                   padding=dilation * (kernel_size - 1) // 2)


class Stub(nn.Module):
    def __init__(self, io_channels, hidden_channels, kernel_size=3, dilation=1, skip_channels=None):
        super().__init__()
        raise NotImplementedError


def test_ex07_tcn_block_right_answers_pass():
    assert checks.ex07_tcn_block(TCNBlock, strict=True)
    assert checks.ex07_tcn_block(OwnNames, strict=True)


@pytest.mark.parametrize("cls, problem", [
    (NoResidual, "missing residual"),
    (NoSkip, "missing skip"),
    (UnscaledPadding, "wrong padding.*length changes"),
    (Causal, "causal padding"),
    (NoDilation, "dilation not applied"),
    (NoNorm, "norm missing"),
    (NormFirst, "norm before PReLU"),
    (FullConv, "depthwise"),
])
def test_ex07_tcn_block_names_the_problem(cls, problem):
    with pytest.raises(CheckFailed, match=problem):
        checks.ex07_tcn_block(cls, strict=True)


def test_ex07_tcn_block_stub_is_left_to_the_chapter():
    with pytest.raises(NotImplementedError):
        checks.ex07_tcn_block(Stub)


class ReLUMasks(ConvTasNet):
    def masks(self, w):
        return torch.relu(self.mask_logits(w))


class NoNonlinearity(ConvTasNet):
    def masks(self, w):
        return torch.logit(super().masks(w))


def test_ex07_3_relu_masks():
    assert checks.ex07_3(ReLUMasks, strict=True)
    with pytest.raises(CheckFailed, match="still sigmoid"):
        checks.ex07_3(ConvTasNet, strict=True)
    with pytest.raises(CheckFailed, match="can be negative"):
        checks.ex07_3(NoNonlinearity, strict=True)
