"""mtass_lite.course: the run folders of chapters 06–10 and loading what they trained."""
import torch

from mtass_lite import REPO_ROOT
from mtass_lite.course import CHAPTER_OF, CHAPTER_RUNS, chapter_models, chapter_run_dir
from mtass_lite.models import MODEL_NAMES, build_model
from mtass_lite.train import save_weights


def test_chapter_runs_cover_the_five_models():
    assert tuple(CHAPTER_RUNS) == MODEL_NAMES
    assert {CHAPTER_OF[n][:2] for n in MODEL_NAMES} == {"06", "07", "08", "09", "10"}
    for name, rel in CHAPTER_RUNS.items():
        assert rel.startswith("runs/chapters/") and "lite" in rel
        assert chapter_run_dir(name) == REPO_ROOT / rel
    assert len(set(CHAPTER_RUNS.values())) == len(MODEL_NAMES)
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
