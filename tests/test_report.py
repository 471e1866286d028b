from pathlib import Path

from mtass_lite import REPO_ROOT, report


def test_readme_tables_are_rendered_from_results():
    text = (Path(REPO_ROOT) / "README.md").read_text()
    assert "<!-- BEGIN paper_table -->" in text
    assert report.render_readme(text) == text, "README is stale: run .venv/bin/python -m mtass_lite.report"


def test_course_guide_times_are_rendered_from_the_measured_run():
    text = (Path(REPO_ROOT) / "docs" / "course_guide.md").read_text()
    assert "<!-- BEGIN course_table -->" in text
    assert report.render_readme(text) == text, "course guide is stale: run .venv/bin/python -m mtass_lite.report"
    body = text.split("<!-- BEGIN course_table -->")[1].split("<!-- END course_table -->")[0]
    assert "not computed yet" not in body and body.count("\n| ") >= 13  # a row per chapter + total


def test_render_replaces_only_marked_sections():
    text = "intro\n<!-- BEGIN paper_table -->\nold\n<!-- END paper_table -->\noutro 1.23\n"
    out = report.render_readme(text)
    assert "old" not in out and "| Complex-MTASSNet | 28.18 M" in out and out.endswith("outro 1.23\n")


def _ci(mean, half=0.1):
    return {"mean": mean, "ci95": half, "std": 1.0, "n": 50}


def _row(tiny, real):
    return {label: {m: {t: _ci(v) for t in ("speech", "music", "noise", "avg")} for m in ("sdri", "si_sdri")}
            for label, v in (("tiny", tiny), ("real", real))}


def test_augment_table_orders_variants_and_shows_paired_differences(tmp_path, monkeypatch):
    from mtass_lite.results import write_json

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    remix = {**_row(6.5, 5.5), "seed": 0,
             "paired_vs_none": {"tiny": {"sdri": _ci(-0.5, 0.12)}, "real": {"sdri": _ci(0.25, 0.3)}}}
    write_json("gap", {"model": "complex_mtassnet", "steps": 600, "variants": {
        "remix@seed1": {**_row(6.0, 5.0), "seed": 1}, "remix": remix, "none": {**_row(7.0, 5.25), "seed": 0}}})
    lines = report.augment_markdown("gap").splitlines()
    body = [ln for ln in lines if ln.startswith("| `")]
    assert [ln.split("|")[1].strip() for ln in body] == ["`none`", "`remix`", "`remix`"]  # seed 0 first
    assert body[0].split("|")[5].strip() == "-1.75" and body[0].rstrip().endswith("| – | – |")
    assert "| -0.50 ± 0.12 | +0.25 ± 0.30 (n.s.) |" in body[1]  # an interval containing 0 is marked and "| 1 |" in body[2]
    assert report.augment_markdown("missing") is None
    write_json("gap2", {"model": "complex_mtassnet", "steps": 600, "variants": {"none": {**_row(7.0, 5.25)}},
                        "pooled_vs_none": {"remix": {"seeds": [0, 1], "tiny": {"sdri": _ci(-0.26, 0.1)},
                                                     "real": {"sdri": _ci(0.2, 0.17)}}}})
    assert report.augment_markdown("gap2").endswith("seeds 0, 1: SDRi tiny -0.26 ± 0.10, real +0.20 ± 0.17 dB.")


def test_attribution_table_renders_effects_per_source(tmp_path, monkeypatch):
    from mtass_lite.results import write_json

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    tracks = ("speech", "music", "noise")
    sets = {" ".join(f"{t}:{c}" for t in tracks): {"si_sdri": {"avg": _ci(v)}} for c, v in (("synthetic", 5.0),
                                                                                              ("real", 2.0))}
    effect = {src: {"si_sdri": {t: _ci(-float(i + 1) if t == "avg" else -0.5 * (i + 1)) for t in (*tracks, "avg")}}
              for i, src in enumerate(tracks)}
    write_json("real_gap_attribution", {"models": {"m1": {"sets": sets, "effect_of_real": effect}}})
    text = report.attribution_markdown()
    assert "| m1 | 5.00 | 2.00 | -1.00 ± 0.10 | -2.00 ± 0.10 | -3.00 ± 0.10 |" in text
    assert "| music | -1.00 ± 0.10 | -1.00 ± 0.10 | -1.00 ± 0.10 |" in text


