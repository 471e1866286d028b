# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Solutions · 09 D3Net: densely connected multi-dilated convolutions
#
# Worked solutions to the exercises of chapter 09 (`chapters/09_d3net.ipynb`). Every number and
# every verdict below is computed when the notebook runs.
#
# **Budget.** The exercises train the lite D3Net with the chapter's recipe for the chapter's budget
# (`mtass_lite.course.CHAPTER_STEPS`) per run (`MTASS_MODE=full` here: lite model, MTASS-tiny, that many
# steps, the whole test split; the first line printed below gives the numbers). The runs skip the
# chapter's validation: each model is scored with its last weights on the test split. In the default
# fast mode every run is cut to a handful of steps and scored on a few test mixtures, so that this
# notebook runs in about a minute and a half: that **only shows the mechanics** — the trends after a
# few steps say nothing about the trained models. Each section prints the measured seconds per step
# and what the full budget costs.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import contextlib
import io
import math
import time

import numpy as np
import pandas as pd
import torch

import mtass_lite
from mtass_lite import REPO_ROOT, SAMPLE_RATE, TRACKS, checks
from mtass_lite.course import CHAPTER_STEPS, chapter_config
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.evaluate import evaluate_model, mean_ci
from mtass_lite.models import build_model, model_config
from mtass_lite.models.d3net import RELEASED_FULL, RELEASED_LOW, D3Net
from mtass_lite.profile import PAPER_TABLE, count_params, macs_per_second
from mtass_lite.results import read_json
from mtass_lite.train import Trainer

FAST = mtass_lite.get_mode(MTASS_MODE) == "fast"
FULL_STEPS = CHAPTER_STEPS  # the chapter's budget, which the exercises ask for
STEPS = 8 if FAST else FULL_STEPS
N_EVAL = 8 if FAST else None  # test mixtures scored per model (None: all 50)
root = ensure_tiny(progress=False)  # the exercises are about the lite model on MTASS-tiny, in both modes
print(f"mode {MTASS_MODE}: {STEPS} steps per run (full budget {FULL_STEPS}), "
      f"{N_EVAL or 'all'} test mixtures per score")


def run_dir(tag):
    """<repo>/runs/solutions/09/<tag> (git-ignored), relative to this notebook: no machine path printed."""
    return os.path.relpath(REPO_ROOT / "runs" / "solutions" / "09" / tag)


def fit(tag, model="d3net", steps=STEPS, resume=False, **settings):
    """Train like the chapter (``chapter_config``: fast preset, Adam 1e-3, SNR loss, 4 x 4-s crops) with
    ``steps`` steps, bounded in steps only (no wall-clock cap) and without validation: the last weights
    are the result. Returns the trained model, the CPU seconds per step (this process's CPU time over
    the run, divided by its steps: unlike wall time, it does not grow when other jobs share the cores)
    and the run summary."""
    cfg = chapter_config("d3net", out_dir=run_dir(tag), max_steps=steps, max_minutes=None, valid_every=0,
                         **settings)
    trainer = Trainer(model, root, cfg, resume=resume)
    cpu = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):  # the trainer's summary line; we print our own
        run = trainer.fit()
    done = run["resumed_from"] or 0  # steps trained before (resume)
    step_s = (time.process_time() - cpu) / (steps - done)  # CPU seconds per step, setup included
    return trainer.model.eval(), step_s, run


def score(model):
    """Per-mixture SDRi on the first N_EVAL test mixtures: DataFrame [mixture x track (+ avg)]."""
    items = evaluate_model(model, root, "test", max_items=N_EVAL, progress=False)["items"]
    df = pd.DataFrame([it["sdri"] for it in items])[list(TRACKS)]
    return df.assign(avg=df.mean(axis=1))


