"""mtass_lite.losses: each loss against a direct formula, weights, gradients, the registry."""
import numpy as np
import pytest
import torch

from mtass_lite.losses import LOSS_NAMES, MTASS_SNR_WEIGHT, get_loss
from mtass_lite.stft import stft


@pytest.fixture
def pair():
    g = torch.Generator().manual_seed(0)
    target = torch.randn(2, 3, 4000, generator=g)
    estimate = target + 0.3 * torch.randn(2, 3, 4000, generator=g)
    return estimate, target


def snr_db(est, ref):
    return 10 * np.log10((ref ** 2).sum(-1) / ((ref - est) ** 2).sum(-1))


def test_snr_loss_is_the_negative_plain_snr_summed_over_tracks(pair):
    est, ref = pair
    want = -snr_db(est.double().numpy(), ref.double().numpy()).mean(0).sum()
    assert float(get_loss("snr")(est, ref)) == pytest.approx(want, rel=1e-5)


def test_si_sdr_loss_ignores_scale_and_snr_loss_does_not(pair):
    est, ref = pair
    si, snr = get_loss("si_sdr"), get_loss("snr")
    assert float(si(3 * est, ref)) == pytest.approx(float(si(est, ref)), abs=1e-3)
    assert float(snr(3 * est, ref)) > float(snr(est, ref)) + 10


def test_ri_mse_and_the_mtass_objective(pair):
    est, ref = pair
    E, R = stft(est), stft(ref)
    ri = (((E.real - R.real) ** 2 + (E.imag - R.imag) ** 2) / 2).mean(dim=(-2, -1))  # mean over [Re; Im]
    assert float(get_loss("ri_mse")(est, ref)) == pytest.approx(float(ri.mean(0).sum()), rel=1e-5)
    snr = -snr_db(est.double().numpy(), ref.double().numpy()).mean(0)
    want = ri.mean(0).double().numpy() + MTASS_SNR_WEIGHT * snr
    assert float(get_loss("mtass")(est, ref)) == pytest.approx(want.sum(), rel=1e-5)
    assert float(get_loss("ri_mse")(ref, ref)) == 0.0


def test_track_weights(pair):
    est, ref = pair
    per_track = get_loss("snr").track_losses(est, ref)
    weighted = get_loss("snr", track_weights=(1.0, 0.0, 2.0))(est, ref)
    assert float(weighted) == pytest.approx(float(per_track[0] + 2 * per_track[2]), rel=1e-6)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_is_a_differentiable_scalar(name, pair):
    est, ref = pair
    est = est.clone().requires_grad_(True)
    loss = get_loss(name)(est, ref)
    assert loss.dim() == 0
    loss.backward()
    assert torch.isfinite(est.grad).all() and est.grad.abs().sum() > 0


def test_bad_inputs_are_refused(pair):
    est, ref = pair
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("l1")
    with pytest.raises(ValueError, match="3 values"):
        get_loss("snr", track_weights=(1, 1))
    with pytest.raises(ValueError, match="differ in shape"):
        get_loss("snr")(est[:, :, :100], ref)