def _repro(models: dict, objective: str, base: float = 4.0) -> dict:
    """A reproduction summary: ``models = {name: [per-mixture avg SDRi, ...]}`` (same value on every track)."""
    import numpy as np

    def scores(v):
        return {t: {"mean": float(np.mean(v)), "ci95": 0.1} for t in ("speech", "music", "noise", "avg")}

    return {"mode": "cpu", "objective": objective, "data": "tiny", "budget_note": "equal CPU time",
            "plan": {"cpu_minutes": 10.0, "overrides": {}},
            "models": {m: {"size": "lite", "params": 1e6, "n_items": len(v), "loss": "snr",
                           "training": {"cpu_seconds": 600.0, "step": 100},
                           "sdri": scores(v), "si_sdri": scores(v),
                           "per_item": {"sdri": {f"m{i}": x for i, x in enumerate(v)},
                                        "si_sdri": {f"m{i}": x for i, x in enumerate(v)}}}
                       for m, v in models.items()},
            "baselines": {"mixture/3": {"sdri": {t: {"mean": base, "ci95": 0.1} for t in ("speech", "music", "noise", "avg")},
                                        "si_sdri": {t: {"mean": 0.0, "ci95": 0.0} for t in ("speech", "music", "noise", "avg")}}}}


def test_ranking_table_says_which_claims_hold_under_both_objectives(tmp_path, monkeypatch):
    import json

    from mtass_lite import report

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    assert report.ranking_markdown() is None  # nothing computed yet: the README says so
    x = [5.0, 9.0, 7.0, 6.0, 8.0]
    shared = _repro({"gcrn": x, "d3net": [v + 1 for v in x], "demucs": [v + 1.3 + (0.8 if i % 2 else -0.8)
                                                                       for i, v in enumerate(x)]}, "shared")
    released = _repro({"gcrn": [v + 2 for v in x], "d3net": [v + 1 for v in x], "demucs": x}, "released")
    (tmp_path / "reproduction_cpu.json").write_text(json.dumps(shared))
    (tmp_path / "reproduction_cpu_released.json").write_text(json.dumps(released))
    md = report.ranking_markdown()
    # shared: Demucs > D3Net within noise, D3Net > GCRN holds; released: GCRN > D3Net > Demucs, both hold
    assert "| shared objective (−SNR) | D3Net > GCRN | +1.00 ± 0.00 | yes |" in md
    assert "| released objectives | GCRN > D3Net | +1.00 ± 0.00 | yes |" in md
    # D3Net > GCRN flips with the objective; D3Net > Demucs holds only under the released one; so does
    # Demucs > GCRN? shared: Demucs - GCRN = 1.3 +- 0.8 alternating (CI ~1) holds; released: reversed
    assert "that hold under both objectives: none" in md
    # a second seed of the shared top pair joins the table
    (tmp_path / "reproduction_cpu_seed1.json").write_text(json.dumps(
        _repro({"demucs": [v + 3 for v in x], "d3net": [v + 1 for v in x]}, "shared")))
    assert "+2.00 |" in report.ranking_markdown()  # the other seed's Demucs − D3Net
    # a seed check trained on another MTASS-tiny build (other speech) is named, labelled and never pooled
    espeak = {"speech": "espeak", "content_sha256": "b35d"}
    (tmp_path / "reproduction_cpu_seed1.json").write_text(json.dumps(
        {"data_build": espeak, **_repro({"demucs": [v + 3 for v in x], "d3net": [v + 1 for v in x]}, "shared")}))
    md = report.ranking_markdown()
    assert "+2.00 |" not in md and "Not pooled: the seed checks `reproduction_cpu_seed1.json`" in md
    assert md.endswith("eSpeak NG build, before its English speech switched to the Piper neural voice (not re-run "
                       "since): `results/reproduction_cpu_seed1.json`._")
    v = report.reproduction_verdict_markdown()
    assert v.startswith("Every lite model beats the mixture/3 baseline") and "not the paper's" in v


