"""What ships (mtass_lite.shipped): the default model, `ship`, `separate --list`, and the issue's
Done-when check: the default shipped weights separate a committed real recording better than mixture/3.

The real mixture (mtass_lite/data/examples/real_mixture, also heard in chapter 12) is mixture 000001 of the real test set, committed with its
three sources' attribution (ATTRIBUTION.md); it was picked by licence, in id order, not by score.
"""
import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import mtass_lite.separate as sep
from _tiny_helpers import TinySeparator
from mtass_lite import SAMPLE_RATE, TRACKS
from mtass_lite import metrics as M
from mtass_lite import shipped as sh
from mtass_lite.__main__ import main
from mtass_lite.baselines import ScaledMixture
from mtass_lite.checkpoint import build_model_from_spec, save_weights

from mtass_lite.shipped import REAL_EXAMPLE as REAL


@pytest.fixture
def tmp_pretrained(tmp_path, monkeypatch):
    """An empty pretrained folder and an empty results folder (no card)."""
    d = tmp_path / "pretrained"
    d.mkdir()
    monkeypatch.setattr(sh, "PRETRAINED_DIR", d)
    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path / "results"))
    return d


def _ship_tiny(tmp_path, name="tiny", trained=None):
    torch.manual_seed(0)
    m = build_model_from_spec("_tiny_helpers:TinySeparator", config={"channels": 3})
    ckpt = save_weights(m, tmp_path / f"{name}_best.pt")
    trained = trained or {"sources": "fabricated test data", "recipe": "pytest", "steps": 7, "cpu_seconds": 36.0,
                          "hours": 0.01}
    return m, sh.ship(ckpt, name=name, trained=trained)


def _write_card(results: Path, card: dict) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / "shipped_models.json").write_text(json.dumps(card))


def _scores(si_avg, sd_avg, tiny_si):
    def h(v):
        return {t: {"mean": v, "ci95": 0.5} for t in (*TRACKS, "avg")}

    return {"real": {"si_sdri": h(si_avg), "sdri": h(sd_avg)}, "tiny": {"si_sdri": h(tiny_si), "sdri": h(7.0)}}


def test_default_model_without_a_card_is_complex_mtassnet(tmp_pretrained):
    assert sh.card() is None
    assert sh.default_model() == ("complex_mtassnet", "lite") == sh.FALLBACK_DEFAULT


def test_default_model_follows_a_card_that_names_a_shipped_file(tmp_pretrained, tmp_path):
    _ship_tiny(tmp_path)
    results = tmp_path / "results"
    _write_card(results, {"default": "tiny_lite", "models": {"tiny_lite": {"name": "tiny", "size": "lite"}}})
    assert sh.default_model() == ("tiny", "lite")
    assert isinstance(sep.resolve_model(device="cpu"), TinySeparator)  # no name, no checkpoint: the default
    # a card whose default is not shipped (removed, or scored elsewhere) is not followed
    _write_card(results, {"default": "ghost_lite", "models": {"ghost_lite": {"name": "ghost", "size": "lite"}}})
    assert sh.default_model() == sh.FALLBACK_DEFAULT


def test_ship_round_trips_fp16_weights_and_the_training_record(tmp_pretrained, tmp_path):
    m, path = _ship_tiny(tmp_path)
    assert path == tmp_pretrained / "tiny_lite.pt" == sh.pretrained_path("tiny") == sep.pretrained_path("tiny")
    payload = torch.load(path, weights_only=True)
    assert payload["model_name"] == "_tiny_helpers:TinySeparator" and payload["shipped"] == {"name": "tiny",
                                                                                             "size": "lite"}
    assert payload["trained"]["steps"] == 7 and payload["trained"]["sources"] == "fabricated test data"
    assert all(v.dtype == torch.float16 for v in payload["model"].values() if v.is_floating_point())
    loaded = sep.resolve_model("tiny", device="cpu")
    assert isinstance(loaded, TinySeparator) and not loaded.training
    for a, b in zip(loaded.state_dict().values(), m.state_dict().values()):
        assert torch.equal(a, b.half().float())
    (row,) = sh.shipped()
    assert row["name"] == "tiny" and row["size"] == "lite" and row["file"] == "tiny_lite.pt"
    assert row["params"] == sum(p.numel() for p in m.parameters()) and row["trained"]["cpu_seconds"] == 36.0
    t = sh.training_summary(row["trained"])
    assert t["cpu_hours"] == 0.01 and t["steps"] == 7 and t["hours"] == 0.01
    # files shipped before ship() existed say `data` and `step`
    assert sh.training_summary({"data": "MTASS-tiny", "step": 600})["steps"] == 600


def test_separate_list_without_and_with_a_card(tmp_pretrained, tmp_path, capsys):
    _ship_tiny(tmp_path, "tiny")
    _ship_tiny(tmp_path, "other")
    assert main(["separate", "--list"]) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.startswith(("tiny_lite", "other_lite"))]
    assert len(rows) == 2 and all(ln.rstrip().endswith("not scored") for ln in rows), out
    assert "benchmarks/shipped_models.py" in out and "real_sources.py --build-only" in out
    assert "default: complex_mtassnet_lite" in out

    card = {"default": "tiny_lite", "test_sets": {"real": {"n_mixtures": 100}},
            "models": {"tiny_lite": {"name": "tiny", "size": "lite", **_scores(5.25, 8.5, 6.75)},
                       "other_lite": {"name": "other", "size": "lite", **_scores(1.5, 6.0, 7.25)}}}
    _write_card(tmp_path / "results", card)
    assert main(["separate", "--list"]) == 0
    out = capsys.readouterr().out
    row = next(ln for ln in out.splitlines() if ln.startswith("tiny_lite"))
    assert "5.25 ± 0.50" in row and "8.50" in row and "6.75" in row and row.rstrip().endswith("default")
    assert "fabricated test data, 0.01 h" in row and " 7 " in row
    other = next(ln for ln in out.splitlines() if ln.startswith("other_lite"))
    assert "1.50" in other and "default" not in other and "not scored" not in out


