"""Chapter 02's self-checks (the IRM and cIRM assignments): the library passes, typical wrong masks fail
and the message names the mistake."""
import pytest
import torch

from mtass_lite import checks, masks
from mtass_lite.checks import CheckFailed

EPS = 1e-8


def own_irm(S, S_all, beta=0.5):
    """A correct re-implementation (numerically a little different from the library)."""
    p = S.abs() ** 2
    return ((p + 1e-10) / ((S_all.abs() ** 2).sum(-3) + 1e-10)) ** beta


def own_cirm(S, Y, bound=None):
    M = S * Y.conj() / (Y.abs() ** 2 + 1e-10)
    if bound is not None:
        M = torch.polar(M.abs().clamp(max=bound), M.angle())
    return M


def test_ex02_irm_library_and_own_pass():
    assert checks.ex02_irm(masks.ideal_ratio_mask, strict=True)
    assert checks.ex02_irm(own_irm, strict=True)


@pytest.mark.parametrize("wrong, problem", [
    (lambda S, S_all, beta=0.5: (S.abs() ** 2 + EPS) / ((S_all.abs() ** 2).sum(-3) + EPS), "missing square root"),
    (lambda S, S_all, beta=0.5: ((S.abs() + EPS) / (S_all.abs().sum(-3) + EPS)) ** beta,
     "magnitudes instead of powers"),
    (lambda S, S_all, beta=0.5: (S.abs() ** 2 / ((S_all.abs() ** 2).sum(-3) - S.abs() ** 2 + EPS)) ** beta,
     "other sources' power only"),
    (lambda S, S_all, beta=0.5: ((S.abs() ** 2 + EPS) / ((S_all.abs() ** 2).sum(0) + EPS)) ** beta, "not axis 0"),
    (lambda S, S_all, beta=0.5: own_irm(S, S_all), "ignores beta"),
    (lambda S, S_all, beta=0.5: (S.abs() ** 2 / (S_all.abs() ** 2).sum(-3)) ** beta, "NaN where every source"),
])
def test_ex02_irm_wrong_fails(wrong, problem):
    with pytest.raises(CheckFailed, match=problem):
        checks.ex02_irm(wrong, strict=True)


def test_ex02_irm_not_implemented_propagates():
    def stub(S, S_all, beta=0.5):
        raise NotImplementedError
    with pytest.raises(NotImplementedError):
        checks.ex02_irm(stub)


def test_ex02_cirm_library_and_own_pass():
    assert checks.ex02_cirm(masks.complex_ratio_mask, strict=True)
    assert checks.ex02_cirm(own_cirm, strict=True)


def swapped(S, Y, bound=None):
    M = own_cirm(S, Y, bound)
    return torch.complex(M.imag, M.real)


def per_part(S, Y, bound=None):
    M = own_cirm(S, Y)
    return M if bound is None else torch.complex(M.real.clamp(-bound, bound), M.imag.clamp(-bound, bound))


@pytest.mark.parametrize("wrong, problem", [
    (lambda S, Y, bound=None: S * Y / (Y.abs() ** 2 + EPS), "conjugate missing"),
    (swapped, "real and imaginary parts swapped"),
    (lambda S, Y, bound=None: own_cirm(S, Y), "unbounded"),
    (per_part, "clips Re and Im separately"),
    (lambda S, Y, bound=None: S.abs() / (Y.abs() + EPS), "magnitude ratio"),
    (lambda S, Y, bound=None: masks.ri_scaling_mask(S, Y, bound), "Re/Im-scaling mask"),
    (lambda S, Y, bound=None: masks.complex_ratio_mask(S, Y, bound) if bound else S / Y, "divides by zero"),
])
def test_ex02_cirm_wrong_fails(wrong, problem):
    with pytest.raises(CheckFailed, match=problem):
        checks.ex02_cirm(wrong, strict=True)
    assert checks.ex02_cirm(wrong) is False
