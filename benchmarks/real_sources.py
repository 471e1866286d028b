"""Does training on real recordings help on real recordings?  (issue 14, item 5)

One lite model (default Conv-TasNet lite) is trained for the same number of steps on each *source
kind* of training data, and every model is scored on the SAME fixed real test set and on MTASS-tiny's
test set:

  synthetic        MTASS-tiny itself, unchanged (400 train / 50 dev mixtures of 6 s; synthetic speech —
                   the Piper voice for English since the switch, eSpeak NG before —, SoundFont music,
                   procedural noise; mtass_lite.data.tiny.ensure_tiny). Results made before the switch
                   say so (``data_build``); runs of the kinds that use MTASS-tiny get a ``_piper`` folder.
  real             real recordings only: realmini/train + realmore/train (../shared/data), 1200 train /
                   100 dev mixtures of 6 s; dev = 10 % of the train speakers / pieces / recordings, held
                   out by group (mtass_lite.data.sources.build_real_set, dev_from_train)
  real+synthetic   the same real pools and MTASS-tiny's synthetic pools: each stem real with probability
                   0.7, synthetic with 0.3 (drawn per track and mixture); the same mixture counts

The real test set: 100 mixtures of the MTASS recipe (mtass_lite.data.mixing), 6 s as MTASS-tiny,
mixing seed 0, from realmini/test + realmore/test only (music: realmini's, realmore has no test
music): the test split of the `real` build. No speaker, piece or recording of it is in a train or dev
split (check_disjoint refuses the build otherwise).

Held equal: the model and its initial weights (seed), the fast preset with dynamic mixing
(augment=remix, as the CPU reproduction), batch 4 x 4-s crops, the SNR loss, the step budget, the
data-order rule (step s's batch is a function of (seed, s) over the kind's own train set), and the
checkpoint rule (best dev SDRi on the kind's OWN dev set, never a test set). Not equal, by design:
the data (MTASS-tiny has 400 train mixtures, the real kinds 1200; each kind at its natural size).

results/real_test.json (results/real_test_<model>.json with --model; runs made on the eSpeak build of
MTASS-tiny are kept as real_test[_<model>]_espeak.json), per kind: training (steps, CPU seconds, threads,
data), SI-SDRi and SDRi per track and averaged (mean, 95 % CI) on both test sets with per-mixture values;
the mixture/3 and silence baselines on both sets; paired differences over the same mixtures (mean, 95 % CI) for
real+synthetic - synthetic, real - synthetic and real+synthetic - real on both sets, SI-SDRi and SDRi,
per track and averaged (`paired`; `pooled` over seeds with --seeds); `goal_issue15`: does a real kind
gain on the real set while losing no more than 1 dB on MTASS-tiny's? Updated under a lock after
every kind: invocations for different kinds may run in parallel.

Resumable: data builds resume (finished mixtures kept); training resumes from the run's last.pt
with the CPU time already spent (runs/real_sources/<kind>[_seed<N>]/<model>/cpu_budget.json);
a scored kind (real_sources_scores.json in its run folder) is neither retrained nor rescored.

Cost: ~20 CPU-min of training per kind at the default 1400 steps (Conv-TasNet lite measured
0.83 CPU-s per step at batch 4 x 4 s, one thread) + ~1-2 CPU-min of scoring (150 test mixtures).
Data, once, under data/real_sources (git-ignored): `real` 1400 mixtures, `real+synthetic` 1300
(incl. rendering ~390 mixtures' worth of synthetic sources), an estimated few minutes each on two
cores and ~2 GB of float32 WAV each; MTASS-tiny (~1 min, 0.8 GB) if missing. --dry-run prints the plan.

    .venv/bin/python benchmarks/real_sources.py --dry-run
    .venv/bin/python benchmarks/real_sources.py --build-only          # data + baselines, once
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/real_sources.py --kinds synthetic real &
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/real_sources.py --kinds real+synthetic &
    wait
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from mtass_lite import REPO_ROOT, TRACKS, data_root, repo_relative
from mtass_lite.data.tiny import build_text as describe_tiny_build

KINDS = ("synthetic", "real", "real+synthetic")
#: (a, b): the paired difference a - b over the same test mixtures
COMPARISONS = (("real+synthetic", "synthetic"), ("real", "synthetic"), ("real+synthetic", "real"))
METRICS = ("si_sdri", "sdri")
TEST_SETS = ("real", "tiny")
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
CPU_SECONDS_PER_STEP = 0.83  # Conv-TasNet lite, batch 4 x 4 s, one thread (measured; other models differ)
MB_PER_MIXTURE = 1.54  # float32 WAV: mixture + 3 stems, 6 s at 16 kHz
SCORES = "real_sources_scores.json"  # in a run folder: the kind's scores and the settings they belong to
GOAL_LOSS_DB = 1.0  # issue 15: lose no more than 1 dB on MTASS-tiny's test set
DEV_FROM_TRAIN = 0.1  # folders without a dev split lend this share of their train groups (build_real_set's default)


def segment_seconds() -> float:
    """MTASS-tiny's mixture length (6 s): the real sets match it."""
    from mtass_lite.data.tiny import TINY_DEFAULTS

    return float(TINY_DEFAULTS["segment_seconds"])


