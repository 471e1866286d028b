"""Rebuild the MTASS SDRi comparison: train every model on the same data with the same budget,
evaluate on the same test set, write ``results/reproduction_<mode>.json`` and ``figures/sdri_<mode>.png``.

Modes:

- ``cpu``: lite models on MTASS-tiny, an equal **CPU-time** budget per model (process time of the
  training loop, all threads). CPU time rather than wall-clock so that a model is not short-changed
  when something else runs on the machine; on an idle 2-core machine 1 CPU-minute ≈ 0.5 wall-minutes.
- ``full``: paper-size models on the real MTASS data (``$MTASS_DATA_ROOT/mtass``, chapter 04) with
  each model's ``full`` preset (the paper's schedule), on a GPU.
- ``cpu_released``: the ``cpu`` plan with each model's *released* training objective
  (:data:`mtass_lite.losses.RELEASED_LOSSES`) instead of the one shared objective (negative SNR):
  ``results/reproduction_cpu_released.json``. Together the two say how much the objective, rather
  than the architecture, moves the ranking.
- ``smoke``: the ``cpu`` mechanics in well under a minute per model (chapter 11 in fast mode, tests).

``seed`` (``--seed``): train from another seed (initial weights and data order) into
``runs/reproduce_<mode>_seed<N>`` and ``results/reproduction_<mode>_seed<N>.json`` — the seed check of
a ranking claim. Every model's per-mixture scores are kept in the json (``per_item``), so two models
can be compared *paired* on the same mixtures (:func:`paired_differences`).

Resumable at two levels: a model whose ``eval.json`` exists is skipped, and a model interrupted while
training continues from its last checkpoint (the Trainer's resume) with the CPU time it already used.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import REPO_ROOT, TRACKS, data_root
from .models import ALL_MODELS, MODEL_NAMES, build_model
from .profile import count_params, macs_per_second
from .results import paper_table, read_json, write_json


@dataclass(frozen=True)
class ReproPlan:
    """How one reproduction mode trains and evaluates."""

    size: str  # "lite" or "paper"
    preset: str  # training preset per model: "fast" or "full"
    cpu_minutes: float | None  # CPU-time budget per model (None: the preset's max_steps / max_minutes)
    chunk_steps: int  # steps per Trainer.fit() call between budget checks
    eval_items: int | None  # test mixtures scored (None: all)
    overrides: dict = field(default_factory=dict)  # TrainConfig overrides for every model
    max_steps: int | None = None  # step budget per model instead of CPU time: the same model on every machine
    # "shared": every model trains on the one shared objective (SHARED_LOSS); "released": each model on its
    # release's (mtass_lite.losses.RELEASED_LOSSES); "preset": whatever the model's preset says
    objective: str = "shared"


#: The objective every model shares in the "shared" plans: negative plain SNR, the paper's SDRi's loss.
SHARED_LOSS = "snr"
OBJECTIVES = ("shared", "released", "preset")


def plan_loss(plan: "ReproPlan", name: str) -> dict:
    """The loss override a plan gives model ``name``: ``{"loss": ...}``, or ``{}`` to keep its preset's."""
    if plan.objective == "shared":
        return {"loss": SHARED_LOSS}
    if plan.objective == "released":
        from .losses import RELEASED_LOSSES

        return {"loss": RELEASED_LOSSES[name]}
    if plan.objective != "preset":
        raise ValueError(f"unknown objective {plan.objective!r}; choose one of {OBJECTIVES}")
    return {}


