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
# # Solutions · 06 GCRN: complex spectral mapping with a gated convolutional recurrent network
#
# Worked solutions to the exercises of chapter 06 (`chapters/06_gcrn.ipynb`), for the lecturer and
# for students checking their own work. Every number and every verdict below is computed when the
# notebook runs.
#
# **Budget.** The exercises are about the chapter's fast setup: the lite GCRN on MTASS-tiny, trained
# in steps with the chapter's recipe (`mtass_lite.course`: exercise 1 doubles the chapter's budget
# `CHAPTER_STEPS`; exercise 2 trains 300 steps per variant; both validated like the chapter,
# `CHAPTER_VALIDATION`; the first line printed below gives the numbers). `MTASS_MODE=full` runs exactly
# that. In the default fast mode every budget is cut
# to a few dozen steps, validated every 10 steps on 5 dev mixtures, so that this notebook runs in about
# a minute and a half: that **only shows the mechanics** — what a few dozen steps say about the trained
# models is nothing. Each training section prints its measured seconds per step (wall time: it
# depends on the machine's load) and how long the full budget takes at that pace; the chapter's cost
# labels are CPU times.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import contextlib
import io
import math
from unittest import mock

import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import Markdown, display
from torch import nn

import mtass_lite
from mtass_lite import REPO_ROOT, TRACKS, checks
from mtass_lite.baselines import ScaledMixture
from mtass_lite.course import CHAPTER_STEPS, CHAPTER_VALIDATION, chapter_config
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.evaluate import evaluate_model
from mtass_lite.models import MODEL_NAMES, build_model, model_config
from mtass_lite.models import gcrn as gcrn_module
from mtass_lite.models.gcrn import GCRN, GatedConv2d, GroupedLSTM
from mtass_lite.profile import count_params
from mtass_lite.train import Trainer

FAST = mtass_lite.get_mode(MTASS_MODE) == "fast"
PLAIN_FULL_STEPS = 300  # exercise 2's budget per variant, as the exercise states it
BASE_STEPS = 30 if FAST else CHAPTER_STEPS  # exercise 1: the chapter's budget, then doubled
PLAIN_STEPS = 30 if FAST else PLAIN_FULL_STEPS  # exercise 2: steps per variant
VALID_EVERY, VALID_ITEMS = ((10, 5) if FAST
                            else (CHAPTER_VALIDATION["valid_every"], CHAPTER_VALIDATION["valid_items"]))
root = ensure_tiny(progress=False)  # the exercises are about the lite model on MTASS-tiny, in both modes
print(f"mode {MTASS_MODE}: exercise 1 {BASE_STEPS} -> {2 * BASE_STEPS} steps (full budget {CHAPTER_STEPS} -> "
      f"{2 * CHAPTER_STEPS}), exercise 2 {PLAIN_STEPS} steps per variant (full budget {PLAIN_FULL_STEPS}); "
      f"dev SDRi every {VALID_EVERY} steps on {VALID_ITEMS} mixtures")


def run_dir(tag):
    """<repo>/runs/solutions/06/<tag> (git-ignored), relative to this notebook: no machine path printed."""
    return os.path.relpath(REPO_ROOT / "runs" / "solutions" / "06" / tag)


def fit(tag, steps, model="gcrn", resume=False):
    """Train like the chapter (``chapter_config``: fast preset, Adam 1e-3, SNR loss, 4 x 4-s crops), with
    ``steps`` steps and this notebook's validation, bounded in steps only (no wall-clock cap).
    ``resume="auto"`` continues the run in ``tag``'s folder. Returns the run summary and its log."""
    cfg = chapter_config("gcrn", out_dir=run_dir(tag), max_steps=steps, max_minutes=None,
                         valid_every=VALID_EVERY, valid_items=VALID_ITEMS)
    with contextlib.redirect_stdout(io.StringIO()):  # the trainer's status lines; we print our own
        run = Trainer(model, root, cfg, resume=resume).fit()
    return run, pd.read_csv(run["log"])


def seconds_per_step(log):
    return float(log["seconds"].diff().median())


def minutes(steps, s_per_step):
    return math.ceil(steps * s_per_step / 60)


def dev_sdri(log, step):
    """Dev SDRi per track (dB) recorded at ``step``."""
    row = log.loc[log["step"] == step].iloc[0]
    return pd.Series({t: row[f"valid_sdri_{t}"] for t in TRACKS})


# "mixture / 3" on the same dev mixtures as the validations: the floor that a separating model must beat
floor = pd.Series({t: evaluate_model(ScaledMixture(), root, "dev", max_items=VALID_ITEMS, progress=False)
                   ["summary"]["sdri"][t]["mean"] for t in TRACKS})