rel = repo_relative  # paths in the json and messages, relative to the repository


def kind_key(kind: str, seed: int) -> str:
    """``kind`` for seed 0, ``kind@seed<N>`` otherwise (as benchmarks/real_gap_augment.py)."""
    return kind if seed == 0 else f"{kind}@seed{seed}"


def _with_tag(kind: str, tag: str) -> str:
    return kind + (f"@{tag}" if tag else "")


def data_dir(a, kind: str) -> Path:
    """The mixtures of a real kind: ``real`` or ``real_synthetic`` + the speech tag (a real + synthetic
    build mixed with eSpeak speech keeps its folder; the build refuses a root mixed with other settings)."""
    return Path(a.data) / (kind.replace("+", "_") + _speech_tag(kind))


def _speech_tag(kind: str) -> str:
    """``_piper`` for kinds trained on MTASS-tiny's sources once its speech is not eSpeak: the runs trained
    before the switch (eSpeak) keep their folders and are never resumed or rescored as the new ones."""
    from mtass_lite.data import tts

    uses_tiny = kind in ("synthetic", "real+synthetic")
    return "".join("_" + engine for engine in tts.engine_key().values()) if uses_tiny else ""


def run_dir(a, kind: str, seed: int) -> Path:
    return Path(a.runs) / (kind.replace("+", "_") + _speech_tag(kind) + ("" if seed == 0 else f"_seed{seed}")) / a.model


def build_args(a, kind: str) -> dict:
    """:func:`mtass_lite.data.sources.build_real_set` arguments of a real kind (the same settings as
    ``python -m mtass_lite mix``, :func:`mix_command`, so either builds the same root)."""
    n_train, n_dev, n_test = a.mixtures
    folders = [str(f) for f in a.folders]
    if kind == "real":  # its test split is the fixed real test set
        return dict(sources={"real": folders}, weights={"real": 1.0}, n_mixtures=(n_train, n_dev, n_test))
    if kind == "real+synthetic":  # no test split: every kind is tested on the `real` build's
        return dict(sources={"real": folders, "synthetic": "tiny"},
                    weights={"real": 1 - a.synthetic_share, "synthetic": a.synthetic_share},
                    n_mixtures=(n_train, n_dev, 0))
    raise ValueError(kind)


def mix_command(a, kind: str) -> str:
    n = build_args(a, kind)["n_mixtures"]
    syn = f" --synthetic {a.synthetic_share:g}" if kind == "real+synthetic" else ""
    return (f"python -m mtass_lite mix --real {' '.join(rel(f) for f in a.folders)}{syn} --out "
            f"{rel(data_dir(a, kind))} --mixtures {n[0]} {n[1]} {n[2]} --seed {a.data_seed} "
            f"--segment-seconds {segment_seconds():g}")


