"""mtass_lite.evaluate: known SDRi for known models, t-based confidence intervals, JSON and tables."""
import json
import math

import numpy as np
import pytest

from _tiny_helpers import MixtureThirds, Oracle, make_tiny_dataset
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.evaluate import evaluate_model, mean_ci, summary_table, write_results


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    # Test files of unequal, odd lengths (2.5 s is longer than the chunk used below).
    return make_tiny_dataset(tmp_path_factory.mktemp("tiny"), n_train=2, n_dev=1, n_test=3,
                             lengths={"test": [16000, 40000, 12345]})


def snr_db(est, ref):
    return 10 * np.log10((ref ** 2).sum(-1) / ((ref - est) ** 2).sum(-1))


def test_mean_ci_uses_the_t_distribution():
    r = mean_ci([1, 2, 3, 4, 5])
    # t_{0.975, 4} = 2.7764 (tables); sample std = sqrt(2.5)
    assert r["mean"] == 3 and r["n"] == 5
    assert r["ci95"] == pytest.approx(2.7764 * math.sqrt(2.5) / math.sqrt(5), rel=1e-4)
    assert mean_ci([2, 4])["ci95"] == pytest.approx(12.7062 * math.sqrt(2) / math.sqrt(2), rel=1e-4)
    one = mean_ci([7.0, float("nan")])  # NaN dropped; one value gives no interval
    assert one["mean"] == 7.0 and one["n"] == 1 and math.isnan(one["ci95"])


def test_mixture_thirds_gives_the_sdri_computed_by_hand(data):
    res = evaluate_model(MixtureThirds(), data, "test", chunk_seconds=1.0, overlap=0.25)
    ds = MTASSDataset(data, "test")
    assert res["n_items"] == 3 and [it["id"] for it in res["items"]] == ds.ids
    want = []
    for i, item in enumerate(res["items"]):
        mix, tgt = (t.double().numpy() for t in ds[i])
        sdri = snr_db(mix / 3, tgt) - snr_db(mix[None], tgt)
        want.append(sdri)
        for k, t in enumerate(("speech", "music", "noise")):
            assert item["sdri"][t] == pytest.approx(sdri[k], abs=1e-4)
            assert item["sdr"][t] == pytest.approx(snr_db(mix / 3, tgt[k]), abs=1e-4)
            assert item["sdr_mix"][t] == pytest.approx(snr_db(mix, tgt[k]), abs=1e-4)
            # A scaled mixture has the mixture's SI-SDR: SI-SDRi is zero.
            assert item["si_sdri"][t] == pytest.approx(0.0, abs=1e-4)
    want = np.array(want)
    s = res["summary"]["sdri"]
    assert s["speech"]["mean"] == pytest.approx(want[:, 0].mean(), abs=1e-4)
    assert s["avg"]["mean"] == pytest.approx(want.mean(), abs=1e-4)
    assert s["avg"]["ci95"] == pytest.approx(mean_ci(want.mean(1))["ci95"], abs=1e-4)
    assert "paper" in res["metrics"]["sdri"] and "bss_sdr" not in res["metrics"]


def test_oracle_gives_huge_sdri(data):
    ds = MTASSDataset(data, "test")
    res = evaluate_model(Oracle([ds[i] for i in range(len(ds))]), data, "test", chunk_seconds=None)
    for t in ("speech", "music", "noise", "avg"):
        assert res["summary"]["sdri"][t]["mean"] > 100
        assert res["summary"]["si_sdri"][t]["mean"] > 100


def test_extra_metrics_and_max_items(data):
    res = evaluate_model(MixtureThirds(), data, "test", max_items=1, extra=True)
    assert res["n_items"] == 1
    item = res["items"][0]
    assert set(item["bss_sdr"]) == {"speech", "music", "noise"}
    assert all(np.isfinite(v) for v in item["bss_sdr"].values())
    assert set(item["pesq_wb"]) == {"speech"} and set(item["stoi"]) == {"speech"}
    assert {"bss_sdr", "pesq_wb", "stoi"} <= set(res["metrics"]) and "avg" not in res["summary"]["stoi"]


def test_write_results_and_summary_table(tmp_path, data):
    res = evaluate_model(MixtureThirds(), data, "test", max_items=1)
    path = write_results(res, tmp_path / "results" / "x.json")
    back = json.loads(path.read_text())
    assert back["summary"]["sdri"]["speech"]["ci95"] is None  # NaN (one item) is written as null
    assert back["items"][0]["sdri"]["music"] == pytest.approx(res["items"][0]["sdri"]["music"])
    df = summary_table(res)
    assert list(df.index) == ["speech", "music", "noise", "avg"]
    assert list(df.columns) == ["sdri", "sdri_ci95", "si_sdri", "si_sdri_ci95"]
    md = summary_table(evaluate_model(MixtureThirds(), data, "test"), markdown=True)
    assert md.splitlines()[0] == "| track | SDRi (dB) | SI-SDRi (dB) |" and "±" in md


def test_silence_scores_minus_the_mixture_sdr(data):
    """The plain-SNR SDRi pitfall, pinned: an all-zero estimate gets sdri = -sdr_mix (> 0 here)."""

    class Silence(MixtureThirds):
        def forward(self, mixture):
            return 0 * super().forward(mixture)

    res = evaluate_model(Silence(), data, "test")
    for item in res["items"]:
        for t in ("speech", "music", "noise"):
            assert item["sdr"][t] == pytest.approx(0.0, abs=1e-6)
            assert item["sdri"][t] == pytest.approx(-item["sdr_mix"][t], abs=1e-6)
    assert res["summary"]["sdri"]["avg"]["mean"] > 0
