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


# --------------------------------------------------------------------------------------------------
# A chapter's results against the committed ones
# --------------------------------------------------------------------------------------------------
RESULT_TOLERANCE_DB = 0.2  # chapters train on step budgets, so a rerun on the same stack repeats its numbers
#: Per-mixture numbers (under an ``items`` list) of a chapter's 500-step training are the part a different CPU
#: moves: its float kernels (AVX2 / AVX-512) differ in the last bits, training amplifies that, and single
#: mixtures move most. Measured on 2026-12-02, chapter 8 (Demucs) re-executed on an AVX-512 EPYC: 70 of 1011
#: per-mixture numbers moved by more than 0.2 dB (largest 0.65) while the means stayed within it.
ITEM_TOLERANCE_DB = 1.5
# numbers that measure the machine, not the result: never compared
_UNCHECKED = ("second", "time", "date", "minute", "rtf", "loadavg", "thread", "speed", "per_s", "wall", "cpu")


class ResultMoved(AssertionError):
    """A chapter's freshly computed result differs from the committed ``results/*.json``."""


def _numbers(obj, path=()):
    """``{path: number}`` for every numeric leaf whose keys do not name a timing."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not any(u in str(k).lower() for u in _UNCHECKED):
                out.update(_numbers(v, (*path, str(k))))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(_numbers(v, (*path, str(i))))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool) and math.isfinite(obj):
        out[path] = float(obj)
    return out


def check_committed(name: str, obj, tol_db: float = RESULT_TOLERANCE_DB) -> str:
    """Compare a chapter's new result with the committed ``results/<name>.json`` before it is rewritten.

    Every numeric leaf present in both (scores in dB, counts, steps; not timings — see
    ``_UNCHECKED``) must agree within ``tol_db``; per-mixture numbers (under ``items``) within
    :data:`ITEM_TOLERANCE_DB`, since another CPU's float kernels move single mixtures more than means.
    CI re-executes every chapter, so a code change that
    moves a result fails the test command here instead of silently rewriting the notebook and its json.
    To accept an intended change, delete ``results/<name>.json`` and re-execute the chapter.

    Returns a one-line verdict (the same text whenever the check passes, so an nbval-checked cell can
    print it); raises :class:`ResultMoved` naming the largest differences otherwise.
    """
    path = _json_path(name)
    if not path.exists():
        return f"{path.name}: no committed result yet; this run records it"
    old, new = _numbers(read_json(path)), _numbers(_clean(obj))
    common = old.keys() & new.keys()
    if not common:
        raise ResultMoved(f"{path.name}: the new result shares no numbers with the committed one")

    def tol(k):  # per-mixture numbers: the looser ITEM_TOLERANCE_DB (never tighter than tol_db)
        return max(tol_db, ITEM_TOLERANCE_DB) if "items" in k else tol_db

    moved = sorted(((abs(new[k] - old[k]), k) for k in common if abs(new[k] - old[k]) > tol(k)), reverse=True)
    if moved:
        worst = "; ".join(f"{'/'.join(k)}: {old[k]:.3f} -> {new[k]:.3f}" for _, k in moved[:5])
        raise ResultMoved(f"{path.name}: {len(moved)} of {len(common)} numbers moved by more than {tol_db} "
                          f"(per mixture: {max(tol_db, ITEM_TOLERANCE_DB)}) (largest: {worst}). If the change is "
                          f"intended, delete {path.name} and re-execute.")
    return f"{path.name}: every number matches the committed result within ±{tol_db}"
