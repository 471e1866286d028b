"""mtass_lite.losses: each loss against a direct formula or a hand-computed value, the spectral domain
on Complex-MTASSNet, weights, gradients, the registry and each model's released objective."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from _tiny_helpers import TinySeparator
from mtass_lite.losses import (LOSS_NAMES, MTASS_SNR_WEIGHT, RELEASED_LOSSES, SPECTRAL_LOSSES, WAVEFORM_LOSSES,
                               SpectraForward, get_loss, neg_snr, released_loss)
from mtass_lite.models import MODEL_NAMES, build_model
from mtass_lite.stft import STFT, istft, ri_stack, stft

# Complex-MTASSNet small enough for CPU tests (as in test_complex_mtassnet.py)
TINY_CM = dict(n_fft=64, hop=32, hidden=16, dilations=(1, 2), n_repeats=1, n_subbands=4, tcn_channels=8,
               tcn_hidden=4, tcn_repeats=1, tcn_blocks=2)


@pytest.fixture
def pair():
    g = torch.Generator().manual_seed(0)
    target = torch.randn(2, 3, 4000, generator=g)
    estimate = target + 0.3 * torch.randn(2, 3, 4000, generator=g)
    return estimate, target


def tiny_cm():
    torch.manual_seed(0)
    return build_model("complex_mtassnet", "lite", **TINY_CM).eval()  # eval: no dropout, fixed BatchNorm


class FakeSpectral(nn.Module):
    """A "model" whose spectra() returns fixed tensors: ``estimate`` [B, 3, 2F, N], ``magnitude`` [B, 3, F, N]."""

    def __init__(self, estimate=None, magnitude=None, n_fft=8, hop=4):
        super().__init__()
        self.stft = STFT(n_fft, hop)
        self.fixed = {k: v for k, v in (("estimate", estimate), ("magnitude", magnitude)) if v is not None}

    def spectra(self, mixture):
        return dict(self.fixed)


def snr_db(est, ref):
    return 10 * np.log10((ref ** 2).sum(-1) / ((ref - est) ** 2).sum(-1))


# -- waveform losses ----------------------------------------------------------------------------------
def test_snr_loss_is_the_negative_plain_snr_summed_over_tracks(pair):
    est, ref = pair
    want = -snr_db(est.double().numpy(), ref.double().numpy()).mean(0).sum()
    assert float(get_loss("snr")(est, ref)) == pytest.approx(want, rel=1e-5)


def test_si_sdr_loss_ignores_scale_and_snr_loss_does_not(pair):
    est, ref = pair
    si, snr = get_loss("si_sdr"), get_loss("snr")
    assert float(si(3 * est, ref)) == pytest.approx(float(si(est, ref)), abs=1e-3)
    assert float(snr(3 * est, ref)) > float(snr(est, ref)) + 10


def test_conv_tasnet_si_snr_on_a_hand_checked_case():
    """ref = [1, -1, 1, -1], error e = [1, 1, -1, -1] (zero mean, orthogonal to ref): the estimate
    ``g * ref + e`` projects to ``g * ref``, so SI-SNR = 10 log10(4 g^2 / 4) = 20 log10(g)."""
    ref = torch.tensor([1.0, -1.0, 1.0, -1.0])
    e = torch.tensor([1.0, 1.0, -1.0, -1.0])
    gains = (1.0, 2.0, 10.0)
    est = torch.stack([g * ref + e for g in gains])[None]  # [1, 3, 4]: one gain per track
    per_track = get_loss("si_sdr").track_losses(est, ref.expand(1, 3, 4))
    want = [-20 * math.log10(g) for g in gains]  # 0, -6.02, -20 dB
    assert per_track.tolist() == pytest.approx(want, abs=1e-4)
    # summed over tracks here; kaituoxu's cal_loss averages over sources (1/3 of this, same direction)
    assert float(get_loss("si_sdr")(est, ref.expand(1, 3, 4))) == pytest.approx(sum(want), abs=1e-3)
    # zero-mean: adding a constant to the estimate changes nothing
    assert float(get_loss("si_sdr")(est + 5.0, ref.expand(1, 3, 4))) == pytest.approx(sum(want), abs=1e-3)


def test_demucs_l1_on_a_hand_checked_case():
    target = torch.tensor([[[1.0, -2.0, 3.0, 0.0], [0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 0.0, 4.0]],
                           [[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [2.0, 0.0, 0.0, 0.0]]])
    est = torch.zeros_like(target)
    # per track, mean |error| over time: batch item 0 -> 1.5, 0.5, 1.0; item 1 -> 0, 1, 0.5
    loss = get_loss("l1")
    assert loss.track_losses(est, target).tolist() == pytest.approx([0.75, 0.75, 0.75])
    assert float(loss(est, target)) == pytest.approx(2.25)
    assert float(loss(target, target)) == 0.0


def test_ri_mse_and_the_waveform_mtass_formula(pair):
    est, ref = pair
    E, R = stft(est), stft(ref)
    ri = (((E.real - R.real) ** 2 + (E.imag - R.imag) ** 2) / 2).mean(dim=(-2, -1))  # mean over [Re; Im]
    assert float(get_loss("ri_mse")(est, ref)) == pytest.approx(float(ri.mean(0).sum()), rel=1e-5)
    snr = -snr_db(est.double().numpy(), ref.double().numpy()).mean(0)
    want = ri.mean(0).double().numpy() + MTASS_SNR_WEIGHT * snr
    assert float(get_loss("mtass_wave")(est, ref)) == pytest.approx(want.sum(), rel=1e-5)
    assert float(get_loss("ri_mse")(ref, ref)) == 0.0


# -- spectral losses ----------------------------------------------------------------------------------
def test_spectral_ri_mse_on_a_hand_checked_case():
    """Silent targets have an all-zero spectrum; an estimate of constant c per track scores c^2."""
    target = torch.zeros(2, 3, 64)
    F, N = 5, 64 // 4 + 1  # STFT(8, 4)
    c = torch.tensor([1.0, 2.0, 0.5])
    est = c[None, :, None, None].expand(2, 3, 2 * F, N)
    loss = get_loss("spectral_ri_mse")
    model = FakeSpectral(estimate=est)
    assert loss.track_losses(model.spectra(None), target, model).tolist() == pytest.approx([1.0, 4.0, 0.25])
    assert float(loss(model.spectra(None), target, model)) == pytest.approx(5.25)


def test_spectral_mag_mse_on_a_hand_checked_case():
    target = torch.zeros(1, 3, 64)
    mags = torch.tensor([3.0, 0.0, 1.0])[None, :, None, None].expand(1, 3, 5, 17)
    model = FakeSpectral(magnitude=mags)
    loss = get_loss("spectral_mag_mse")
    assert loss.track_losses(model.spectra(None), target, model).tolist() == pytest.approx([9.0, 0.0, 1.0])
    # without a "magnitude" entry, the magnitude of the [Re; Im] estimate: |3 + 4j| = 5
    ri = torch.cat([torch.full((1, 3, 5, 17), 3.0), torch.full((1, 3, 5, 17), 4.0)], dim=2)
    model = FakeSpectral(estimate=ri)
    assert float(loss(model.spectra(None), target, model)) == pytest.approx(3 * 25.0)


def test_spectral_loss_against_a_real_target_spectrum(pair):
    """The target side is the model's own STFT of the target waveform: a perfect estimate scores 0."""
    _, ref = pair
    model = FakeSpectral(estimate=ri_stack(STFT(8, 4)(ref)), magnitude=STFT(8, 4)(ref).abs())
    assert float(get_loss("spectral_ri_mse")(model.spectra(None), ref, model)) == pytest.approx(0.0, abs=1e-10)
    assert float(get_loss("spectral_mag_mse")(model.spectra(None), ref, model)) == pytest.approx(0.0, abs=1e-10)
    wrong = FakeSpectral(estimate=torch.zeros(2, 3, 10, 7))
    with pytest.raises(ValueError, match="shape"):
        get_loss("spectral_ri_mse")(wrong.spectra(None), ref, wrong)
    with pytest.raises(ValueError, match="no 'estimate' entry"):
        get_loss("mtass")({"magnitude": torch.zeros(1)}, ref, wrong)


