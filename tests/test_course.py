"""mtass_lite.course: the run folders of chapters 06–10 and loading what they trained."""
import torch

from mtass_lite import REPO_ROOT
from mtass_lite.course import CHAPTER_OF, CHAPTER_RUNS, chapter_models, chapter_run_dir
from mtass_lite.models import ALL_MODELS, MODEL_NAMES, build_model
from mtass_lite.train import save_weights


def test_chapter_runs_cover_the_six_models():
    assert tuple(CHAPTER_RUNS) == ALL_MODELS and ALL_MODELS[:5] == MODEL_NAMES
    assert {CHAPTER_OF[n][:2] for n in MODEL_NAMES} == {"06", "07", "08", "09", "10"}
    assert CHAPTER_OF["bsrnn"] == "13_bsrnn"
    for name, rel in CHAPTER_RUNS.items():
        assert rel.startswith("runs/chapters/") and "lite" in rel
        assert chapter_run_dir(name) == REPO_ROOT / rel
    assert len(set(CHAPTER_RUNS.values())) == len(ALL_MODELS)
    assert "paper" in str(chapter_run_dir("gcrn", "paper"))


def test_chapter_models_loads_what_exists_and_names_the_missing_chapters(tmp_path):
    torch.manual_seed(0)
    trained = build_model("conv_tasnet", "lite")
    run = tmp_path / CHAPTER_RUNS["conv_tasnet"]
    run.mkdir(parents=True)
    save_weights(trained, run / "best.pt", step=7)  # the Trainer writes best.pt with save_weights

    messages = []
    models = chapter_models(tmp_path, log=messages.append)
    assert list(models) == ["conv_tasnet"]
    loaded = models["conv_tasnet"]
    assert not loaded.training
    for (k, a), (_, b) in zip(trained.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert len(messages) == 4
    for name in ("gcrn", "demucs", "d3net", "complex_mtassnet"):
        msg = next(m for m in messages if m.startswith(name + ":"))
        assert CHAPTER_RUNS[name] in msg and CHAPTER_OF[name] in msg

    assert chapter_models(tmp_path / "empty", log=None) == {}


def test_chapter_config_is_one_recipe_for_the_five_models(tmp_path):
    from mtass_lite.course import CHAPTER_STEPS, CHAPTER_VALIDATION, SAFETY_CAP_MINUTES, chapter_config
    from mtass_lite.train import load_config

    for name in MODEL_NAMES:
        cfg = chapter_config(name, out_dir=tmp_path / name)
        preset = load_config(name, "fast")
        assert cfg.max_steps == CHAPTER_STEPS and cfg.max_minutes == SAFETY_CAP_MINUTES
        assert (cfg.valid_every, cfg.valid_items) == (CHAPTER_VALIDATION["valid_every"],
                                                      CHAPTER_VALIDATION["valid_items"])
        # everything else is the model's fast preset (lr, loss, segment, batch): no chapter-only settings
        for k in ("lr", "loss", "segment", "batch_size", "seed", "size"):
            assert getattr(cfg, k) == getattr(preset, k), (name, k)
    # the default run folder is the one chapter 11 loads, relative to the working directory
    import os
    assert os.path.abspath(chapter_config("gcrn").out_dir) == str(chapter_run_dir("gcrn"))
    # overrides win (an ablation's shorter budget), full mode is the full preset untouched
    assert chapter_config("gcrn", out_dir=tmp_path, max_steps=7).max_steps == 7
    assert chapter_config("gcrn", fast=False, out_dir=tmp_path).max_steps == load_config("gcrn", "full").max_steps


def test_training_report_and_record_read_the_run(tmp_path):
    from _tiny_helpers import make_tiny_dataset
    tiny_root = make_tiny_dataset(tmp_path / "tiny")
    import matplotlib
    matplotlib.use("Agg")
    from mtass_lite.course import chapter_config, training_record, training_report
    from mtass_lite.train import Trainer

    cfg = chapter_config("demucs", out_dir=tmp_path / "run", max_steps=2, valid_every=2, valid_items=1,
                         segment=0.25, batch_size=2)
    run = Trainer("demucs", tiny_root, cfg).fit()
    fig, line = training_report(run, cfg, tiny_root, "Demucs")
    assert line.startswith("Demucs: 2 steps (max_steps)") and "best dev SDRi" in line
    assert len(fig.axes) == 2
    rec = training_record(run, cfg)
    assert rec["last_step"] == 2 and rec["config"]["max_steps"] == 2 and rec["train_seconds"] > 0
