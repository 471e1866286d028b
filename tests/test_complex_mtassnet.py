"""Complex-MTASSNet: shapes, reload, gradients, mask variants, two-stage training, paper pins."""
import pytest
import torch

from _model_checks import (check_gradients_reach_every_parameter,
                           check_output_shape, check_state_dict_round_trip)
from mtass_lite.models import build_model
from mtass_lite.models.complex_mtassnet import MASK_TYPES, SubbandDilatedConv, band_sizes
from mtass_lite.profile import PAPER_TABLE, count_params, macs_per_second
from mtass_lite.stft import istft, ri_stack, ri_unstack, stft

TINY = dict(n_fft=64, hop=32, hidden=16, dilations=(1, 2), n_repeats=1, n_subbands=4, tcn_channels=8,
            tcn_hidden=4, tcn_repeats=1, tcn_blocks=2)


def tiny(**kw):
    torch.manual_seed(0)
    return build_model("complex_mtassnet", "lite", **{**TINY, **kw})


@pytest.mark.parametrize("length", [16001, 12345, 100])
def test_output_shape_and_length(length):
    check_output_shape(tiny(), length)


@pytest.mark.parametrize("mask_type", MASK_TYPES)
@pytest.mark.parametrize("stage2", [True, False])
def test_variants_run(mask_type, stage2):
    model = tiny(mask_type=mask_type, stage2=stage2)
    spectra = model.spectra(torch.randn(2, 999))
    assert spectra["stage1"].shape == spectra["estimate"].shape == (2, 3, 66, 999 // 32 + 1)
    assert (spectra["estimate"] is spectra["stage1"]) == (not stage2)
    assert model(torch.randn(2, 999)).shape == (2, 3, 999)


def test_unknown_mask_type_is_rejected():
    with pytest.raises(ValueError):
        tiny(mask_type="polar")


def test_state_dict_round_trip_gives_identical_outputs():
    check_state_dict_round_trip(tiny(), length=3000)


def test_gradients_reach_every_parameter():
    check_gradients_reach_every_parameter(tiny(), length=2000)


def test_freeze_stage1_trains_stage2_only():
    model = tiny()
    model.freeze_stage1()
    model.train()
    assert not model.stage1.training and model.stage2.training  # BatchNorm/dropout of stage 1 fixed
    before = count_params(model)
    model(torch.randn(2, 2000)).pow(2).mean().backward()
    assert all(p.grad is None for p in model.stage1.parameters())
    assert all(p.grad is not None for p in model.stage2.parameters())
    assert before == sum(p.numel() for p in model.stage2.parameters())
    model.unfreeze_stage1()
    assert model.stage1.training and all(p.requires_grad for p in model.stage1.parameters())


def test_band_sizes_follow_the_released_split():
    # 514 channels = |X| (257) + projection (257), each cut into 64, 64, 64, 65
    assert band_sizes(257, 4) * 2 == [64, 64, 64, 65, 64, 64, 64, 65]
    conv = SubbandDilatedConv(257, 8)
    assert [u[0].in_channels for u in conv.low_to_high] == [64, 128, 128, 129, 129, 128, 128, 129]
    assert [u[0].in_channels for u in conv.high_to_low] == [128, 128, 129, 129, 128, 128, 129, 65]


def test_subband_conv_links_every_band_to_every_other():
    conv = SubbandDilatedConv(20, 4, dilation=1).eval()
    x = torch.zeros(1, 40, 9, requires_grad=True)
    y = conv(x)
    assert y.shape == x.shape
    y[0, :10, 4].sum().backward()  # lowest output band, one frame
    assert x.grad[0, 30:, :].abs().sum() > 0  # reached from the highest input band (high -> low chain)


def test_oracle_complex_mask_reconstructs_a_stem():
    # The unbounded complex ratio mask S / X applied by the "complex" variant gives back the stem exactly.
    model = tiny(mask_type="complex")
    torch.manual_seed(1)
    stems = torch.randn(1, 3, 4000)
    X = stft(stems.sum(1), 64, 32)  # [1, F, N]
    S = stft(stems, 64, 32)  # [1, 3, F, N]
    M = S / X.unsqueeze(1)
    Y = model.apply_masks(ri_stack(M), X)
    torch.testing.assert_close(ri_unstack(Y), S, rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(istft(ri_unstack(Y), 4000, 64, 32), stems, rtol=1e-3, atol=1e-3)
    # the released Re/Im scaling reproduces S too when each part is divided separately (the imaginary
    # parts of the DC and Nyquist bins are 0/0 for real signals: any gain will do)
    mask = torch.nan_to_num(ri_stack(S) / ri_stack(X).unsqueeze(1))
    ri = tiny(mask_type="ri_scaling").apply_masks(mask, X)
    torch.testing.assert_close(ri_unstack(ri), S, rtol=1e-3, atol=1e-3)


def test_paper_param_count():
    n = count_params(build_model("complex_mtassnet", "paper"))  # no forward: cheap
    assert n == 28_180_685
    assert n == pytest.approx(PAPER_TABLE["complex_mtassnet"]["params_m"] * 1e6, rel=0.002)


def test_paper_macs_per_second():
    macs = macs_per_second(build_model("complex_mtassnet", "paper"), seconds=1.0)
    assert macs == pytest.approx(PAPER_TABLE["complex_mtassnet"]["gmac_per_s"] * 1e9, rel=0.10)
    assert macs == pytest.approx(1.7663e9, rel=1e-3)  # measured: 63 STFT frames per second
