"""The five models of the MTASS comparison, and extra separators, behind one registry.

* :data:`MODEL_NAMES` — the five models of the MTASS comparison (gcrn, conv_tasnet, demucs, d3net,
  complex_mtassnet): the paper's table, the course chapters and ``reproduce`` use exactly these.
* :data:`EXTRA_MODELS` — separators outside that comparison: ``bsrnn``, a band-split RNN chosen for
  separation quality per CPU-minute. They train, save, load and separate like the five, but the
  five-model comparisons (course, reproduce, profile's paper table, released losses) leave them out.
* :data:`ALL_MODELS` — both; :func:`build_model` and :func:`model_config` accept any of them.

Every model is a ``torch.nn.Module`` with ``forward(mixture[B, T]) -> estimates[B, 3, T]`` (tracks in
:data:`mtass_lite.TRACKS` order, same length as the input) and owns its front end.

Each model module defines ``CONFIGS = {"paper": {...}, "lite": {...}}`` (keyword arguments of its
class) and ``MODEL_CLASS``. ``build_model(name, size, **overrides)`` merges overrides into a preset.
"""
from __future__ import annotations

import importlib

import torch

MODEL_NAMES = ("gcrn", "conv_tasnet", "demucs", "d3net", "complex_mtassnet")  # the MTASS comparison
EXTRA_MODELS = ("bsrnn",)  # registry models outside the comparison
ALL_MODELS = MODEL_NAMES + EXTRA_MODELS
SIZES = ("paper", "lite")


def _module(name: str):
    if name not in ALL_MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {ALL_MODELS}")
    return importlib.import_module(f"{__name__}.{name}")


def model_config(name: str, size: str = "lite", **overrides) -> dict:
    """The keyword arguments ``build_model`` would use (a copy)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    cfg = dict(_module(name).CONFIGS[size])
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise TypeError(f"{name}: unknown config keys {sorted(unknown)}; known: {sorted(cfg)}")
    cfg.update(overrides)
    return cfg


def build_model(name: str, size: str = "lite", **overrides) -> torch.nn.Module:
    """Instantiate model ``name`` (any of :data:`ALL_MODELS`) at preset ``size`` ("paper" or "lite") with
    ``overrides``.

    The returned module carries ``model.mtass_name`` and ``model.mtass_config`` so a checkpoint can
    rebuild it (see :func:`mtass_lite.checkpoint.load_checkpoint`).
    """
    cfg = model_config(name, size, **overrides)
    model = _module(name).MODEL_CLASS(**cfg)
    model.mtass_name, model.mtass_size, model.mtass_config = name, size, cfg
    return model
