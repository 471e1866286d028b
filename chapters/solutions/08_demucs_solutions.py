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
# # Solutions · 08 Demucs: a waveform U-Net with a BiLSTM
#
# Worked solutions to the exercises of chapter 08 (`chapters/08_demucs.ipynb`), for the lecturer and
# for students checking their own work. Every number and every verdict below is computed when the
# notebook runs.
#
# **Budget.** The exercises are about the chapter's fast setup: the lite Demucs on MTASS-tiny with the
# chapter's recipe (`mtass_lite.course`: its fast preset, lr 3e-3 included, validated like the chapter,
# `CHAPTER_VALIDATION`); exercises 1 and 2 train for the chapter's budget `CHAPTER_STEPS`, exercise 4 for
# 300 steps (the first line printed below gives the numbers). `MTASS_MODE=full` runs exactly that. In the
# default fast mode every run is
# cut to 30 steps, validated every 10 steps on 5 dev mixtures, so that this notebook runs in about a
# minute and a half: that **only shows the mechanics** — curves over 30 steps say nothing about the
# trained models. Each training section prints its measured seconds per step (wall time: it depends on
# the machine's load) and how long the full budget takes at that pace; the chapter's cost labels are CPU
# times.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import contextlib
import io
import math

import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import Markdown, display
from torch import nn

import mtass_lite
from mtass_lite import REPO_ROOT, TRACKS, checks
from mtass_lite.baselines import ScaledMixture
from mtass_lite.course import CHAPTER_STEPS, CHAPTER_VALIDATION, chapter_config
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.evaluate import evaluate_model
from mtass_lite.models import build_model, model_config
from mtass_lite.models.demucs import Demucs
from mtass_lite.profile import count_params, macs_per_second
from mtass_lite.train import Trainer, load_config

FAST = mtass_lite.get_mode(MTASS_MODE) == "fast"
SHORT_FULL_STEPS = 300  # exercise 4: "the first 300 steps"
LONG_STEPS = 30 if FAST else CHAPTER_STEPS  # exercises 1 and 2: the chapter's budget
SHORT_STEPS = 30 if FAST else SHORT_FULL_STEPS
VALID_EVERY, VALID_ITEMS = ((10, 5) if FAST
                            else (CHAPTER_VALIDATION["valid_every"], CHAPTER_VALIDATION["valid_items"]))
SHARED_LR = 1e-3  # configs/_base.yaml, kept by the other models' presets; exercise 1 trains Demucs with it
assert load_config("demucs", "fast").lr == 3e-3  # Demucs's fast preset raises it; the labels below say 3e-3
root = ensure_tiny(progress=False)  # the exercises are about the lite model on MTASS-tiny, in both modes
print(f"mode {MTASS_MODE}: {LONG_STEPS} steps for exercises 1-2 (full budget {CHAPTER_STEPS}), {SHORT_STEPS} for "
      f"exercise 4 (full budget {SHORT_FULL_STEPS}); dev SDRi every {VALID_EVERY} steps on {VALID_ITEMS} mixtures")


def run_dir(tag):
    """<repo>/runs/solutions/08/<tag> (git-ignored), relative to this notebook: no machine path printed."""
    return os.path.relpath(REPO_ROOT / "runs" / "solutions" / "08" / tag)


def fit(tag, steps=LONG_STEPS, model="demucs", **settings):
    """Train like the chapter (``chapter_config``: fast preset, SNR loss, 4 x 4-s crops, the preset's lr 3e-3
    unless ``settings`` say otherwise) in its own run folder, with ``steps`` steps and this notebook's
    validation, bounded in steps only (no wall-clock cap). Returns the log and the median seconds per step."""
    cfg = chapter_config("demucs", out_dir=run_dir(tag), max_steps=steps, max_minutes=None,
                         valid_every=VALID_EVERY, valid_items=VALID_ITEMS, **settings)
    with contextlib.redirect_stdout(io.StringIO()):  # the trainer's status lines; we print our own
        run = Trainer(model, root, cfg, resume=False).fit()
    log = pd.read_csv(run["log"])
    return log, float(log["seconds"].diff().median())


def minutes(steps, s_per_step):
    return math.ceil(steps * s_per_step / 60)


def curves(log, until=None):
    """Validation rows of a log (dev SDRi per track), up to step ``until``."""
    v = log.dropna(subset=["valid_sdri"]).set_index("step")
    return v.loc[: until or v.index.max(), [f"valid_sdri_{t}" for t in TRACKS]].set_axis(list(TRACKS), axis=1)


def plot_curves(runs, title):
    fig, axes = plt.subplots(1, 3, figsize=(11, 3), sharey=True)
    for ax, t in zip(axes, TRACKS):
        for label, c in runs.items():
            ax.plot(c.index, c[t], "o-", label=label)
        ax.axhline(floor[t], ls=":", c="gray", label="mixture / 3")
        ax.set(title=t, xlabel="step")
    axes[0].set_ylabel("dev SDRi (dB)")
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()


