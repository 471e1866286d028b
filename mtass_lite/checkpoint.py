"""Checkpoints and devices: rebuild a model from what a checkpoint stores, write files atomically,
pick the device. A module of its own so that training (:mod:`mtass_lite.train`), evaluation and
separation (:mod:`mtass_lite.separate`) can all use it without importing each other.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import torch

from .audio import atomic_path


def build_model_from_spec(name: str, size: str = "lite", config: dict | None = None) -> torch.nn.Module:
    """A registry model (:func:`mtass_lite.models.build_model`) or a custom ``"module:Class"``.

    A custom class is called with ``config`` as keyword arguments; the model is tagged like registry
    models (``mtass_name``, ``mtass_size``, ``mtass_config``) so checkpoints can rebuild it.
    """
    config = dict(config or {})
    if ":" in name:
        module, cls_name = name.split(":", 1)
        model = getattr(importlib.import_module(module), cls_name)(**config)
        model.mtass_name, model.mtass_size, model.mtass_config = name, size, config
        return model
    from .models import build_model

    return build_model(name, size, **config)


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def model_spec(model: torch.nn.Module) -> dict:
    """What rebuilds ``model``: its registry name, size and config (``None`` for a plain module)."""
    m = _unwrap(model)
    return {
        "model_name": getattr(m, "mtass_name", None),
        "model_size": getattr(m, "mtass_size", None),
        "model_config": getattr(m, "mtass_config", None),
        "model_class": f"{type(m).__module__}.{type(m).__qualname__}",
    }


def save_checkpoint(path: str | os.PathLike, payload: dict) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename: never a half-written file."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def save_weights(model: torch.nn.Module, path: str | os.PathLike, **meta) -> Path:
    """Write a weights-only checkpoint (no optimizer) that :func:`load_checkpoint` can rebuild."""
    m = _unwrap(model)
    return save_checkpoint(path, {"model": m.state_dict(), **model_spec(m), **meta})


def load_checkpoint(path: str | os.PathLike, map_location="cpu",
                    model: torch.nn.Module | None = None) -> tuple[torch.nn.Module, dict]:
    """Load a checkpoint written by :class:`Trainer` or :func:`save_weights`.

    The model is rebuilt through :func:`mtass_lite.models.build_model` (or its ``module:Class``) from
    the name, size and config stored in the checkpoint, unless ``model`` is given (needed for plain
    modules that carry no ``mtass_name``), in which case the weights are loaded into it.

    Returns:
        ``(model, checkpoint_dict)``; the model is in eval mode on ``map_location``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    if model is None:
        if not ckpt.get("model_name"):
            raise ValueError(f"{path} holds a model that is not in the registry ({ckpt.get('model_class')}); "
                             f"pass the model instance: load_checkpoint(path, model=MyModel(...))")
        model = build_model_from_spec(ckpt["model_name"], ckpt.get("model_size") or "lite",
                                      ckpt.get("model_config") or {})
    model.load_state_dict(ckpt["model"])
    if isinstance(map_location, (str, torch.device)):
        model.to(map_location)
    return model.eval(), ckpt


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available (the local rank's GPU under torchrun), else CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        return torch.device("cpu")
    return torch.device(device)
