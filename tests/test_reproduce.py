"""mtass_lite.reproduce: equal CPU budgets, resumable runs, the summary json, pretrained export."""
import json

import pytest

from _tiny_helpers import make_tiny_dataset
from mtass_lite import reproduce as rp
from mtass_lite.results import read_json


@pytest.fixture
def tiny_plan(monkeypatch, tmp_path):
    # a plan small enough for a unit test: ~1 CPU-s per model in chunks of 2 steps
    plan = rp.ReproPlan("lite", "fast", cpu_minutes=0.02, chunk_steps=2, eval_items=2,
                        overrides={"valid_every": 2, "valid_items": 1, "segment": 0.5, "batch_size": 2})
    monkeypatch.setitem(rp.PLANS, "smoke", plan)
    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path / "results"))
    return plan


def test_reproduce_trains_each_model_to_its_budget_and_resumes(tmp_path, tiny_plan, monkeypatch):
    data = make_tiny_dataset(tmp_path / "data", n_train=4, n_dev=1, n_test=2)
    runs, lines = tmp_path / "runs", []
    s = rp.reproduce("smoke", models=("d3net", "gcrn"), data=data, run_root=runs, results_name="repro",
                     log=lines.append)
    assert set(s["models"]) == {"d3net", "gcrn"} and set(s["baselines"]) == {"mixture/3", "silence"}
    for name in ("d3net", "gcrn"):
        m = s["models"][name]
        assert m["training"]["cpu_seconds"] >= 60 * tiny_plan.cpu_minutes  # trained until the budget was spent
        assert m["training"]["step"] >= 2 and m["training"]["step"] % 2 == 0  # whole chunks
        assert m["n_items"] == 2 and set(m["sdri"]) == {"speech", "music", "noise", "avg"}
    assert read_json(tmp_path / "results" / "repro.json")["models"]["d3net"] == json.loads(json.dumps(s["models"]["d3net"]))

    # a second call reuses what is done and trains nothing
    lines.clear()
    again = rp.reproduce("smoke", models=("d3net",), data=data, run_root=runs, results_name="repro2", log=lines.append)
    assert any("done earlier" in ln for ln in lines)
    assert again["models"]["d3net"]["training"] == s["models"]["d3net"]["training"]

    # interrupted after training, before evaluation: the spent budget is kept, evaluation redone
    (runs / "gcrn" / "eval.json").unlink()
    steps = s["models"]["gcrn"]["training"]["step"]
    redo = rp.reproduce("smoke", models=("gcrn",), data=data, run_root=runs, results_name="repro3", log=lines.append)
    assert redo["models"]["gcrn"]["training"]["step"] == steps

    # the exported weights record what they were trained on
    import torch

    import mtass_lite.shipped as sh

    monkeypatch.setattr(sh, "PRETRAINED_DIR", tmp_path / "pretrained")
    (path,) = rp.export_pretrained(names=("d3net",), mode="smoke", run_root=runs)
    payload = torch.load(path, weights_only=False)
    assert payload["model_name"] == "d3net" and payload["trained"]["step"] == s["models"]["d3net"]["training"]["step"]
    assert all(v.dtype == torch.float16 for v in payload["model"].values() if v.is_floating_point())


def test_a_step_budget_trains_exactly_that_many_steps_whatever_the_cpu_time(tmp_path, monkeypatch):
    plan = rp.ReproPlan("lite", "fast", cpu_minutes=None, chunk_steps=2, eval_items=1, max_steps=3,
                        overrides={"valid_every": 2, "valid_items": 1, "segment": 0.5, "batch_size": 2})
    monkeypatch.setitem(rp.PLANS, "smoke", plan)
    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path / "results"))
    data = make_tiny_dataset(tmp_path / "data", n_train=4, n_dev=1, n_test=1)
    lines = []
    s = rp.reproduce("smoke", models=("d3net",), data=data, run_root=tmp_path / "runs", results_name="r",
                     log=lines.append)
    assert s["models"]["d3net"]["training"]["step"] == 3  # chunks of 2, the last one cut to the budget
    assert s["budget_note"] == "equal step budget per model" and any("3 steps" in ln for ln in lines)
    assert rp.budget_text(rp.PLANS["cpu"]) == "10 CPU-min"


def test_the_chapter_smoke_plan_is_a_step_budget():
    smoke = rp.PLANS["smoke"]
    assert smoke.max_steps and smoke.cpu_minutes is None


