"""Does training-time augmentation shrink the synthetic -> real gap?

Trains one lite model on MTASS-tiny for a fixed number of steps (same seed, same data order) with
each augmentation of :mod:`mtass_lite.data.augment` (``AUGMENTS``), then scores each on the
MTASS-tiny test set and on the real-recording test set of benchmarks/real_generalisation.py, keeping
per-mixture scores so that every variant is compared with ``none`` *paired* (same mixtures):
``paired_vs_none`` holds the mean difference and its 95 % interval.
Equal steps, not equal time: augmentation costs little per step. ``--seeds 0 1`` trains each variant
from two initialisations/data orders (keys ``<kind>`` for seed 0, ``<kind>@seed<N>`` otherwise), which
measures run-to-run noise, the part a paired interval over mixtures does not see; ``pooled_vs_none``
averages each mixture's difference over the seeds before taking the interval.
Runs are resumable and a finished one is not retrained; several invocations may run in parallel
(each writes its rows under a lock). Writes results/real_gap_augment.json.

    python benchmarks/real_gap_augment.py [--model complex_mtassnet] [--steps 600] [--variants none remix]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from mtass_lite import REPO_ROOT
from mtass_lite.data.augment import AUGMENTS
from mtass_lite.evaluate import paired_mean_ci, pooled_paired_mean_ci
from mtass_lite.results import update_json
from mtass_lite.train import Trainer, build_model_from_spec, load_checkpoint, load_config
from real_generalisation import score_on_both, test_sets


def variant_key(kind: str, seed: int) -> str:
    return kind if seed == 0 else f"{kind}@seed{seed}"


def _with_seed(kind: str, tag: str) -> str:
    """The variant key of ``kind`` for a seed tag as it follows "@" in a key (``""`` for seed 0)."""
    return kind + (f"@{tag}" if tag else "")


def add_paired(out: dict) -> None:
    """``variants[k]["paired_vs_none"]``: ``k - none`` (same seed) over the same mixtures, per test set;
    ``pooled_vs_none[kind]``: the same with each mixture's difference averaged over the seeds first."""
    variants = out.get("variants", {})
    pairs_of: dict[str, list] = {}
    for key, v in variants.items():
        kind, _, tag = key.partition("@")
        ref = variants.get(_with_seed("none", tag))
        if kind == "none" or ref is None or "per_mixture" not in v.get("real", {}) \
                or "per_mixture" not in ref.get("real", {}):
            continue
        v["paired_vs_none"] = {label: {m: paired_mean_ci(ref[label]["per_mixture"][m], v[label]["per_mixture"][m])
                                       for m in ("sdri", "si_sdri")} for label in ("tiny", "real")}
        pairs_of.setdefault(kind, []).append((ref, v))
    out["pooled_vs_none"] = {
        kind: {"seeds": sorted(v.get("seed", 0) for _, v in pairs), **{
            label: {m: pooled_paired_mean_ci((a[label]["per_mixture"][m], b[label]["per_mixture"][m]) for a, b in pairs)
                    for m in ("sdri", "si_sdri")} for label in ("tiny", "real")}}
        for kind, pairs in pairs_of.items() if len(pairs) >= 2}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--realmini", default=str(REPO_ROOT.parent / "shared" / "data" / "realmini"))
    ap.add_argument("--model", default="complex_mtassnet")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--variants", nargs="+", default=list(AUGMENTS), choices=AUGMENTS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--runs", default=str(REPO_ROOT / "runs" / "aug"))
    ap.add_argument("--out", default="real_gap_augment")
    ap.add_argument("--recompute", action="store_true", help="only recompute the paired statistics of the json")
    a = ap.parse_args(argv)
    if a.recompute:
        update_json(a.out, add_paired)
        return 0

    realmini = Path(a.realmini)
    sets = test_sets(realmini)
    if sets is None:
        return 0
    tiny, real_root = sets
    header = dict(model=a.model, steps=a.steps, data="MTASS-tiny train (400 x 6 s)",
                  real_test_set=f"{realmini.name}/test, 50 mixtures x 6 s (benchmarks/real_generalisation.py)")
    for seed in a.seeds:
        for kind in a.variants:
            key = variant_key(kind, seed)
            run_dir = Path(a.runs) / key.replace("@", "_") / a.model
            cfg = load_config(a.model, "fast", out_dir=str(run_dir), max_steps=a.steps, max_minutes=600,
                              augment=kind, seed=seed, progress=False)
            torch.manual_seed(cfg.seed)  # the same initial weights for every variant of a seed
            fit = Trainer(build_model_from_spec(a.model, cfg.size, cfg.model_overrides), tiny, cfg).fit()
            model, _ = load_checkpoint(run_dir / "best.pt")
            row = score_on_both(model, tiny, real_root, per_mixture=True)
            row["training"] = {k: fit[k] for k in ("last_step", "best_step", "best_valid_sdri")}
            row["seed"] = seed

            def put(out, key=key, row=row):
                out.update(header)
                out.setdefault("variants", {})[key] = row
                add_paired(out)

            update_json(a.out, put)  # after every variant: an interruption loses nothing finished
            print(f"{key:22s} SDRi avg tiny {row['tiny']['sdri']['avg']['mean']:5.2f} | real "
                  f"{row['real']['sdri']['avg']['mean']:5.2f}   SI-SDRi avg tiny "
                  f"{row['tiny']['si_sdri']['avg']['mean']:5.2f} | real {row['real']['si_sdri']['avg']['mean']:5.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
