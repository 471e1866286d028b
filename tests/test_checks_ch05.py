"""Chapter 05's self-checks: the right answer passes, typical wrong answers fail and say why."""
import pytest
import torch

from mtass_lite import checks
from mtass_lite.checks import CheckFailed


def best_gain(est, ref):
    return (est * ref).sum(-1) / est.pow(2).sum(-1)


def test_ex05_3_least_squares_gain_passes():
    assert checks.ex05_3(best_gain, strict=True)
    assert checks.ex05_3(lambda e, r: best_gain(e, r).numpy(), strict=True)  # arrays are fine


@pytest.mark.parametrize("student, problem", [
    (lambda e, r: (e * r).sum(-1) / r.pow(2).sum(-1), "SI-SDR's alpha"),
    (lambda e, r: 1 / best_gain(e, r), "inverted"),
    (lambda e, r: best_gain(e, r).abs(), "lost the sign"),
    (lambda e, r: 20 * torch.log10(best_gain(e, r).abs()), "returned dB"),
    (lambda e, r: best_gain(e, r).pow(2), "power ratio"),
    (lambda e, r: (e * r).sum(-1) / (e.pow(2).sum(-1) * r.pow(2).sum(-1)).sqrt(), "correlation coefficient"),
    (lambda e, r: (e * r).sum() / e.pow(2).sum(), "wrong shape"),
    (lambda e, r: torch.ones(e.shape[:-1], dtype=e.dtype), "below its maximum"),
    (lambda e, r: best_gain(e.numpy(), r), "raised"),
])
def test_ex05_3_wrong_gains_fail(student, problem):
    with pytest.raises(CheckFailed, match=problem):
        checks.ex05_3(student, strict=True)
