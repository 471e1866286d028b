"""Chapter 00's self-checks: the right answer passes, typical wrong answers fail and say why."""
import pytest

from mtass_lite import checks
from mtass_lite.checks import CheckFailed
from mtass_lite.data.datasets import read_metadata
from mtass_lite.data.tiny import ensure_tiny


@pytest.fixture(scope="module")
def rows():
    return read_metadata(ensure_tiny(progress=False), "test")


def test_ex00_2_lowest_music_snr_passes(rows):
    lowest = min(rows, key=lambda r: float(r["snr_music"]))
    assert checks.ex00_2(lowest["id"], strict=True)
    assert checks.ex00_2(int(lowest["index"]), strict=True)  # the index works too


def test_ex00_2_highest_music_snr_fails(rows):
    highest = max(rows, key=lambda r: float(r["snr_music"]))["id"]
    with pytest.raises(CheckFailed, match="highest music SNR"):
        checks.ex00_2(highest, strict=True)


def test_ex00_2_noise_column_fails(rows):
    wrong = min(rows, key=lambda r: float(r["snr_noise"]))["id"]
    if wrong == min(rows, key=lambda r: float(r["snr_music"]))["id"]:
        pytest.skip("the lowest noise and music SNRs fall on one mixture")
    with pytest.raises(CheckFailed, match="lowest noise SNR"):
        checks.ex00_2(wrong, strict=True)


def test_ex00_2_strings_compared_as_text_fail(rows):
    wrong = min(rows, key=lambda r: r["snr_music"])["id"]
    music = {r["id"]: float(r["snr_music"]) for r in rows}
    if wrong in (min(music, key=music.get), max(music, key=music.get)):
        pytest.skip("text order happens to agree here")
    with pytest.raises(CheckFailed, match="compared as text"):
        checks.ex00_2(wrong, strict=True)


def test_ex00_2_unknown_id_fails():
    with pytest.raises(CheckFailed, match="not a test mixture"):
        checks.ex00_2("999999", strict=True)
    assert checks.ex00_2("999999") is False  # the lenient form prints and returns False