def test_mtass_is_the_released_objective_on_complex_mtassnet():
    """mtass = sum over tracks of [MSELoss(spectra()["estimate"], ri_stack(stft(target))) + 0.01 x
    batch-mean -SNR(forward(mix), target)], the reduction of the released compute_out_cost."""
    model = tiny_cm()
    g = torch.Generator().manual_seed(1)
    target = 0.1 * torch.randn(2, 3, 2000, generator=g)
    mix = target.sum(1)
    with torch.no_grad():
        est_ri = model.spectra(mix)["estimate"]
        wave = model(mix)
        ref_ri = ri_stack(model.stft(target))
        want = sum(nn.functional.mse_loss(est_ri[:, k], ref_ri[:, k])
                   + MTASS_SNR_WEIGHT * neg_snr(wave, target)[:, k].mean() for k in range(3))
        loss = get_loss("mtass")
        got = loss(loss.outputs(model, mix), target, model)
    assert float(got) == pytest.approx(float(want), rel=1e-5)
    # the same through the module the Trainer runs (and wraps in DDP)
    forward = loss.training_forward(model)
    assert isinstance(forward, SpectraForward) and forward.model is model
    with torch.no_grad():
        assert float(loss(forward(mix), target, model)) == pytest.approx(float(want), rel=1e-5)
    assert get_loss("snr").training_forward(model) is model