@contextlib.contextmanager
def build_lock(root: Path):
    """Serialise the data builds of parallel invocations (the second finds the sets complete)."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def prepare_data(a, kinds) -> dict[str, Path]:
    """Build (or find) MTASS-tiny, the `real` set (train/dev + the fixed real test split) and, when
    asked for, `real+synthetic`. ``{"tiny": root, "real": root, ["real+synthetic": root]}``."""
    from mtass_lite.data.sources import MARKER, build_real_set
    from mtass_lite.data.tiny import ensure_tiny
    from mtass_lite.results import update_json

    progress = a.progress or sys.stderr.isatty()
    roots, timings = {}, {}
    with build_lock(Path(a.data)):
        roots["tiny"] = ensure_tiny(progress=progress)
        for kind in [k for k in ("real", "real+synthetic") if k == "real" or k in kinds]:
            root = data_dir(a, kind)
            fresh = not (root / MARKER).exists()
            c0, w0 = time.process_time(), time.monotonic()
            build_real_set(root, **build_args(a, kind), seed=a.data_seed, segment_seconds=segment_seconds(),
                           workers=a.workers, progress=progress, dev_from_train=DEV_FROM_TRAIN)
            if fresh:  # the build's cost, for the docs (worker processes' CPU time is not counted)
                timings[kind] = {"wall_seconds": round(time.monotonic() - w0, 1),
                                 "main_process_cpu_seconds": round(time.process_time() - c0, 1),
                                 "workers": a.workers}
            roots[kind] = root
    if timings:
        update_json(a.out, lambda out: out.setdefault("data_builds", {}).update(timings))
    return roots


def _marker(root: Path) -> dict:
    from mtass_lite.data.sources import MARKER

    return json.loads((root / MARKER).read_text())


def licence_summary(sources_csv: Path) -> dict[str, dict[str, int]]:
    """``{track: {licence: number of groups}}`` of the real items of a split's ``sources.csv``."""
    with open(sources_csv, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "real"]
    return {t: dict(Counter(r["license"] or "(not given)" for r in rows if r["track"] == t).most_common())
            for t in TRACKS}


def test_set_settings(a) -> dict:
    """What identifies the two test sets (a json built with other settings is not mixed with these)."""
    return {"real": {"folders": [f"{Path(f).name}/test" for f in a.folders], "seed": a.data_seed,
                     "n_mixtures": a.mixtures[2], "segment_seconds": segment_seconds()},
            "tiny": "data/mtass_tiny test split (default build)"}


def describe_test_sets(a, roots) -> dict:
    from mtass_lite.data.tiny import read_marker

    m = _marker(roots["real"])
    test = m["splits"]["test"]
    tiny = read_marker(roots["tiny"])
    return {
        "real": {**test_set_settings(a)["real"], "root": rel(roots["real"] / "test"),
                 "recipe": "MTASS (mtass_lite.data.mixing): music and noise at SNR ~ U(-5, 5) dB against speech",
                 "pools": test["folders"]["real"]["summary"],
                 "disjoint": "no speaker / piece / recording of the test folders is in a train or dev split "
                             "(mtass_lite.data.sources.check_disjoint)",
                 "licences_groups": licence_summary(roots["real"] / "test" / "sources.csv"),
                 "bad_files": [b for b in m["bad_files"] if b.get("split") == "test"]},
        "tiny": {"root": rel(roots["tiny"]), "n_mixtures": tiny["mixtures"]["test"],
                 "segment_seconds": tiny["config"]["segment_seconds"], "seed": tiny["config"]["seed"],
                 "text": describe_tiny_build(roots["tiny"]), "sources": tiny["sources"]["test"]},
    }


