"""mtass_lite.evaluate: known SDRi for known models, t-based confidence intervals, JSON and tables."""
import json
import math

import numpy as np
import pytest

from _tiny_helpers import MixtureThirds, Oracle, make_tiny_dataset
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.baselines import BASELINES
from mtass_lite.metrics import SILENCE_FLOOR_DB
from mtass_lite.evaluate import (baseline_summaries, comparison_table, evaluate_model, evaluate_with_baselines,
                                 mean_ci, paired_mean_ci, per_item, pooled_paired_mean_ci, summary_table,
                                 write_results)


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
            # SI-SDR has no value for silence: the fixed floor, so SI-SDRi is strongly negative
            assert item["si_sdr"][t] == SILENCE_FLOOR_DB
    assert res["summary"]["sdri"]["avg"]["mean"] > 0
    assert res["summary"]["si_sdri"]["avg"]["mean"] < -30


def test_paired_difference_cancels_mixture_difficulty(data):
    thirds = evaluate_model(MixtureThirds(), data, "test", chunk_seconds=None, progress=False)
    silence = evaluate_model(BASELINES["silence"](), data, "test", chunk_seconds=None, progress=False)
    a, b = per_item(thirds, "sdri"), per_item(silence, "sdri")
    assert set(a) == set(thirds_ids := [it["id"] for it in thirds["items"]]) and len(thirds_ids) == 3
    it0 = thirds["items"][0]
    assert a[it0["id"]] == pytest.approx(np.mean([it0["sdri"][t] for t in ("speech", "music", "noise")]))
    assert per_item(thirds, "sdri", "music")[it0["id"]] == it0["sdri"]["music"]
    d = paired_mean_ci(a, b)
    assert d["n"] == 3 and d["mean"] == pytest.approx(np.mean([b[i] - a[i] for i in a]))
    # a constant shift has a zero-width paired interval, however spread the values are
    shifted = {k: v + 1.5 for k, v in a.items()}
    assert paired_mean_ci(a, shifted)["mean"] == pytest.approx(1.5) and paired_mean_ci(a, shifted)["ci95"] < 1e-9
    assert paired_mean_ci(a, {"x": 1.0, **{k: a[k] for k in list(a)[:2]}})["n"] == 2  # only shared ids
    with pytest.raises(ValueError, match="no mixture id"):
        paired_mean_ci(a, {"x": 1.0})
    # pooled over two pairs: per mixture, the two differences are averaged before the interval
    pooled = pooled_paired_mean_ci([(a, b), (a, shifted)])
    assert pooled == mean_ci([((b[i] - a[i]) + 1.5) / 2 for i in sorted(a)])
    assert pooled_paired_mean_ci([(a, b)]) == d


def test_evaluate_with_baselines_scores_every_baseline_on_the_same_mixtures(data):
    res = evaluate_with_baselines(MixtureThirds(), data, "test", max_items=2, chunk_seconds=None)
    assert res["n_items"] == 2 and set(res["baselines"]) == set(BASELINES) == {"mixture/3", "silence"}
    # the model *is* mixture / 3: its summary and that baseline's agree (same mixtures, same settings)
    for t in ("speech", "music", "noise", "avg"):
        assert res["baselines"]["mixture/3"]["sdri"][t]["mean"] == pytest.approx(res["summary"]["sdri"][t]["mean"],
                                                                               abs=1e-4)
        assert res["baselines"]["mixture/3"]["sdri"][t]["n"] == 2
    # silence: SDR 0 dB, so SDRi = -SDR(mixture) per track
    silence = res["baselines"]["silence"]
    assert silence["sdr"]["music"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert silence["sdri"]["music"]["mean"] == pytest.approx(-silence["sdr_mix"]["music"]["mean"], abs=1e-6)
    # ... but SI-SDR floors at -50 dB, so its SI-SDRi is strongly negative: silence never beats a model
    for t in ("speech", "music", "noise", "avg"):
        assert silence["si_sdr"][t]["mean"] == SILENCE_FLOOR_DB and silence["si_sdri"][t]["mean"] < -30
    assert res["baselines"]["mixture/3"]["si_sdri"]["avg"]["mean"] == pytest.approx(0.0, abs=1e-4)
    assert baseline_summaries(data, "test", max_items=2, chunk_seconds=None)["silence"] == silence


def test_comparison_table_columns_values_and_verdict(data):
    res = evaluate_with_baselines(MixtureThirds(), data, "test")
    # make the model a little better than mixture/3 on speech only (it *is* mixture / 3)
    res["summary"]["sdri"]["speech"]["mean"] += 0.004
    for t in ("music", "noise", "avg"):
        res["summary"]["sdri"][t]["mean"] -= 0.5
    paper = {"speech": 9.0, "music": 6.0, "noise": 5.0, "average": 6.67}
    table = comparison_table(res, "Tiny", paper_sdri=paper)
    assert list(table.index) == ["speech", "music", "noise", "avg"]
    assert list(table.columns) == ["Tiny SDRi", "± 95 % CI", "Tiny SI-SDRi", "mixture/3 SDRi", "silence SDRi",
                                   "beats mixture/3", "paper SDRi (real data)"]
    s = res["summary"]
    assert table.loc["music", "Tiny SDRi"] == round(s["sdri"]["music"]["mean"], 2)
    assert table.loc["avg", "± 95 % CI"] == round(s["sdri"]["avg"]["ci95"], 2)
    assert table.loc["noise", "silence SDRi"] == round(res["baselines"]["silence"]["sdri"]["noise"]["mean"], 2)
    # compared before rounding: +0.004 dB may round to the same 0.01 and still beat the baseline
    assert table["beats mixture/3"].tolist() == [True, False, False, False]
    assert table["paper SDRi (real data)"].tolist() == [9.0, 6.0, 5.0, 6.67]
    # JSON round trip (NaN -> null) and no rounding / no paper column
    raw = comparison_table(json.loads(json.dumps(res)), "Tiny", digits=None)
    assert "paper SDRi (real data)" not in raw
    assert raw.loc["speech", "Tiny SDRi"] == s["sdri"]["speech"]["mean"]


def test_comparison_table_without_baselines_has_no_verdict(data):
    res = evaluate_model(MixtureThirds(), data, "test", max_items=2)
    table = comparison_table(res, "m")
    assert list(table.columns) == ["m SDRi", "± 95 % CI", "m SI-SDRi"]


def test_score_sets_keeps_per_mixture_values_that_pair_up(data):
    from mtass_lite.evaluate import baseline_sets, paired_mean_ci, score_sets

    rows = score_sets(MixtureThirds(), {"a": data, "b": data}, max_items=2)
    assert set(rows) == {"a", "b"} and rows["a"]["n_mixtures"] == 2
    per = rows["a"]["per_mixture"]["sdri"]
    assert set(per) == {"speech", "music", "noise", "avg"} and len(per["avg"]) == 2
    assert np.mean(list(per["avg"].values())) == pytest.approx(rows["a"]["sdri"]["avg"]["mean"], abs=1e-3)
    assert paired_mean_ci(per["avg"], rows["b"]["per_mixture"]["sdri"]["avg"])["mean"] == 0
    base = baseline_sets({"a": data}, max_items=2)["a"]["mixture/3"]
    assert base["sdri"]["avg"]["mean"] == pytest.approx(rows["a"]["sdri"]["avg"]["mean"], abs=1e-6)