def test_our_snr_term_agrees_with_the_rmse_optimum_and_the_released_one_would_not():
    """A perfect spectrum resynthesises to the target with our iSTFT. The release's (rectangular
    synthesis window against Hamming-windowed, plainly overlap-added target frames) gives 0.5 x the
    target: its SNR term then reads 6.02 dB at best, and prefers a spectrum twice too loud."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256 * 41, generator=g, dtype=torch.float64)
    assert torch.allclose(istft(stft(x), x.shape[-1]), x, atol=1e-9)  # ours: perfect reconstruction
    w = torch.hamming_window(512, periodic=False, dtype=torch.float64)  # scipy.signal.windows.hamming(512)
    frames = x.unfold(0, 512, 256) * w  # [nf, 512], the release's enframe()
    target = torch.cat([frames[i, 256:] + frames[i + 1, :256] for i in range(len(frames) - 1)])  # overlap_add_batch
    spectrum = torch.fft.rfft(frames, dim=-1).T  # [257, nf]: a perfect estimate
    estimate = torch.istft(spectrum, 512, 256, 512, window=torch.ones(512, dtype=torch.float64), center=True)
    assert estimate.shape == target.shape
    assert torch.allclose(estimate, 0.5 * target, atol=1e-9)
    snr = 10 * torch.log10(target.pow(2).sum() / (target - estimate).pow(2).sum())
    assert float(snr) == pytest.approx(20 * math.log10(2), abs=1e-6)  # 6.02 dB


# -- common behaviour ---------------------------------------------------------------------------------
def test_track_weights(pair):
    est, ref = pair
    per_track = get_loss("snr").track_losses(est, ref)
    weighted = get_loss("snr", track_weights=(1.0, 0.0, 2.0))(est, ref)
    assert float(weighted) == pytest.approx(float(per_track[0] + 2 * per_track[2]), rel=1e-6)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_is_a_differentiable_scalar(name):
    model = tiny_cm().train()
    g = torch.Generator().manual_seed(2)
    target = 0.1 * torch.randn(2, 3, 1500, generator=g)
    loss = get_loss(name)
    value = loss(loss.outputs(model, target.sum(1)), target, model)
    assert value.dim() == 0 and torch.isfinite(value)
    value.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(gr).all() for gr in grads) and sum(gr.abs().sum() for gr in grads) > 0


def test_domains():
    assert set(LOSS_NAMES) == set(WAVEFORM_LOSSES) | set(SPECTRAL_LOSSES)
    for name in LOSS_NAMES:
        loss = get_loss(name)
        assert loss.domain == ("spectra" if name in SPECTRAL_LOSSES else "waveform")
        assert loss.needs_spectra == (name in SPECTRAL_LOSSES)
    assert get_loss("mtass").needs_spectra and not get_loss("ri_mse").needs_spectra


def test_a_spectral_loss_refuses_a_model_without_spectra():
    with pytest.raises(ValueError, match=r"'mtass'.*TinySeparator has no spectra"):
        get_loss("mtass").check_model(TinySeparator())
    get_loss("snr").check_model(TinySeparator())  # waveform losses take any model
    with pytest.raises(ValueError, match="pass the model"):
        get_loss("mtass")({"estimate": torch.zeros(1)}, torch.zeros(1, 3, 10))


def test_released_losses_cover_every_model_and_are_registered():
    assert set(RELEASED_LOSSES) == set(MODEL_NAMES)
    assert set(RELEASED_LOSSES.values()) <= set(LOSS_NAMES)
    assert RELEASED_LOSSES == {"gcrn": "spectral_ri_mse", "conv_tasnet": "si_sdr", "demucs": "l1",
                               "d3net": "spectral_mag_mse", "complex_mtassnet": "mtass"}
    assert released_loss("demucs").name == "l1"
    with pytest.raises(ValueError, match="no released objective"):
        released_loss("tiny")


def test_bad_inputs_are_refused(pair):
    est, ref = pair
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("l2")
    with pytest.raises(ValueError, match="3 values"):
        get_loss("snr", track_weights=(1, 1))
    with pytest.raises(ValueError, match="differ in shape"):
        get_loss("snr")(est[:, :, :100], ref)