# %% [markdown]
# ## Exercise 1
# Double the budget and re-run (`chapter_config("gcrn", max_steps=2 * CHAPTER_STEPS)`: training resumes
# where the first run stopped). Which track gains most? Does the model still beat "mixture / 3" on the
# same tracks?
#
# The first call trains `BASE_STEPS` steps from scratch; the second, with twice the budget and the same
# run folder, resumes from the last checkpoint — the model, the optimiser state and the data order
# continue exactly where they stopped. We read each track's dev SDRi at both budgets from the log.

# %%
run1, log1 = fit("gated", BASE_STEPS)
run2, log2 = fit("gated", 2 * BASE_STEPS, resume="auto")
assert run2["resumed_from"] == BASE_STEPS
before, after = dev_sdri(log2, BASE_STEPS), dev_sdri(log2, 2 * BASE_STEPS)
ex1 = pd.DataFrame({f"dev SDRi @ {BASE_STEPS}": before, f"dev SDRi @ {2 * BASE_STEPS}": after,
                    "gain": after - before, "mixture / 3": floor,
                    f"beats mixture/3 @ {BASE_STEPS}": before > floor,
                    f"beats mixture/3 @ {2 * BASE_STEPS}": after > floor})
print(f"dB on the first {VALID_ITEMS} dev mixtures")
print(ex1.to_string(float_format=lambda v: f"{v:.2f}"))
step_s = seconds_per_step(log2)

# %%
best_track = ex1["gain"].idxmax()
same = (ex1.iloc[:, 4] == ex1.iloc[:, 5]).all()
beaten = [t for t in TRACKS if ex1.loc[t].iloc[5]]
display(Markdown(
    f"Doubling the budget from {BASE_STEPS} to {2 * BASE_STEPS} steps, **{best_track}** gains most "
    f"({ex1.loc[best_track, 'gain']:+.2f} dB; the three gains: "
    + ", ".join(f"{t} {ex1.loc[t, 'gain']:+.2f}" for t in TRACKS) + " dB). "
    + (f"The tracks that beat \"mixture / 3\" are {'the same' if same else '**not** the same'} at both budgets "
       f"({', '.join(beaten) if beaten else 'none'} at {2 * BASE_STEPS} steps).")
    + (" *Fast budget: these few dozen steps only show the mechanics of resuming; run with "
       f"`MTASS_MODE=full` for the exercise's {CHAPTER_STEPS} → {2 * CHAPTER_STEPS} steps.*" if FAST else "")))
print(f"cost: {step_s:.2f} s/step here; the extra {CHAPTER_STEPS} steps of the exercise ≈ "
      f"{minutes(CHAPTER_STEPS, step_s)} min at this pace")

# %% [markdown]
# Read the verdict against "mixture / 3", not the gains alone: an SDRi gain that leaves a track below
# that floor is no separation yet.
#
# ## Exercise 2
# Replace the gate by a plain convolution (`conv(x)` only) in a copy of `GatedConv2d`, train both for
# the same number of steps and compare the dev SDRi curves.
#
# The copy subclasses `GatedConv2d`, deletes the gate and returns `conv(x)`; `checks.ex06_2` compares
# it with the library layer's `conv`. `GCRN` builds its layers from the module-level name
# `GatedConv2d`, so patching that name while the model is built swaps every encoder and decoder layer.
# The gated curve is the first `PLAIN_STEPS` steps of exercise 1's run (same seed, same data order).

