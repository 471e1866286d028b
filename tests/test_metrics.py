import numpy as np
import pytest
import torch

from mtass_lite import metrics

rng = np.random.default_rng(0)


def test_sdr_known_values():
    s = rng.standard_normal(16000)
    # ŝ = 0.5 s  ->  ||s||^2 / ||0.5 s||^2 = 4  ->  6.02 dB
    assert metrics.sdr(0.5 * s, s) == pytest.approx(10 * np.log10(4), abs=1e-6)
    # SI-SDR forgives the scale entirely
    assert metrics.si_sdr(0.5 * s, s) > 100
    # a pure time offset of one sample ruins both for white noise
    assert metrics.sdr(np.roll(s, 1), s) < 0.5 and metrics.si_sdr(np.roll(s, 1), s) < -10


def test_numpy_and_torch_agree_and_shapes():
    ref = rng.standard_normal((4, 3, 8000))
    est = ref + 0.3 * rng.standard_normal(ref.shape)
    a = metrics.sdr(est, ref)
    b = metrics.sdr(torch.tensor(est), torch.tensor(ref)).numpy()
    assert a.shape == (4, 3)
    np.testing.assert_allclose(a, b, rtol=1e-10)
    np.testing.assert_allclose(metrics.si_sdr(est, ref), metrics.si_sdr(torch.tensor(est), torch.tensor(ref)).numpy())


def test_improvement_of_the_mixture_is_zero_and_perfect_is_large():
    ref = rng.standard_normal((3, 8000))
    mix = ref.sum(0)
    np.testing.assert_allclose(metrics.sdr_improvement(np.stack([mix] * 3), ref, mix), 0, atol=1e-9)
    assert np.all(metrics.sdr_improvement(ref, ref, mix) > 50)
    assert np.all(metrics.si_sdr_improvement(ref, ref, mix) > 50)


def test_si_sdr_matches_mir_eval_free_formula_against_bss_eval_with_no_filter():
    # BSS-eval with a 1-tap filter and one source = SI-SDR without mean removal.
    ref = rng.standard_normal((1, 8000))
    est = 0.7 * ref + 0.2 * rng.standard_normal((1, 8000))
    bss = metrics.bss_eval_sdr(est, ref, filter_length=1)
    np.testing.assert_allclose(bss, metrics.si_sdr(est, ref, zero_mean=False), atol=1e-6)


@pytest.mark.parametrize("kind", ["random", "real_like"])
def test_bss_eval_matches_mir_eval(kind):
    mir_eval = pytest.importorskip("mir_eval")
    n = 16000
    if kind == "random":
        ref = rng.standard_normal((3, n))
    else:  # a tone, a chord-like sum and brown noise: correlated, coloured, like real stems
        t = np.arange(n) / 16000
        ref = np.stack([np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)),
                        sum(np.sin(2 * np.pi * f * t) for f in (330, 415, 495)) / 3,
                        np.cumsum(rng.standard_normal(n)) / 50])
    est = ref + 0.25 * rng.standard_normal((3, n)) + 0.1 * ref[[1, 2, 0]]
    ours = metrics.bss_eval(est, ref)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = mir_eval.separation.bss_eval_sources(ref, est, compute_permutation=False)[:3]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=0.05)


def test_pesq_and_stoi_rank_clean_above_noisy():
    t = np.arange(32000) / 16000
    # a crude voiced signal: harmonics of 140 Hz with a syllable-rate envelope
    speech = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 15)) * (np.sin(2 * np.pi * 4 * t) > 0)
    speech = (0.1 * speech).astype(np.float32)
    noisy = speech + 0.05 * rng.standard_normal(speech.shape).astype(np.float32)
    assert metrics.stoi(speech, speech) > 0.99
    assert metrics.stoi(noisy, speech) < metrics.stoi(speech, speech)
    p_clean, p_noisy = metrics.pesq_wb(speech, speech), metrics.pesq_wb(noisy, speech)
    assert p_clean > 4.0 and p_noisy < p_clean