def compare(scores, reference):
    """Mean SDRi per track and the paired difference (avg over tracks) to ``reference``, with a verdict."""
    rows = {}
    for name, s in scores.items():
        row = s.mean().to_dict() | {"verdict": "(reference)"}
        if name != reference:
            d = mean_ci(s["avg"] - scores[reference]["avg"])
            row.update({"Δ avg": d["mean"], "Δ ±95%": d["ci95"],
                        "verdict": "within the test-set CI" if abs(d["mean"]) <= d["ci95"]
                        else ("better" if d["mean"] > 0 else "worse")})
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def warm_up():
    """One forward + backward pass on a training-size batch, so that one-time start-up costs (kernel
    initialisation) are not charged to the first run's CPU seconds per step."""
    torch.manual_seed(0)
    m = build_model("d3net", "lite")
    m(torch.randn(4, 4 * SAMPLE_RATE)).square().mean().backward()


warm_up()


def cpu_minutes(steps, seconds_per_step):
    return math.ceil(steps * seconds_per_step / 60)


# %% [markdown]
# ## Exercise 1
# Build the lite model without multi-dilation and train it for the same number of steps as the
# dilated one. Does the multi-dilation help at this scale?
#
# `build_model` only takes preset keys, so the class is called with the lite preset plus
# `dilated=False`. It has exactly the lite model's parameters: only where the kernels look changes.

# %%
torch.manual_seed(0)  # the trainer seeds the registry model itself; this one we seed by hand
no_dilation = D3Net(**model_config("d3net", "lite"), dilated=False)
checks.ex09_1(no_dilation)

models, step_seconds = {}, {}
models["lite (reference)"], step_seconds["lite (reference)"], _ = fit("lite")
models["no multi-dilation"], step_seconds["no multi-dilation"], _ = fit("no_dilation", model=no_dilation)
scores = {k: score(m) for k, m in models.items()}
ex1 = compare(scores, "lite (reference)")
print(f"SDRi (dB) after {STEPS} steps, {len(scores['lite (reference)'])} test mixtures; "
      "Δ = paired difference to the reference")
print(ex1.to_string(float_format=lambda v: f"{v:.2f}", na_rep=""))

# %%
v = ex1.loc["no multi-dilation"]
print(f"without multi-dilation: Δ avg SDRi {v['Δ avg']:+.2f} ± {v['Δ ±95%']:.2f} dB -> {v['verdict']} "
      f"(after {STEPS} steps{', the fast budget: mechanics only' if FAST else ''})")
print(f"cost: {step_seconds['no multi-dilation']:.2f} CPU s/step here; {FULL_STEPS} steps ≈ "
      f"{cpu_minutes(FULL_STEPS, step_seconds['no multi-dilation'])} CPU-min "
      f"(the dilated reference is the chapter's run)")

# %% [markdown]
# The dilated and undilated networks have the same weights and the same MACs (a dilated 3×3 conv is
# still 9 taps), so any difference is in *where* those taps look. In the lite model the U-Nets'
# pooling also widens the receptive field, which leaves the multi-dilation less to add than in a deep
# plain network. Even at the full budget the verdict above is one run of one seed: chapter 10 shows how
# far two seeds of the same configuration can land apart.
#
# ## Exercise 2
# Train the lite model with one network per track (`shared=False`), three times the cost per step.
# Is it worth it for a fixed number of steps? For a fixed time?
#
# Fixed steps: both models train `STEPS` steps. Fixed time: the shared model continues (the trainer
# resumes from its last checkpoint) until it has spent as much step time as the per-track model.

# %%
per_track = build_model("d3net", "lite", shared=False)
checks.ex09_2(per_track)
print(f"parameters: shared {count_params(models['lite (reference)']):,}, one network per track "
      f"{count_params(per_track):,}")

models["one network per track"], step_seconds["one network per track"], _ = fit(
    "per_track", model_overrides={"shared": False})
ratio = step_seconds["one network per track"] / step_seconds["lite (reference)"]
same_time = max(STEPS + 1, round(STEPS * ratio))
models[f"shared, {same_time} steps (same time)"], _, _ = fit("lite", steps=same_time, resume=True)
for k in ("one network per track", f"shared, {same_time} steps (same time)"):
    scores[k] = score(models[k])
