"""Where the course's chapters keep their trained models.

Chapters 06–10 each train one of the five models of the MTASS comparison (chapter 13 the sixth, the
band-split RNN of :data:`mtass_lite.models.EXTRA_MODELS`) into a run folder under ``<repo>/runs/chapters``
(git-ignored) and keep its best checkpoint as ``best.pt`` there. :data:`CHAPTER_RUNS` is the one
place that names those folders, so the chapter that trains a model and the chapters that listen to it
(11, 12) agree; :func:`chapter_models` loads the ones that exist.

The five chapters train with **one template**: :func:`chapter_config` (the model's preset plus the
chapters' step budget :data:`CHAPTER_STEPS`, the same validation and the same safety cap), the engine's
``Trainer``, and :func:`training_report` (the log plot and one line of figures). One budget in steps, not
in time, so the five tables line up with each other and with chapter 11, and a chapter prints the same
numbers on every machine.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from . import REPO_ROOT
from .models import ALL_MODELS, MODEL_NAMES

# model -> (chapter, run folder relative to the repository; ``{size}``: "lite" in fast mode, "paper" in full)
_RUN_TEMPLATES = {
    "gcrn": ("06_gcrn", "runs/chapters/06/gcrn_{size}"),
    "conv_tasnet": ("07_conv_tasnet", "runs/chapters/07_conv_tasnet/{size}"),
    "demucs": ("08_demucs", "runs/chapters/08/demucs_{size}"),
    "d3net": ("09_d3net", "runs/chapters/09/d3net_{size}"),
    "complex_mtassnet": ("10_complex_mtassnet", "runs/chapters/10_complex_mtassnet/{size}_released"),
    "bsrnn": ("13_bsrnn", "runs/chapters/13_bsrnn/{size}"),
}
assert tuple(_RUN_TEMPLATES) == ALL_MODELS

#: ``{model: chapter}``, e.g. ``"gcrn": "06_gcrn"``.
CHAPTER_OF = {name: chapter for name, (chapter, _) in _RUN_TEMPLATES.items()}

#: ``{model: run folder relative to the repository}`` of the fast-mode (lite) run each chapter trains.
CHAPTER_RUNS = {name: template.format(size="lite") for name, (_, template) in _RUN_TEMPLATES.items()}

BEST = "best.pt"  # the Trainer's best checkpoint (mtass_lite.train.BEST)

#: Training steps of every model chapters 06–10 train in fast mode (batch 4 x 4 s, the model's fast
#: preset). 500 steps are 1.5–4 minutes on two idle cores per model (Demucs 0.08 s/step … D3Net 0.46 s)
#: and bring every lite model above the "mixture / 3" baseline on every track.
CHAPTER_STEPS = 500
#: Steps of each variant in chapter 10's ablations (and of their reference run): six variants at
#: :data:`CHAPTER_STEPS` would add ~15 CPU-minutes to every execution of the chapter.
ABLATION_STEPS = 100
#: Validation during the chapters' runs: every 100 steps on the first 20 dev mixtures.
CHAPTER_VALIDATION = {"valid_every": 100, "valid_items": 20}
#: Wall-clock cap (minutes) of a chapter's run: a safety net on a very busy machine, never the budget.
SAFETY_CAP_MINUTES = 30


def chapter_config(name: str, fast: bool = True, size: str | None = None, out_dir: str | Path | None = None,
                   **overrides):
    """The training configuration a chapter uses for model ``name``.

    Fast mode: the model's ``fast`` preset with ``max_steps = CHAPTER_STEPS``, :data:`CHAPTER_VALIDATION`
    and the :data:`SAFETY_CAP_MINUTES` cap; full mode: the ``full`` preset (paper size, real data, a GPU).
    ``out_dir`` defaults to the chapter's run folder (:func:`chapter_run_dir`) relative to the working
    directory, so that no machine-specific path is printed; ``overrides`` go last (e.g. an ablation's
    ``max_steps`` or ``seed``).

    Returns a :class:`mtass_lite.train.TrainConfig`.
    """
    from .train import load_config

    size = size or ("lite" if fast else "paper")
    if out_dir is None:
        out_dir = os.path.relpath(chapter_run_dir(name, size))
    settings = ({"max_steps": CHAPTER_STEPS, "max_minutes": SAFETY_CAP_MINUTES, **CHAPTER_VALIDATION}
                if fast else {})
    return load_config(name, "fast" if fast else "full", out_dir=str(out_dir), progress=False,
                       **{**settings, **overrides})


def config_summary(cfg) -> dict:
    """The settings of ``cfg`` a chapter prints before training (what the reader may want to change)."""
    return {k: getattr(cfg, k) for k in ("size", "loss", "segment", "batch_size", "lr", "max_steps",
                                         "valid_every", "valid_items", "seed")}


#: How the log plot labels a loss (``TrainConfig.loss``); others are labelled by their name.
LOSS_LABELS = {"snr": "−SNR (dB)", "si_sdr": "−SI-SDR (dB)", "l1": "L1 on the waveform",
               "spectral_ri_mse": "RI-MSE on the spectra", "spectral_mag_mse": "magnitude MSE",
               "mtass": "RI-MSE + 0.01 × −SNR", "mtass_wave": "RI-MSE (waveform) + 0.01 × −SNR"}


def training_report(run: dict, cfg, data_root: str | Path, name: str | None = None):
    """What a chapter shows after training: the log plot with the "mixture / 3" baseline's dev SDRi
    dotted (same dev mixtures), and a line with the steps, the measured training time and the best
    dev SDRi.

    Args:
        run: the summary ``Trainer.fit()`` returned.
        cfg: the run's :class:`~mtass_lite.train.TrainConfig`.
        data_root: the data set's folder (the dev split is scored for the baseline).
        name: a label for the line; default: none.

    Returns ``(figure, line)``; the line is also printed.
    """
    import pandas as pd

    from .baselines import ScaledMixture
    from .evaluate import evaluate_model
    from .viz import plot_training_log

    log = pd.read_csv(run["log"])
    dev_base = evaluate_model(ScaledMixture(), data_root, "dev", max_items=cfg.valid_items,
                              progress=False)["summary"]["sdri"]
    fig = plot_training_log(log, dev_baseline=dev_base, loss_label=LOSS_LABELS.get(cfg.loss, f"{cfg.loss} loss"))
    line = (f"{name + ': ' if name else ''}{run['last_step']} steps ({run['stopped']}), "
            f"{log['seconds'].iloc[-1] / 60:.1f} min of training steps on this machine "
            f"(median step {log['seconds'].diff().median():.2f} s); "
            f"best dev SDRi {run['best_valid_sdri']:.2f} dB at step {run['best_step']}")
    print(line)
    return fig, line


def chapter_run_dir(name: str, size: str = "lite", repo_root: str | Path = REPO_ROOT) -> Path:
    """The run folder chapter 06–10 trains model ``name`` of ``size`` ("lite" in fast mode, "paper"
    in full mode) into: ``repo_root / CHAPTER_RUNS[name]`` for the lite size."""
    if name not in _RUN_TEMPLATES:
        raise ValueError(f"unknown model {name!r}; choose one of {ALL_MODELS}")
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


def training_record(run: dict, cfg) -> dict:
    """The ``training`` entry of a chapter's results json: steps, stop reason, best dev SDRi, the measured
    time (timing keys are never compared by :func:`mtass_lite.results.check_committed`) and the config."""
    import pandas as pd

    log = pd.read_csv(run["log"])
    return {**{k: run[k] for k in ("last_step", "best_step", "best_valid_sdri", "stopped")},
            "train_seconds": float(log["seconds"].iloc[-1]),
            "median_step_seconds": float(log["seconds"].diff().median()),
            "config": cfg.to_dict()}
