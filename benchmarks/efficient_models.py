"""How much CPU does one training step of each lite model cost? (the five MTASS models and BSRNN)

For each model of ``mtass_lite.models.ALL_MODELS`` at size ``lite``, on **one thread**
(``torch.set_num_threads(1)``): a batch of 4 random 4-s clips (three random tracks, mixture = their
sum), the fast presets' training loss (``snr``, negative plain SNR) and Adam (lr 1e-3, gradient norm
clipped at 5 as the Trainer does). Two untimed warm-up steps, then ``--steps`` timed steps, each
timed as CPU seconds of this process (``time.process_time``) and wall seconds
(``time.perf_counter``); the row keeps their minimum and median, the parameter count, the GMAC per
second of audio (:func:`mtass_lite.profile.macs_per_second`) and the 1-minute load average
(``os.getloadavg``) before and after the model.

CPU seconds of one thread move much less than wall seconds when other jobs share the machine (a
single-threaded step is not slowed by barriers waiting for a busy core), but they still grow under
load (shared caches and memory bandwidth): compare models measured in one run, and read the loads
beside the figures. Writes ``results/efficient_models.json`` (``--out``: a name under results/ or a
path ending in .json), one row per model under ``models``, merged with the rows already there.

    python benchmarks/efficient_models.py [--models bsrnn conv_tasnet] [--steps 10] [--dry-run]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import torch

from mtass_lite import SAMPLE_RATE
from mtass_lite.losses import get_loss
from mtass_lite.models import ALL_MODELS, build_model
from mtass_lite.profile import count_params, macs_per_second

BATCH, SECONDS, LOSS, LR, GRAD_CLIP = 4, 4.0, "snr", 1e-3, 5.0
NOTE = ("Figures are CPU seconds (time.process_time) per training step on one thread "
        "(torch.set_num_threads(1)): batch 4 x 4 s of random audio, snr loss, forward + backward + "
        "gradient clipping + Adam, after 2 warm-up steps; min and median over the timed steps. Wall "
        "seconds and the 1-minute load average before/after each model are kept beside them: on a busy "
        "machine the CPU figure grows too (shared caches), so compare models of one run.")


def random_batch(batch: int = BATCH, seconds: float = SECONDS, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mixture[B, T], targets[B, 3, T])``: three random tracks and their sum."""
    g = torch.Generator().manual_seed(seed)
    targets = torch.randn(batch, 3, int(round(seconds * SAMPLE_RATE)), generator=g) * 0.1
    return targets.sum(1), targets


def step_times(model: torch.nn.Module, steps: int = 10, warmup: int = 2, batch: int = BATCH,
               seconds: float = SECONDS, loss: str = LOSS, lr: float = LR) -> dict[str, list[float]]:
    """CPU and wall seconds of ``steps`` training steps (after ``warmup`` untimed ones)."""
    loss_fn = get_loss(loss)
    forward = loss_fn.training_forward(model)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    mix, tgt = random_batch(batch, seconds)
    model.train()
    cpu, wall = [], []
    for i in range(warmup + steps):
        c0, w0 = time.process_time(), time.perf_counter()
        value = loss_fn(forward(mix), tgt, model)
        opt.zero_grad(set_to_none=True)
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()
        c1, w1 = time.process_time(), time.perf_counter()
        if i >= warmup:
            cpu.append(c1 - c0)
            wall.append(w1 - w0)
    return {"cpu_s": cpu, "wall_s": wall}


def measure(name: str, steps: int = 10, warmup: int = 2) -> dict:
    """One row: params, GMAC/s and the step times of lite model ``name`` (one thread)."""
    torch.manual_seed(0)
    model = build_model(name, "lite")
    load_start = os.getloadavg()[0]
    t = step_times(model, steps, warmup)
    load_end = os.getloadavg()[0]
    return {"model": name, "size": "lite", "params": count_params(model),
            "gmac_per_s": macs_per_second(model) / 1e9,
            "cpu_s_per_step_min": min(t["cpu_s"]), "cpu_s_per_step_median": statistics.median(t["cpu_s"]),
            "wall_s_per_step_min": min(t["wall_s"]), "wall_s_per_step_median": statistics.median(t["wall_s"]),
            "cpu_s_per_step": t["cpu_s"], "wall_s_per_step": t["wall_s"],
            "steps": steps, "warmup_steps": warmup,
            "load_average_1min_start": round(load_start, 2), "load_average_1min_end": round(load_end, 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(ALL_MODELS), choices=ALL_MODELS)
    ap.add_argument("--steps", type=int, default=10, help="timed steps per model (after 2 warm-up steps)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--out", default="efficient_models",
                    help="results/<name>.json, or a path ending in .json")
    ap.add_argument("--dry-run", action="store_true",
                    help="build each model and print the plan; no timing, nothing written")
    a = ap.parse_args(argv)
    if a.steps < 1:
        ap.error("--steps must be at least 1")
    torch.set_num_threads(1)
    if a.dry_run:
        for name in a.models:
            n = count_params(build_model(name, "lite"))
            print(f"{name:17s} lite {n / 1e6:6.3f} M params: {a.warmup} warm-up + {a.steps} timed steps "
                  f"(batch {BATCH} x {SECONDS:g} s, {LOSS} loss, Adam, 1 thread)")
        print(f"would write {a.out}; load average now {os.getloadavg()[0]:.2f}")
        return 0

    from mtass_lite.results import update_json

    header = {"note": NOTE, "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
              "cpu_count": os.cpu_count(), "machine": platform.processor() or platform.machine(),
              "batch": BATCH, "seconds": SECONDS, "loss": LOSS, "optimizer": f"adam lr {LR:g}",
              "grad_clip": GRAD_CLIP}
    for name in a.models:
        row = measure(name, a.steps, a.warmup)
        row["measured"] = time.strftime("%Y-%m-%d %H:%M:%S")

        def put(out, row=row):
            out.update(header)
            out.setdefault("models", {})[row["model"]] = row

        path = update_json(a.out, put)  # after every model: an interruption loses nothing finished
        print(f"{name:17s} {row['params'] / 1e6:6.3f} M {row['gmac_per_s']:6.3f} GMAC/s  CPU s/step min "
              f"{row['cpu_s_per_step_min']:.3f} median {row['cpu_s_per_step_median']:.3f}  wall min "
              f"{row['wall_s_per_step_min']:.3f}  load {row['load_average_1min_start']:.2f} -> "
              f"{row['load_average_1min_end']:.2f}", flush=True)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