PLANS = {
    # 10 CPU-min x 5 models, for each of the two objectives (and a second seed of the top pair): what two
    # cores give within one working session, the two plans side by side on one core each. (The earlier
    # reproduction, 20 CPU-min per model with the models before the GCRN / D3Net fidelity fixes and one
    # objective, is kept as results/reproduction_cpu_20min_v1.json.) Dynamic mixing ("remix", mtass_lite.data.augment)
    # was chosen from the 600-step comparison of benchmarks/real_gap_augment.py (a small real-recording
    # gain); at 1600 steps it is neutral on both test sets (README, "Measured steps against it").
    "cpu": ReproPlan("lite", "fast", cpu_minutes=10.0, chunk_steps=100, eval_items=None,
                     overrides={"augment": "remix"}),
    # the same budget and data, each model on its release's objective (issue: "both comparisons")
    "cpu_released": ReproPlan("lite", "fast", cpu_minutes=10.0, chunk_steps=100, eval_items=None,
                              overrides={"augment": "remix"}, objective="released"),
    # the paper-size models on the real data follow their full presets, which use the released objectives
    "full": ReproPlan("paper", "full", cpu_minutes=None, chunk_steps=0, eval_items=None, objective="preset"),
    # a step budget, not CPU time: chapter 11 runs it, and its digits must not depend on the machine's load
    "smoke": ReproPlan("lite", "fast", cpu_minutes=None, chunk_steps=5, eval_items=5,
                       overrides={"valid_every": 5, "valid_items": 2}, max_steps=20),
}


def budget_text(plan: ReproPlan) -> str:
    """The plan's per-model budget in words: ``"20 steps"``, ``"20 CPU-min"`` or ``"fast preset"``."""
    if plan.max_steps is not None:
        return f"{plan.max_steps} steps"
    return f"{plan.cpu_minutes:.2g} CPU-min" if plan.cpu_minutes else f"{plan.preset} preset"


def default_data(mode: str) -> Path:
    return data_root() / ("mtass" if mode == "full" else "mtass_tiny")


def train_within_cpu_budget(name: str, data: Path, run_dir: Path, plan: ReproPlan, progress: bool = False) -> dict:
    """Train ``name`` in chunks of ``plan.chunk_steps`` until ``plan.cpu_minutes`` of process CPU time
    (or, when the plan has a step budget, until ``plan.max_steps`` steps).

    Data order is a function of (seed, step), so chunking does not change what the model sees.
    CPU time spent so far is kept in ``run_dir/cpu_budget.json`` and survives an interruption.
    """
    from .train import Trainer, load_config

    ledger_path = run_dir / "cpu_budget.json"
    ledger = json.loads(ledger_path.read_text()) if ledger_path.exists() else {"cpu_seconds": 0.0,
                                                                                "wall_seconds": 0.0, "step": 0}
    budget = None if plan.cpu_minutes is None else 60.0 * plan.cpu_minutes
    result = None
    def more() -> bool:
        if plan.max_steps is not None:
            return ledger["step"] < plan.max_steps
        return budget is None or ledger["cpu_seconds"] < budget

    while more():
        target = ledger["step"] + plan.chunk_steps if plan.chunk_steps else None
        if target is not None and plan.max_steps is not None:
            target = min(target, plan.max_steps)
        cfg = load_config(name, plan.preset, **{"out_dir": str(run_dir), "progress": progress,
                                                **plan.overrides, **plan_loss(plan, name),
                                                **({"max_steps": target, "max_minutes": None} if target else {})})
        import torch

        torch.manual_seed(cfg.seed)  # reproducible initial weights (a resumed chunk loads its checkpoint anyway)
        model = build_model(name, plan.size)
        c0, w0 = time.process_time(), time.monotonic()
        result = Trainer(model, data, cfg).fit()
        ledger["cpu_seconds"] += time.process_time() - c0
        ledger["wall_seconds"] += time.monotonic() - w0
        ledger["step"] = result["last_step"]
        ledger["torch_threads"] = torch.get_num_threads()  # CPU-s per step depends on it (OMP overhead)
        ledger["loss"], ledger["seed"] = cfg.loss, cfg.seed
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(ledger_path, ledger)
        if (budget is None and plan.max_steps is None) or result["stopped"] == "interrupted":
            break
    if result is None:  # the budget was spent before an interruption (e.g. during evaluation): no training now
        result = json.loads((run_dir / "summary.json").read_text())
    return {**result, **ledger}


def evaluate_baselines(data: Path, run_root: Path, eval_items: int | None, progress: bool = False) -> dict:
    """SDRi / SI-SDRi of the trivial separators (:mod:`mtass_lite.baselines`) on the same test set, cached."""
    from .evaluate import baseline_summaries, headline

    cache = run_root / "baselines.json"
    if cache.exists():
        return read_json(cache)
    out = {label: headline(s)
           for label, s in baseline_summaries(data, "test", max_items=eval_items, progress=progress).items()}
    run_root.mkdir(parents=True, exist_ok=True)
    write_json(cache, out)
    return out