def _kind_row(real, tiny, cpu_min=19.5):
    row = _row(tiny, real)
    for label in ("tiny", "real"):
        row[label]["n_mixtures"] = 100 if label == "real" else 50
    return {**row, "training": {"cpu_minutes": cpu_min}}


def _paired(real_si, real_sdr, tiny_si, half=0.3):
    def block(si, sdr):
        return {"si_sdri": {t: _ci(si, half) for t in ("speech", "music", "noise", "avg")},
                "sdri": {t: _ci(sdr, half) for t in ("speech", "music", "noise", "avg")}}
    return {"real": block(real_si, real_sdr), "tiny": block(tiny_si, tiny_si)}


def test_real_test_table_and_verdict_render_the_measured_comparison(tmp_path, monkeypatch):
    from mtass_lite.results import write_json

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    assert report.real_test_markdown("real_test") is None and report.real_test_verdict_markdown() is None
    assert report.real_test_markdown() is None
    res = {"model": "conv_tasnet", "steps": 1400,
           "kinds": {"real+synthetic": _kind_row(3.0, 5.0), "synthetic": _kind_row(1.0, 5.5)},
           "baselines": {"real": {"mixture/3": _row(0.0, 0.0)["real"]}, "tiny": {"mixture/3": _row(0.0, 0.0)["tiny"]}},
           "paired": {"real+synthetic - synthetic": _paired(2.0, 1.5, -0.5)}}
    write_json("real_test", res)
    table = report.real_test_markdown()
    body = [ln for ln in table.splitlines() if ln.startswith("| ") and not ln.startswith("| Training")
            and not ln.startswith("| a −")]
    assert [ln.split("|")[1].strip() for ln in body][:2] == ["synthetic", "real+synthetic"]  # fixed kind order
    assert "| real+synthetic - synthetic | +2.00 ± 0.30 |" in table and "(n.s.)" not in table.split("a − b")[1]
    assert report.real_test_markdown() == table  # no name: every model's current file with two kinds
    verdict = report.real_test_verdict_markdown()
    assert verdict.startswith("**Real sources pay on real recordings (Conv-TasNet lite).**")
    assert "gains 2.00 ± 0.30 dB average SI-SDRi (+1.50 ± 0.30 dB SDRi)" in verdict and "beyond its 95 %" in verdict
    assert "loses 0.50 ± 0.30 dB" in verdict and "pooled" not in verdict
    res["paired"] = {"real+synthetic - synthetic": _paired(0.2, 1.5, 0.1)}  # SI-SDRi interval contains 0
    write_json("real_test", res)
    verdict = report.real_test_verdict_markdown()
    assert verdict.startswith("**Real sources on real recordings (Conv-TasNet lite).**")
    assert "not beyond its 95 % interval" in verdict
    # a second seed: the verdict is the pooled difference, seed 0's named beside it; the table gains its row
    res["pooled"] = {"real+synthetic - synthetic": {"seeds": [0, 1], **_paired(0.8, 0.5, -0.2)}}
    write_json("real_test", res)
    verdict = report.real_test_verdict_markdown()
    assert verdict.startswith("**Real sources pay on real recordings (Conv-TasNet lite).**")
    assert "gains 0.80 ± 0.30 dB average SI-SDRi (+0.50 ± 0.30 dB SDRi)" in verdict
    assert "pooled over training seeds 0, 1 (seed 0 alone: +0.20 ± 0.30 (n.s.) dB SI-SDRi" in verdict
    assert "| real+synthetic - synthetic (seeds 0, 1 pooled) | +0.80 ± 0.30 |" in report.real_test_markdown()
    assert "eSpeak NG build" not in verdict
    write_json("real_test_espeak", {**res, "paired": {"real+synthetic - synthetic": _paired(0.6, 0.4, -2.0)}})
    assert ("earlier eSpeak NG build (synthetic speech from the formant synthesiser, seed 0, "
            "`results/real_test_espeak.json`) the same comparison gave +0.60 ± 0.30 dB average SI-SDRi and "
            "+0.40 ± 0.30 dB SDRi.") in report.real_test_verdict_markdown()
    # another model's file renders its own table and paragraph, after Conv-TasNet's
    write_json("real_test_d3net", {**res, "model": "d3net", "pooled": {}})
    assert report.real_test_verdict_markdown().split("\n\n")[1].startswith("**Real sources on real recordings "
                                                                            "(D3Net lite).**")
    assert report.real_test_markdown().count("| Training sources |") == 2


