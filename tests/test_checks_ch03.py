"""Chapter 03's self-checks (the SI-SDR assignment, β*, SI-SDRi): the library passes, typical wrong
answers fail and the message names the mistake."""
import numpy as np
import pytest

from mtass_lite import checks, metrics
from mtass_lite.checks import CheckFailed
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.data.tiny import ensure_tiny


def own_si_sdr(est, ref):
    est, ref = est - est.mean(-1, keepdims=True), ref - ref.mean(-1, keepdims=True)
    target = (est * ref).sum(-1, keepdims=True) / (ref ** 2).sum(-1, keepdims=True) * ref
    return 10 * np.log10((target ** 2).sum(-1) / ((est - target) ** 2).sum(-1))


def best_gain_sdr(est, ref):
    """Projection on the estimate: the SDR-optimal gain, not SI-SDR."""
    est, ref = est - est.mean(-1, keepdims=True), ref - ref.mean(-1, keepdims=True)
    beta = (est * ref).sum(-1, keepdims=True) / (est ** 2).sum(-1, keepdims=True)
    return 10 * np.log10((ref ** 2).sum(-1) / ((ref - beta * est) ** 2).sum(-1))


def flattened(est, ref):
    """Right for one pair, but sums over every axis."""
    est, ref = est - est.mean(), ref - ref.mean()
    target = (est * ref).sum() / (ref ** 2).sum() * ref
    return 10 * np.log10((target ** 2).sum() / ((est - target) ** 2).sum())


def test_ex03_si_sdr_library_and_own_pass():
    assert checks.ex03_si_sdr(metrics.si_sdr, strict=True)
    assert checks.ex03_si_sdr(own_si_sdr, strict=True)


@pytest.mark.parametrize("wrong, problem", [
    (lambda e, r: metrics.si_sdr(e, r, zero_mean=False), "no zero-mean"),
    (best_gain_sdr, "SDR-optimal gain"),
    (lambda e, r: 10 ** (own_si_sdr(e, r) / 10), "power ratio, not dB"),
    (lambda e, r: -own_si_sdr(e, r), "sign flipped"),
    (lambda e, r: metrics.sdr(e, r), "not scale-invariant"),
    (flattened, "on a batch"),
])
def test_ex03_si_sdr_wrong_fails(wrong, problem):
    with pytest.raises(CheckFailed, match=problem):
        checks.ex03_si_sdr(wrong, strict=True)


def test_ex03_si_sdr_stub_raises_not_implemented():
    def stub(est, ref):
        raise NotImplementedError
    with pytest.raises(NotImplementedError):
        checks.ex03_si_sdr(stub)


@pytest.fixture(scope="module")
def est_speech():
    speech = MTASSDataset(ensure_tiny(progress=False), "test")[0][1][0].numpy().astype(np.float64)
    est = speech + 0.1 * np.random.default_rng(0).standard_normal(len(speech)) * speech.std()
    return est, speech


def test_ex03_1_beta_star_passes_alpha_fails(est_speech):
    est, s = est_speech
    assert checks.ex03_1(np.dot(est, s) / np.dot(est, est), strict=True)
    with pytest.raises(CheckFailed, match="projection coefficient"):
        checks.ex03_1(np.dot(est, s) / np.dot(s, s), strict=True)


def test_ex03_2_si_sdri():
    assert checks.ex03_2(metrics.si_sdr_improvement, strict=True)
    assert checks.ex03_2(lambda e, r, m: metrics.si_sdr(e, r) - metrics.si_sdr(m[..., None, :] + 0 * r, r),
                         strict=True)
    with pytest.raises(CheckFailed, match="SDRi \\(plain SNR form\\)"):
        checks.ex03_2(metrics.sdr_improvement, strict=True)
    with pytest.raises(CheckFailed, match="sign flipped"):
        checks.ex03_2(lambda e, r, m: -metrics.si_sdr_improvement(e, r, m), strict=True)
    with pytest.raises(CheckFailed, match="no baseline"):
        checks.ex03_2(lambda e, r, m: metrics.si_sdr(e, r), strict=True)