def reproduce(mode: str = "cpu", models=MODEL_NAMES, data: str | Path | None = None,
              run_root: str | Path | None = None, results_name: str | None = None,
              cpu_minutes: float | None = None, progress: bool = False, log=print, seed: int | None = None) -> dict:
    """Train and evaluate ``models``; return and write the reproduction summary.

    Args:
        mode: "cpu", "cpu_released", "full" or "smoke" (see :data:`PLANS`).
        cpu_minutes: override the plan's CPU-time budget per model.
        results_name: json name under results/ (default ``reproduction_<mode>``, ``+ _seed<N>``).
        seed: train from this seed instead of the presets' (a seed check); runs and json get a suffix.
    """
    from .evaluate import evaluate_model, headline, per_item, write_results
    from .train import load_checkpoint

    plan = PLANS[mode]
    if cpu_minutes is not None:
        plan = ReproPlan(**{**plan.__dict__, "cpu_minutes": cpu_minutes})
    data = Path(data) if data is not None else default_data(mode)
    if mode != "full" and data == default_data(mode):
        from .data.tiny import ensure_tiny

        data = ensure_tiny(data, progress=progress)
    suffix = "" if seed is None else f"_seed{seed}"
    if seed is not None:
        plan = ReproPlan(**{**plan.__dict__, "overrides": {**plan.overrides, "seed": seed}})
    run_root = Path(run_root) if run_root is not None else REPO_ROOT / "runs" / f"reproduce_{mode}{suffix}"
    results_name = results_name or f"reproduction_{mode}{suffix}"
    per_model = {}
    for name in models:
        run_dir = run_root / name
        eval_path = run_dir / "eval.json"
        if eval_path.exists():
            log(f"[reproduce] {name}: done earlier, reusing {eval_path.relative_to(run_root.parent)}")
        else:
            log(f"[reproduce] {name}: training ({plan.size}, {budget_text(plan)})")
            train = train_within_cpu_budget(name, data, run_dir, plan, progress)
            if train.get("stopped") == "interrupted":  # Ctrl-C / SIGTERM: keep the checkpoint, score nothing
                log(f"[reproduce] {name}: interrupted at step {train['step']} "
                    f"({train['cpu_seconds'] / 60:.1f} CPU-min); rerun the same command to continue")
                raise KeyboardInterrupt(f"reproduction interrupted while training {name}")
            model, ckpt = load_checkpoint(train["best_checkpoint"] or train["last_checkpoint"])
            res = evaluate_model(model, data, "test", max_items=plan.eval_items, progress=progress)
            res["training"] = {k: train.get(k) for k in ("cpu_seconds", "wall_seconds", "step", "best_step",
                                                         "best_valid_sdri", "device", "torch_threads",
                                                         "loss", "seed")}
            res["params"] = count_params(model)
            res["macs_per_second"] = macs_per_second(model)
            write_results(res, eval_path)
        res = read_json(eval_path)
        s = res["summary"]
        per_model[name] = {
            "size": plan.size, "params": res["params"], "macs_per_second": res["macs_per_second"],
            "training": res["training"], "n_items": res["n_items"], **headline(s),
            "loss": res["training"].get("loss"),
            # per-mixture track-average scores: paired model-vs-model differences (paired_differences)
            "per_item": {m: {k: round(v, 4) for k, v in per_item(res, m).items()} for m in ("sdri", "si_sdri")},
        }
        m = per_model[name]["sdri"]
        log(f"[reproduce] {name}: SDRi " + " / ".join(f"{m[t]['mean']:.2f}" for t in (*TRACKS, "avg"))
            + " dB (speech / music / noise / avg)")
    baselines = evaluate_baselines(data, run_root, plan.eval_items, progress)
    from .data.tiny import provenance as tiny_provenance

    summary = {
        "mode": mode, "data": data.name, "split": "test",
        "data_build": tiny_provenance(data),  # MTASS-tiny's speech engine and content hash (None otherwise)
        "plan": {k: v for k, v in plan.__dict__.items()},
        "metrics": {"sdri": "plain SNR-form SDR improvement over the mixture (the paper's metric)",
                    "si_sdri": "scale-invariant SDR improvement"},
        "objective": plan.objective, "seed": seed,
        "budget_note": ("equal step budget per model" if plan.max_steps is not None else
                        "equal CPU-time budget per model (process time of training incl. validation)"
                        if plan.cpu_minutes else "each model's preset schedule"),
        "models": per_model,
        "baselines": baselines,
    }
    path = write_json(results_name, summary)
    log(f"[reproduce] wrote {path.name}")
    return summary


