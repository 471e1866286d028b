"""The model card of the shipped weights: results/shipped_models.json.

Every shipped file (mtass_lite/pretrained/<name>_<size>.pt; or --models name_size ...) is scored on
two fixed test sets:

  tiny   MTASS-tiny's test split (mtass_lite.data.tiny.ensure_tiny; built if missing, ~1 min)
  real   the real test set: the test split of benchmarks/real_sources.py's `real` build
         (data/real_sources/real/test: 100 mixtures of the MTASS recipe, 6 s, mixing seed 0, from
         ../shared/data/realmini/test + realmore/test; git-ignored, built by
         `python benchmarks/real_sources.py --build-only`). Without it nothing is written.

Per model: SI-SDRi and SDRi per track and averaged over tracks (mean, 95 % CI, Student t) with the
per-mixture values (0.001 dB), the training record of the file (sources, hours of training audio,
steps, CPU-hours, recipe), and `goal`: the issue's figures for a shipped model, each condition with
its numbers and true/false:

  real_si_sdri_avg                 average SI-SDRi on the real test set >= 5 dB
  real_si_sdri_each_track          SI-SDRi >= 3 dB on each track (real test set)
  real_sdri_each_track_vs_thirds   SDRi >= mixture/3's SDRi + 3 dB on each track (real test set)
  tiny_loss                        average SI-SDRi and SDRi on MTASS-tiny's test set no more than 1 dB
                                   below the best of the reference models (the models shipped before
                                   the card: complex_mtassnet_lite, conv_tasnet_lite; --tiny-reference)

The mixture/3 and silence baselines are scored on both sets (mtass_lite.baselines). `default` is the
scored, shipped model with the best average SI-SDRi on the real test set: what `python -m mtass_lite
separate` uses without --model (mtass_lite.shipped.default_model). The json is updated under a lock
after every model (keyed <name>_<size>); a model already scored with the same file (sha256) and the
same test sets is not rescored (--rescore).

Cost: one pass over 100 + 50 six-second mixtures per model (Complex-MTASSNet lite: a few CPU-minutes
on one thread) plus the baselines (seconds).

    .venv/bin/python benchmarks/shipped_models.py --dry-run
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/shipped_models.py
    .venv/bin/python benchmarks/shipped_models.py --max-items 3 --out /tmp/card.json   # a quick check
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import sys
from collections import Counter
from pathlib import Path

from mtass_lite import TRACKS, data_root, repo_relative
from mtass_lite.data.tiny import build_text as describe_tiny_build

METRICS = ("si_sdri", "sdri")
TEST_SETS = ("real", "tiny")
CARD = "shipped_models"
REFERENCE_MODELS = ("complex_mtassnet_lite", "conv_tasnet_lite")  # shipped before the card existed
GOAL_REAL_SI_SDRI_AVG = 5.0
GOAL_REAL_SI_SDRI_TRACK = 3.0
GOAL_SDRI_OVER_THIRDS = 3.0
GOAL_TINY_LOSS_DB = 1.0
REAL_TEXT = ("MTASS recipe (mtass_lite.data.mixing): music and noise at SNR ~ U(-5, 5) dB against speech, "
             "from real recordings only")


rel = repo_relative  # paths in the json and messages, relative to the repository


def build_hint(real: Path) -> str:
    return (f"the real test set is missing ({rel(real)}/test/metadata.csv not found). Build it with\n"
            f"  .venv/bin/python benchmarks/real_sources.py --build-only\n"
            f"(it needs ../shared/data/realmini and realmore: `python -m mtass_lite fetch-real`), or pass "
            f"--real <root of a build>. Nothing written.")


def real_ready(real: Path) -> bool:
    return (real / "test" / "metadata.csv").is_file()


# ---------------------------------------------------------------------------------------------
# Test sets
# ---------------------------------------------------------------------------------------------
def _n_rows(metadata: Path) -> int:
    with open(metadata, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.DictReader(f))


def licence_summary(sources_csv: Path) -> dict[str, dict[str, int]]:
    """``{track: {licence: number of groups}}`` of a split's ``sources.csv`` (as benchmarks/real_sources.py)."""
    if not sources_csv.is_file():
        return {}
    with open(sources_csv, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("kind", "real") == "real"]
    return {t: dict(Counter(r["license"] or "(not given)" for r in rows if r["track"] == t).most_common())
            for t in TRACKS}


