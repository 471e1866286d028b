"""Do models trained on synthetic MTASS-tiny separate *real* recordings?

Mixes a test set with the MTASS recipe (mtass_lite.data.mixing) from ../shared/data/realmini/test
(real speech incl. Mandarin AISHELL-1, real songs, real noise; licences in its MANIFEST) and evaluates
every model of a reproduction run on it and on the MTASS-tiny test set, side by side.
Writes results/real_generalisation.json. A benchmark, not a test: the project never needs realmini.

    python benchmarks/real_generalisation.py [--realmini ../shared/data/realmini] [--runs runs/reproduce_cpu]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mtass_lite import REPO_ROOT, TRACKS, data_root
from mtass_lite.data.mixing import Source, build_split
from mtass_lite.data.sources import GroupRule, folder_pools
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.evaluate import evaluate_model, headline, per_item
from mtass_lite.models import MODEL_NAMES
from mtass_lite.results import write_json
from mtass_lite.train import load_checkpoint


# This benchmark's grouping since its first results: only AISHELL-1 utterances (BAC009S0252W0001) are
# grouped, by speaker "S0252"; every other file is its own group. Kept (instead of the library's
# GROUP_RULES, which would name it "aishell1_spkS0252" and group VCTK too) so that the cached
# data/realmini_mix and the committed results keep the same pools, ids and mixtures.
RULES_V1 = (GroupRule("aishell1_v1", r"(S\d{4})W\d{4}", r"\1"),)


def realmini_pools(folder: Path) -> dict[str, list[Source]]:
    """Pools of ``realmini/<split>`` (``folder``): speech concatenated per speaker (as the MTASS recipe
    does before cutting), music/noise files as they are (:func:`mtass_lite.data.sources.folder_pools`)."""
    pools = folder_pools(folder.parent, folder.name, rules=RULES_V1)
    if pools.report.bad:
        print(pools.report)
    return pools


def build_real_test(realmini: Path, n_mixtures: int = 50, segment_seconds: float = 6.0) -> Path:
    """Mix ``n_mixtures`` test mixtures from ``realmini/test`` with the MTASS recipe (cached, seed 0)."""
    real_root = data_root() / "realmini_mix"
    build_split(real_root, "test", realmini_pools(realmini / "test"), n_mixtures, seed=0,
                segment_seconds=segment_seconds, workers=2, progress=False)
    return real_root


def test_sets(realmini: Path, n_mixtures: int = 50, segment_seconds: float = 6.0) -> tuple[Path, Path] | None:
    """``(MTASS-tiny root, real test root)``, or None (with a message) when realmini is absent."""
    if not (realmini / "test").is_dir():
        print(f"realmini not found at {realmini}: nothing to measure (this benchmark is optional)")
        return None
    return ensure_tiny(progress=False), build_real_test(realmini, n_mixtures, segment_seconds)


def score_on_both(model, tiny: Path, real_root: Path, per_mixture: bool = False) -> dict:
    """``{"tiny"|"real": {"sdri"|"si_sdri": {track|"avg": mean/ci95/...}}}`` on both test sets.

    ``per_mixture``: also ``row[label]["per_mixture"] = {"sdri"|"si_sdri": {id: track-average}}``
    (rounded to 0.001 dB), for paired comparisons (:func:`mtass_lite.evaluate.paired_mean_ci`).
    """
    row = {}
    for label, root in (("tiny", tiny), ("real", real_root)):
        res = evaluate_model(model, root, "test", progress=False)
        row[label] = headline(res["summary"])
        if per_mixture:
            row[label]["per_mixture"] = {m: {k: round(v, 3) for k, v in per_item(res, m).items()}
                                         for m in ("sdri", "si_sdri")}
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--realmini", default=str(REPO_ROOT.parent / "shared" / "data" / "realmini"))
    ap.add_argument("--runs", default=str(REPO_ROOT / "runs" / "reproduce_cpu"))
    ap.add_argument("--n-mixtures", type=int, default=50)
    ap.add_argument("--segment-seconds", type=float, default=6.0)
    ap.add_argument("--out", default="real_generalisation")
    a = ap.parse_args(argv)

    realmini = Path(a.realmini)
    sets = test_sets(realmini, a.n_mixtures, a.segment_seconds)
    if sets is None:
        return 0
    tiny, real_root = sets
    out = {"real_test_set": {"source": str(realmini.name) + "/test", "n_mixtures": a.n_mixtures,
                             "segment_seconds": a.segment_seconds},
           "metric": "sdri = plain SNR-form SDR improvement; si_sdri = scale-invariant", "models": {}}
    for name in MODEL_NAMES:
        ckpt = Path(a.runs) / name / "best.pt"
        if not ckpt.exists():
            print(f"{name}: no checkpoint at {ckpt}, skipped")
            continue
        model, _ = load_checkpoint(ckpt)
        row = score_on_both(model, tiny, real_root)
        out["models"][name] = row
        print(f"{name:17s} SDRi tiny " + " / ".join(f"{row['tiny']['sdri'][t]['mean']:5.2f}" for t in (*TRACKS, "avg"))
              + " | real " + " / ".join(f"{row['real']['sdri'][t]['mean']:5.2f}" for t in (*TRACKS, "avg")))
    # the trivial separators (mtass_lite.baselines) on both sets: positive SDRi alone proves nothing
    from mtass_lite.baselines import BASELINES

    out["baselines"] = {}
    for label, cls in BASELINES.items():
        row = score_on_both(cls(), tiny, real_root)
        out["baselines"][label] = row
        print(f"baseline {label:9s} SDRi avg tiny {row['tiny']['sdri']['avg']['mean']:5.2f} | "
              f"real {row['real']['sdri']['avg']['mean']:5.2f}")
    path = write_json(a.out, out)
    print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
