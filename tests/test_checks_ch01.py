"""Chapter 01's self-check: the library's frame count passes, the usual slips fail and say why."""
import pytest

from mtass_lite import checks
from mtass_lite import stft as S
from mtass_lite.checks import CheckFailed
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.data.tiny import ensure_tiny


@pytest.fixture(scope="module")
def mix():
    return MTASSDataset(ensure_tiny(progress=False), "test")[0][0]


def test_ex01_1_library_count_passes(mix):
    assert checks.ex01_1(S.stft(mix, hop=128).shape[-1], strict=True)
    assert checks.ex01_1(float(len(mix) // 128 + 1), strict=True)  # a whole float is fine


def test_ex01_1_default_hop_fails(mix):
    with pytest.raises(CheckFailed, match="default hop 256"):
        checks.ex01_1(S.stft(mix).shape[-1], strict=True)


def test_ex01_1_uncentred_fails(mix):
    with pytest.raises(CheckFailed, match="without centring"):
        checks.ex01_1(1 + (len(mix) - 512) // 128, strict=True)


def test_ex01_1_off_by_one_and_fraction_fail(mix):
    with pytest.raises(CheckFailed, match="off by one"):
        checks.ex01_1(len(mix) // 128, strict=True)
    with pytest.raises(CheckFailed, match="not a whole number"):
        checks.ex01_1(len(mix) / 128 + 0.5, strict=True)
    with pytest.raises(CheckFailed, match="frequency bins"):
        checks.ex01_1(257, strict=True)
    assert checks.ex01_1(257) is False  # the lenient form prints and returns False