def ranking(summary: dict, metric: str = "sdri") -> list[str]:
    """The models of a reproduction summary, best first by their track-average ``metric``."""
    return sorted(summary["models"], key=lambda m: -summary["models"][m][metric]["avg"]["mean"])


def paired_difference(summaries, better: str, worse: str, metric: str = "sdri") -> dict:
    """Track-average ``metric`` of ``better`` minus ``worse`` on the same test mixtures: mean and 95 % CI.

    With several summaries (the same plan from several seeds), the per-mixture differences are averaged
    over the seeds first (:func:`mtass_lite.evaluate.pooled_paired_mean_ci`): the interval then covers
    mixtures, and the seeds' spread shrinks the mean's noise instead of being ignored.

    Returns ``{"mean", "ci95", "n", "n_seeds"}``.
    """
    from .evaluate import pooled_paired_mean_ci

    pairs = [(s["models"][worse]["per_item"][metric], s["models"][better]["per_item"][metric])
             for s in summaries if better in s["models"] and worse in s["models"]]
    if not pairs:
        raise ValueError(f"no summary scores both {better} and {worse}")
    return {**pooled_paired_mean_ci(pairs), "n_seeds": len(pairs)}


def ranking_claims(summary: dict, metric: str = "sdri", seeds=()) -> list[dict]:
    """Each step of the ranking (model above the next one) with its paired difference.

    A claim "A ranks above B" *holds* when the paired 95 % CI of A − B excludes 0. ``seeds``: summaries of
    the same plan from other seeds; where they score both models the claim is also judged on the
    seed-pooled difference (``pooled``).
    """
    order = ranking(summary, metric)
    claims = []
    for hi, lo in zip(order, order[1:]):
        d = paired_difference([summary], hi, lo, metric)
        claim = {"better": hi, "worse": lo, "mean": d["mean"], "ci95": d["ci95"],
                 "holds": bool(d["mean"] - d["ci95"] > 0)}
        others = [s for s in seeds if hi in s["models"] and lo in s["models"]]
        if others:
            pooled = paired_difference([summary, *others], hi, lo, metric)
            # the other seeds alone: does the sign repeat?
            alone = paired_difference(others, hi, lo, metric)
            claim["pooled"] = {**pooled, "holds": bool(pooled["mean"] - pooled["ci95"] > 0),
                               "other_seeds_mean": alone["mean"]}
        claims.append(claim)
    return claims


def holding_claims(summary: dict, metric: str = "sdri", seeds=()) -> set[tuple[str, str]]:
    """Every ordered pair ``(A, B)`` of models for which "A ranks above B" holds: the paired 95 % CI of
    A − B excludes 0 (seed-pooled with ``seeds`` where they score both models). Not only neighbours in
    the ranking: a claim like "the best beats the worst" can hold while each step between is noise."""
    held = set()
    models = list(summary["models"])
    for a in models:
        for b in models:
            if a == b:
                continue
            d = paired_difference([summary, *[s for s in seeds if a in s["models"] and b in s["models"]]], a, b, metric)
            if d["mean"] - d["ci95"] > 0:
                held.add((a, b))
    return held


PRETRAINED = ("complex_mtassnet", "conv_tasnet")