def describe_real(real: Path, max_items: int | None) -> dict:
    """The real test set: mixtures, seed, recipe, source folders and pools (build_config.json, mix_sources.json)."""
    test = real / "test"
    n = _n_rows(test / "metadata.csv")
    out = {"root": rel(test), "text": REAL_TEXT, "n_mixtures_in_set": n,
           "n_mixtures": n if max_items is None else min(n, max_items)}
    bc = test / "build_config.json"
    if bc.is_file():
        b = json.loads(bc.read_text())
        out.update(seed=b.get("seed"), segment_seconds=(b.get("mix") or {}).get("segment_seconds"),
                   snr_range_db=(b.get("mix") or {}).get("snr_range_db"), pools_groups=b.get("pools"),
                   pool_fingerprint=b.get("pool_fingerprint"))
    ms = real / "mix_sources.json"
    if ms.is_file():
        m = json.loads(ms.read_text())
        roots = [r for src in ((m.get("config") or {}).get("sources") or {}).values() for r in src.get("roots", [])]
        out["source_folders"] = [f"{Path(r).name}/test" for r in roots]
        t = ((m.get("splits") or {}).get("test") or {}).get("folders", {})
        pools = {kind: f.get("summary") for kind, f in t.items() if f.get("summary")}
        if pools:
            out["pools"] = pools
        out["disjoint"] = ("no speaker / piece / recording of the test folders is in a train or dev split "
                           "(mtass_lite.data.sources.check_disjoint)")
    out["licences_groups"] = licence_summary(test / "sources.csv")
    return out


def describe_tiny(tiny: Path, max_items: int | None) -> dict:
    from mtass_lite.data.tiny import read_marker

    m = read_marker(tiny) or {}
    n = (m.get("mixtures") or {}).get("test")
    if n is None:
        n = _n_rows(tiny / "test" / "metadata.csv")
    cfg = m.get("config") or {}
    return {"root": rel(tiny / "test"), "text": describe_tiny_build(tiny), "n_mixtures_in_set": n,
            "n_mixtures": n if max_items is None else min(n, max_items),
            "seed": cfg.get("seed"), "segment_seconds": cfg.get("segment_seconds"),
            "sources": (m.get("sources") or {}).get("test")}


def training_record(trained: dict, tiny: Path) -> dict:
    """:func:`mtass_lite.shipped.training_summary`; files trained on MTASS-tiny that do not record their
    hours of training audio get them from the MTASS-tiny build (train mixtures x segment length)."""
    from mtass_lite.data.tiny import read_marker
    from mtass_lite.shipped import training_summary

    t = training_summary(trained)
    m = read_marker(tiny) or {}
    if t["hours"] is None and str(t["sources"] or "").startswith("MTASS-tiny") and m.get("mixtures"):
        n, sec = m["mixtures"]["train"], m["config"]["segment_seconds"]
        t["hours"] = round(n * sec / 3600, 4)
        t["hours_note"] = (f"not recorded in the file: MTASS-tiny's train split, {n} mixtures of {sec:g} s "
                           f"(dynamic mixing recombines their sources)")
    return t


def identity(test_sets: dict) -> dict:
    """What must agree for two scores to be comparable (mixtures counted, seeds, pools)."""
    keep = ("n_mixtures", "seed", "segment_seconds", "pool_fingerprint")
    return {ts: {k: d.get(k) for k in keep} for ts, d in test_sets.items()}


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------
def score(model, roots: dict[str, Path], max_items: int | None, progress: bool) -> dict:
    """:func:`mtass_lite.evaluate.score_sets` (per-mixture values kept), the first ``max_items`` mixtures."""
    from mtass_lite.evaluate import score_sets

    return score_sets(model, roots, max_items=max_items, progress=progress, metrics=METRICS)


def baselines(roots: dict[str, Path], max_items: int | None) -> dict:
    """``{set: {"mixture/3"|"silence": headline}}``."""
    from mtass_lite.evaluate import baseline_sets

    return baseline_sets(roots, max_items=max_items)


def _mean(row: dict, ts: str, metric: str, track: str = "avg") -> float:
    return row[ts][metric][track]["mean"]


def goal_rule(reference: tuple[str, ...]) -> str:
    return (f"real test set: average SI-SDRi >= {GOAL_REAL_SI_SDRI_AVG:g} dB, SI-SDRi >= "
            f"{GOAL_REAL_SI_SDRI_TRACK:g} dB on each track, SDRi >= mixture/3's SDRi + {GOAL_SDRI_OVER_THIRDS:g} dB "
            f"on each track; MTASS-tiny's test set: average SI-SDRi and SDRi no more than {GOAL_TINY_LOSS_DB:g} dB "
            f"below the best of the reference models ({', '.join(reference)}; all scored models when none of them "
            f"is scored). Means over the test mixtures.")


