"""Chapter 12's self-checks against results/ch12_error_analysis.json: the right answer passes,
typical wrong answers fail and say why."""
import numpy as np
import pandas as pd
import pytest

from mtass_lite import TRACKS, checks
from mtass_lite.checks import CheckFailed
from mtass_lite.data.datasets import read_metadata
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.results import read_json


@pytest.fixture(scope="module")
def df():
    return pd.DataFrame(read_json("ch12_error_analysis")["items"])


@pytest.fixture(scope="module")
def speech(df):
    return df.pivot(index="id", columns="model", values="sdri_speech")


def test_ex12_1_conv_tasnet_wins_passes(speech):
    wins = speech.index[speech.conv_tasnet > speech.complex_mtassnet]
    assert len(wins)
    assert checks.ex12_1(wins[0], strict=True)
    assert checks.ex12_1(int(wins[0]), strict=True)  # the index works too


def test_ex12_1_complex_wins_fails(speech):
    loses = speech.index[speech.conv_tasnet <= speech.complex_mtassnet]
    if not len(loses):
        pytest.skip("Conv-TasNet wins on speech everywhere")
    with pytest.raises(CheckFailed, match="Complex-MTASSNet wins on speech"):
        checks.ex12_1(loses[0], strict=True)


def test_ex12_1_unknown_id_fails():
    with pytest.raises(CheckFailed, match="not a test mixture"):
        checks.ex12_1("x", strict=True)


def _corr(g, x):
    return {t: g[f"sdri_{t}"].corr(x) for t in TRACKS}


def test_ex12_2_right_and_flipped(df):
    g = df[df.model == "complex_mtassnet"]
    r = _corr(g, g.snr_noise - g.snr_music)
    strong = [t for t in TRACKS if abs(r[t]) >= 0.5]
    assert checks.ex12_2(r, strong, strict=True)
    with pytest.raises(CheckFailed, match="sign flipped"):
        checks.ex12_2(_corr(g, g.snr_music - g.snr_noise), strict=True)
    with pytest.raises(CheckFailed, match="snr_music alone"):
        checks.ex12_2(_corr(g, g.snr_music), strict=True)
    weak = [t for t in TRACKS if t not in strong]
    with pytest.raises(CheckFailed, match="follows it too"):
        checks.ex12_2(r, strong[:1], strict=True)
    if weak:
        with pytest.raises(CheckFailed, match="hardly follows it"):
            checks.ex12_2(r, strong + weak, strict=True)


def test_ex12_2_other_model_fails(df):
    g = df[df.model == "conv_tasnet"]
    r = _corr(g, g.snr_noise - g.snr_music)
    assert checks.ex12_2(r, model="conv_tasnet", strict=True)
    with pytest.raises(CheckFailed, match="Conv-TasNet's correlations"):
        checks.ex12_2(r, strict=True)


def test_ex12_4_per_speaker(df):
    meta = pd.DataFrame(read_metadata(ensure_tiny(progress=False), "test")).set_index("id")
    d = df.set_index("id").join(meta.speech_id)
    d["speaker"] = d.speech_id.str.replace(r"_s\d+$", "", regex=True)
    d["sdri_avg"] = d[[f"sdri_{t}" for t in TRACKS]].mean(axis=1)
    cm = d[d.model == "complex_mtassnet"]
    assert checks.ex12_4(cm.groupby("speaker").sdri_avg.mean(), strict=True)
    with pytest.raises(CheckFailed, match="speech SDRi averages"):
        checks.ex12_4(cm.groupby("speaker").sdri_speech.mean(), strict=True)
    with pytest.raises(CheckFailed, match="Conv-TasNet's averages"):
        checks.ex12_4(d[d.model == "conv_tasnet"].groupby("speaker").sdri_avg.mean(), strict=True)
    with pytest.raises(CheckFailed, match="_sNN segment suffix"):
        checks.ex12_4(cm.groupby("speech_id").sdri_avg.mean(), strict=True)
    assert np.isfinite(cm.sdri_avg).all()