ex2 = compare({k: scores[k] for k in ("lite (reference)", "one network per track",
                                      f"shared, {same_time} steps (same time)")}, "lite (reference)")
print(f"step time: {step_seconds['one network per track']:.2f} CPU s per-track vs "
      f"{step_seconds['lite (reference)']:.2f} CPU s shared ({ratio:.1f}x)")
print(ex2.to_string(float_format=lambda v: f"{v:.2f}", na_rep=""))

# %%
a, b = scores["one network per track"]["avg"], scores[f"shared, {same_time} steps (same time)"]["avg"]
d = mean_ci(a - b)
at_time = ("within the test-set CI" if abs(d["mean"]) <= d["ci95"]
           else ("per-track better" if d["mean"] > 0 else "shared better"))
print(f"fixed steps ({STEPS}): one network per track vs shared -> {ex2.loc['one network per track', 'verdict']}")
print(f"fixed time: per-track ({STEPS} steps) − shared ({same_time} steps) = {d['mean']:+.2f} ± {d['ci95']:.2f} dB "
      f"-> {at_time}")
full_cost = FULL_STEPS * step_seconds["one network per track"] \
    + FULL_STEPS * (ratio - 1) * step_seconds["lite (reference)"]
print(f"cost: {FULL_STEPS} per-track steps + the shared run extended to the same time ≈ "
      f"{math.ceil(full_cost / 60)} CPU-min")

# %% [markdown]
# Three networks triple the parameters and the MACs; the step time grows by the measured ratio
# printed above (the STFT, the data and the optimizer's bookkeeping are shared, and tiny convolutions
# do not run at full arithmetic speed). Separate networks pay off only if the tracks want different
# features *more* than they profit from sharing them: for a fixed number of steps that is the first
# verdict; for a fixed time the shared network gets that ratio more updates, and on a CPU budget that is
# the comparison that matters.
#
# ## Exercise 3
# Move `band_split` from 88 bins (2.75 kHz) to 32 or 128. Which track is most sensitive to where
# the low band ends?
#
# **Fixed in the exercise text:** it said the split "must stay a multiple of 4". What it must be is a
# multiple of `2**levels` of the U-Nets that see each band: the lite low and middle U-Nets pool once
# (a multiple of 2), the paper-size low U-Net pools three times (a multiple of 8). A bin is
# `16000 / 512 = 31.25` Hz wide, so the low band ends at `band_split × 31.25` Hz.

# %%
splits = [32, 128]
cutoffs_khz = [s * SAMPLE_RATE / model_config("d3net", "lite")["n_fft"] / 1000 for s in splits]
checks.ex09_3(splits, cutoffs_khz)
for size, s in (("lite", 30), ("paper", 36)):  # 30 is no multiple of 4, 36 is one
    try:
        build_model("d3net", size, band_split=s)
        print(f"{size}: band_split={s} builds")
    except ValueError as err:
        print(f"{size}: band_split={s} fails: {err}")

ex3_names = {88: "lite (reference)"}
for s in splits:
    ex3_names[s] = f"band_split={s}"
    models[ex3_names[s]], step_seconds[ex3_names[s]], _ = fit(f"split{s}", model_overrides={"band_split": s})
    scores[ex3_names[s]] = score(models[ex3_names[s]])
ex3 = compare({ex3_names[s]: scores[ex3_names[s]] for s in sorted(ex3_names)}, "lite (reference)")
ex3.insert(0, "low band up to (kHz)", [s * SAMPLE_RATE / model_config("d3net", "lite")["n_fft"] / 1000
                                        for s in sorted(ex3_names)])
print(ex3.to_string(float_format=lambda v: f"{v:.2f}", na_rep=""))

# %%
spread = ex3[list(TRACKS)].astype(float).max() - ex3[list(TRACKS)].astype(float).min()
noise = {t: max(mean_ci(scores[ex3_names[s]][t] - scores["lite (reference)"][t])["ci95"] for s in splits)
         for t in TRACKS}