def add_goals(out: dict, reference: tuple[str, ...] = REFERENCE_MODELS, shipped_keys=None) -> None:
    """Per model ``goal`` (each condition with its figures, ``met`` true/false), ``tiny_reference`` and
    ``default`` (best average SI-SDRi on the real test set among the scored models still shipped)."""
    models = out.get("models") or {}
    if not models:
        return
    refs = [k for k in reference if k in models] or sorted(models)
    tiny_ref = {}
    for m in METRICS:
        best = max(refs, key=lambda k: _mean(models[k], "tiny", m))
        tiny_ref[m] = {"model": best, "avg": _mean(models[best], "tiny", m)}
    out["tiny_reference"] = {"models": refs, "best": tiny_ref}
    out["goal_rule"] = goal_rule(reference)
    thirds = out["baselines"]["real"]["mixture/3"]["sdri"]
    for k, row in models.items():
        si = {t: _mean(row, "real", "si_sdri", t) for t in TRACKS}
        sd = {t: _mean(row, "real", "sdri", t) for t in TRACKS}
        avg = _mean(row, "real", "si_sdri")
        tiny = {m: _mean(row, "tiny", m) for m in METRICS}
        g = {
            "real_si_sdri_avg": {"value": avg, "min": GOAL_REAL_SI_SDRI_AVG, "met": avg >= GOAL_REAL_SI_SDRI_AVG},
            "real_si_sdri_each_track": {"values": si, "min": GOAL_REAL_SI_SDRI_TRACK,
                                        "met": all(v >= GOAL_REAL_SI_SDRI_TRACK for v in si.values())},
            "real_sdri_each_track_vs_thirds": {
                "values": sd, "mixture/3": {t: thirds[t]["mean"] for t in TRACKS}, "margin_db": GOAL_SDRI_OVER_THIRDS,
                "met": all(sd[t] >= thirds[t]["mean"] + GOAL_SDRI_OVER_THIRDS for t in TRACKS)},
            "tiny_loss": {"values": tiny, "reference": {m: tiny_ref[m]["avg"] for m in METRICS},
                          "loss_db": {m: tiny_ref[m]["avg"] - tiny[m] for m in METRICS},
                          "max_loss_db": GOAL_TINY_LOSS_DB,
                          "met": all(tiny[m] >= tiny_ref[m]["avg"] - GOAL_TINY_LOSS_DB for m in METRICS)},
        }
        g["met"] = all(c["met"] for c in g.values())
        row["goal"] = g
    candidates = [k for k in models if shipped_keys is None or k in shipped_keys] or list(models)
    out["default"] = max(candidates, key=lambda k: _mean(models[k], "real", "si_sdri"))
    out["default_rule"] = ("the scored shipped model with the best average SI-SDRi on the real test set "
                           "(python -m mtass_lite separate uses it without --model)")