def describe_training_data(a, kind: str, roots) -> dict:
    if kind == "synthetic":
        from mtass_lite.data.tiny import read_marker

        tiny = read_marker(roots["tiny"])
        return {"root": rel(roots["tiny"]), "text": describe_tiny_build(roots["tiny"]),
                "train_mixtures": tiny["mixtures"]["train"],
                "dev_mixtures": tiny["mixtures"]["dev"], "segment_seconds": tiny["config"]["segment_seconds"],
                "sources": {s: tiny["sources"][s] for s in ("train", "dev")}}
    m = _marker(roots[kind])
    train, dev = m["splits"]["train"], m["splits"]["dev"]
    return {"root": rel(roots[kind]),
            "text": ("real recordings only" if kind == "real" else
                     f"real recordings, each stem synthetic (MTASS-tiny's generators) with probability "
                     f"{a.synthetic_share:g}") + f" ({', '.join(Path(f).name + '/train' for f in a.folders)})",
            "train_mixtures": train["mixtures"], "dev_mixtures": dev["mixtures"],
            "segment_seconds": m["config"]["segment_seconds"], "seed": m["config"]["seed"],
            "dev_split": f"{m['config']['dev_from_train']:g} of the train groups held out per track",
            "weights": train["weights"], "stems_per_kind": train["stems_per_kind"],
            "real_pools": {"train": train["folders"]["real"]["summary"], "dev": dev["folders"]["real"]["summary"]},
            "bad_files": len(m["bad_files"])}


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------
def score(model, test_roots: dict[str, Path]) -> dict:
    """:func:`mtass_lite.evaluate.score_sets` on the test split of each root (per-mixture values kept)."""
    from mtass_lite.evaluate import score_sets

    return score_sets(model, test_roots, metrics=METRICS)


def baselines(test_roots: dict[str, Path]) -> dict:
    """``{label: {"mixture/3"|"silence": headline}}``: what doing (almost) nothing scores on each set."""
    from mtass_lite.evaluate import baseline_sets

    return baseline_sets(test_roots)


def _diff(before: dict, after: dict) -> dict:
    from mtass_lite.evaluate import paired_mean_ci

    return {m: {t: paired_mean_ci(before["per_mixture"][m][t], after["per_mixture"][m][t])
                for t in (*TRACKS, "avg")} for m in METRICS}


def add_paired(out: dict) -> None:
    """``paired["a - b"]`` (seed 0; ``"a - b @seed<N>"`` otherwise): ``a - b`` over the same mixtures of
    each test set; ``pooled["a - b"]`` with two or more seeds: each mixture's difference averaged over
    the seeds first; ``goal_issue15`` from the seed-0 differences against ``synthetic``."""
    from mtass_lite.evaluate import pooled_paired_mean_ci

    kinds = out.get("kinds", {})
    paired, pairs_of = {}, defaultdict(list)
    for a_kind, b_kind in COMPARISONS:
        for key, row in kinds.items():
            kind, _, tag = key.partition("@")
            ref = kinds.get(_with_tag(b_kind, tag))
            if kind != a_kind or ref is None:
                continue
            comp = f"{a_kind} - {b_kind}"
            paired[comp + (f" @{tag}" if tag else "")] = {
                "a": key, "b": _with_tag(b_kind, tag), "seed": row.get("seed", 0),
                **{ts: _diff(ref[ts], row[ts]) for ts in TEST_SETS}}
            pairs_of[comp].append((ref, row))
    out["paired"] = paired
    out["pooled"] = {
        comp: {"seeds": sorted(r.get("seed", 0) for _, r in pairs), **{
            ts: {m: {t: pooled_paired_mean_ci((b[ts]["per_mixture"][m][t], a[ts]["per_mixture"][m][t])
                                              for b, a in pairs) for t in (*TRACKS, "avg")} for m in METRICS}
            for ts in TEST_SETS}}
        for comp, pairs in pairs_of.items() if len(pairs) >= 2}
    goal = {}
    for comp in ("real - synthetic", "real+synthetic - synthetic"):
        p = paired.get(comp)
        if p is None:
            continue
        real, tiny = p["real"], p["tiny"]
        goal[comp] = {
            "real_si_sdri_avg": real["si_sdri"]["avg"], "real_sdri_avg": real["sdri"]["avg"],
            "tiny_si_sdri_avg": tiny["si_sdri"]["avg"], "tiny_sdri_avg": tiny["sdri"]["avg"],
            "real_gain_detected": all(real[m]["avg"]["mean"] - real[m]["avg"]["ci95"] > 0 for m in METRICS),
            "tiny_loss_within_1_db": all(tiny[m]["avg"]["mean"] >= -GOAL_LOSS_DB for m in METRICS),
            "tiny_loss_within_1_db_at_ci_bound": all(tiny[m]["avg"]["mean"] - tiny[m]["avg"]["ci95"] >= -GOAL_LOSS_DB
                                                     for m in METRICS)}
    out["goal_issue15"] = {
        "rule": f"a real kind should gain on the real test set (paired 95 % interval above 0, SI-SDRi and SDRi "
                f"averaged over tracks) and lose no more than {GOAL_LOSS_DB:g} dB on MTASS-tiny's test set "
                f"(paired mean difference vs synthetic, seed 0)", **goal}