def test_separate_without_files_errors_clearly(capsys):
    with pytest.raises(SystemExit) as e:
        main(["separate"])
    assert e.value.code == 2 and "no FILE to separate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["separate", "--list", "song.wav"])


def test_the_committed_real_mixture_names_a_licence_for_each_source():
    text = (REAL / "ATTRIBUTION.md").read_text()
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", text, re.S | re.M))
    for track in TRACKS:
        body = sections[track]
        licence = re.search(r"^- Licence: (.+)$", body, re.M)
        assert licence and re.search(r"CC0|CC BY|[Pp]ublic [Dd]omain", licence.group(1)), (track, body)
        assert not re.search(r"\bNC\b|\bND\b|-NC|-ND", licence.group(1)), licence.group(1)
        for field in ("Repository", "Commit", "Path", "Credit"):
            assert re.search(rf"^- {field}: \S", body, re.M), (track, field)
    assert re.search(r"snr_music, snr_noise", text)  # the mixing recipe
    assert sum(f.stat().st_size for f in REAL.iterdir()) < 1e6


def test_the_default_shipped_model_beats_mixture_thirds_on_a_real_recording(tmp_path, monkeypatch):
    """Done-when: `separate` with the default weights (no --model) beats mixture/3 on a real mixture."""
    monkeypatch.delenv("MTASS_RESULTS_DIR", raising=False)  # the committed model card decides the default
    name, size = sh.default_model()
    mixture, sr = sf.read(REAL / "mixture.flac", dtype="float32")
    refs = np.stack([sf.read(REAL / f"{t}.flac", dtype="float32")[0] for t in TRACKS])
    assert sr == SAMPLE_RATE and refs.shape == (3, mixture.shape[0])
    np.testing.assert_allclose(refs.sum(0), mixture, atol=1e-6)

    assert main(["separate", str(REAL / "mixture.flac"), "--out", str(tmp_path)]) == 0
    est = np.stack([sf.read(tmp_path / "mixture" / f"{t}.wav", dtype="float32")[0] for t in TRACKS])
    assert est.shape == refs.shape
    thirds = ScaledMixture()(torch.from_numpy(mixture)[None])[0].numpy()
    sdri = np.asarray(M.sdr_improvement(est, refs, mixture))
    base = np.asarray(M.sdr_improvement(thirds, refs, mixture))
    si_sdri = np.asarray(M.si_sdr_improvement(est, refs, mixture))
    msg = (f"default model {name}_{size}: SDRi {dict(zip(TRACKS, sdri.round(2)))} avg {sdri.mean():.2f} dB vs "
           f"mixture/3 {dict(zip(TRACKS, base.round(2)))} avg {base.mean():.2f} dB; "
           f"SI-SDRi {dict(zip(TRACKS, si_sdri.round(2)))} avg {si_sdri.mean():.2f} dB")
    assert np.all(np.isfinite(est)) and np.all(np.isfinite(sdri)) and np.all(np.isfinite(si_sdri)), msg
    assert sdri.mean() > base.mean(), msg


def test_ship_run_records_what_the_recipe_trained(tmp_path, monkeypatch):
    """A recipe's run (train --config) ships its best checkpoint with sources, hours, steps and CPU time."""
    import json as _json

    from _tiny_helpers import make_tiny_dataset
    from mtass_lite.reproduce import ship_run
    from mtass_lite.train import Trainer, load_config

    data = make_tiny_dataset(tmp_path / "data", n_train=3, n_dev=1, n_test=1)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"model: conv_tasnet\nsize: lite\nmodel_overrides: {{N: 16, L: 8, B: 8, H: 16, P: 3, X: 2, R: 1}}\n"
                      f"data_root: {data}\nout_dir: {tmp_path / 'run'}\nsegment: 0.25\nbatch_size: 2\n"
                      f"valid_every: 2\nvalid_items: 1\nmax_steps: 4\nprogress: false\n")
    cfg = load_config(None, None, recipe)
    Trainer(cfg.model, data, cfg).fit()
    path = ship_run(recipe, "tiny_real", "fabricated test sources", path=tmp_path / "tiny_real_lite.pt")
    tr = torch.load(path, weights_only=False)["trained"]
    n_samples = sum(sf.info(p).frames for p in (data / "train" / "mixture").glob("*.wav"))
    assert tr["sources"] == "fabricated test sources" and tr["run_steps"] == 4 and tr["steps"] in (2, 4)
    assert tr["hours"] == pytest.approx(n_samples / 16000 / 3600, abs=1e-4) and tr["cpu_seconds"] > 0
    assert tr["recipe"].endswith("recipe.yaml") and _json.dumps(tr)  # plain data