# "mixture / 3" on the same dev mixtures as the validations: the floor that a separating model must beat
floor = pd.Series({t: evaluate_model(ScaledMixture(), root, "dev", max_items=VALID_ITEMS, progress=False)
                   ["summary"]["sdri"][t]["mean"] for t in TRACKS})
logs, step_s = {}, {}
logs["lr 3e-3 (preset)"], step_s["lr 3e-3 (preset)"] = fit("reference")

# %% [markdown]
# ## Exercise 1
# Re-run the training with the shared `lr=1e-3` (and another run folder) and compare the dev curves
# track by track. Which track needs the higher learning rate?

# %%
logs["lr 1e-3 (shared)"], step_s["lr 1e-3 (shared)"] = fit("lr1e-3", lr=SHARED_LR)
ex1 = {label: curves(logs[label]) for label in ("lr 3e-3 (preset)", "lr 1e-3 (shared)")}
plot_curves(ex1, "Demucs lite: learning rate")
end = pd.DataFrame({label: c.iloc[-1] for label, c in ex1.items()})
end["3e-3 − 1e-3"] = end.iloc[:, 0] - end.iloc[:, 1]
end["mixture / 3"] = floor
print(f"dev SDRi (dB) at step {LONG_STEPS}")
print(end.to_string(float_format=lambda v: f"{v:.2f}"))

# %%
needs = end["3e-3 − 1e-3"].idxmax()
below = [t for t in TRACKS if end.loc[t, "lr 1e-3 (shared)"] <= floor[t]]
at_floor = (f"{', '.join(below)} {'is' if len(below) == 1 else 'are'} still at or below \"mixture / 3\"."
            if below else "every track is above \"mixture / 3\".")
display(Markdown(
    f"At step {LONG_STEPS}, the higher learning rate helps **{needs}** most "
    f"({end.loc[needs, '3e-3 − 1e-3']:+.2f} dB; "
    + ", ".join(f"{t} {end.loc[t, '3e-3 − 1e-3']:+.2f}" for t in TRACKS) + f" dB). At lr 1e-3, {at_floor}"
    + (f" *Fast budget: {LONG_STEPS} steps only show the mechanics; run `MTASS_MODE=full` for the chapter's "
       f"{CHAPTER_STEPS} steps (the observation behind the preset's lr was about the noise track at 500 "
       "steps).*" if FAST else "")))
print(f"cost: {step_s['lr 1e-3 (shared)']:.2f} s/step here; {CHAPTER_STEPS} steps ≈ "
      f"{minutes(CHAPTER_STEPS, step_s['lr 1e-3 (shared)'])} min at this pace (the lr 3e-3 run is the chapter's)")

# %% [markdown]
# Demucs's preset raises the learning rate because the noise track learned slowly at 1e-3 (its estimate
# was still under "mixture / 3" after 500 steps). Compare the tracks at equal steps *and* against the
# floor: a track whose SDRi is still under "mixture / 3" has not started to separate.
#
# ## Exercise 2
# Train the lite model with `resample=True`: the network then runs at 32 kHz. What does it cost per step,
# and does it help within the same number of steps?

# %%
logs["resample x2"], step_s["resample x2"] = fit("resample", model_overrides={"resample": True})
ref, rs = build_model("demucs", "lite"), build_model("demucs", "lite", resample=True)
ex2 = pd.DataFrame({
    "lite (16 kHz)": {"params": count_params(ref), "GMAC/s": macs_per_second(ref) / 1e9,
                      "s/step": step_s["lr 3e-3 (preset)"], **curves(logs["lr 3e-3 (preset)"]).iloc[-1]},
    "lite, resample=True (32 kHz)": {"params": count_params(rs), "GMAC/s": macs_per_second(rs) / 1e9,
                                     "s/step": step_s["resample x2"], **curves(logs["resample x2"]).iloc[-1]},
}).T
print(f"dev SDRi (dB) at step {LONG_STEPS}")
print(ex2.to_string(float_format=lambda v: f"{v:,.2f}"))

# %%
r = ex2.iloc[1] / ex2.iloc[0]
gain = (ex2.iloc[1][list(TRACKS)] - ex2.iloc[0][list(TRACKS)]).mean()
display(Markdown(
    f"Resampling keeps the parameters (x{r['params']:.2f}) and doubles every feature map's length: "
    f"x{r['GMAC/s']:.1f} the MACs, x{r['s/step']:.1f} the step time measured here. After the same "
    f"{LONG_STEPS} steps its dev SDRi is {abs(gain):.2f} dB {'higher' if gain > 0 else 'lower'} on average over "
    f"the tracks."
    + (f" *Fast budget: mechanics only; run `MTASS_MODE=full` for {CHAPTER_STEPS} steps.*" if FAST else "")))
