import pytest
import torch

from mtass_lite import masks, metrics
from mtass_lite.stft import istft, stft


def _sources(seed=0, n=16000):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n) / 16000
    speech = torch.sin(2 * torch.pi * 200 * t) * (torch.sin(2 * torch.pi * 3 * t) > 0)
    music = 0.5 * torch.sin(2 * torch.pi * 440 * t) + 0.3 * torch.sin(2 * torch.pi * 660 * t)
    noise = 0.3 * torch.randn(n, generator=g)
    return torch.stack([speech, music, noise]).double()


def test_unbounded_complex_masks_reconstruct_each_stem_exactly():
    s = _sources()
    m = s.sum(0)
    est = masks.oracle_separation(m, s, "cirm", bound=None)
    assert torch.all(metrics.sdr(est, s) > 60)
    est = masks.oracle_separation(m, s, "ri_scaling", bound=None)
    assert torch.all(metrics.sdr(est, s) > 30)


def test_mask_ranges():
    s = _sources(1)
    Y, S = stft(s.sum(0)), stft(s)
    ibm = masks.oracle_mask("ibm", S, Y)
    assert set(ibm.unique().tolist()) <= {0.0, 1.0}
    # at most one source dominates each bin
    assert ibm.sum(-3).max() <= 1
    irm = masks.oracle_mask("irm", S, Y)
    assert irm.min() >= 0 and irm.max() <= 1 + 1e-6
    torch.testing.assert_close((irm ** 2).sum(-3), torch.ones_like(irm[0]), atol=1e-4, rtol=0)
    psm = masks.oracle_mask("psm", S, Y)
    assert psm.min() >= 0 and psm.max() <= 1
    assert masks.oracle_mask("cirm", S, Y, bound=1.0).abs().max() <= 1 + 1e-6
    ri = masks.oracle_mask("ri_scaling", S, Y, bound=1.0)
    assert ri.real.abs().max() <= 1 and ri.imag.abs().max() <= 1


def test_ri_scaling_is_not_a_complex_multiply():
    Y = torch.complex(torch.tensor([2.0]), torch.tensor([4.0]))
    M = torch.complex(torch.tensor([0.5]), torch.tensor([0.25]))
    assert masks.apply_ri_scaling_mask(M, Y).item() == complex(1.0, 1.0)
    assert masks.apply_mask(M, Y).item() == complex(0.5 * 2 - 0.25 * 4, 0.5 * 4 + 0.25 * 2)


def test_bounded_oracles_improve_every_track_and_psm_beats_irm_on_average():
    s = _sources(2)
    m = s.sum(0)
    res = {k: metrics.sdr_improvement(masks.oracle_separation(m, s, k), s, m) for k in masks.MASK_TYPES}
    for k, v in res.items():
        assert torch.all(v > 0), k
    assert res["psm"].mean() > res["irm"].mean()


def test_unknown_mask_type():
    with pytest.raises(ValueError, match="unknown mask type"):
        masks.oracle_mask("nope", torch.zeros(3, 2, 2, dtype=torch.complex64), torch.zeros(2, 2, dtype=torch.complex64))


def test_unbounded_ideal_amplitude_mask_gives_the_true_magnitude_with_the_mixture_phase():
    torch.manual_seed(0)
    sources = torch.randn(3, 8000, dtype=torch.float64)
    mix = sources.sum(0)
    Y, S = stft(mix), stft(sources)
    M = masks.oracle_mask("iam", S, Y, bound=None)
    est = masks.apply_mask(M, Y.unsqueeze(-3))
    torch.testing.assert_close(est.abs(), S.abs(), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(torch.angle(est[0][Y.abs() > 1e-3]), torch.angle(Y[Y.abs() > 1e-3]))
    assert masks.oracle_mask("iam", S, Y, bound=1.0).max() <= 1.0 < M.max()
    # the SDR ceiling of a non-negative magnitude with the mixture's phase is the PSM without upper
    # bound: above the IAM (the magnitude target) and the bounded masks
    sdri = {k: metrics.sdr_improvement(masks.oracle_separation(mix, sources, k, bound=None), sources, mix).mean()
            for k in ("psm_unbounded", "iam", "irm", "psm")}
    assert sdri["psm_unbounded"] > max(sdri["iam"], sdri["irm"], sdri["psm"])
    assert "iam" not in masks.MASK_TYPES and "psm_unbounded" not in masks.MASK_TYPES
