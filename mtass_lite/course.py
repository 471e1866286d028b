"""Where the course's chapters keep their trained models.

Chapters 06–10 each train one of the five models into a run folder under ``<repo>/runs/chapters``
(git-ignored) and keep its best checkpoint as ``best.pt`` there. :data:`CHAPTER_RUNS` is the one
place that names those folders, so the chapter that trains a model and the chapters that listen to it
(11, 12) agree; :func:`chapter_models` loads the ones that exist.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from . import REPO_ROOT
from .models import MODEL_NAMES

# model -> (chapter, run folder relative to the repository; ``{size}``: "lite" in fast mode, "paper" in full)
_RUN_TEMPLATES = {
    "gcrn": ("06_gcrn", "runs/chapters/06/gcrn_{size}"),
    "conv_tasnet": ("07_conv_tasnet", "runs/chapters/07_conv_tasnet/{size}"),
    "demucs": ("08_demucs", "runs/chapters/08/demucs_{size}"),
    "d3net": ("09_d3net", "runs/chapters/09/d3net_{size}"),
    "complex_mtassnet": ("10_complex_mtassnet", "runs/chapters/10_complex_mtassnet/{size}_released"),
}
assert tuple(_RUN_TEMPLATES) == MODEL_NAMES

#: ``{model: chapter}``, e.g. ``"gcrn": "06_gcrn"``.
CHAPTER_OF = {name: chapter for name, (chapter, _) in _RUN_TEMPLATES.items()}

#: ``{model: run folder relative to the repository}`` of the fast-mode (lite) run each chapter trains.
CHAPTER_RUNS = {name: template.format(size="lite") for name, (_, template) in _RUN_TEMPLATES.items()}

BEST = "best.pt"  # the Trainer's best checkpoint (mtass_lite.train.BEST)


def chapter_run_dir(name: str, size: str = "lite", repo_root: str | Path = REPO_ROOT) -> Path:
    """The run folder chapter 06–10 trains model ``name`` of ``size`` ("lite" in fast mode, "paper"
    in full mode) into: ``repo_root / CHAPTER_RUNS[name]`` for the lite size."""
    if name not in _RUN_TEMPLATES:
        raise ValueError(f"unknown model {name!r}; choose one of {MODEL_NAMES}")
    return Path(repo_root) / _RUN_TEMPLATES[name][1].format(size=size)


def chapter_models(repo_root: str | Path = REPO_ROOT, size: str = "lite", names=MODEL_NAMES,
                   log: Callable[[str], None] | None = print) -> dict:
    """The models chapters 06–10 trained, loaded from each run's best checkpoint, in registry order.

    A model whose checkpoint does not exist yet is skipped, and ``log`` says which chapter to execute
    to train it (``log=None``: silently).

    Returns:
        ``{name: model}`` (eval mode, CPU) for the checkpoints that exist.
    """
    from .train import load_checkpoint

    models = {}
    for name in names:
        ckpt = chapter_run_dir(name, size, repo_root) / BEST
        if ckpt.exists():
            models[name], _ = load_checkpoint(ckpt, map_location="cpu")
        elif log is not None:
            rel = _RUN_TEMPLATES[name][1].format(size=size)
            log(f"{name}: no checkpoint at {rel}/{BEST} yet; execute chapter {CHAPTER_OF[name]} "
                f"(bash scripts/course.sh {CHAPTER_OF[name][:2]}) to train it")
    return models