# ---------------------------------------------------------------------------------------------
# Training one kind
# ---------------------------------------------------------------------------------------------
def run_settings(a, kind: str, seed: int) -> dict:
    """Everything that decides a kind's scores: a cached score with other settings is recomputed."""
    from mtass_lite.data.tts import engine_key

    return {"model": a.model, "size": "lite", "preset": "fast", "steps": a.steps, "augment": a.augment,
            "seed": seed, "checkpoint": a.checkpoint, "kind": kind, "data_seed": a.data_seed,
            "mixtures": list(a.mixtures), "synthetic_share": a.synthetic_share,
            # MTASS-tiny's speech engine (its test set, the synthetic sources) when it is not eSpeak: scores
            # cached before the switch are recomputed, results files written before it refuse the new rows
            "test_sets": test_set_settings(a), **engine_key(key="tiny_speech")}


def cached_row(rdir: Path, settings: dict, label: str, steps: int, name: str = SCORES) -> dict | None:
    """The scores cached in run folder ``rdir`` (file ``name``) when they belong to ``settings`` (else None);
    refuses a run trained beyond ``steps`` (its scores would not be the budget's)."""
    cache = rdir / name
    if cache.exists():
        cached = json.loads(cache.read_text())
        if cached.get("settings") == settings:
            print(f"{label}: scored earlier ({rel(cache)})", flush=True)
            return cached["row"]
    ledger = rdir / "cpu_budget.json"
    if ledger.exists() and json.loads(ledger.read_text()).get("step", 0) > steps:
        raise SystemExit(f"{rel(rdir)} is trained beyond {steps} steps: pass that --steps or another --runs")
    return None


def train_and_score(a, kind: str, seed: int, roots) -> dict:
    """Train ``kind`` (resuming), score it on both test sets; cached in the run folder."""
    from mtass_lite.reproduce import ReproPlan, train_within_cpu_budget

    rdir = run_dir(a, kind, seed)
    settings = run_settings(a, kind, seed)
    cached = cached_row(rdir, settings, f"[real_sources] {kind_key(kind, seed)}", a.steps)
    if cached is not None:
        return cached
    cache = rdir / SCORES

    import torch

    from mtass_lite.profile import count_params
    from mtass_lite.train import load_checkpoint

    plan = ReproPlan("lite", "fast", cpu_minutes=None, chunk_steps=a.chunk_steps, eval_items=None,
                     overrides={"augment": a.augment, "seed": seed}, max_steps=a.steps)
    data = roots["tiny"] if kind == "synthetic" else roots[kind]
    print(f"[real_sources] {kind_key(kind, seed)}: training {a.model} lite on {rel(data)} to step {a.steps} "
          f"({torch.get_num_threads()} threads, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})",
          flush=True)
    train = train_within_cpu_budget(a.model, data, rdir, plan, progress=a.progress)
    if train.get("stopped") == "interrupted" or train.get("step", 0) < a.steps:
        raise SystemExit(f"[real_sources] {kind_key(kind, seed)}: stopped at step {train.get('step')}; "
                         f"rerun the same command to continue (nothing scored)")
    ckpt = train["best_checkpoint"] if a.checkpoint == "best" and train.get("best_checkpoint") \
        else train["last_checkpoint"]
    model, _ = load_checkpoint(ckpt)
    model.eval()
    row = {"kind": kind, "seed": seed,
           "training": {"steps": train["step"], "best_step": train.get("best_step"),
                        "best_own_dev_sdri": train.get("best_valid_sdri"), "checkpoint": rel(ckpt),
                        "cpu_seconds": round(train["cpu_seconds"], 1),
                        "cpu_minutes": round(train["cpu_seconds"] / 60, 2),
                        "wall_seconds": round(train["wall_seconds"], 1),
                        "torch_threads": train.get("torch_threads"),
                        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                        "device": train.get("device"), "loss": train.get("loss"), "augment": a.augment,
                        "params": count_params(model), "run": rel(rdir)},
           "data": describe_training_data(a, kind, roots),
           **score(model, {"real": roots["real"], "tiny": roots["tiny"]})}
    rdir.mkdir(parents=True, exist_ok=True)
    from mtass_lite.results import write_json

    write_json(cache, {"settings": settings, "row": row})
    return row