def test_real_test_models_table_keeps_one_build(tmp_path, monkeypatch):
    """Models trained on real + synthetic sources share a table only when made on one MTASS-tiny build: the
    build with the most models wins, today's on a tie; the reference (Conv-TasNet) comes first."""
    from mtass_lite.data import tts
    from mtass_lite.results import write_json

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    monkeypatch.setattr(tts, "DEFAULT_ENGINE", "piper")
    assert report.real_test_runs() == {} and report.real_test_models_markdown() is None

    def run(model, speech):
        row = {**_kind_row(2.0, 5.0), "training": {"cpu_minutes": 10.0, "steps": 1400}}
        row["real"]["per_mixture"] = {m: {"avg": {"x1": 1.0, "x2": 2.5, "x3": 1.5}} for m in ("si_sdri", "sdri")}
        return {"model": model, "data_build": {"speech": speech, "content_sha256": speech * 2},
                "kinds": {"real+synthetic": row}}

    for m in ("gcrn", "conv_tasnet"):
        write_json(report.real_test_name(m) + "_espeak", run(m, "espeak"))
    write_json(report.real_test_name("d3net"), run("d3net", "piper"))
    assert list(report.real_test_runs()) == ["conv_tasnet", "gcrn"]  # two eSpeak-era models against one
    assert "`results/real_test_espeak.json`, `results/real_test_gcrn_espeak.json`" in report.real_test_models_markdown()
    write_json("real_test", run("conv_tasnet", "piper"))
    assert list(report.real_test_runs()) == ["conv_tasnet", "d3net"]  # a tie: today's build
    assert "_Made on" not in report.real_test_models_markdown()


def test_tts_decision_renders_the_measured_rule(tmp_path, monkeypatch):
    from mtass_lite.data import tts
    from mtass_lite.results import write_json

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    assert report.tts_markdown() is None
    block = {"si_sdri": {t: _ci(0.3, 0.2) for t in ("speech", "music", "noise", "avg")}}

    def run(seed, adopt, failed=(), load=None):
        build = {"build_seconds": 167.5, "reproducible": True}
        if load is not None:
            build["build"] = {"loadavg_before": [load, 0.5, 0.2]}
        return {"decision": {"adopt": adopt, "failed": list(failed), "rule": "the rule",
                             "numbers": {"espeak_effect_of_real_speech": _ci(-2.0, 0.3),
                                         "piper_effect_of_real_speech": _ci(-1.9 + seed, 0.3),
                                         "build_limit_seconds": 180}},
                "variant": build, "settings": {"steps": 1400, "seed": seed},
                "engine": {"name": "piper", "voice": "en_US-joe-medium", "packages": {"piper-tts": "1.8.0"}},
                "paired": {"piper - espeak": {"real": block, "tiny": block}}}

    write_json("tts_speech", run(0, False, ["real_speech_cost_shrinks_beyond_ci"], load=3.8))
    text = report.tts_markdown()
    assert text.startswith("**Speech engine: eSpeak NG stays**") and "168 s (load average 3.8 at the start)" in text
    assert "seed 0: -2.00 ± 0.30 (eSpeak) vs -1.90 ± 0.30 (neural voice)" in text
    assert "did not shrink beyond its interval" in text and "bit-identical" in text
    # seed 0 says adopt: nothing switches before the replication
    write_json("tts_speech", run(0, True, load=3.8))
    monkeypatch.setattr(tts, "DEFAULT_ENGINE", "espeak")
    assert report.tts_markdown().startswith("**Speech engine: seed 0 says adopt the neural voice; its replication "
                                            "has not run yet**")
    # the replication fails: eSpeak stays, and the failing seed is named
    write_json("tts_speech_seed1", run(1, False, ["not_worse_on_real_speech"]))
    text = report.tts_markdown()
    assert text.startswith("**Speech engine: eSpeak NG stays**") and "`results/tts_speech_seed1.json`" in text
    assert "seed 0: holds; seed 1: fails — the neural-voice model is worse on the real test set's speech" in text
    assert "seed 1: -2.00 ± 0.30 (eSpeak) vs -0.90 ± 0.30 (neural voice)" in text and "load not recorded" in text
    # both hold: adopt, switched or not
    write_json("tts_speech_seed1", run(1, True))
    text = report.tts_markdown()
    assert text.startswith("**Speech engine: the measurement says adopt the neural voice; the default is not "
                           "switched yet**") and "still builds with espeak" in text
    monkeypatch.setattr(tts, "DEFAULT_ENGINE", "piper")
    assert report.tts_markdown().startswith("**Speech engine: the neural voice is adopted**")