def export_pretrained(names=PRETRAINED, mode: str = "cpu", run_root: str | Path | None = None) -> list[Path]:
    """Ship the reproduction's best lite checkpoints as ``mtass_lite/pretrained/<name>_lite.pt``.

    Through :func:`mtass_lite.shipped.ship`: weights in float16 (half the size; ``load_state_dict``
    casts them back to float32) with a note of what they were trained on and for how long (sources,
    hours of training audio, recipe, steps, CPU seconds), so ``python -m mtass_lite separate`` works
    right after set-up. ``benchmarks/shipped_models.py`` then scores them for the model card.
    """
    from .data import tts
    from .data.tiny import read_marker
    from .shipped import pretrained_path, ship

    run_root = Path(run_root) if run_root is not None else REPO_ROOT / "runs" / f"reproduce_{mode}"
    written = []
    for name in names:
        run_dir = run_root / name
        ev = read_json(run_dir / "eval.json")
        data_name = ev["data_root"].rstrip("/").rsplit("/", 1)[-1]
        marker = read_marker(ev["data_root"]) if Path(ev["data_root"]).is_dir() else None
        hours = None
        if marker:  # hours of training mixtures (dynamic mixing draws new combinations of the same sources)
            hours = round(marker["mixtures"]["train"] * marker["config"]["segment_seconds"] / 3600, 4)
        training = ev["training"]
        speech = marker["config"].get("speech", tts.UNMARKED_ENGINE) if marker else None
        synthetic = f"synthetic, speech: {tts.ENGINE_NAMES[speech]}" if speech else "synthetic"
        trained = {"sources": f"MTASS-tiny ({synthetic}; {data_name})",
                   "data": f"MTASS-tiny (synthetic; {data_name})",  # the older key
                   "hours": hours, "recipe": f"python -m mtass_lite reproduce --mode {mode}",
                   "steps": training.get("step"), **training}
        path = ship(run_dir / "best.pt", name, "lite", trained=trained, path=pretrained_path(name, "lite"),
                    test_sdri={t: ev["summary"]["sdri"][t]["mean"] for t in (*TRACKS, "avg")})
        written.append(path)
    return written


def ship_run(recipe: str | Path, name: str, sources: str, path: str | Path | None = None) -> Path:
    """Ship the best checkpoint of the run a training recipe (``train --config``) continues.

    The ``trained`` record says what the weights saw and what they cost: ``sources`` (words), ``hours`` of
    training mixtures (train split: mixtures x their length), ``steps`` (the best checkpoint's step, chosen on
    the dev split), ``run_steps`` and ``cpu_seconds`` (the whole run's process CPU time so far, summed over
    resumes by the Trainer), the recipe command, and ``augment`` (dynamic mixing re-pairs the stems every step).
    """
    import json

    from .shipped import ship
    from .train import load_config

    cfg = load_config(None, None, recipe)
    run = Path(cfg.out_dir)
    summary = json.loads((run / "summary.json").read_text())
    import torch

    last = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    import soundfile as sf

    seconds = sum(sf.info(p).duration for p in sorted((Path(cfg.data_root) / "train" / "mixture").glob("*")))
    trained = {"sources": sources, "data": str(cfg.data_root), "hours": round(seconds / 3600, 4),
               "steps": summary["best_step"], "run_steps": int(last["step"]),
               "cpu_seconds": round(float(last.get("cpu_seconds") or 0.0), 1),
               "best_dev_sdri": summary.get("best_valid_sdri"), "augment": cfg.augment, "loss": cfg.loss,
               "recipe": f"python -m mtass_lite train --config {Path(recipe).as_posix()}"}
    return ship(run / "best.pt", name, cfg.size, trained=trained, path=path)