def test_objectives_shared_released_and_preset():
    from mtass_lite.losses import RELEASED_LOSSES
    from mtass_lite.models import MODEL_NAMES

    assert rp.PLANS["cpu"].objective == "shared" and rp.PLANS["cpu_released"].objective == "released"
    # the two CPU plans differ only in the objective: same budget, data and augmentation
    assert {**rp.PLANS["cpu"].__dict__, "objective": None} == {**rp.PLANS["cpu_released"].__dict__, "objective": None}
    for name in MODEL_NAMES:
        assert rp.plan_loss(rp.PLANS["cpu"], name) == {"loss": rp.SHARED_LOSS}
        assert rp.plan_loss(rp.PLANS["cpu_released"], name) == {"loss": RELEASED_LOSSES[name]}
        assert rp.plan_loss(rp.PLANS["full"], name) == {}
    with pytest.raises(ValueError, match="objective"):
        rp.plan_loss(rp.ReproPlan("lite", "fast", 1.0, 1, 1, objective="mine"), "gcrn")


def _summary(scores: dict) -> dict:
    """A reproduction summary with per-mixture avg SDRi ``scores = {model: [v0, v1, ...]}``."""
    import numpy as np

    return {"models": {m: {"sdri": {"avg": {"mean": float(np.mean(v))}},
                           "per_item": {"sdri": {f"m{i}": float(x) for i, x in enumerate(v)}}}
                       for m, v in scores.items()}}


def test_paired_differences_and_ranking_claims():
    # b is 1 dB above a on every mixture although both spread widely: the paired CI is ~0
    a = [0.0, 5.0, 10.0, 2.0]
    s = _summary({"a": a, "b": [x + 1 for x in a], "c": [x + 0.9 + (0.5 if i % 2 else -0.5) for i, x in enumerate(a)]})
    assert rp.ranking(s) == ["b", "c", "a"]
    d = rp.paired_difference([s], "b", "a")
    assert d["mean"] == pytest.approx(1.0) and d["ci95"] == pytest.approx(0.0) and d["n"] == 4
    claims = rp.ranking_claims(s)
    assert [(c["better"], c["worse"]) for c in claims] == [("b", "c"), ("c", "a")]
    assert claims[0]["holds"] is False  # b - c = 0.1 ± 0.5 alternating: the CI includes 0
    assert claims[1]["holds"] is False  # c - a = 0.9 ± 0.5: CI half-width ~0.9 with n = 4
    # a second seed where c falls back: pooled over seeds, and the other seed's sign is reported
    s1 = _summary({"b": [x + 1 for x in a], "c": [x - 1 for x in a]})
    pooled = rp.ranking_claims(s, seeds=[s1])[0]["pooled"]
    assert pooled["n_seeds"] == 2 and pooled["other_seeds_mean"] == pytest.approx(2.0)
    assert pooled["mean"] == pytest.approx((0.1 + 2.0) / 2, abs=1e-9)
    with pytest.raises(ValueError, match="no summary"):
        rp.paired_difference([s1], "a", "b")


def test_an_interrupted_model_is_not_scored_and_the_rerun_continues(tmp_path, tiny_plan, monkeypatch):
    data = make_tiny_dataset(tmp_path / "data", n_train=4, n_dev=1, n_test=2)
    runs = tmp_path / "runs"
    real = rp.train_within_cpu_budget

    def interrupted(name, data, run_dir, plan, progress=False):
        out = real(name, data, run_dir, plan, progress)
        return {**out, "stopped": "interrupted"}  # as if Ctrl-C arrived during the last chunk

    monkeypatch.setattr(rp, "train_within_cpu_budget", interrupted)
    with pytest.raises(KeyboardInterrupt, match="demucs"):
        rp.reproduce("smoke", models=("demucs",), data=data, run_root=runs, results_name="repro", log=lambda m: None)
    assert (runs / "demucs" / "last.pt").exists() and not (runs / "demucs" / "eval.json").exists()
    monkeypatch.setattr(rp, "train_within_cpu_budget", real)
    s = rp.reproduce("smoke", models=("demucs",), data=data, run_root=runs, results_name="repro", log=lambda m: None)
    assert (runs / "demucs" / "eval.json").exists() and "per_item" in s["models"]["demucs"]


def test_holding_claims_cover_every_pair_not_only_neighbours():
    a = [0.0, 5.0, 10.0, 2.0]
    noisy = [0.5, -0.5, 0.5, -0.5]
    # b is within noise of a and of c, but c is clearly above a
    s = _summary({"a": a, "b": [x + 0.5 + n for x, n in zip(a, noisy)], "c": [x + 1 for x in a]})
    claims = rp.ranking_claims(s)
    assert not any(c["holds"] for c in claims)  # each step of the ranking is noise ...
    assert rp.holding_claims(s) == {("c", "a")}  # ... yet the top beats the bottom