# ---------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    from mtass_lite import shipped as sh

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=None, metavar="NAME_SIZE",
                    help="shipped models to score, e.g. conv_tasnet_lite (default: every shipped file)")
    ap.add_argument("--real", default=str(data_root() / "real_sources" / "real"),
                    help="root of the real build whose test split is the real test set")
    ap.add_argument("--tiny", default=None, help="MTASS-tiny root (default: ensure_tiny(), built if missing)")
    ap.add_argument("--max-items", type=int, default=None,
                    help="score only the first N mixtures of each set (a check of the mechanics; needs --out)")
    ap.add_argument("--out", default=CARD, help="results/<out>.json or a path ending in .json")
    ap.add_argument("--tiny-reference", nargs="+", default=list(REFERENCE_MODELS), metavar="NAME_SIZE",
                    help="models whose best MTASS-tiny score the goal's 1-dB loss is measured from")
    ap.add_argument("--rescore", action="store_true", help="score models again even if the json has them")
    ap.add_argument("--progress", action="store_true", help="progress bars")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    a = ap.parse_args(argv)
    if a.max_items is not None and a.max_items < 1:
        ap.error("--max-items must be positive")
    if a.max_items is not None and a.out == CARD:
        ap.error("--max-items scores part of the test sets: pass --out (e.g. /tmp/card.json), the model card "
                 "holds whole-set scores only")

    files = {sh.key(r["name"], r["size"]): r for r in sh.shipped()}
    keys = a.models or sorted(files)
    unknown = [k for k in keys if k not in files]
    if unknown:
        ap.error(f"not shipped: {', '.join(unknown)}; shipped: {', '.join(sorted(files)) or 'none'}")
    if not keys:
        print(f"no shipped weights in {sh.pretrained_dir()}: nothing to score")
        return 0
    real = Path(a.real)
    from mtass_lite import results_dir

    out_path = Path(a.out) if a.out.endswith(".json") else results_dir() / f"{a.out}.json"
    if a.dry_run:
        from mtass_lite.data.tiny import default_tiny_root

        tiny = Path(a.tiny) if a.tiny else default_tiny_root()
        print(f"[shipped_models] would score {len(keys)} model(s): {', '.join(keys)}")
        print(f"  real test set: {rel(real)}/test " + (
            f"({_n_rows(real / 'test' / 'metadata.csv')} mixtures)" if real_ready(real) else "(MISSING: "
            "build it with `.venv/bin/python benchmarks/real_sources.py --build-only`)"))
        built = "" if (tiny / "test").is_dir() else " (built first, ~1 min)"
        print(f"  MTASS-tiny test set: {rel(tiny)}/test{built}")
        print(f"  first {a.max_items} mixtures of each set" if a.max_items else "  every mixture of each set")
        print("  baselines mixture/3 and silence on both sets; goal figures; default model")
        print(f"  writes {rel(out_path)} (updated after every model)")
        return 0
    if not real_ready(real):
        print(f"[shipped_models] {build_hint(real)}")
        return 0

    from mtass_lite.data.tiny import ensure_tiny
    from mtass_lite.data.tiny import provenance as tiny_provenance
    from mtass_lite.results import read_json, update_json
    from mtass_lite.separate import resolve_model

    tiny = Path(a.tiny) if a.tiny else ensure_tiny()
    roots = {"real": real, "tiny": tiny}
    test_sets = {"real": describe_real(real, a.max_items), "tiny": describe_tiny(tiny, a.max_items)}
    ident = identity(test_sets)
    reference = tuple(a.tiny_reference)

    def put_header(out):
        if out.get("models") and out.get("test_set_identity") not in (None, ident):
            raise SystemExit(f"{out_path} holds scores on other test sets ({out['test_set_identity']} vs {ident}); "
                             f"pass --out NAME to write another file, or delete it to rescore every model")
        if out.get("test_set_identity") != ident:
            out.pop("baselines", None)
        out.update({
            "data_build": tiny_provenance(tiny),  # the MTASS-tiny build of the tiny scores (speech engine, hash)
            "what": "model card of the shipped weights (mtass_lite/pretrained): training record and scores "
                    "on MTASS-tiny's test set and on a real test set",
            "metrics": {"si_sdri": "scale-invariant SDR improvement over the mixture, dB",
                        "sdri": "plain SNR-form SDR improvement over the mixture (the MTASS paper's metric), dB",
                        "ci95": "half-width of the 95 % confidence interval of the mean over mixtures (Student t)",
                        "avg": "each mixture's mean over the three tracks, then the mean over mixtures"},
            "test_sets": test_sets, "test_set_identity": ident, "max_items": a.max_items,
            "command": "python benchmarks/shipped_models.py" + (f" --max-items {a.max_items}" if a.max_items else ""),
        })

    update_json(out_path, put_header)
    if "baselines" not in read_json(out_path):
        b = baselines(roots, a.max_items)
        update_json(out_path, lambda out: out.update(baselines=b))
    done = (read_json(out_path).get("models") or {})
    for k in keys:
        f = files[k]
        sha = sh.file_sha256(sh.pretrained_path(f["name"], f["size"]))
        if not a.rescore and (done.get(k) or {}).get("sha256") == sha:
            print(f"[shipped_models] {k}: scored earlier (same file), kept")
            continue
        model = resolve_model(f["name"], device="cpu", size=f["size"])
        row = {"name": f["name"], "size": f["size"], "file": f"mtass_lite/pretrained/{f['file']}", "sha256": sha,
               "model_name": f["model_name"], "params": f["params"],
               "training": training_record(f["trained"], tiny), "trained": f["trained"],
               "scored": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               **score(model, roots, a.max_items, a.progress)}

        def put(out, k=k, row=row):
            put_header(out)
            out.setdefault("models", {})[k] = row
            add_goals(out, reference, shipped_keys=set(files))

        update_json(out_path, put)
        r, t = row["real"], row["tiny"]
        print(f"[shipped_models] {k:24s} real SI-SDRi avg {r['si_sdri']['avg']['mean']:5.2f} "
              f"± {r['si_sdri']['avg']['ci95']:.2f}, SDRi avg {r['sdri']['avg']['mean']:5.2f} | tiny SI-SDRi avg "
              f"{t['si_sdri']['avg']['mean']:5.2f}, SDRi avg {t['sdri']['avg']['mean']:5.2f}", flush=True)
    update_json(out_path, lambda out: add_goals(out, reference, shipped_keys=set(files)))
    card = read_json(out_path)
    for k, row in sorted(card.get("models", {}).items()):
        print(f"[shipped_models] {k:24s} goal met: {row['goal']['met']} "
              f"({', '.join(c for c, v in row['goal'].items() if c != 'met' and not v['met']) or 'every condition'}"
              f"{' failed' if not row['goal']['met'] else ''})")
    print(f"[shipped_models] default: {card.get('default')}; wrote {rel(out_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