# %%
class PlainConv2d(GatedConv2d):
    """GatedConv2d without the gate: ``conv(x)``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.gate

    def forward(self, x):
        return self.conv(x)


assert checks.ex06_2(PlainConv2d)
torch.manual_seed(0)  # the trainer seeds registry models itself (seed 0); this one we seed by hand
with mock.patch.object(gcrn_module, "GatedConv2d", PlainConv2d):
    plain = GCRN(**model_config("gcrn", "lite"))
gated_params = count_params(build_model("gcrn", "lite"))
print(f"parameters: gated {gated_params:,}, plain {count_params(plain):,} "
      f"({count_params(plain) / gated_params - 1:+.0%})")
run_plain, log_plain = fit("plain", PLAIN_STEPS, model=plain)
plain_s = seconds_per_step(log_plain)

# %%
curves = {"gated": log2[log2["step"] <= PLAIN_STEPS].dropna(subset=["valid_sdri"]),
          "plain conv": log_plain.dropna(subset=["valid_sdri"])}
fig, axes = plt.subplots(1, 3, figsize=(11, 3), sharey=True)
for ax, t in zip(axes, TRACKS):
    for label, c in curves.items():
        ax.plot(c["step"], c[f"valid_sdri_{t}"], "o-", label=label)
    ax.axhline(floor[t], ls=":", c="gray", label="mixture / 3")
    ax.set(title=t, xlabel="step")
axes[0].set_ylabel("dev SDRi (dB)")
axes[0].legend()
fig.tight_layout()

# %%
ex2 = pd.DataFrame({label: c.set_index("step")[[f"valid_sdri_{t}" for t in TRACKS]].iloc[-1].set_axis(TRACKS)
                    for label, c in curves.items()})
ex2["plain − gated"] = ex2["plain conv"] - ex2["gated"]
print(f"dev SDRi at step {PLAIN_STEPS} (dB)")
print(ex2.to_string(float_format=lambda v: f"{v:.2f}"))
mean_d = ex2["plain − gated"].mean()
display(Markdown(
    f"After {PLAIN_STEPS} steps the plain convolutions are {abs(mean_d):.2f} dB "
    f"{'below' if mean_d < 0 else 'above'} the gated ones on average over the tracks, with "
    f"{abs(count_params(plain) / gated_params - 1):.0%} fewer parameters and "
    f"{plain_s / step_s:.2f}× the gated model's step time."
    + (" *Fast budget: a difference after a few dozen steps is noise; run `MTASS_MODE=full` for the "
       f"exercise's {PLAIN_FULL_STEPS} steps, and compare several seeds before concluding.*" if FAST else "")))
print(f"cost: {plain_s:.2f} s/step (plain) and {step_s:.2f} s/step (gated) here; {PLAIN_FULL_STEPS} steps of "
      f"each ≈ {minutes(PLAIN_FULL_STEPS, plain_s + step_s)} min at this pace")

# %% [markdown]
# The gate lets every layer pass or block each channel at each time-frequency point (a gated linear
# unit, Dauphin et al. 2017, which Tan & Wang adopt to control the information flow); dropping it
# removes half of the convolutions. One run per variant is one seed: before calling a difference of a
# few tenths of a dB, repeat both with another `seed`.
#
# ## Exercise 3
# Build the lite model with `n_fft=512, hop=256`. How many bins reach the LSTM, and how does the
# parameter count change? Predict first.
#
# **Prediction.** 512 points give $512/2 + 1 = 257$ bins; each encoder layer maps $F \mapsto
# \lfloor (F-3)/2 \rfloor + 1$. What depends on the bins: the grouped LSTM's width (32 channels × the
# remaining bins, in two groups) and the output layers (one bins × bins linear map plus a bias per
# track and part, Re and Im). The convolutions and norms do not change.

# %%
bins = [512 // 2 + 1]
for _ in range(5):
    bins.append((bins[-1] - 3) // 2 + 1)
n_bins = bins[-1]


def lstm_params(features, groups=2, layers=2):
    """By hand: per layer and group an LSTM of h = features / groups units, 4 gates x (h x (h + h) + 2h),
    plus a LayerNorm (gain and bias) over all features per layer."""
    h = features // groups
    return layers * (groups * 4 * (h * 2 * h + 2 * h) + 2 * features)


def output_params(n):
    return 2 * 3 * (n * n + n)  # (Re, Im) x 3 tracks


c_last = model_config("gcrn", "lite")["channels"][-1]
default = build_model("gcrn", "lite")
predicted = (count_params(default) - lstm_params(c_last * 4) - output_params(161)
             + lstm_params(c_last * n_bins) + output_params(bins[0]))
model512 = build_model("gcrn", "lite", n_fft=512, hop=256)
n_params = count_params(model512)
assert checks.ex06_3(n_bins, n_params)
print("bins after each encoder layer:", bins)
print(f"predicted {predicted:,} parameters, count_params {n_params:,} "
      f"(default 320-point STFT: {count_params(default):,}, x{n_params / count_params(default):.1f})")
print(f"of the increase: grouped LSTM {count_params(model512.lstm) - count_params(default.lstm):+,}, "
      f"output layers {output_params(bins[0]) - output_params(161):+,}")

# %% [markdown]
# The increase is all in the two parts that see the frequency axis whole. This is why the chapter keeps
# the original 320/160 front end: at paper size, 257 bins would leave 7 bins × 256 channels = 1,792 LSTM
# features instead of 1,024, roughly three times the LSTM weights, and the MTASS table's parameter count
# would no longer be reproduced.
#
# ## Exercise 4
# GCRN is causal. Which other model of the course could run frame by frame on a live stream, and what
# would it take to make the grouped LSTM bidirectional?
#
# **A test of causality.** Flip the sign of the input after time $t_0$ and find the first output sample
# that changes. A causal model leaves everything before $t_0$ (minus its frame's look-ahead) untouched.
# Flipping the sign keeps the clip's RMS, so the level normalisation of our GCRN wrapper (over the whole
# clip, which a streaming version would replace by a running level) does not hide the answer.

# %%
def first_change(model, x, t0):
    """First output sample that changes (at all) when the input's sign is flipped from ``t0`` on, and the
    largest change more than 20 ms before ``t0``, relative to the output's peak."""
    flipped = x.clone()
    flipped[..., t0:] *= -1
    with torch.no_grad():
        a, b = model(x), model(flipped)
    changed = (a != b).any(dim=1)[0].nonzero()
    first = int(changed[0]) if len(changed) else None
    return first, float((a - b)[..., :t0 - 320].abs().max() / a.abs().max())


