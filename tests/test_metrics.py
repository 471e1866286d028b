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