print(f"cost: {step_s['resample x2']:.2f} s/step here; {CHAPTER_STEPS} steps ≈ "
      f"{minutes(CHAPTER_STEPS, step_s['resample x2'])} min at this pace")

# %% [markdown]
# Demucs v2 upsamples its 44.1-kHz input by 2 (the v2 code's `resample`); the lite preset turns it off
# because every feature map doubles in length. Whether the doubled cost pays at 16 kHz is what the
# full-budget comparison answers; at a fixed CPU budget the 16-kHz model gets more steps.
#
# ## Exercise 3
# Set `context=3` in the lite model. Count the extra parameters by hand first (the formula of section 3),
# then with `count_params`.
#
# **By hand.** `context` is the kernel of each decoder level's rewrite convolution `Conv1d(C, 2C, context)`.
# Going from 1 to 3 taps adds two taps of $C \times 2C$ weights per level, $2 \cdot C \cdot 2C = 4C^2$, and
# no bias (a conv has one bias per output channel whatever its kernel). The lite model has 4 levels with
# $C = 24, 48, 96, 192$.

# %%
cfg = model_config("demucs", "lite")
widths = [int(cfg["channels"] * cfg["growth"] ** i) for i in range(cfg["depth"])]
by_hand = sum(2 * c * 2 * c for c in widths)
counted = count_params(build_model("demucs", "lite", context=3)) - count_params(build_model("demucs", "lite"))
print(f"widths {widths}: by hand 4 x ({' + '.join(f'{c}²' for c in widths)}) = {by_hand:,}; "
      f"count_params: {counted:,} ({counted / count_params(build_model('demucs', 'lite')):.1%} of the lite model)")
assert checks.ex08_3(by_hand)

# %% [markdown]
# Per level the extra weights grow with $C^2$, so the deepest level (192 channels) holds
# $192^2 / (24^2 + 48^2 + 96^2 + 192^2) \approx 75\,\%$ of them — the same reason the paper-size model
# gains 22 M parameters (+9 %) with `context=3`.
#
# ## Exercise 4
# Build the lite model without the rescaled initialisation and compare the first training steps of the
# two curves.

# %%
torch.manual_seed(0)  # the trainer seeds registry models with the run's seed (0); the same draw here
plain_init = Demucs(**model_config("demucs", "lite"), rescale=0)
torch.manual_seed(0)
rescaled = build_model("demucs", "lite")
stds = pd.DataFrame({
    name: [float(m.weight.detach().std()) for m in model.modules() if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]
    for name, model in (("PyTorch default", plain_init), ("rescaled (Demucs)", rescaled))})
print("weight std of the convolutions, encoder first: median "
      + ", ".join(f"{k} {v:.3f}" for k, v in stds.median().items()))
logs["no rescale"], step_s["no rescale"] = fit("no_rescale", steps=SHORT_STEPS, model=plain_init)
ex4 = {"rescaled (chapter)": curves(logs["lr 3e-3 (preset)"], SHORT_STEPS), "no rescale": curves(logs["no rescale"])}
plot_curves(ex4, "Demucs lite: rescaled initialisation")
cmp4 = pd.DataFrame({label: c.mean(axis=1) for label, c in ex4.items()})
print("dev SDRi averaged over tracks (dB), per validation step")
print(cmp4.to_string(float_format=lambda v: f"{v:.2f}"))

# %%
d4 = cmp4["rescaled (chapter)"] - cmp4["no rescale"]
display(Markdown(
    f"The rescaling moves the median weight standard deviation of the convolutions from "
    f"{stds.median().iloc[0]:.3f} to {stds.median().iloc[1]:.3f}. Over the first {SHORT_STEPS} steps the "
    f"rescaled model is ahead at {int((d4 > 0).sum())} of {len(d4)} validations (by {d4.mean():+.2f} dB on "
    f"average)."
    + (f" *Fast budget: mechanics only; run `MTASS_MODE=full` for the exercise's {SHORT_FULL_STEPS} steps.*"
       if FAST else "")))
print(f"cost: {step_s['no rescale']:.2f} s/step here; {SHORT_FULL_STEPS} steps ≈ "
      f"{minutes(SHORT_FULL_STEPS, step_s['no rescale'])} min at this pace (the rescaled curve is the chapter's run)")

# %% [markdown]
# Défossez et al. note that the rescaling helps. It changes only the starting point: each convolution's
# weight scale $s$ becomes $\sqrt{0.1\,s}$, the geometric mean of PyTorch's default (standard deviation
# $\approx 1/\sqrt{3\cdot\text{fan-in}}$) and 0.1. Whether that speeds up the first 300 steps is what
# the comparison above measures; with one seed per variant, repeat both with another `seed` before
# calling a difference of a few tenths of a dB.
