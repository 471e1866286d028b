"""One trainer for every model: seeded, resumable, bounded in time, single- or multi-GPU.

``Trainer(model, data_root, TrainConfig(...)).fit()`` trains on random fixed-length crops of the
train split with Adam, validates (mean SDRi over tracks on the dev split) every ``valid_every`` steps
and keeps the best checkpoint. Properties a reader can rely on:

- **Reproducible data order.** The mixtures and crop offsets of step ``s`` are a pure function of
  ``(seed, s)`` (:func:`batch_plan`): a resumed run sees exactly the batches the uninterrupted run
  would have seen. On CPU a resumed run ends with bit-identical weights.
- **Resume.** ``fit()`` continues from ``<out_dir>/last.pt`` when it exists (weights, Adam state,
  step, RNG states, best score) if the settings that shape training match. Checkpoints are written
  to a temporary file and renamed (``os.replace``), so killing the process mid-write never corrupts
  the last good one. Ctrl-C stops cleanly after the current step and saves.
- **Clear failure.** A NaN/Inf loss raises :class:`NonFiniteLossError` naming the step; nothing is
  written after the last good checkpoint.
- **Budgets.** ``max_steps`` and ``max_minutes`` (per ``fit()`` call) bound a run, so fast mode ends.
- **Logs.** ``<out_dir>/log.csv`` has a row per step (loss, lr, grad norm, validation SDRi when
  validated); a tqdm bar shows progress on a terminal.
- **Devices.** CUDA when present (mixed precision: bf16, or fp16 with a gradient scaler), CPU
  otherwise. Several GPUs through ``torchrun`` (DistributedDataParallel; nccl on CUDA, gloo on CPU):
  each rank trains on its share of the step's batch, only rank 0 validates and writes.

Configs are small YAML files (``mtass_lite/configs/<model>_<preset>.yaml`` on top of ``_base.yaml``);
:func:`load_config` reads them. Command line: ``python -m mtass_lite train``.

Where each piece lives (every name below is importable from here):

- this module — :class:`TrainConfig` and its YAML presets (:func:`load_config`), the learning-rate
  schedule (:func:`lr_at`), and :class:`Trainer`, whose ``_fit`` is the step loop: one optimizer step
  (``_train_step``), then validation and ``best.pt`` (``_validate_and_keep_best``) and ``last.pt``
  (``_save_last``) on their schedule, then the run summary (``_finish``);
- :mod:`mtass_lite.train_data` — the data plan: :func:`batch_plan` and the loader over steps;
- :mod:`mtass_lite.train_state` — the run folder: ``last.pt`` payload and resume (:class:`ResumeError`),
  RNG states, ``log.csv``, ``best.pt``, ``config.yaml``, ``summary.json``;
- :mod:`mtass_lite.checkpoint` — checkpoint files and devices shared with evaluation and separation
  (:func:`load_checkpoint`, :func:`save_checkpoint`, :func:`save_weights`, :func:`resolve_device`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist

from . import TRACKS
from .data.datasets import MTASSDataset, require_split
from .data.augment import AUGMENTS, augment_batch
from .losses import LOSS_NAMES, get_loss
# Checkpoint I/O and devices live in their own module (no import circle train -> evaluate -> separate);
# re-exported here because chapters and scripts import them from mtass_lite.train.
from .checkpoint import (_unwrap, build_model_from_spec, load_checkpoint, model_spec,  # noqa: F401
                         resolve_device, save_checkpoint, save_weights)
# The data plan and the run folder: re-exported for the same reason.
from .train_data import _Crops, _StepBatches, batch_plan, step_loader  # noqa: F401
from .train_state import (BEST, LAST, LOG, LOG_FIELDS, ResumeError, RunFolder, RunLog,  # noqa: F401
                          _jsonable, restore_training_state, rng_state, training_payload)

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


class NonFiniteLossError(RuntimeError):
    """The loss (or gradient norm) became NaN/Inf; the message names the step and the last checkpoint."""


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Everything that defines a training run (YAML keys have the same names)."""

    model: str | None = None  # registry name ("complex_mtassnet"...) or "package.module:Class"
    size: str = "lite"  # registry preset: "lite" (CPU minutes) or "paper" (the published configuration)
    model_overrides: dict = field(default_factory=dict)  # keyword arguments merged into the preset
    data_root: str | None = None  # dataset root; None: the CLI picks MTASS-tiny (fast) or data/mtass (full)
    segment: float = 4.0  # seconds per training crop
    batch_size: int = 4  # mixtures per step (per process under torchrun)
    lr: float = 1e-3  # Adam, as in the released Complex-MTASSNet code
    optimizer: str = "adam"  # "adam" or "adamw"
    weight_decay: float = 0.0
    lr_schedule: str = "constant"  # "constant", "cosine" (to 0 at max_steps) or "step"
    warmup_steps: int = 0  # linear warm-up from 0
    lr_decay_every: int = 0  # "step" schedule: multiply lr by lr_decay_factor every this many steps
    lr_decay_factor: float = 0.5
    grad_clip: float | None = 5.0  # max global gradient norm; None disables clipping
    loss: str = "snr"  # see mtass_lite.losses.LOSS_NAMES (spectral ones need the model's spectra())
    track_weights: list = field(default_factory=lambda: [1.0, 1.0, 1.0])  # speech, music, noise
    augment: str = "none"  # training-batch augmentation, see mtass_lite.data.augment.AUGMENTS
    max_steps: int = 1000
    max_minutes: float | None = None  # wall-clock budget of one fit() call
    valid_every: int = 100  # validate + keep the best checkpoint every N steps (0: never)
    valid_items: int | None = 20  # dev mixtures per validation (None: all)
    checkpoint_every: int | None = None  # write last.pt every N steps (None: = valid_every)
    seed: int = 0
    num_workers: int = 0  # DataLoader worker processes
    out_dir: str = "runs/default"
    amp: str = "auto"  # "auto" (bf16 where supported, else fp16) | "bf16" | "fp16" | "off"; CUDA only
    device: str = "auto"  # "auto" (cuda when present), "cpu", "cuda", "cuda:1"...
    progress: bool | None = None  # tqdm bar; None: only on a terminal and not under pytest

    # Settings that must match for a run to resume from a checkpoint (others may change).
    RESUME_KEYS = ("model", "size", "model_overrides", "segment", "batch_size", "lr", "optimizer",
                   "weight_decay", "lr_schedule", "warmup_steps", "lr_decay_every", "lr_decay_factor",
                   "grad_clip", "loss", "track_weights", "augment", "seed")

    def __post_init__(self):
        # YAML 1.1 (PyYAML) reads `lr: 3e-4` as a string: coerce numbers by the field's declared type.
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            kind = f.type.split(" | ")[0] if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            if v is not None and kind in ("float", "int") and not isinstance(v, bool):
                try:
                    x = float(v)
                    if kind == "int" and not x.is_integer():
                        raise ValueError
                    setattr(self, f.name, x if kind == "float" else int(x))
                except (TypeError, ValueError):
                    raise ValueError(f"{f.name} must be a number, got {v!r}") from None
        self.track_weights = [float(w) for w in self.track_weights]
        self.model_overrides = dict(self.model_overrides or {})
        if self.amp is False or self.amp is None:
            self.amp = "off"
        if self.amp not in ("auto", "bf16", "fp16", "off"):
            raise ValueError(f"amp must be auto, bf16, fp16 or off, got {self.amp!r}")
        if self.lr_schedule not in ("constant", "cosine", "step"):
            raise ValueError(f"lr_schedule must be constant, cosine or step, got {self.lr_schedule!r}")
        if self.optimizer not in ("adam", "adamw"):
            raise ValueError(f"optimizer must be adam or adamw, got {self.optimizer!r}")
        if self.augment not in AUGMENTS:
            raise ValueError(f"augment must be one of {AUGMENTS}, got {self.augment!r}")
        if self.loss not in LOSS_NAMES:
            raise ValueError(f"loss must be one of {LOSS_NAMES}, got {self.loss!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(known)}")
        return cls(**d)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides) -> "TrainConfig":
        return cls.from_dict({**read_yaml_config(path), **overrides})

    def resume_dict(self) -> dict:
        keys = self.RESUME_KEYS + (("max_steps",) if self.lr_schedule == "cosine" else ())
        return {k: _jsonable(getattr(self, k)) for k in keys}