def test_shipped_card_renders_the_default_and_what_the_goal_misses(tmp_path, monkeypatch):
    from mtass_lite.results import write_json

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    assert report.shipped_markdown() is None

    def model(real_avg, music, met=False):
        row = _row(5.0, real_avg)
        row["real"]["si_sdri"]["music"] = _ci(music)
        row["training"] = {"sources": "real + synthetic", "steps": 9000, "cpu_hours": 1.5}
        row["goal"] = {"met": met, "real_si_sdri_avg": {"value": real_avg, "min": 5.0, "met": real_avg >= 5},
                       "real_si_sdri_each_track": {"values": {"speech": real_avg, "music": music, "noise": real_avg},
                                                   "min": 3.0, "met": min(real_avg, music) >= 3},
                       "real_sdri_each_track_vs_thirds": {
                           "margin_db": 3.0, "met": False,
                           "values": {"speech": 8.5, "music": 6.0, "noise": 7.0},
                           "mixture/3": {"speech": 5.0, "music": 4.5, "noise": 4.0}},
                       "tiny_loss": {"max_loss_db": 1.0, "met": True}}
        return row

    card = {"models": {"a_lite": model(1.5, 0.5), "b_lite": model(2.5, 1.0)}, "default": "b_lite",
            "goal_rule": "the rule.", "baselines": {"real": {"mixture/3": _row(0, 4.75)["real"]}}}
    write_json("shipped_models", card)
    text = report.shipped_markdown()
    body = [ln for ln in text.splitlines() if ln.startswith("| `")]
    assert body[0].startswith("| `b_lite` (default) |") and body[1].startswith("| `a_lite` |")  # best first
    assert "misses: average SI-SDRi 2.50 of 5 dB; each track ≥ 3 dB SI-SDRi (lowest: music 1.00)" in text
    # only the tracks short of mixture/3 + 3 dB are named, with the SDRi they have and need
    assert "SDRi ≥ mixture/3 + 3 dB on each track (music 6.00 of 7.50)" in text
    assert text.rstrip().endswith("The goal — the rule.")


def test_results_from_the_espeak_build_say_so(monkeypatch):
    from mtass_lite import report
    from mtass_lite.data import tts

    a = {"data_build": {"speech": "espeak", "content_sha256": "b35d"}}
    b = {"data_build": {"speech": "piper", "content_sha256": "ca89"}}
    # b: today's build; {}: no MTASS-tiny involved; None: not computed — nothing to say for any of them
    assert report.made_on({"b": b, "c": {}, "missing": None}) == ""
    note = report.made_on({"a": a, "b": b})
    assert note.count("`results/a.json`") == 1 and "`results/b.json`" not in note and "eSpeak NG build" in note
    monkeypatch.setattr(tts, "DEFAULT_ENGINE", "espeak")  # had eSpeak stayed, the Piper file would be the odd one
    note = report.made_on({"a": a, "b": b})
    assert "`results/b.json`" in note and "`results/a.json`" not in note
