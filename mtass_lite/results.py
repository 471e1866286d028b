"""Reading and writing ``results/*.json`` — the only source of numbers in README and chapters."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from . import REPO_ROOT, results_dir
from .audio import atomic_path


def _clean(obj):
    """JSON-safe copy: numpy/torch scalars -> float, NaN/inf -> None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "tolist"):
        return _clean(obj.tolist())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj


def write_json(name_or_path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` to ``results/<name>.json`` (or an explicit path) atomically; return the path."""
    p = _json_path(name_or_path)
    with atomic_path(p) as tmp:
        tmp.write_text(json.dumps(_clean(obj), indent=2) + "\n")
    return p


def _json_path(name_or_path: str | os.PathLike) -> Path:
    p = Path(name_or_path)
    return p if p.suffix == ".json" else results_dir() / f"{p}.json"


def read_json(name_or_path: str | os.PathLike) -> dict:
    """Read ``results/<name>.json`` (or an explicit path)."""
    return json.loads(_json_path(name_or_path).read_text())


def update_json(name_or_path: str | os.PathLike, update) -> Path:
    """Read-modify-write ``results/<name>.json`` under an exclusive lock: ``update(dict) -> None`` edits
    the current contents (``{}`` when the file does not exist yet) in place.

    Several processes (parallel training lanes of one benchmark) can add their rows to one file
    without losing each other's.
    """
    import fcntl

    p = _json_path(name_or_path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p.with_name(p.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        obj = read_json(p) if p.exists() else {}
        update(obj)
        return write_json(p, obj)


def paper_table() -> dict:
    """The MTASS paper's SDRi table (``results/paper_mtass.json``): model -> label, params, MACs, SDRi."""
    # a fact about the paper, not a result of ours: always the repository's copy
    return read_json(REPO_ROOT / "results" / "paper_mtass.json")["models"]
