"""GCRN: shapes, reload, gradients, scale equivariance, the released code's group shuffle and skip ELU,
the [Re; Im] spectra, and the paper-size parameter / MAC pins."""
import pytest
import torch
from torch import nn

from _model_checks import (check_estimates_scale_with_the_mixture, check_gradients_reach_every_parameter,
                           check_output_shape, check_state_dict_round_trip)
from mtass_lite.models import build_model
from mtass_lite.models.gcrn import GroupedLSTM, shuffle_groups
from mtass_lite.profile import PAPER_TABLE, count_params, macs_per_second
from mtass_lite.stft import ri_stack, ri_unstack

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
    assert count_params(build_model("gcrn", "paper", lstm_shuffle=False)) == n  # the shuffle adds nothing
    assert n == pytest.approx(PAPER_TABLE["gcrn"]["params_m"] * 1e6, rel=0.02)  # table: 9.88 M


def test_paper_macs_per_second():
    model = build_model("gcrn", "paper")
    macs = macs_per_second(model, seconds=1.0)
    # FlopCounterMode + analytic LSTMs: 1.67 G, below the table's 2.5 G (see the module docstring) ...
    assert macs == pytest.approx(1.6728e9, rel=1e-3)
    # ... which counts transposed convs per output position, as thop does: 2.43 G
    table = macs_per_second(model, seconds=1.0, convention="thop")
    assert table == pytest.approx(PAPER_TABLE["gcrn"]["gmac_per_s"] * 1e9, rel=0.10)


def test_shuffle_groups_interleaves_the_groups_feature_by_feature():
    # the released GLSTM: torch.stack(group outputs, dim=-1).flatten(-2) -> [a0 b0 a1 b1 ...]
    assert shuffle_groups(torch.arange(8), 2).tolist() == [0, 4, 1, 5, 2, 6, 3, 7]
    assert shuffle_groups(torch.arange(6), 3).tolist() == [0, 2, 4, 1, 3, 5]
    a, b = torch.randn(2, 5, 4), torch.randn(2, 5, 4)
    assert torch.equal(shuffle_groups(torch.cat([a, b], -1), 2), torch.stack([a, b], -1).flatten(-2))


def record_io(lstm: GroupedLSTM, x):
    """Run ``lstm`` on ``x``; return (outputs of each layer's group LSTMs, inputs of each one, output)."""
    outs, ins = {}, {}
    hooks = []
    for i, layer in enumerate(lstm.lstms):
        for g, m in enumerate(layer):
            hooks.append(m.register_forward_pre_hook(lambda m, a, key=(i, g): ins.__setitem__(key, a[0])))
            hooks.append(m.register_forward_hook(lambda m, a, o, key=(i, g): outs.__setitem__(key, o[0])))
    with torch.no_grad():
        y = lstm(x)
    for h in hooks:
        h.remove()
    return outs, ins, y


@pytest.mark.parametrize("shuffle", [True, False])
def test_second_lstm_layer_reads_the_interleaved_groups(shuffle):
    torch.manual_seed(0)
    lstm = GroupedLSTM(8, groups=2, layers=2, shuffle=shuffle)
    outs, ins, y = record_io(lstm, torch.randn(2, 5, 8))
    joined = torch.cat([outs[0, 0], outs[0, 1]], -1)  # layer 1's two groups, [B, N, 8]
    # released order: shuffle, then the first LayerNorm, then split into the second layer's groups
    expected = lstm.norms[0](shuffle_groups(joined, 2) if shuffle else joined).chunk(2, -1)
    for g in range(2):
        torch.testing.assert_close(ins[1, g], expected[g])
    # no shuffle after the last layer: the output is the second layer's groups side by side, normalised
    torch.testing.assert_close(y, lstm.norms[1](torch.cat([outs[1, 0], outs[1, 1]], -1)))


def test_shuffle_changes_the_output_with_the_same_weights():
    torch.manual_seed(0)
    on, off = GroupedLSTM(8, 2, 2, shuffle=True), GroupedLSTM(8, 2, 2, shuffle=False)
    off.load_state_dict(on.state_dict())
    x = torch.randn(2, 5, 8)
    with torch.no_grad():
        assert not torch.allclose(on(x), off(x), atol=1e-3)
    assert build_model("gcrn", "lite").lstm.shuffle  # the default follows the release


def test_decoder_skips_pass_through_the_released_second_elu():
    # released: d_k = ELU(cat(BN(deconv(d_{k+1})), e_k)) with e_k = ELU(BN(conv(...))) -> the skip gets
    # ELU twice; the first decoder layer reads cat(LSTM output, e_5) with no ELU
    model = tiny().eval()
    enc, dec_in = [], []
    hooks = [layer["norm"].register_forward_hook(lambda m, a, o: enc.append(torch.nn.functional.elu(o)))
             for layer in model.encoder]
    hooks += [layer["conv"].register_forward_pre_hook(lambda m, a: dec_in.append(a[0]))
              for layer in model.decoders[0]]
    with torch.no_grad():
        model(torch.randn(2, 2000))
    for h in hooks:
        h.remove()
    for i, x in enumerate(dec_in):
        skip = enc[-1 - i]
        assert skip.min() < -0.05  # the skip has negative values, where a second ELU changes it
        expected = skip if i == 0 else torch.nn.functional.elu(skip)
        torch.testing.assert_close(x[:, skip.shape[1]:], expected)
        if i > 0:  # the decoder's own half went through one ELU: >= -1
            assert x[:, :skip.shape[1]].min() >= -1


@pytest.mark.parametrize("length", [4000, 50, 3])  # tiny: n_fft 64; 50 < n_fft, 3 < the STFT's minimum
def test_spectra_shapes_scale_and_forward_is_their_istft(length):
    model = tiny().eval()
    x = torch.randn(2, length)
    with torch.no_grad():
        sp = model.spectra(x)
        padded = model.pad_for_stft(x)
        X = model.stft(padded)  # [B, F, N]
        assert torch.equal(sp["mixture"], ri_stack(X))  # the raw mixture's spectrum, no normalisation
        targets = model.pad_for_stft(torch.randn(2, 3, length))
        assert sp["estimate"].shape == ri_stack(model.stft(targets)).shape == (2, 3, 2 * 33, X.shape[-1])
        if length >= 64 // 2 + 1:
            assert padded.shape[-1] == length  # no padding where the STFT of a target works as it is
        # forward is the iSTFT of the estimate, which is therefore in the waveform's (target STFT's) scale
        wave = model.stft.inverse(ri_unstack(sp["estimate"]), padded.shape[-1])[..., :length]
        torch.testing.assert_close(model(x), wave, rtol=1e-5, atol=1e-6)
        # and the estimate follows the mixture's level (the RMS normalisation is undone)
        torch.testing.assert_close(model.spectra(3 * x)["estimate"], 3 * sp["estimate"], rtol=1e-4, atol=1e-5)
