"""What ships: the pretrained weights in ``mtass_lite/pretrained`` and their model card.

- :func:`pretrained_path`: ``mtass_lite/pretrained/<name>_<size>.pt``. ``<name>`` is the shipped name:
  a registry model name (``conv_tasnet``) or any other name for a variant of one (``conv_tasnet_real``);
  the file itself records the registry model that rebuilds it.
- :func:`ship`: write a checkpoint's weights there in float16 (half the size; ``load_state_dict``
  casts them back to float32) with its model name / size / config and a ``trained`` record (training
  sources, recipe, steps, CPU seconds, hours of training audio ...), atomically.
- :func:`shipped`: the files present, with their parameter counts and ``trained`` records.
- :func:`card`: the model card ``results/shipped_models.json`` written by
  ``benchmarks/shipped_models.py`` (scores on MTASS-tiny's and the real test set, baselines, goal
  figures, and the ``default`` model), or None when it has not been written.
- :func:`default_model`: what ``python -m mtass_lite separate`` uses without ``--model``: the card's
  ``default`` (the best average SI-SDRi on the real test set) when the card exists and that file is
  shipped, else :data:`FALLBACK_DEFAULT` (Complex-MTASSNet lite, the default before there was a card).
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch

from . import results_dir
from .audio import atomic_path

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
CARD_NAME = "shipped_models.json"
#: A real 6-s mixture and its three references (CC BY sources, credited in its ATTRIBUTION.md): mixture
#: 000001 of the fixed real test set, for the default-model test and chapter 12's players.
REAL_EXAMPLE = Path(__file__).resolve().parent / "data" / "examples" / "real_mixture"
FALLBACK_DEFAULT = ("complex_mtassnet", "lite")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def pretrained_dir() -> Path:
    """The folder of shipped weights: :data:`PRETRAINED_DIR`, looked up at each call (tests point it elsewhere)."""
    return Path(PRETRAINED_DIR)


def pretrained_path(name: str, size: str = "lite") -> Path:
    """Where shipped weights for ``name`` at ``size`` live: ``mtass_lite/pretrained/<name>_<size>.pt``."""
    return pretrained_dir() / f"{name}_{size}.pt"


def key(name: str, size: str = "lite") -> str:
    """``"<name>_<size>"``: the shipped model's key in the card and in ``separate --list``."""
    return f"{name}_{size}"