def read_yaml_config(path: str | os.PathLike) -> dict:
    """Read a YAML config; a ``base:`` key names a file (relative to this one) whose keys it overrides."""
    import yaml

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"config file not found: {path}")
    d = yaml.safe_load(path.read_text()) or {}
    if not isinstance(d, dict):
        raise ValueError(f"{path}: a config file must be a mapping of settings")
    base = d.pop("base", None)
    if base:
        d = {**read_yaml_config(path.parent / base), **d}
    return d


def preset_path(model: str, preset: str) -> Path:
    """``mtass_lite/configs/<model>_<preset>.yaml`` (a preset is "fast" or "full")."""
    return CONFIG_DIR / f"{model}_{preset}.yaml"


def load_config(model: str | None = None, preset: str | None = None, config: str | os.PathLike | None = None,
                **overrides) -> TrainConfig:
    """A :class:`TrainConfig` from a model preset, then a user YAML file, then keyword overrides.

    Without a preset file for ``model`` (a custom ``module:Class`` model) ``_base.yaml`` is used.
    An override of ``None`` is applied as such (``max_minutes=None``: no wall-clock cap).
    """
    d: dict = {}
    if preset is not None:
        p = preset_path(model, preset) if model else None
        if p is None or not p.exists():
            if model in _registry_names():
                raise FileNotFoundError(f"no preset {preset!r} for {model}: {p} is missing")
            p = CONFIG_DIR / "_base.yaml"
        d.update(read_yaml_config(p))
    if config is not None:
        d.update(read_yaml_config(config))
    if model is not None:
        d["model"] = model
    d.update(overrides)  # None is a value here: max_minutes=None lifts the preset's time cap
    return TrainConfig.from_dict(d)


