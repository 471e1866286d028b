"""Does training-time augmentation shrink the synthetic -> real gap?

Trains one lite model on MTASS-tiny for a fixed number of steps (same seed, same data order) with
each augmentation of :mod:`mtass_lite.data.augment` ("none", "remix", "remix_eq"), then scores each
on the MTASS-tiny test set and on the real-recording test set of benchmarks/real_generalisation.py.
Equal steps, not equal time: augmentation costs almost nothing per step. Runs are resumable and a
finished one is not retrained. Writes results/real_gap_augment.json.

    python benchmarks/real_gap_augment.py [--model complex_mtassnet] [--steps 600] [--variants none remix]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from mtass_lite import REPO_ROOT
from mtass_lite.data.augment import AUGMENTS
from mtass_lite.results import read_json, write_json
from mtass_lite.train import Trainer, build_model_from_spec, load_checkpoint, load_config
from real_generalisation import score_on_both, test_sets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--realmini", default=str(REPO_ROOT.parent / "shared" / "data" / "realmini"))
    ap.add_argument("--model", default="complex_mtassnet")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--variants", nargs="+", default=list(AUGMENTS), choices=AUGMENTS)
    ap.add_argument("--runs", default=str(REPO_ROOT / "runs" / "aug"))
    ap.add_argument("--out", default="real_gap_augment")
    a = ap.parse_args(argv)

    realmini = Path(a.realmini)
    sets = test_sets(realmini)
    if sets is None:
        return 0
    tiny, real_root = sets
    try:
        out = read_json(a.out)
    except FileNotFoundError:
        out = {}
    out.setdefault("variants", {})
    out.update(model=a.model, steps=a.steps, data="MTASS-tiny train (400 x 6 s)",
               real_test_set=f"{realmini.name}/test, 50 mixtures x 6 s (benchmarks/real_generalisation.py)")
    for kind in a.variants:
        run_dir = Path(a.runs) / kind / a.model
        cfg = load_config(a.model, "fast", out_dir=str(run_dir), max_steps=a.steps, max_minutes=600,
                          augment=kind, progress=False)
        torch.manual_seed(cfg.seed)  # the same initial weights for every variant
        fit = Trainer(build_model_from_spec(a.model, cfg.size, cfg.model_overrides), tiny, cfg).fit()
        model, _ = load_checkpoint(run_dir / "best.pt")
        row = score_on_both(model, tiny, real_root)
        row["training"] = {k: fit[k] for k in ("last_step", "best_step", "best_valid_sdri")}
        out["variants"][kind] = row
        print(f"{kind:9s} SDRi avg tiny {row['tiny']['sdri']['avg']['mean']:5.2f} | real "
              f"{row['real']['sdri']['avg']['mean']:5.2f}   SI-SDRi avg tiny {row['tiny']['si_sdri']['avg']['mean']:5.2f}"
              f" | real {row['real']['si_sdri']['avg']['mean']:5.2f}", flush=True)
        write_json(a.out, out)  # after every variant: an interruption loses nothing finished
    return 0


if __name__ == "__main__":
    sys.exit(main())
