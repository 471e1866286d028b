import numpy as np
import torch

from mtass_lite import metrics
from mtass_lite.baselines import ScaledMixture, Silence


def test_silence_sdri_is_minus_the_mixture_sdr():
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(2, 3, 4000, generator=g) * torch.tensor([1.0, 0.5, 0.3]).view(1, 3, 1)
    mix = ref.sum(1)
    est = Silence()(mix)
    assert est.shape == (2, 3, 4000) and torch.count_nonzero(est) == 0
    np.testing.assert_allclose(metrics.sdr_improvement(est, ref, mix), -metrics.sdr(mix.unsqueeze(1).expand_as(ref), ref),
                               atol=1e-4)


def test_scaled_mixture_sums_to_the_mixture():
    mix = torch.randn(2, 1000)
    est = ScaledMixture()(mix)
    torch.testing.assert_close(est.sum(1), mix)


def test_silence_si_sdri_is_the_floor_minus_the_mixture_si_sdr():
    g = torch.Generator().manual_seed(1)
    ref = torch.randn(2, 3, 4000, generator=g) * torch.tensor([1.0, 0.5, 0.3]).view(1, 3, 1)
    mix = ref.sum(1)
    mix_si = metrics.si_sdr(mix.unsqueeze(1).expand_as(ref), ref)
    got = metrics.si_sdr_improvement(Silence()(mix), ref, mix)
    torch.testing.assert_close(got, metrics.SILENCE_FLOOR_DB - mix_si)
    assert (got < -30).all()  # never a gain, unlike its plain-SNR SDRi
