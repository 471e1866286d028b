"""Chapter 09 self-checks: the right answer passes, typical wrong answers fail and say why."""
import json

import pytest

from mtass_lite import checks
from mtass_lite.checks import CheckFailed
from mtass_lite.models import build_model, model_config
from mtass_lite.models.d3net import RELEASED_FULL, RELEASED_LOW, D3Net


def test_ex09_1_no_dilation():
    assert checks.ex09_1(D3Net(**model_config("d3net", "lite"), dilated=False), strict=True)
    with pytest.raises(CheckFailed, match="still multi-dilated"):
        checks.ex09_1(build_model("d3net", "lite"), strict=True)
    with pytest.raises(CheckFailed, match="shares one network"):
        checks.ex09_1(D3Net(**model_config("d3net", "lite", shared=False), dilated=False), strict=True)


def test_ex09_2_one_network_per_track():
    assert checks.ex09_2(build_model("d3net", "lite", shared=False), strict=True)
    with pytest.raises(CheckFailed, match="pass shared=False"):
        checks.ex09_2(build_model("d3net", "lite"), strict=True)


def test_ex09_3_band_split():
    assert checks.ex09_3([32, 128], cutoffs_khz=[1.0, 4.0], strict=True)
    with pytest.raises(CheckFailed, match="does not build"):
        checks.ex09_3([33], strict=True)
    with pytest.raises(CheckFailed, match="twice too high"):
        checks.ex09_3([32, 128], cutoffs_khz=[2.0, 8.0], strict=True)
    with pytest.raises(CheckFailed, match="in Hz"):
        checks.ex09_3([32], cutoffs_khz=[1000.0], strict=True)


def _doubling(band, g):
    n = len(band["growth"])
    L = n // 2
    return {**band, "growth": [g * 2 ** (L - abs(L - i)) for i in range(n)]}


def test_ex09_4_doubling_profile():
    from mtass_lite.checks.ch09 import _paper_counts
    from mtass_lite.profile import count_params

    low, full = _doubling(RELEASED_LOW, 3), _doubling(RELEASED_FULL, 2)
    with pytest.raises(CheckFailed, match="do not double"):  # caught before any counting
        checks.ex09_4({**low, "growth": [3] * 7}, full, 1.0, 1.0, strict=True)
    # the library's counts (the check caches them: one paper-size MAC count for the whole test)
    params, one_net, gmac = _paper_counts(json.dumps({"low": low, "full": full}, sort_keys=True))
    m = build_model("d3net", "paper", low=low, full=full)
    assert (params, one_net) == (count_params(m), count_params(m.nets[0]))
    assert checks.ex09_4(low, full, params, gmac, strict=True)
    with pytest.raises(CheckFailed, match="FLOPs, not MACs"):
        checks.ex09_4(low, full, params, 2 * gmac, strict=True)
    with pytest.raises(CheckFailed, match="is one network"):
        checks.ex09_4(low, full, one_net, gmac, strict=True)