# ---------------------------------------------------------------------------------------------
# Plan (--dry-run) and main
# ---------------------------------------------------------------------------------------------
def _build_state(root: Path, marker: str) -> str:
    if (root / marker).exists():
        return "complete"
    return "partial (resumes)" if root.exists() else "to build"


def _run_state(a, kind: str, seed: int) -> str:
    rdir = run_dir(a, kind, seed)
    cache, ledger = rdir / SCORES, rdir / "cpu_budget.json"
    if cache.exists() and json.loads(cache.read_text()).get("settings") == run_settings(a, kind, seed):
        return "scored (skipped)"
    if ledger.exists():
        led = json.loads(ledger.read_text())
        return f"trained to step {led.get('step')} ({led.get('cpu_seconds', 0) / 60:.1f} CPU-min), resumes"
    return "new"


def print_plan(a, kinds, defaults: dict) -> None:
    """The plan of ``a`` (nothing computed); ``defaults``: the parser's, so the printed commands repeat only
    the settings that differ from them."""
    from mtass_lite.data.sources import MARKER, check_disjoint, holdout_dev, scan_folders
    from mtass_lite.data.tiny import MARKER as TINY_MARKER, default_tiny_root

    seg = segment_seconds()
    n_train, n_dev, n_test = a.mixtures
    print("plan (nothing is computed):")
    print(f"question: does training on real recordings help on real recordings? kinds {', '.join(kinds)}; "
          f"seeds {', '.join(map(str, a.seeds))}")
    print(f"\ndata (git-ignored; ~{MB_PER_MIXTURE:.1f} MB of float32 WAV per {seg:g}-s mixture):")
    tiny = default_tiny_root()
    print(f"  tiny            {rel(tiny)}: {_build_state(tiny, TINY_MARKER)} — MTASS-tiny 400/50/50 x {seg:g} s "
          f"(synthetic kind's train/dev; its test split is the second test set)")
    for kind in [k for k in ("real", "real+synthetic") if k == "real" or k in kinds]:
        n = build_args(a, kind)["n_mixtures"]
        what = ("real/train + dev; its test split = THE fixed real test set "
                f"({n_test} mixtures from {' + '.join(Path(f).name + '/test' for f in a.folders)})"
                if kind == "real" else f"real {1 - a.synthetic_share:g} / synthetic {a.synthetic_share:g} per stem")
        print(f"  {kind:15s} {rel(data_dir(a, kind))}: {_build_state(data_dir(a, kind), MARKER)} — "
              f"{n[0]}/{n[1]}/{n[2]} mixtures, ~{sum(n) * MB_PER_MIXTURE / 1000:.1f} GB; {what}")
        print(f"  {'':15s} = {mix_command(a, kind)}")
    try:
        found, _ = scan_folders(a.folders)
        found, held = holdout_dev(found, DEV_FROM_TRAIN, a.data_seed)
        print(f"  folders: groups per split {check_disjoint(found)} (disjoint: yes; files listed, none decoded)")
        for line in held:
            print(f"    {line[:150]}{' ...' if len(line) > 150 else ''}")
    except Exception as e:  # the plan still prints; the build would stop with this message
        print(f"  folders: {type(e).__name__}: {e}")
    minutes = a.steps * CPU_SECONDS_PER_STEP / 60
    print(f"\nruns ({a.model} lite, fast preset, augment={a.augment}, batch 4 x 4 s, SNR loss, {a.steps} steps, "
          f"{a.checkpoint} checkpoint on the kind's own dev set; ~{minutes:.0f} CPU-min each for Conv-TasNet lite):")
    for seed in a.seeds:
        for kind in kinds:
            print(f"  {kind_key(kind, seed):22s} {rel(run_dir(a, kind, seed))}: {_run_state(a, kind, seed)}")
    print(f"\nscores: each model on the real test set ({n_test}) and MTASS-tiny's test set (50), SI-SDRi + SDRi "
          f"per track, per mixture (~1-2 CPU-min); baselines mixture/3 and silence once on both")
    print(f"writes: results/{a.out}.json (update_json under a lock after every kind; data builds under "
          f"{rel(Path(a.data) / '.build.lock')})")
    from mtass_lite.report import real_test_name

    me = "benchmarks/real_sources.py"
    defaults = {**defaults, "out": real_test_name(a.model)}
    opts = "".join(f" --{flag} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                   for flag in ("model", "steps", "seeds", "out")
                   if (v := getattr(a, flag)) != defaults[flag])  # the plan's own settings
    log = f"runs/logs/real_sources_{a.out}"
    print("\ncommands (from the repository root):")
    print(f"  .venv/bin/python {me} --build-only{opts}")
    print(f"  OMP_NUM_THREADS=1 .venv/bin/python {me} --kinds synthetic real{opts} > {log}_a.log 2>&1 &")
    print(f"  OMP_NUM_THREADS=1 .venv/bin/python {me} --kinds real+synthetic{opts} > {log}_b.log 2>&1 &")
    print("  wait")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS, help="source kinds to train")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0],
                    help="training seeds (initial weights, data order); keys <kind>@seed<N> for N != 0")
    ap.add_argument("--model", default="conv_tasnet", help="registry name of the lite model (default conv_tasnet)")
    ap.add_argument("--steps", type=int, default=1400,
                    help="training steps per kind (default 1400: ~20 CPU-min for Conv-TasNet lite, one thread)")
    ap.add_argument("--augment", default="remix", help="training augmentation (mtass_lite.data.augment.AUGMENTS)")
    ap.add_argument("--checkpoint", default="best", choices=("best", "last"),
                    help="score the best checkpoint on the kind's own dev set (default) or the last one")
    ap.add_argument("--chunk-steps", type=int, default=100, help="steps per Trainer.fit() call (CPU-time ledger)")
    ap.add_argument("--folders", nargs="+", default=[str(SHARED_DATA / "realmini"), str(SHARED_DATA / "realmore")],
                    help="real source folders <root>/{train,test}/{speech,music,noise} (merged into one kind)")
    ap.add_argument("--mixtures", nargs=3, type=int, default=[1200, 100, 100], metavar=("TRAIN", "DEV", "TEST"),
                    help="mixtures of the real builds (TEST: the fixed real test set; default 1200 100 100)")
    ap.add_argument("--synthetic-share", type=float, default=0.3, help="real+synthetic: P(stem is synthetic)")
    ap.add_argument("--data-seed", type=int, default=0, help="mixing seed of the real builds")
    ap.add_argument("--data", default=str(data_root() / "real_sources"), help="where the real builds go")
    ap.add_argument("--runs", default=str(REPO_ROOT / "runs" / "real_sources"), help="run folders")
    ap.add_argument("--out", default=None,
                    help="results/<out>.json (default: real_test for conv_tasnet, real_test_<model> for the others)")
    ap.add_argument("--workers", type=int, default=2, help="processes for the data builds")
    ap.add_argument("--progress", action="store_true", help="progress bars")
    ap.add_argument("--dry-run", action="store_true", help="print the plan (sets, runs, commands) and exit")
    ap.add_argument("--build-only", action="store_true", help="build the data sets and score the baselines, then exit")
    ap.add_argument("--recompute", action="store_true", help="only recompute the paired statistics of the json")
    a = ap.parse_args(argv)
    a.folders = [Path(f).resolve() for f in a.folders]
    if a.out is None:
        from mtass_lite.report import real_test_name

        a.out = real_test_name(a.model)
    kinds = [k for k in KINDS if k in a.kinds]  # canonical order
    if not 0 < a.synthetic_share < 1:
        ap.error("--synthetic-share must lie strictly between 0 and 1")
    if min(a.mixtures) < 1:
        ap.error("--mixtures: every split needs at least one mixture (dev picks checkpoints, test scores)")
    if a.steps < 1 or a.chunk_steps < 1:
        ap.error("--steps and --chunk-steps must be positive")

    if a.dry_run:
        print_plan(a, kinds, {k: ap.get_default(k) for k in ("model", "steps", "seeds")})
        return 0
    from mtass_lite.results import update_json

    if a.recompute:
        update_json(a.out, add_paired)
        return 0
    missing = [f for f in a.folders if not (f / "test").is_dir()]
    if missing:
        print(f"real folders not found: {', '.join(map(str, missing))}: nothing to measure (this benchmark is "
              f"optional; fetch them with `python -m mtass_lite fetch-real`)")
        return 0

    roots = prepare_data(a, kinds)
    test_roots = {"real": roots["real"], "tiny": roots["tiny"]}
    settings = {k: v for k, v in run_settings(a, "", 0).items() if k not in ("kind", "seed")}
    from mtass_lite.data.tiny import provenance

    header = {
        "data_build": provenance(roots["tiny"]),  # MTASS-tiny's speech engine and hash (test set, synthetic pools)
        "question": "does training on real recordings help on real recordings?",
        "settings": settings,
        "model": a.model, "steps": a.steps,
        "training": f"{a.model} lite, fast preset, augment={a.augment}, batch 4 x 4-s crops, SNR loss, {a.steps} "
                    f"steps, same initial weights and data-order rule per seed; {a.checkpoint} checkpoint on the "
                    f"kind's own dev set",
        "test_sets": describe_test_sets(a, roots),
        "metrics": {"si_sdri": "scale-invariant SDR improvement over the mixture, dB",
                    "sdri": "plain SNR-form SDR improvement over the mixture (the MTASS paper's metric), dB",
                    "paired": "a - b over the same test mixtures: mean and 95 % CI half-width (Student t)"},
    }

    def put_header(out):
        if out.get("settings") not in (None, settings):
            raise SystemExit(f"results/{a.out}.json holds runs with other settings ({out['settings']}); "
                             f"pass --out NAME to write another file")
        out.update(header)

    update_json(a.out, put_header)
    from mtass_lite.results import read_json

    if read_json(a.out).get("baselines", {}).keys() != set(TEST_SETS):
        b = baselines(test_roots)
        update_json(a.out, lambda out: out.update(baselines=b))
    if a.build_only:
        print(f"[real_sources] data ready: {', '.join(f'{k} {rel(r)}' for k, r in roots.items())}; "
              f"baselines in results/{a.out}.json")
        return 0

    for seed in a.seeds:
        for kind in kinds:
            row = train_and_score(a, kind, seed, roots)
            key = kind_key(kind, seed)

            def put(out, key=key, row=row):
                put_header(out)
                out.setdefault("kinds", {})[key] = row
                add_paired(out)

            update_json(a.out, put)  # after every kind: an interruption loses nothing finished
            r, t = row["real"], row["tiny"]
            print(f"[real_sources] {key:22s} real SI-SDRi avg {r['si_sdri']['avg']['mean']:5.2f} "
                  f"± {r['si_sdri']['avg']['ci95']:.2f}, SDRi avg {r['sdri']['avg']['mean']:5.2f} | tiny SI-SDRi avg "
                  f"{t['si_sdri']['avg']['mean']:5.2f}, SDRi avg {t['sdri']['avg']['mean']:5.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
