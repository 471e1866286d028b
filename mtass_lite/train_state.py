"""A training run's folder, and the state that carries a run across ``fit()`` calls and processes.

Part of :mod:`mtass_lite.train` (which re-exports the file names and :class:`ResumeError`). Everything
:class:`~mtass_lite.train.Trainer` reads from or writes to ``out_dir`` goes through here:

- ``last.pt`` — the resumable checkpoint (:func:`training_payload`: weights, optimizer, step, RNG
  states of every rank, best score so far, the settings that must match to resume);
  :meth:`RunFolder.load_last` refuses one written with other settings (:class:`ResumeError`).
- ``best.pt`` — weights only, rewritten when the dev score improves (:meth:`RunFolder.save_best`).
- ``log.csv`` — a row per step, columns :data:`LOG_FIELDS` (:class:`RunLog`).
- ``config.yaml`` and ``summary.json`` — the run's settings and its result.

Every file is written to a temporary name and renamed (:func:`mtass_lite.audio.atomic_path`), so a
process killed mid-write leaves the last good version. The format of ``last.pt`` and ``log.csv`` is
a contract: runs written by earlier code resume with this one.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import torch

from . import TRACKS
from .audio import atomic_path
from .checkpoint import _unwrap, model_spec, save_checkpoint, save_weights

LAST, BEST, LOG = "last.pt", "best.pt", "log.csv"
CONFIG, SUMMARY = "config.yaml", "summary.json"

# Columns of log.csv, in order (validation columns are empty on steps without validation).
LOG_FIELDS = ["step", "epoch", "loss", *[f"loss_{t}" for t in TRACKS], "lr", "grad_norm", "seconds",
              "valid_sdri", *[f"valid_sdri_{t}" for t in TRACKS]]


class ResumeError(RuntimeError):
    """``out_dir`` holds a checkpoint from a run with different settings."""


def _jsonable(v):
    return json.loads(json.dumps(v))


# --------------------------------------------------------------------------------------------------
# RNG state: restored on resume so dropout masks continue as in the uninterrupted run
# --------------------------------------------------------------------------------------------------
def rng_state(device: torch.device) -> dict:
    """``{"torch": CPU generator state, "cuda": the device's (CUDA only)}``."""
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], device)


# --------------------------------------------------------------------------------------------------
# last.pt
# --------------------------------------------------------------------------------------------------
def training_payload(model, optimizer, scaler, *, step: int, rng: list, world_size: int, data_root,
                     config: dict, resume_config: dict, best: dict, train_seconds: float,
                     cpu_seconds: float | None = None) -> dict:
    """What ``last.pt`` holds. ``rng`` has one :func:`rng_state` per rank; ``config`` is the full
    :class:`~mtass_lite.train.TrainConfig` as a dict, ``resume_config`` the part that must match."""
    return {
        "model": _unwrap(model).state_dict(),
        **model_spec(model),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "step": step,
        "rng": rng,
        "world_size": world_size,
        "data_root": str(data_root),
        "config": _jsonable(config),
        "resume_config": resume_config,
        "best": dict(best),
        "train_seconds": train_seconds,
        "cpu_seconds": cpu_seconds,  # process CPU time of the run so far, summed over resumes
    }


def restore_training_state(ckpt: dict, model, optimizer, scaler, *, world_size: int, rank: int,
                           device: torch.device, seed: int) -> None:
    """Load a ``last.pt`` payload into the model, optimizer, (fp16) scaler and this rank's RNG."""
    _unwrap(model).load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    if scaler is not None and ckpt.get("scaler"):
        scaler.load_state_dict(ckpt["scaler"])
    rng = ckpt.get("rng") or []
    if ckpt.get("world_size", 1) == world_size and len(rng) > rank:
        set_rng_state(rng[rank], device)
    else:  # another process count: data order is still exact, dropout masks are reseeded
        torch.manual_seed(seed * 1000 + ckpt["step"] + rank)


# --------------------------------------------------------------------------------------------------
# log.csv
# --------------------------------------------------------------------------------------------------
class RunLog:
    """``log.csv`` open for appending a row per step (``LOG_FIELDS``), flushed after every row.

    Opening it for a run resumed at ``start_step`` first drops the rows after that step (written by a
    process killed before its next checkpoint), so each step appears once.
    """

    def __init__(self, path: str | os.PathLike, start_step: int):
        path = Path(path)
        rows = []
        if start_step > 0 and path.exists():
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if r.get("step") and int(r["step"]) <= start_step]
        with atomic_path(path) as tmp:
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, LOG_FIELDS)
                w.writeheader()
                w.writerows(rows)
        self._file = open(path, "a", newline="")
        self._writer = csv.DictWriter(self._file, LOG_FIELDS)

    def write(self, row: dict) -> None:
        self._writer.writerow(row)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


# --------------------------------------------------------------------------------------------------
# The folder
# --------------------------------------------------------------------------------------------------
class RunFolder:
    """``out_dir`` of one training run. Only rank 0 writes; every method here is rank 0's to call,
    except :meth:`load_last`, which every rank calls to resume."""

    def __init__(self, out_dir: str | os.PathLike, data_root: str | os.PathLike):
        self.dir = Path(out_dir)
        self.data_root = Path(data_root)

    @property
    def last(self) -> Path:
        return self.dir / LAST

    @property
    def best(self) -> Path:
        return self.dir / BEST

    @property
    def log(self) -> Path:
        return self.dir / LOG

    def prepare(self, start_over: bool) -> None:
        """Create the folder and drop temporaries a killed process left; ``start_over``: also the old
        run's checkpoints and summary (they must not survive into the new run)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob(".*.tmp*"):  # left by a process killed mid-write
            stale.unlink(missing_ok=True)
        if start_over:
            for old in (LAST, BEST, SUMMARY):
                (self.dir / old).unlink(missing_ok=True)

    def load_last(self, resume_config: dict) -> dict | None:
        """The ``last.pt`` payload (on CPU), or ``None`` without one.

        Raises:
            ResumeError: it was written with other values of the settings in ``resume_config``.
        """
        path = self.last
        if not path.exists():
            return None
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        # (checkpoints from before a setting existed were trained with its default)
        want, have = resume_config, {"augment": "none", **ckpt.get("resume_config", {})}
        diff = {k: (have.get(k), want[k]) for k in want if have.get(k) != want[k]}
        if diff:
            lines = "\n".join(f"  {k}: checkpoint {a!r} vs now {b!r}" for k, (a, b) in diff.items())
            raise ResumeError(f"{path} was written with other settings:\n{lines}\n"
                              f"Use another out_dir, delete the old run, or pass resume=False to start over.")
        return ckpt

    def save_last(self, payload: dict) -> None:
        save_checkpoint(self.last, payload)

    def save_best(self, model, step: int, valid: dict | None, config: dict) -> None:
        """Weights-only ``best.pt`` with the step, its dev scores (``None``: no validation) and the config."""
        save_weights(model, self.best, step=step, valid=valid, config=_jsonable(config),
                     data_root=str(self.data_root))

    def write_config(self, config: dict) -> None:
        """``config.yaml``: the run's settings and its dataset root."""
        import yaml

        with atomic_path(self.dir / CONFIG) as tmp:
            tmp.write_text(yaml.safe_dump({**_jsonable(config), "data_root": str(self.data_root)},
                                          sort_keys=False))

    def write_summary(self, result: dict) -> None:
        with atomic_path(self.dir / SUMMARY) as tmp:
            tmp.write_text(json.dumps(_jsonable(result), indent=2) + "\n")
