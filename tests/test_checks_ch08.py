"""Chapter 08 self-checks: the right answer passes, typical wrong answers fail and say why."""
import pytest

from mtass_lite import checks
from mtass_lite.checks import CheckFailed
from mtass_lite.models import build_model
from mtass_lite.profile import count_params


def test_ex08_3_context3_extra_parameters():
    extra = count_params(build_model("demucs", "lite", context=3)) - count_params(build_model("demucs", "lite"))
    widths = [24, 48, 96, 192]
    assert extra == sum(2 * c * 2 * c for c in widths)  # the chapter's formula, at the lite widths
    assert checks.ex08_3(extra, strict=True)
    with pytest.raises(CheckFailed, match="half the answer"):
        checks.ex08_3(extra // 2, strict=True)
    with pytest.raises(CheckFailed, match="all three taps"):
        checks.ex08_3(3 * extra // 2, strict=True)
    with pytest.raises(CheckFailed, match="paper-size model"):
        checks.ex08_3(sum(2 * c * 2 * c for c in (64, 128, 256, 512, 1024, 2048)), strict=True)
    with pytest.raises(CheckFailed, match="decoder's rewrite conv only"):
        checks.ex08_3(2 * extra, strict=True)
    with pytest.raises(CheckFailed, match="off by"):
        checks.ex08_3(extra + 1, strict=True)