most = spread.idxmax()
print("spread of the mean SDRi over the three splits (dB): "
      + ", ".join(f"{t} {spread[t]:.2f} (paired CI ±{noise[t]:.2f})" for t in TRACKS))
print(f"most sensitive here: {most}; its spread is "
      f"{'larger' if spread[most] > noise[most] else 'no larger'} than the paired test-set CI")
cost = sum(FULL_STEPS * step_seconds[ex3_names[s]] for s in splits)
print(f"cost: {len(splits)} runs × {FULL_STEPS} steps at {np.mean([step_seconds[ex3_names[s]] for s in splits]):.2f} "
      f"CPU s/step ≈ {math.ceil(cost / 60)} CPU-min")

# %% [markdown]
# Speech carries most of its energy and its pitch harmonics below ~3 kHz, the music has both bass and
# bright partials, and the synthetic noises are broadband: the low band's own U-Net works at fine
# resolution on whatever lies below the split, and moving the split changes whose fine structure gets
# it. At a real training budget, read the table above for the answer; in the fast budget it only shows
# the runs work.
#
# ## Exercise 4
# Compute the MAC/s of a D3Net whose growth rates double at each pooling level (the profile the
# table's cost implies) with the table's parameter count. How close do you get to both figures?
#
# Keep the released layers and blocks per level, let the growth rate of each band's U-Net start at
# `g` and double per level down to the bottleneck (and halve on the way up), and search the two
# starting rates (low band, full band) for the count closest to the table's 7.93 M.

# %%
t0 = time.process_time()


def doubling(band, g):
    """``band`` with growth rates g, 2g, 4g, ... at the bottleneck, then back down."""
    n = len(band["growth"])
    L = n // 2
    return {**band, "growth": [g * 2 ** (L - abs(L - i)) for i in range(n)]}


table = PAPER_TABLE["d3net"]
counts = {(gl, gf): count_params(build_model("d3net", "paper", low=doubling(RELEASED_LOW, gl),
                                             full=doubling(RELEASED_FULL, gf)))
          for gl in (1, 2, 3, 4) for gf in (1, 2, 3)}
g_low, g_full = min(counts, key=lambda k: abs(counts[k] / (table["params_m"] * 1e6) - 1))
low, full = doubling(RELEASED_LOW, g_low), doubling(RELEASED_FULL, g_full)
torch.manual_seed(0)
doubled = build_model("d3net", "paper", low=low, full=full)
params, gmac = count_params(doubled), macs_per_second(doubled) / 1e9
checks.ex09_4(low, full, params, gmac)
cpu_s = time.process_time() - t0

print(pd.Series({f"low g={gl}, full g={gf}": n / 1e6 for (gl, gf), n in counts.items()},
                name="params (M)").round(2).to_string())
print(f"closest to {table['params_m']} M: low {low['growth']}, full {full['growth']}")
print(pd.DataFrame({"doubling growth": {"params (M)": params / 1e6, "GMAC/s": gmac,
                                        "MAC per param per s": gmac * 1e9 / params},
                    "MTASS table": {"params (M)": table["params_m"], "GMAC/s": table["gmac_per_s"],
                                    "MAC per param per s": table["gmac_per_s"] / table["params_m"] * 1e3}}).T
      .round(2).to_string())
released = next(r for r in read_json("profile")["models"] if r["model"] == "d3net" and r["size"] == "paper")
print(f"against the table: parameters {params / (table['params_m'] * 1e6) - 1:+.1%}, "
      f"MAC/s {gmac / table['gmac_per_s']:.2f}x; the released (flat) profile at paper size: "
      f"{released['macs_per_second'] / 1e9 / table['gmac_per_s']:.2f}x (results/profile.json)")
print(f"this cell: {cpu_s:.0f} s of CPU")

# %% [markdown]
# Doubling the growth rate per level puts most weights at coarse resolutions, where each is used
# fewer times per second of audio: the line above says how far that moves the cost at the table's
# parameter count, next to the flat profile the authors released (the one chapter 09 counts).