x = MTASSDataset(root, "test")[0][0][None, :32000]  # 2 s of the first test mixture
t0 = 24000
rows = {}
for name in MODEL_NAMES:
    torch.manual_seed(0)
    first, past = first_change(build_model(name, "lite").eval(), x, t0)
    rows[name] = {"first changed output sample": first, "look-ahead (ms)": round((t0 - first) / 16, 1),
                  "largest earlier change (rel.)": f"{past:.1e}", "causal (<= 20 ms look-ahead)": t0 - first <= 320}
causality = pd.DataFrame(rows).T
print(f"input sign flipped from sample {t0} on (1.5 s); untrained lite models")
print(causality.to_string())

# %% [markdown]
# A bidirectional grouped LSTM: each group's LSTM runs both ways with half the units per direction, so
# the concatenated output keeps the group's width and the LayerNorm and decoders stay as they are.

# %%
class BiGroupedLSTM(GroupedLSTM):
    """GroupedLSTM whose per-group LSTMs are bidirectional, ``h / 2`` units each way (width kept)."""

    def __init__(self, features: int, groups: int = 2, layers: int = 2):
        super().__init__(features, groups, layers)
        h = features // groups
        self.lstms = nn.ModuleList(
            nn.ModuleList(nn.LSTM(h, h // 2, batch_first=True, bidirectional=True) for _ in range(groups))
            for _ in range(layers))


torch.manual_seed(0)
bi = build_model("gcrn", "lite").eval()
features = bi.lstm.norms[0].normalized_shape[0]
bi.lstm = BiGroupedLSTM(features, bi.lstm.groups, len(bi.lstm.lstms))
bi.eval()
first_bi, past_bi = first_change(bi, x, t0)
print(f"grouped LSTM parameters: one-way {count_params(default.lstm):,}, bidirectional {count_params(bi.lstm):,}; "
      f"whole model {count_params(default):,} -> {count_params(bi):,}")
print(f"bidirectional GCRN: first changed output sample {first_bi} (flip at {t0}); largest change more than "
      f"20 ms before the flip {past_bi:.1e} of the output's peak")

# %%
others = [n for n in MODEL_NAMES if n != "gcrn" and causality.loc[n, "causal (<= 20 ms look-ahead)"]]
display(Markdown(
    f"Measured: GCRN's output changes only from sample {causality.loc['gcrn', 'first changed output sample']} "
    f"on, {causality.loc['gcrn', 'look-ahead (ms)']:.0f} ms before the flip (its analysis frame is "
    f"{default.stft.n_fft / 16:.0f} ms long, centred on each hop). Of the other four models, "
    + (f"{', '.join(others)} also pass" if others else "**none** is causal as built")
    + ": " + ", ".join(f"{n} changes from sample {causality.loc[n, 'first changed output sample']}"
                       for n in MODEL_NAMES if n != "gcrn")
    + f". With the bidirectional grouped LSTM, GCRN's output changes from sample {first_bi} on, "
      f"{(t0 - first_bi) / 16000:.2f} s before the flip: the backward LSTM carries the future into the past. "
      f"(Untrained, the change is small, {past_bi:.0e} of the output's peak; training the backward direction "
      f"is what decides how much it is used.)"))

# %% [markdown]
# **Which model could stream.** None of the four others as built here: Conv-TasNet normalises with gLN
# over the whole clip and pads its dilated convolutions on both sides; Demucs has a BiLSTM and centred
# convolutions; D3Net and Complex-MTASSNet convolve over past *and* future frames. The closest is
# **Conv-TasNet**: Luo & Mesgarani give a causal configuration (cumulative layer norm, cLN — already in
# `mtass_lite.models.common` as `CumulativeLayerNorm` — and convolutions padded on the left only, so that
# a frame sees only the past). With those two changes it runs frame by frame with a 2-ms algorithmic
# latency at the paper's window, at some cost in quality (their Table V).
#
# **A bidirectional grouped LSTM** is the class above: `bidirectional=True` with half the units per
# direction keeps the width, so nothing else changes (and the parameters drop slightly, from
# $4\cdot(2h^2 + 2h)$ to $2\cdot 4\cdot(\tfrac{h}{2}\cdot\tfrac{3h}{2} + h)$ per group). The price is
# causality: the backward direction reads the whole clip (or chunk) before the first frame can be
# output, so the latency becomes the chunk length — acceptable offline (`separate_array` already works
# in chunks), not on a live stream.