def plot_reproduction(summary: dict, name: str | None = None, with_paper: bool = True):
    """Grouped SDRi bars with 95 % CIs, ours beside the paper's; saves figures/<name>.png if given."""
    import matplotlib.pyplot as plt

    from .viz import savefig

    paper = paper_table()
    order = [m for m in ("gcrn", "demucs", "d3net", "conv_tasnet", "complex_mtassnet") if m in summary["models"]]
    fig, axes = plt.subplots(1, 2 if with_paper else 1, figsize=(12 if with_paper else 7, 3.4), sharey=True,
                             squeeze=False)
    ax = axes[0, 0]
    tracks = (*TRACKS, "avg")
    width = 0.8 / len(order)
    for j, m in enumerate(order):
        v = summary["models"][m]["sdri"]
        ax.bar([i + (j - (len(order) - 1) / 2) * width for i in range(4)], [v[t]["mean"] for t in tracks], width,
               yerr=[v[t]["ci95"] or 0 for t in tracks], capsize=2, label=paper[m]["label"])
    base = summary.get("baselines", {}).get("mixture/3")
    if base:  # the trivial separator a model has to beat (see mtass_lite.baselines)
        ax.hlines([base["sdri"][t]["mean"] for t in tracks], [i - 0.45 for i in range(4)], [i + 0.45 for i in range(4)],
                  colors="k", linestyles="dashed", lw=1, label="baseline: mixture/3")
    ax.set_xticks(range(4), tracks)
    ax.set(ylabel="SDRi (dB)", title=f"ours: {summary['mode']} mode, {summary['data']} test set")
    ax.axhline(0, color="k", lw=0.6)
    ax.legend(fontsize=7)
    if with_paper:
        ax = axes[0, 1]
        for j, m in enumerate(order):
            v = paper[m]["sdri"]
            ax.bar([i + (j - (len(order) - 1) / 2) * width for i in range(4)],
                   [v[t if t != "avg" else "average"] for t in tracks], width, label=paper[m]["label"])
        ax.set_xticks(range(4), tracks)
        ax.set(title="paper: MTASS test set, paper-size models")
    fig.tight_layout()
    if name:
        savefig(fig, name)
    return fig


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m mtass_lite reproduce",
                                description="Train every model with the same budget, evaluate on the same test set, "
                                            "write results/reproduction_<mode>.json and figures/sdri_<mode>.png. "
                                            "Rerun to resume: finished models are skipped.")
    p.add_argument("--mode", choices=sorted(PLANS), default="cpu",
                   help="cpu: lite models, MTASS-tiny with dynamic mixing, equal CPU-time budget (10 CPU-minutes of training per model: under an hour in all on one core), one shared objective (negative SNR); "
                        "cpu_released: the same with each model's released objective; "
                        "full: paper models on the real data (GPU); smoke: a 1-minute check of the mechanics")
    p.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=ALL_MODELS,
                   help="default: the five of the MTASS comparison; bsrnn (chapter 13) only when named")
    p.add_argument("--out", help="results/<out>.json (default reproduction_<mode>[_seed<N>]); "
                                 "e.g. an extra model measured with the same plan into its own file")
    p.add_argument("--data", help="dataset root (default: MTASS-tiny, or $MTASS_DATA_ROOT/mtass in full mode)")
    p.add_argument("--cpu-minutes", type=float, help="CPU-time budget per model (overrides the mode's)")
    p.add_argument("--runs", help="where the training runs go (default runs/reproduce_<mode>)")
    p.add_argument("--seed", type=int, help="train from this seed (a seed check): runs/reproduce_<mode>_seed<N>, "
                                            "results/reproduction_<mode>_seed<N>.json")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--export-pretrained", action="store_true",
                   help=f"afterwards, ship the best {' and '.join(PRETRAINED)} as mtass_lite/pretrained/<name>_lite.pt")
    a = p.parse_args(argv)
    try:
        summary = reproduce(a.mode, a.models, a.data, a.runs, results_name=a.out, cpu_minutes=a.cpu_minutes, progress=not a.no_progress,
                            seed=a.seed)
    except KeyboardInterrupt as e:  # the checkpoint is kept: the same command continues
        print(f"[reproduce] stopped: {e}", file=sys.stderr)
        return 130
    if set(summary["models"]) <= set(MODEL_NAMES):  # the figure sets ours beside the paper's five
        plot_reproduction(summary, a.out or (f"sdri_{a.mode}" + ("" if a.seed is None else f"_seed{a.seed}")))
    if a.export_pretrained:
        for path in export_pretrained(mode=a.mode, run_root=a.runs):
            print("[reproduce] shipped", path.relative_to(REPO_ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