def split_key(k: str) -> tuple[str, str]:
    """``"conv_tasnet_lite" -> ("conv_tasnet", "lite")`` (the size is the part after the last ``_``)."""
    name, _, size = k.rpartition("_")
    if not name or not size:
        raise ValueError(f"{k!r} is not <name>_<size> (e.g. conv_tasnet_lite)")
    return name, size


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ship(checkpoint_path: str | os.PathLike, name: str | None = None, size: str | None = None, *,
         trained: dict, path: str | os.PathLike | None = None, **extra) -> Path:
    """Write the weights of ``checkpoint_path`` as shipped weights ``<name>_<size>.pt``; return the path.

    Args:
        checkpoint_path: a checkpoint of :mod:`mtass_lite.train` (or :func:`~mtass_lite.checkpoint.save_weights`)
            holding a registry model.
        name: the shipped name (default: the checkpoint's registry model name). A different name ships a
            variant (``conv_tasnet_real``) beside the registry model's own file; the payload keeps the
            registry name, so :func:`mtass_lite.separate.resolve_model` rebuilds it either way.
        size: default the checkpoint's model size.
        trained: what the weights were trained on and for how long, e.g. ``{"sources": ..., "recipe":
            "the command", "steps": 1400, "cpu_seconds": ..., "hours": <hours of training audio>}``.
        path: write here instead of :func:`pretrained_path` (``name``/``size`` are still recorded).
        extra: further top-level fields of the payload (e.g. ``test_sdri``).

    The payload: ``model`` (state dict, floating tensors in float16), ``model_name``, ``model_size``,
    ``model_config`` (what rebuilds the model), ``shipped`` (``{"name", "size"}``), ``params``,
    ``trained``. Written to a temporary file and renamed: never a half-written file.
    """
    from .checkpoint import load_checkpoint

    if not isinstance(trained, dict):
        raise TypeError("trained must be a dict (sources, recipe, steps, cpu_seconds, ...)")
    model, ckpt = load_checkpoint(checkpoint_path, map_location="cpu")
    reg_name, reg_size = ckpt["model_name"], ckpt.get("model_size") or "lite"
    name = name or reg_name
    size = size or reg_size
    if not _NAME.match(name) or not _NAME.match(size):
        raise ValueError(f"shipped name and size must be lower-case letters, digits, '_' or '-': {name!r}, {size!r}")
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    payload = {"model": state, "model_name": reg_name, "model_size": reg_size,
               "model_config": ckpt.get("model_config"), "shipped": {"name": name, "size": size},
               "params": int(sum(p.numel() for p in model.parameters())), "trained": dict(trained), **extra}
    path = Path(path) if path is not None else pretrained_path(name, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    path.chmod(0o644)  # package data: readable by everyone (the atomic temporary file is private)
    return path


def _params(payload: dict) -> int:
    if payload.get("params") is not None:
        return int(payload["params"])
    from .checkpoint import build_model_from_spec

    m = build_model_from_spec(payload["model_name"], payload.get("model_size") or "lite",
                              payload.get("model_config") or {})
    return int(sum(p.numel() for p in m.parameters()))


def describe(path: str | os.PathLike) -> dict:
    """``{name, size, file, params, trained}`` of one shipped file (name/size from the file name)."""
    path = Path(path)
    payload = torch.load(path, map_location="cpu", weights_only=True)
    shipped_as = payload.get("shipped") or {}
    name, size = (shipped_as["name"], shipped_as["size"]) if shipped_as else split_key(path.stem)
    return {"name": name, "size": size, "file": path.name, "params": _params(payload),
            "model_name": payload.get("model_name"), "trained": payload.get("trained") or {}}


def shipped() -> list[dict]:
    """The shipped files present, sorted by file name: ``[{name, size, file, params, model_name, trained}]``."""
    d = pretrained_dir()
    return [describe(p) for p in sorted(d.glob("*.pt"))] if d.is_dir() else []


def card_path() -> Path:
    """``results/shipped_models.json`` (``$MTASS_RESULTS_DIR`` respected)."""
    return results_dir() / CARD_NAME


def card() -> dict | None:
    """The model card (``results/shipped_models.json``) as a dict, or None when it does not exist."""
    from .results import read_json

    p = card_path()
    return read_json(p) if p.exists() else None


def default_model() -> tuple[str, str]:
    """``(name, size)`` that ``separate`` uses without ``--model``.

    The card's ``default`` (the shipped model with the best average SI-SDRi on the real test set) when
    the card exists and names a file that is shipped; otherwise :data:`FALLBACK_DEFAULT`
    (``("complex_mtassnet", "lite")``, the default before there was a card).
    """
    c = card()
    k = (c or {}).get("default")
    if k:
        entry = (c.get("models") or {}).get(k) or {}
        try:
            name, size = (entry["name"], entry["size"]) if "name" in entry else split_key(k)
        except (KeyError, ValueError):
            return FALLBACK_DEFAULT
        if pretrained_path(name, size).is_file():
            return name, size
    return FALLBACK_DEFAULT


def training_summary(trained: dict) -> dict:
    """The card's view of a ``trained`` record, whatever its vintage: ``{sources, hours, steps,
    cpu_hours, recipe}`` (None where the record does not say).

    Files shipped before :func:`ship` existed say ``data`` for the sources and ``step`` for the steps.
    """
    cpu = trained.get("cpu_seconds")
    hours = trained.get("hours", trained.get("data_hours"))
    return {"sources": trained.get("sources") or trained.get("data"),
            "hours": None if hours is None else float(hours),
            "steps": trained.get("steps", trained.get("step")),
            "cpu_hours": None if cpu is None else round(float(cpu) / 3600, 4),
            "recipe": trained.get("recipe")}


def list_table(out=None) -> str:
    """The text of ``separate --list``: one row per shipped file, scores from the card when it has them."""
    rows = shipped()
    c = card() or {}
    scored = c.get("models") or {}
    default = default_model()
    lines = []
    if not rows:
        lines.append(f"no shipped weights in {pretrained_dir()}")
        return "\n".join(lines)
    head = (f"{'model':26s} {'params':>9s}  {'trained on (sources, hours of audio)':44s} {'steps':>6s} {'CPU-h':>6s}  "
            f"{'real SI-SDRi avg':>17s} {'real SDRi':>9s} {'tiny SI-SDRi':>12s}")
    lines += [head, "-" * len(head)]
    unscored = 0
    for r in rows:
        k = key(r["name"], r["size"])
        s = scored.get(k)
        t = training_summary(r["trained"])
        if s and s.get("training") and t["hours"] is None:  # the card may know more (hours from the data build)
            t = {**t, **{f: v for f, v in s["training"].items() if v is not None}}
        src = str(t["sources"] or "?")
        if t["hours"] is not None:
            src += f", {t['hours']:.2f} h"
        src = src if len(src) <= 44 else src[:43] + "…"
        steps = "?" if t["steps"] is None else str(t["steps"])
        cpu_h = "?" if t["cpu_hours"] is None else f"{t['cpu_hours']:.2f}"
        if s and s.get("real") and s.get("tiny"):
            ci = s["real"]["si_sdri"]["avg"].get("ci95")
            real = f"{s['real']['si_sdri']['avg']['mean']:6.2f} ± {ci:4.2f}" if ci is not None else \
                f"{s['real']['si_sdri']['avg']['mean']:6.2f}"
            score = (f"{real:>17s} {s['real']['sdri']['avg']['mean']:9.2f} "
                     f"{s['tiny']['si_sdri']['avg']['mean']:12.2f}")
            if s.get("sha256") and (pretrained_dir() / r["file"]).is_file() and \
                    s["sha256"] != file_sha256(pretrained_dir() / r["file"]):
                score += "  (card scored another version of this file: rescore)"
        else:
            score = f"{'not scored':>17s}"
            unscored += 1
        mark = "  default" if (r["name"], r["size"]) == default else ""
        lines.append(f"{k:26s} {r['params']:9,d}  {src:44s} {steps:>6s} {cpu_h:>6s}  {score}{mark}")
    if scored:
        n = (c.get("test_sets") or {}).get("real", {}).get("n_mixtures")
        partial = f" (PARTIAL: the first {c['max_items']} mixtures of each set)" if c.get("max_items") else ""
        lines.append(f"\nscores: dB, mean over the test mixtures (± 95 % CI); real test set: {n} mixtures of real "
                     f"recordings; tiny: MTASS-tiny's test set{partial}. Model card: {card_path()}")
    if unscored:
        lines.append(("\n" if not scored else "") +
                     f"{unscored} model(s) not scored: no model card ({card_path().name}) has them. Score with\n"
                     f"  python benchmarks/shipped_models.py\n"
                     f"(it needs the real test set: python benchmarks/real_sources.py --build-only)")
    if not scored:
        f = pretrained_path(*default)
        missing = "" if f.is_file() else f"; {f.name} is not shipped here"
        lines.append(f"default: {key(*default)} (no model card yet: the built-in default{missing})")
    text = "\n".join(lines)
    if out is not None:
        print(text, file=out)
    return text