def test_si_sdr_of_silence_is_the_fixed_floor():
    s = rng.standard_normal(16000)
    assert metrics.SILENCE_FLOOR_DB == -50.0 and metrics.SILENT_ENERGY_RATIO == 1e-10
    # all-zero: undefined, so exactly the floor (numpy and torch, float32 and float64)
    assert metrics.si_sdr(np.zeros_like(s), s) == -50.0
    assert metrics.si_sdr(torch.zeros(16000), torch.tensor(s, dtype=torch.float32)).item() == -50.0
    assert metrics.si_sdr(np.zeros_like(s), s, zero_mean=False) == -50.0
    # a constant is silent after mean removal
    assert metrics.si_sdr(np.full_like(s, 0.3), s) == -50.0
    # amplitude 1e-6 relative (energy 1e-12 < 1e-10 of the reference's), even if well shaped
    noisy = s + 0.5 * rng.standard_normal(s.shape)
    assert metrics.si_sdr(1e-6 * noisy, s) == -50.0
    assert metrics.si_sdr(torch.tensor(1e-6 * noisy, dtype=torch.float32),
                          torch.tensor(s, dtype=torch.float32)).item() == -50.0
    # scale-free: a loud reference does not change the decision
    assert metrics.si_sdr(1e-6 * noisy * 1e3, s * 1e3) == -50.0
    # just above the threshold (energy ratio ~1.8e-10): computed normally, about the full-scale score
    quiet = 1.2e-5 * noisy
    assert np.sum((quiet - quiet.mean()) ** 2) > 1e-10 * np.sum((s - s.mean()) ** 2)
    normal = metrics.si_sdr(noisy, s)
    assert 4 < normal < 8  # 1 / 0.25 -> about 6 dB
    got = metrics.si_sdr(quiet, s)
    assert got == metrics.si_sdr(quiet, s, silence_floor=False) and got > 5
    assert got == pytest.approx(normal, abs=0.2)  # only eps (1e-8 against an energy ~1e-5) differs
    # the raw (training-loss) form keeps the old eps value: 0 dB for zeros
    assert metrics.si_sdr(np.zeros_like(s), s, silence_floor=False) == pytest.approx(0.0, abs=1e-9)


def test_si_sdr_floor_is_per_row_in_a_batch():
    ref = rng.standard_normal((2, 3, 8000))
    est = ref + 0.3 * rng.standard_normal(ref.shape)
    est[0, 1] = 0.0
    est[1, 2] *= 1e-6
    for got in (metrics.si_sdr(est, ref), metrics.si_sdr(torch.tensor(est), torch.tensor(ref)).numpy()):
        assert got.shape == (2, 3)
        assert got[0, 1] == -50.0 and got[1, 2] == -50.0
        others = np.delete(got.ravel(), [1, 5])
        assert np.all(others > 5)  # computed normally (about 10 dB)
    np.testing.assert_allclose(np.delete(metrics.si_sdr(est, ref).ravel(), [1, 5]),
                               np.delete(metrics.si_sdr(est, ref, silence_floor=False).ravel(), [1, 5]))
    # SI-SDRi of silence: floor minus the mixture's SI-SDR
    mix = ref.sum(-2)
    zeros = np.zeros_like(ref)
    np.testing.assert_allclose(metrics.si_sdr_improvement(zeros, ref, mix),
                               -50.0 - metrics.si_sdr(np.repeat(mix[:, None], 3, axis=1), ref))
    assert np.all(metrics.si_sdr_improvement(zeros, ref, mix) < -40)


def test_silent_reference_stays_finite():
    ref = np.zeros((2, 4000))
    est = np.stack([np.zeros(4000), rng.standard_normal(4000)])
    for got in (metrics.si_sdr(est, ref), metrics.si_sdr(torch.tensor(est), torch.tensor(ref)).numpy(),
                metrics.sdr(est, ref)):
        assert np.all(np.isfinite(got))
    got = metrics.si_sdr(est, ref)
    assert got[0] == pytest.approx(0.0) and got[1] < -50  # no floor: nothing is below 1e-10 of zero energy


def test_silent_sdr_is_exactly_zero_db_not_a_hole():
    s = rng.standard_normal(8000)
    assert metrics.sdr(np.zeros_like(s), s) == pytest.approx(0.0, abs=1e-12)


def test_si_sdr_loss_keeps_no_floor_and_stays_differentiable():
    from mtass_lite.losses import neg_si_sdr

    ref = torch.randn(1, 3, 4000, dtype=torch.float64)
    est = torch.zeros(1, 3, 4000, dtype=torch.float64, requires_grad=True)
    loss = neg_si_sdr(est, ref)
    torch.testing.assert_close(loss, torch.zeros(1, 3, dtype=torch.float64), atol=1e-9, rtol=0)
    est2 = (0.1 * ref + 0.1 * torch.randn_like(ref)).requires_grad_()
    neg_si_sdr(est2, ref).sum().backward()
    assert torch.isfinite(est2.grad).all() and est2.grad.abs().sum() > 0
