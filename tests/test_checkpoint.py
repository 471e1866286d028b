"""mtass_lite.checkpoint: checkpoint I/O and devices, and the import graph it untangles."""
import ast
from pathlib import Path

import torch

import mtass_lite
from mtass_lite import checkpoint, train
from mtass_lite.models import build_model

PKG = Path(mtass_lite.__file__).parent


def _relative_imports() -> dict[str, set[str]]:
    """``{module: modules it imports relatively}``, lazy (function-level) imports included."""
    graph = {}
    for p in PKG.rglob("*.py"):
        parts = ("mtass_lite", *p.relative_to(PKG).with_suffix("").parts)
        pkg = parts[:-1] if p.name != "__init__.py" else parts[:-1]
        name = ".".join(parts[:-1] if p.name == "__init__.py" else parts)
        deps = set()
        for n in ast.walk(ast.parse(p.read_text())):
            if isinstance(n, ast.ImportFrom) and n.level:
                base = list(pkg[: len(pkg) - (n.level - 1)])
                deps.add(".".join(base + ([n.module] if n.module else [])))
        graph[name] = deps
    return graph


def _reaches(graph, start, target) -> bool:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m == target:
            return True
        if m not in seen:
            seen.add(m)
            todo += [d for d in graph.get(m, ()) if d in graph]
    return False


def test_no_import_circle_between_training_evaluation_and_separation():
    g = _relative_imports()
    assert "mtass_lite.checkpoint" in g["mtass_lite.separate"]
    for m in ("mtass_lite.evaluate", "mtass_lite.separate", "mtass_lite.checkpoint",
              "mtass_lite.train_data", "mtass_lite.train_state"):  # (the trainer's parts: train imports them)
        assert not _reaches(g, m, "mtass_lite.train"), f"{m} imports mtass_lite.train (directly or not)"


def test_train_reexports_the_checkpoint_functions():
    assert train.load_checkpoint is checkpoint.load_checkpoint
    assert train.resolve_device is checkpoint.resolve_device
    # (and the trainer's parts, which chapters and scripts also import from mtass_lite.train)
    from mtass_lite import train_data, train_state

    assert train.batch_plan is train_data.batch_plan and train.ResumeError is train_state.ResumeError
    assert (train.LAST, train.BEST, train.LOG) == ("last.pt", "best.pt", "log.csv")


def test_save_weights_then_load_checkpoint_rebuilds_the_model(tmp_path):
    torch.manual_seed(0)
    model = build_model("conv_tasnet", "lite")
    checkpoint.save_weights(model, tmp_path / "w.pt", note="x")
    loaded, ckpt = checkpoint.load_checkpoint(tmp_path / "w.pt")
    assert ckpt["note"] == "x" and ckpt["model_name"] == "conv_tasnet" and not loaded.training
    x = torch.randn(1, 8000)
    torch.testing.assert_close(loaded(x), model.eval()(x))
    assert checkpoint.resolve_device("cpu") == torch.device("cpu")
