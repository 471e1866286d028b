"""Chapter 04's self-checks: the right answer passes, typical wrong answers fail and say why."""
import pytest

from mtass_lite import SAMPLE_RATE, checks
from mtass_lite.checks import CheckFailed
from mtass_lite.data.mixing import MIN_FILL, SNR_RANGE_DB


# -- exercise 2: the music-to-noise ratio's range ------------------------------------------------
def test_ex04_2_right_range_passes():
    a, b = SNR_RANGE_DB
    assert checks.ex04_2(a - b, b - a, strict=True)  # MNR = snr_noise - snr_music: [-10, 10] dB
    assert checks.ex04_2(-10, 10, snr_range_db=(-10, 0), strict=True)  # only the width matters


@pytest.mark.parametrize("answer, problem", [
    ((-5, 5), "range of each SNR"),
    ((10, -10), "swapped"),
    ((0.1, 10), "linear power ratios"),
    ((-20, 20), "twice the true range"),
    ((0, 10), "symmetric"),
    ((-8.7, 9.1), "observed"),
    ((-3, 17), "not the range"),
])
def test_ex04_2_wrong_ranges_fail(answer, problem):
    with pytest.raises(CheckFailed, match=problem):
        checks.ex04_2(*answer, strict=True)


def test_ex04_2_lenient_returns_false():
    assert checks.ex04_2(-5, 5) is False


# -- exercise 3: short items -----------------------------------------------------------------------
def right(item_s, segment_s):
    n, T = round(item_s * SAMPLE_RATE), round(segment_s * SAMPLE_RATE)
    return None if n < MIN_FILL * T else max(0, T - n)


def test_ex04_3_library_rule_passes():
    assert checks.ex04_3(right, strict=True)


def always_pad(item_s, segment_s):
    return max(0, round((segment_s - item_s) * SAMPLE_RATE))


def always_redraw(item_s, segment_s):
    return 0 if item_s >= segment_s else None


def inclusive_threshold(item_s, segment_s):
    return None if item_s <= MIN_FILL * segment_s else right(item_s, segment_s)


def in_seconds(item_s, segment_s):
    r = right(item_s, segment_s)
    return r if r is None else r / SAMPLE_RATE


def negative_for_long(item_s, segment_s):
    r = right(item_s, segment_s)
    return r if r is None or item_s < segment_s else round((segment_s - item_s) * SAMPLE_RATE)


def crashes(item_s, segment_s):
    raise NotImplementedError


@pytest.mark.parametrize("student, problem", [
    (always_pad, "redrawn, not padded"),
    (always_redraw, "zero-padded at the end, not redrawn"),
    (inclusive_threshold, "exactly half"),
    (in_seconds, "in samples"),
    (negative_for_long, "no padding"),
    (crashes, "raised NotImplementedError"),
])
def test_ex04_3_wrong_rules_fail(student, problem):
    with pytest.raises(CheckFailed, match=problem):
        checks.ex04_3(student, strict=True)