def _registry_names() -> tuple[str, ...]:
    """Every registry model (the MTASS five and the extras): for these a missing preset file is an error."""
    from .models import ALL_MODELS

    return ALL_MODELS


# --------------------------------------------------------------------------------------------------
# Devices and processes
# --------------------------------------------------------------------------------------------------
def distributed_env() -> tuple[int, int, int]:
    """``(world_size, rank, local_rank)`` from torchrun's environment variables (1, 0, 0 without)."""
    return (int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0)),
            int(os.environ.get("LOCAL_RANK", 0)))


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate of step ``step`` (1-based): a pure function, so resume needs no scheduler state."""
    lr = cfg.lr
    if cfg.warmup_steps and step <= cfg.warmup_steps:
        return lr * step / cfg.warmup_steps
    if cfg.lr_schedule == "cosine":
        t = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
        lr *= 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
    elif cfg.lr_schedule == "step" and cfg.lr_decay_every:
        lr *= cfg.lr_decay_factor ** ((step - 1) // cfg.lr_decay_every)
    return lr


# --------------------------------------------------------------------------------------------------
# The trainer
# --------------------------------------------------------------------------------------------------
class Trainer:
    """Train ``model`` on ``<data_root>/train``, validate on ``<data_root>/dev``.

    Args:
        model: an ``nn.Module`` (``[B, T] -> [B, 3, T]``) or a model name understood by
            :func:`build_model_from_spec` (built with ``config.size`` / ``config.model_overrides``
            after seeding with ``config.seed``). A spectral ``config.loss`` (``mtass``,
            ``spectral_ri_mse``, ``spectral_mag_mse``) trains on ``model.spectra()`` and raises
            ``ValueError`` here for a model without it. Validation always scores the waveforms.
        data_root: the dataset root (``<root>/<split>/...``).
        config: a :class:`TrainConfig` (or a dict of its fields).
        resume: ``"auto"`` continues from ``<out_dir>/last.pt`` when present; ``False`` starts over
            (overwriting the run's files).
    """

    LOG_FIELDS = LOG_FIELDS  # the columns of log.csv (mtass_lite.train_state.LOG_FIELDS)

    def __init__(self, model, data_root, config: TrainConfig | dict | None = None, resume="auto"):
        self.config = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(dict(config or {}))
        cfg = self.config
        if isinstance(model, str):
            cfg.model = model
            torch.manual_seed(cfg.seed)
            model = build_model_from_spec(model, cfg.size, cfg.model_overrides)
        self.model = model
        if cfg.model is None and getattr(model, "mtass_name", None):
            cfg.model = model.mtass_name
        if data_root is None and cfg.data_root is None:
            raise ValueError("no dataset: pass data_root (e.g. mtass_lite.data.tiny.ensure_tiny()) or set "
                             "config.data_root")
        self.data_root = Path(data_root if data_root is not None else cfg.data_root)
        self.out_dir = Path(cfg.out_dir)
        self.run = RunFolder(self.out_dir, self.data_root)
        self.resume = resume
        self.world_size, self.rank, self.local_rank = distributed_env()
        self.loss_fn = get_loss(cfg.loss, cfg.track_weights)
        self.loss_fn.check_model(_unwrap(self.model))  # a spectral loss needs model.spectra(): fail now
        self.train_set = MTASSDataset(self.data_root, "train", segment=cfg.segment)
        if cfg.valid_every:
            require_split(self.data_root, "dev")
        self._stop_requested = False

    # -- small helpers ------------------------------------------------------------------------------
    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def _print(self, msg: str) -> None:
        if self.is_main:
            print(msg, flush=True)  # a status line, not an error: stdout (notebooks keep stderr clean)

    def _show_progress(self) -> bool:
        if self.config.progress is not None:
            return bool(self.config.progress) and self.is_main
        return self.is_main and sys.stderr.isatty() and "PYTEST_CURRENT_TEST" not in os.environ

    def _amp_dtype(self) -> torch.dtype | None:
        if self.device.type != "cuda" or self.config.amp == "off":
            return None
        if self.config.amp == "fp16" or (self.config.amp == "auto" and not torch.cuda.is_bf16_supported()):
            return torch.float16
        return torch.bfloat16

    def _barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()

    # -- fit(): setup, the step loop, the summary ---------------------------------------------------
    def fit(self) -> dict:
        """Train until ``max_steps`` or ``max_minutes``; return a summary of the run.

        Returns:
            ``{"best_checkpoint", "last_checkpoint", "last_step", "best_step", "best_valid_sdri",
            "log", "wall_seconds", "stopped" ("max_steps" | "max_minutes" | "interrupted"),
            "resumed_from", "device"}``.
        """
        t_start = time.monotonic()
        self._stop_requested = False
        self._init_process_group()
        try:
            with self._graceful_interrupt():
                return self._fit(t_start)
        finally:
            if self._own_process_group and dist.is_initialized():
                dist.destroy_process_group()

    def _init_process_group(self) -> None:
        self._own_process_group = False
        self.device = resolve_device(self.config.device)
        if self.world_size > 1:
            if self.device.type == "cuda":
                self.device = torch.device("cuda", self.local_rank)
                torch.cuda.set_device(self.device)
            if not dist.is_initialized():
                dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
                self._own_process_group = True

    @contextlib.contextmanager
    def _graceful_interrupt(self):
        """First Ctrl-C: finish the current step, save, stop. Second Ctrl-C: the usual KeyboardInterrupt."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True
            self._print("\ninterrupt: stopping after this step and saving a checkpoint (Ctrl-C again to abort)")

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _fit(self, t_start: float) -> dict:
        cfg = self.config
        model, forward, start = self._setup()
        log = RunLog(self.run.log, start) if self.is_main else None
        loader = step_loader(self.train_set, start + 1, cfg.max_steps, batch_size=cfg.batch_size, seed=cfg.seed,
                             world_size=self.world_size, rank=self.rank, num_workers=cfg.num_workers,
                             pin_memory=self.device.type == "cuda")
        every_ckpt = cfg.checkpoint_every or cfg.valid_every or cfg.max_steps
        steps_per_epoch = len(self.train_set) / (cfg.batch_size * self.world_size)
        budget_s = None if cfg.max_minutes is None else 60.0 * cfg.max_minutes
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.max_steps, initial=start, desc=f"train {self.out_dir.name}", unit="step",
                   disable=not self._show_progress(), dynamic_ncols=True)
        step, stopped = start, "max_steps"
        t_call = time.monotonic()
        try:
            for step, (mix, tgt) in enumerate(loader, start=start + 1):
                t_step = time.monotonic()
                lr, losses, grad_norm = self._train_step(step, mix, tgt, forward, model)
                self.train_seconds += time.monotonic() - t_step

                row = {"step": step, "epoch": round(step / steps_per_epoch, 4), "loss": float(losses[0]),
                       **{f"loss_{t}": float(v) for t, v in zip(TRACKS, losses[1:])},
                       "lr": lr, "grad_norm": grad_norm, "seconds": round(self.train_seconds, 3)}
                out_of_time = budget_s is not None and time.monotonic() - t_call >= budget_s
                stop = self._agree_to_stop(out_of_time or self._stop_requested)
                final = stop or step >= cfg.max_steps
                if cfg.valid_every and (step % cfg.valid_every == 0 or final):
                    row.update(self._validate_and_keep_best(step))
                if log is not None:  # the log row first: a checkpoint at step k implies rows 1..k on disk
                    log.write(row)
                if step % every_ckpt == 0 or final:
                    self._save_last(step)
                bar.update(1)
                bar.set_postfix(loss=f"{row['loss']:.3g}", **({"sdri": f"{row['valid_sdri']:.2f}"}
                                                              if "valid_sdri" in row else {}))
                if stop:
                    stopped = "interrupted" if self._stop_requested else "max_minutes"
                    break
        finally:
            bar.close()
            if log is not None:
                log.close()
        return self._finish(model, start, step, stopped, t_start)

    def _setup(self) -> tuple[torch.nn.Module, torch.nn.Module, int]:
        """Prepare the run folder, optimizer and RNG, resume from ``last.pt`` when there is one.

        Returns ``(model, forward, start step)``: ``forward`` is what a training step calls (the model,
        or its ``spectra()`` for a spectral loss, wrapped in DDP under torchrun).
        """
        cfg = self.config
        if self.is_main:
            self.run.prepare(start_over=self.resume is False)
        self._barrier()
        model = _unwrap(self.model).to(self.device)  # (unwrapped: fit() may be called again)
        opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
        self.optimizer = opt_cls(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.amp_dtype = self._amp_dtype()
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.best = {"valid_sdri": -math.inf, "step": 0}
        self.train_seconds = 0.0
        self.cpu_seconds = 0.0  # process CPU time of the run (steps, validation, saving), over every resume
        self._cpu_mark = time.process_time()
        self.last_saved_step = 0
        torch.manual_seed(cfg.seed * 1000 + self.rank)  # dropout etc.; replaced by the saved state on resume
        start = self._load_for_resume()
        self.resumed_from = start or None
        self.last_saved_step = start
        # What the step runs: the model, or (spectral loss) its spectra() as a module. DDP wraps that
        # module, since a DDP model must be called through its own forward; checkpoints and validation
        # keep using the model itself.
        forward = self.loss_fn.training_forward(model)
        if self.world_size > 1:
            ddp_kw = {"device_ids": [self.device.index]} if self.device.type == "cuda" else {}
            forward = torch.nn.parallel.DistributedDataParallel(forward, **ddp_kw)
        self.model = forward if _unwrap(forward) is model else model
        model.train()
        if self.is_main:
            self.run.write_config(cfg.to_dict())
        return model, forward, start

    def _load_for_resume(self) -> int:
        """Restore from ``last.pt``; return its step (0 when starting fresh)."""
        ckpt = None if self.resume is False else self.run.load_last(self.config.resume_dict())
        if ckpt is None:
            return 0
        restore_training_state(ckpt, self.model, self.optimizer, self.scaler, world_size=self.world_size,
                               rank=self.rank, device=self.device, seed=self.config.seed)
        self.best = dict(ckpt.get("best") or self.best)
        self.train_seconds = float(ckpt.get("train_seconds", 0.0))
        self.cpu_seconds = float(ckpt.get("cpu_seconds") or 0.0)
        self._print(f"resuming {self.out_dir} from step {ckpt['step']}")
        return int(ckpt["step"])

    # -- one step -----------------------------------------------------------------------------------
    def _train_step(self, step: int, mix: torch.Tensor, tgt: torch.Tensor, forward, model
                    ) -> tuple[float, torch.Tensor, float]:
        """One optimizer step on this rank's crops of step ``step`` (``mix [B, T]``, ``tgt [B, 3, T]``).

        Returns ``(lr, losses, grad_norm)``: ``losses`` is ``[weighted total, speech, music, noise]``,
        averaged over ranks.
        """
        cfg = self.config
        mix = mix.to(self.device, non_blocking=True)
        tgt = tgt.to(self.device, non_blocking=True)
        if cfg.augment != "none":
            mix, tgt = augment_batch(tgt, cfg.augment, cfg.seed, step, self.rank)
        lr = lr_at(step, cfg)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            outputs = forward(mix)  # one forward pass: waveforms, or the model's spectra
        track_losses = self.loss_fn.track_losses(outputs, tgt, model)  # float32, outside autocast
        w = torch.tensor(self.loss_fn.track_weights, device=track_losses.device)
        loss = (w * track_losses).sum()
        reduced = torch.cat([loss.detach().reshape(1), track_losses.detach()])
        if self.world_size > 1:
            dist.all_reduce(reduced)
            reduced /= self.world_size
        loss_value = float(reduced[0])
        if not math.isfinite(loss_value):
            self._raise_non_finite("loss", loss_value, step)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        grad_norm = self._clip(model)
        if self.scaler is not None:  # fp16: the scaler skips steps with inf gradients by design
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            if not math.isfinite(grad_norm):
                self._raise_non_finite("gradient norm", grad_norm, step)
            self.optimizer.step()
        return lr, reduced, grad_norm

    def _clip(self, model) -> float:
        params = [p for p in model.parameters() if p.grad is not None]
        if self.config.grad_clip:
            norm = torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
        else:
            norm = torch.linalg.vector_norm(torch.stack([p.grad.detach().norm() for p in params])) \
                if params else torch.tensor(0.0)
        return float(norm)

    def _raise_non_finite(self, what: str, value: float, step: int):
        kept = (f"the last good checkpoint {self.run.last} (step {self.last_saved_step}) is kept"
                if self.last_saved_step else "no checkpoint had been written yet")
        raise NonFiniteLossError(
            f"non-finite {what} ({value}) at step {step}: training stopped, {kept}. "
            f"Try a lower lr, grad_clip, or amp='off'; check the data for silent or clipped files."
        )

    def _agree_to_stop(self, local_stop: bool) -> bool:
        if self.world_size == 1:
            return local_stop
        flag = torch.tensor([float(local_stop)], device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    # -- validation and checkpoints -----------------------------------------------------------------
    def validate(self) -> dict:
        """Mean SDRi (plain SNR form) per track and averaged, on the first ``valid_items`` dev mixtures."""
        from .evaluate import evaluate_model

        model = _unwrap(self.model)
        cpu_rng = torch.get_rng_state()  # validation must not shift the training RNG stream
        try:
            res = evaluate_model(model, self.data_root, "dev", max_items=self.config.valid_items, progress=False)
        finally:
            torch.set_rng_state(cpu_rng)
            model.train()
        s = res["summary"]["sdri"]
        return {"valid_sdri": s["avg"]["mean"], **{f"valid_sdri_{t}": s[t]["mean"] for t in TRACKS}}

    def _validate_and_keep_best(self, step: int) -> dict:
        """Rank 0 validates and writes ``best.pt`` when the dev SDRi improved; others wait."""
        scores = {}
        if self.is_main:
            scores = self.validate()
            if scores["valid_sdri"] > self.best["valid_sdri"]:
                self.best = {"valid_sdri": scores["valid_sdri"], "step": step}
                self.run.save_best(self.model, step, scores, self.config.to_dict())
        if self.world_size > 1:  # every rank keeps the same record of the best score
            box = [self.best]
            dist.broadcast_object_list(box, src=0)
            self.best = box[0]
        self._barrier()
        return scores

    def cpu_total(self) -> float:
        """CPU seconds this run has used so far (every process since set-up, plus what the resumed
        checkpoint recorded): what "CPU-hours of training" means in a model card.

        Under torchrun the ranks' process times are summed, so every rank must call this (it is
        called from :meth:`_save_last` and :meth:`_finish`, which all ranks run)."""
        own = time.process_time() - self._cpu_mark
        if self.world_size > 1:
            t = torch.tensor([own], dtype=torch.float64, device=self.device)
            dist.all_reduce(t)
            own = float(t.item())
        return self.cpu_seconds + own

    def _save_last(self, step: int) -> None:
        """All ranks call this (RNG states are gathered); rank 0 writes ``last.pt``."""
        states = [rng_state(self.device)]
        if self.world_size > 1:
            states = [None] * self.world_size
            dist.all_gather_object(states, rng_state(self.device))
        cpu_seconds = self.cpu_total()  # collective under torchrun
        if self.is_main:
            self.run.save_last(training_payload(
                self.model, self.optimizer, self.scaler, step=step, rng=states, world_size=self.world_size,
                data_root=self.data_root, config=self.config.to_dict(), resume_config=self.config.resume_dict(),
                best=self.best, train_seconds=self.train_seconds, cpu_seconds=cpu_seconds))
        self.last_saved_step = step
        self._barrier()

    def _finish(self, model, start: int, step: int, stopped: str, t_start: float) -> dict:
        """After the loop: make sure ``last.pt`` (and, without validation, ``best.pt``) hold step ``step``;
        write ``summary.json``; return the summary."""
        cfg = self.config
        if step == start:
            self._print(f"nothing to do: {self.out_dir} is already at step {start} (max_steps {cfg.max_steps})")
        if step > self.last_saved_step:  # only when the loop ended early in an unusual way
            self._save_last(step)
        if not cfg.valid_every and self.is_main:  # no validation: the last weights are the result
            self.run.save_best(model, step, None, cfg.to_dict())
            self.best = {"valid_sdri": None, "step": step}
        wall = time.monotonic() - t_start
        result = {
            "best_checkpoint": str(self.run.best) if self.run.best.exists() else None,
            "last_checkpoint": str(self.run.last),
            "last_step": step,
            "best_step": self.best.get("step"),
            "best_valid_sdri": _finite_or_none(self.best.get("valid_sdri")),
            "log": str(self.run.log),
            "wall_seconds": round(wall, 3),
            "cpu_seconds": round(self.cpu_total(), 3),
            "stopped": stopped,
            "resumed_from": self.resumed_from,
            "device": str(self.device),
            "world_size": self.world_size,
        }
        if self.is_main:
            self.run.write_summary(result)
            done = (f"already trained to step {step}: nothing to do (checkpoint in {self.out_dir})"
                    if self.resumed_from == step else f"trained to step {step} ({stopped}) in {wall:.1f} s")
            self._print(f"{done}; best dev SDRi {_fmt(self.best.get('valid_sdri'))} dB at step {self.best.get('step')}")
        return result


def _finite_or_none(v):
    return v if v is not None and math.isfinite(v) else None


def _fmt(v) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.2f}"


def train(model, data_root, config: TrainConfig | dict | None = None, **overrides) -> dict:
    """Shortcut: ``Trainer(model, data_root, config with overrides).fit()``."""
    cfg = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(dict(config or {}))
    cfg = dataclasses.replace(cfg, **overrides)
    return Trainer(model, data_root, cfg).fit()
