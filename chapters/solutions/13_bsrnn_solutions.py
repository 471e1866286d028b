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
# # Solutions · 13 A sixth model for two CPU cores: the band-split RNN
#
# Worked solutions to the exercises of chapter 13 (`chapters/13_bsrnn.ipynb`), for the lecturer and for
# students checking their own work. Every number and every verdict below is computed when the notebook
# runs.
#
# **Budget.** The exercises are about the chapter's fast setup: the lite BSRNN on MTASS-tiny, trained
# with the chapter's recipe (`mtass_lite.course`): the chapter's budget `CHAPTER_STEPS` per run,
# validated like the chapter (`CHAPTER_VALIDATION`), each model then scored on the whole test split
# (the first line printed below gives the numbers). `MTASS_MODE=full` runs exactly that. In the default
# fast mode the runs are cut to 16 steps (8 for the costly paper-band run), validated every 4 steps on
# 5 dev mixtures and scored on the first 8 test mixtures, so that this notebook runs in about a minute:
# that **only shows the mechanics** — after a few steps every variant is still close to where it
# started. Each training section prints its measured seconds per step (wall time of the training
# steps: it depends on the machine's load) and how long the full budget takes at that pace; the
# chapter's cost labels are CPU times on one thread.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import contextlib
import io
import math
import time

import pandas as pd
import torch
from IPython.display import Markdown, display

import mtass_lite
from mtass_lite import REPO_ROOT, SAMPLE_RATE, TRACKS
from mtass_lite.course import CHAPTER_STEPS, CHAPTER_VALIDATION, chapter_config
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.evaluate import evaluate_model, mean_ci
from mtass_lite.models import build_model, model_config
from mtass_lite.models.bsrnn import BSRNN, PAPER_BANDS
from mtass_lite.profile import count_params, macs_per_second
from mtass_lite.train import Trainer

FAST = mtass_lite.get_mode(MTASS_MODE) == "fast"
FULL_STEPS = CHAPTER_STEPS  # the chapter's budget, which the exercises ask for
STEPS = 16 if FAST else FULL_STEPS
PB_STEPS = 8 if FAST else FULL_STEPS  # the paper's 30 bands cost about twice as much per step
VALID_EVERY, VALID_ITEMS = ((4, 5) if FAST
                            else (CHAPTER_VALIDATION["valid_every"], CHAPTER_VALIDATION["valid_items"]))
N_TEST = 8 if FAST else None  # test mixtures scored per model (None: the whole split)
root = ensure_tiny(progress=False)  # the exercises are about the lite model on MTASS-tiny, in both modes
print(f"mode {MTASS_MODE}: {STEPS} steps per run ({PB_STEPS} for the paper bands; full budget {FULL_STEPS}), "
      f"dev SDRi every {VALID_EVERY} steps on {VALID_ITEMS} mixtures, {N_TEST or 'all'} test mixtures per score")


def run_dir(tag):
    """<repo>/runs/solutions/13/<tag> (git-ignored), relative to this notebook: no machine path printed."""
    return os.path.relpath(REPO_ROOT / "runs" / "solutions" / "13" / tag)


def fit(tag, steps=STEPS, model="bsrnn", resume=False, **settings):
    """Train like the chapter (``chapter_config``: the bsrnn fast preset, Adam 1e-3, SNR loss, 4 x 4-s
    crops) in its own run folder, with ``steps`` steps and this notebook's validation, bounded in steps
    only (no wall-clock cap). ``resume=True`` continues the run folder's last checkpoint (on CPU the
    weights are those of an uninterrupted run). Returns the model with its last weights (eval mode), the
    log and the median seconds per training step."""
    cfg = chapter_config("bsrnn", out_dir=run_dir(tag), max_steps=steps, max_minutes=None,
                         valid_every=VALID_EVERY, valid_items=VALID_ITEMS, **settings)
    trainer = Trainer(model, root, cfg, resume=resume)
    with contextlib.redirect_stdout(io.StringIO()):  # the trainer's status lines; we print our own
        run = trainer.fit()
    log = pd.read_csv(run["log"])
    return trainer.model.eval(), log, float(log["seconds"].diff().median())


def dev_sdri(log, step):
    """Dev SDRi per track and averaged (dB) recorded at ``step``."""
    row = log.loc[log["step"] == step].iloc[0]
    return pd.Series({**{t: row[f"valid_sdri_{t}"] for t in TRACKS}, "avg": row["valid_sdri"]})


def test_sdri(model):
    """Per-mixture SDRi on the first N_TEST test mixtures: DataFrame [mixture x track (+ avg)]."""
    items = evaluate_model(model, root, "test", max_items=N_TEST, progress=False)["items"]
    df = pd.DataFrame([it["sdri"] for it in items])[list(TRACKS)]
    return df.assign(avg=df.mean(axis=1))


def paired(a, b):
    """Paired difference of the average SDRi (a − b) over the test mixtures, with a verdict."""
    d = mean_ci(a["avg"] - b["avg"])
    verdict = ("within the test-set CI" if abs(d["mean"]) <= d["ci95"]
               else ("better" if d["mean"] > 0 else "worse"))
    return d["mean"], d["ci95"], verdict


def fmt(v, digits=2):
    """Table cells: counts as integers with thousands separators, other values with ``digits`` decimals."""
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.{digits}f}"


def minutes(steps, s_per_step):
    return math.ceil(steps * s_per_step / 60)


def parts(m):
    """Parameters of the three stages of a BSRNN."""
    return {"band split": count_params(m.band_split), "blocks": count_params(m.blocks),
            "mask estimation": count_params(m.mask)}


# %% [markdown]
# ## Exercise 1
# Train the lite model with the paper's finer bands (`model_overrides={"bands": PAPER_BANDS}`, its own
# run folder) for the same steps. How much does the step cost grow, and what happens to the music track?
#
# The reference is the chapter's lite model, trained first for the paper-band run's steps and scored
# there, then continued (resumed) to the full step count for exercise 2.

# %%
models, logs, step_s, scores = {}, {}, {}, {}
models["lite"], logs["lite"], step_s["lite"] = fit("reference", steps=PB_STEPS)
scores["lite"] = test_sdri(models["lite"])
models["paper bands"], logs["paper bands"], step_s["paper bands"] = fit(
    "paper_bands", steps=PB_STEPS, model_overrides={"bands": PAPER_BANDS})
scores["paper bands"] = test_sdri(models["paper bands"])

ex1 = {}
for label in ("lite", "paper bands"):
    m = models[label]
    ex1[label] = {"bands": m.n_bands, "params": count_params(m), **parts(m),
                  "GMAC/s": macs_per_second(m) / 1e9, "s/step": step_s[label],
                  "dev SDRi avg": dev_sdri(logs[label], PB_STEPS)["avg"],
                  **scores[label].mean().add_prefix("test SDRi ").to_dict()}
ex1 = pd.DataFrame(ex1).T
print(f"after {PB_STEPS} steps each; dev SDRi on {VALID_ITEMS} dev mixtures, test SDRi (dB) on "
      f"{len(scores['lite'])} test mixtures")
print(ex1.to_string(float_format=fmt))

# %%
r = ex1.loc["paper bands"] / ex1.loc["lite"]
dt = ex1.loc["paper bands"] - ex1.loc["lite"]
d1, ci1, verdict1 = paired(scores["paper bands"], scores["lite"])
better = "the paper bands" if d1 > 0 else "the lite bands"
verdict1 = verdict1 if verdict1.startswith("within") else f"the paper bands are {verdict1}"
display(Markdown(
    f"The paper's widths cut the 257 bins into {ex1.loc['paper bands', 'bands']:.0f} bands instead of "
    f"{ex1.loc['lite', 'bands']:.0f}: x{r['params']:.2f} the parameters (the blocks' BLSTMs, shared by all "
    f"bands, change by {dt['blocks']:+,.0f}; the band split changes by {dt['band split']:+,.0f} and "
    f"the per-band mask heads by {dt['mask estimation']:+,.0f}), x{r['GMAC/s']:.2f} the MACs and "
    f"x{r['s/step']:.2f} the step time measured here. After {PB_STEPS} steps each, the music track's test "
    f"SDRi moves by {dt['test SDRi music']:+.2f} dB (speech {dt['test SDRi speech']:+.2f}, noise "
    f"{dt['test SDRi noise']:+.2f}); on average {better} score higher, by {abs(d1):.2f} dB "
    f"(paper − lite, paired: {d1:+.2f} ± {ci1:.2f} dB, 95 % CI: {verdict1})."
    + (f" *Fast budget: after {PB_STEPS} steps this comparison only shows the mechanics; the step-time "
       f"and MAC ratios are the robust part of the answer. Run `MTASS_MODE=full` for {FULL_STEPS} steps.*"
       if FAST else "")))
low = {label: (models[label].edges[1] - models[label].edges[0]) * SAMPLE_RATE / 512 for label in ex1.index}
print("lowest band: " + ", ".join(f"{label} {low[label]:.0f} Hz "
                                  f"({models[label].edges[1] - models[label].edges[0]} bins)" for label in ex1.index))
print(f"cost: {step_s['paper bands']:.2f} s/step here; {FULL_STEPS} steps ≈ "
      f"{minutes(FULL_STEPS, step_s['paper bands'])} min at this pace (the lite run is the chapter's, "
      f"{step_s['lite']:.2f} s/step here)")

# %% [markdown]
# Both BLSTMs of a block run over every (band, frame) pair, so twice the bands is about twice the
# recurrent work (the time BLSTM runs twice as many sequences, the band BLSTM sequences twice as long),
# and the mask heads, one MLP per band, double too; the step time follows the MACs only roughly (small
# LSTMs and many small per-band Linears do not run at full arithmetic speed). What the finer bands buy is
# frequency resolution where it matters: the low bands are half as wide (the line above gives their
# widths), so a band holds fewer harmonics of a low note, and the band BLSTM can follow harmonics more
# nearly one by one. That helps the tonal tracks (music, and voiced speech) more than the
# broadband noise — if the training budget lets the model learn it; at a fixed CPU budget the lite bands
# buy twice the steps instead, the trade chapter 13's section 8 measures.
#
# ## Exercise 2
# Replace the band BLSTM by nothing (a subclass whose blocks only run `time_rnn`): how much of the
# score comes from modelling across bands?
#
# The subclass drops the band BLSTMs (so their weights are not counted) and overrides `masks` with the
# time half of `BandSequenceBlock.forward`. It is built with the lite preset's keyword arguments and the
# seed the trainer gives the reference; the reference run is continued to the same number of steps.

# %%
class TimeOnlyBSRNN(BSRNN):
    """BSRNN without the band BLSTM: every band is modelled along time only."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for block in self.blocks:
            del block.band_rnn  # unused: leave its weights out of the model

    def masks(self, X):
        z = self.band_split(torch.view_as_real(X).transpose(1, 2))  # [B, T, F, 2] -> [B, K, T, N]
        B, K, T, N = z.shape
        for block in self.blocks:
            z = block.time_rnn(z.reshape(B * K, T, N)).view(B, K, T, N)  # every band a sequence of T frames
        return torch.view_as_complex(self.mask(z)).permute(0, 2, 3, 1)  # [B, T, S, F] -> [B, S, F, T]


torch.manual_seed(0)  # the trainer seeds the registry model with the run's seed, 0
time_only = TimeOnlyBSRNN(**model_config("bsrnn", "lite"))
with torch.no_grad():  # same interface as the library model: [B, T] -> [B, 3, T]
    assert time_only(torch.randn(2, 8000)).shape == (2, len(TRACKS), 8000)

if STEPS > PB_STEPS:  # continue the reference to STEPS (in full mode it is there already)
    models["lite"], logs["lite"], step_s["lite"] = fit("reference", steps=STEPS, resume=True)
    scores["lite"] = test_sdri(models["lite"])
models["time only"], logs["time only"], step_s["time only"] = fit("time_only", model=time_only)
scores["time only"] = test_sdri(models["time only"])

ex2 = {}
for label in ("lite", "time only"):
    ex2[label] = {"params": count_params(models[label]), "GMAC/s": macs_per_second(models[label]) / 1e9,
                  "s/step": step_s[label], "dev SDRi avg": dev_sdri(logs[label], STEPS)["avg"],
                  **scores[label].mean().add_prefix("test SDRi ").to_dict()}
ex2 = pd.DataFrame(ex2).T
print(f"after {STEPS} steps each; dev SDRi on {VALID_ITEMS} dev mixtures, test SDRi (dB) on "
      f"{len(scores['lite'])} test mixtures")
print(ex2.to_string(float_format=fmt))

# %%
d2, ci2, verdict2 = paired(scores["lite"], scores["time only"])
verdict2 = verdict2 if verdict2.startswith("within") else f"with the band BLSTM {verdict2}"
r2 = ex2.loc["time only"] / ex2.loc["lite"]
dt2 = ex2.loc["lite"] - ex2.loc["time only"]
display(Markdown(
    f"Without the band BLSTM the model keeps {r2['params']:.0%} of the parameters and {r2['GMAC/s']:.0%} of "
    f"the MACs, and its step takes {r2['s/step']:.0%} of the reference's here. Modelling across bands is "
    f"worth {d2:+.2f} ± {ci2:.2f} dB of average test SDRi after {STEPS} steps (paired, 95 % CI: "
    f"{verdict2}); per track " + ", ".join(f"{t} {dt2[f'test SDRi {t}']:+.2f}" for t in TRACKS)
    + " dB."
    + (f" *Fast budget: mechanics only; run `MTASS_MODE=full` for {FULL_STEPS} steps.*" if FAST else "")))
print(f"cost: {step_s['time only']:.2f} s/step here; {FULL_STEPS} steps ≈ "
      f"{minutes(FULL_STEPS, step_s['time only'])} min at this pace")

# %% [markdown]
# Without the band BLSTM nothing in the network connects the bands any more: the band split, the time
# BLSTM (weights shared, but run on each band separately) and the mask heads all work band by band, so
# the model becomes K independent narrow-band separators. It can still follow a band's envelope over
# time, but it cannot use that a harmonic at 200 Hz implies one at 400 Hz, or that noise is broadband;
# what the band BLSTM adds is exactly that evidence. At the same CPU time the time-only model would get
# more steps, so the fair verdict compares at equal minutes, not equal steps.
#
# ## Exercise 3
# Count, from the shapes of section 1, how many LSTM time steps one block runs for a 4-s clip in the lite
# and in the paper configuration, and compare the ratio with the ratio of their GMAC/s.
#
# A block's time BLSTM runs K sequences (one per band) of `frames` steps, its band BLSTM `frames`
# sequences of K steps; each is bidirectional, so both directions count. The reflect-padded STFT gives
# `frames = 1 + samples // hop`; we check that against the models' own STFT.

# %%
clip = 4 * SAMPLE_RATE
t0 = time.process_time()
torch.manual_seed(0)
paper = build_model("bsrnn", "paper")
paper_gmac = macs_per_second(paper, seconds=0.5) / 1e9
paper_macs_s = time.process_time() - t0
torch.manual_seed(0)
cfgs = {"lite": (build_model("bsrnn", "lite"), model_config("bsrnn", "lite")),
        "paper": (paper, model_config("bsrnn", "paper"))}
gmac = {"lite": macs_per_second(cfgs["lite"][0]) / 1e9, "paper": paper_gmac}
ex3 = {}
for size, (m, c) in cfgs.items():
    frames = 1 + clip // c["hop"]
    with torch.no_grad():
        assert m.stft(torch.zeros(1, clip)).shape[-1] == frames
    K, N, H = m.n_bands, c["N"], c["hidden"]
    time_steps, band_steps = 2 * K * frames, 2 * frames * K  # sequences x length x 2 directions
    per_step = 4 * H * (N + H)  # 4 gates, each [H x (N + H)]: input and recurrent weights
    frames_s = 1 + SAMPLE_RATE // c["hop"]  # frames of the 1-s clip macs_per_second counts on
    ex3[size] = {"hop": c["hop"], "frames (4 s)": frames, "bands K": K,
                 "time BLSTM steps": time_steps, "band BLSTM steps": band_steps,
                 "steps per block": time_steps + band_steps, "blocks": c["n_layers"],
                 "steps per network": (time_steps + band_steps) * c["n_layers"], "N": N, "hidden H": H,
                 "MACs per step 4H(N+H)": per_step,
                 "LSTM GMAC/s": 4 * K * frames_s * c["n_layers"] * per_step / 1e9,
                 "GMAC/s": gmac[size], "params": count_params(m)}
ex3 = pd.DataFrame(ex3)
ex3["paper / lite"] = ex3["paper"] / ex3["lite"]
ex3.loc["LSTM share of the MACs"] = ex3.loc["LSTM GMAC/s"] / ex3.loc["GMAC/s"]
ex3.loc["LSTM share of the MACs", "paper / lite"] = float("nan")
print(ex3.to_string(float_format=lambda v: fmt(v, 3), na_rep=""))
print(f"paper GMAC/s from a 0.5-s forward: {paper_macs_s:.1f} s of CPU "
      f"({'under' if paper_macs_s < 20 else 'over'} the 20-s limit set for this exercise)")
del paper, cfgs

# %%
q = ex3["paper / lite"]
display(Markdown(
    f"One block runs {ex3.loc['steps per block', 'lite']:,.0f} LSTM steps on a 4-s clip in the lite "
    f"configuration ({ex3.loc['bands K', 'lite']:.0f} bands × {ex3.loc['frames (4 s)', 'lite']:.0f} frames, "
    f"times 2 BLSTMs × 2 directions) and {ex3.loc['steps per block', 'paper']:,.0f} in the paper's "
    f"({ex3.loc['bands K', 'paper']:.0f} × {ex3.loc['frames (4 s)', 'paper']:.0f}): x{q['steps per block']:.2f}, "
    f"x{q['bands K']:.0f} the bands times x{q['frames (4 s)']:.2f} the frames. With {ex3.loc['blocks', 'paper']:.0f} blocks instead of "
    f"{ex3.loc['blocks', 'lite']:.0f} the network runs x{q['steps per network']:.1f} the steps. The GMAC/s "
    f"grow far more, x{q['GMAC/s']:.0f}: each step of the paper's LSTMs costs "
    f"x{q['MACs per step 4H(N+H)']:.1f} the MACs of a lite step (H = {ex3.loc['hidden H', 'paper']:.0f} "
    f"instead of {ex3.loc['hidden H', 'lite']:.0f}, N = {ex3.loc['N', 'paper']:.0f} instead of "
    f"{ex3.loc['N', 'lite']:.0f}), so the LSTMs alone grow x{q['LSTM GMAC/s']:.0f} (steps × per-step cost). "
    f"The LSTMs are {ex3.loc['LSTM share of the MACs', 'paper']:.0%} of the paper model's MACs and "
    f"{ex3.loc['LSTM share of the MACs', 'lite']:.0%} of the lite model's; the rest (band split, the "
    f"BLSTMs' output Linears, the mask MLPs) has no H² term, so the total ratio, "
    f"x{q['GMAC/s']:.0f}, "
    + ("lies between the step ratio and the LSTM ratio."
       if q["steps per network"] < q["GMAC/s"] < q["LSTM GMAC/s"] else
       f"is not between the step ratio and the LSTM ratio (x{q['steps per network']:.1f}, "
       f"x{q['LSTM GMAC/s']:.0f}).")))

# %% [markdown]
# **Why the MAC ratio also contains the hidden size squared.** Counting time steps counts how often an
# LSTM cell runs, not what one run costs. At every step each of the 4 gates multiplies the input
# (N values) by an H × N matrix and the previous hidden state (H values) by an H × H matrix: 4·H·(N + H)
# MACs per direction. The recurrent part, 4·H², grows with the square of the hidden size, and the
# paper's BLSTMs have many times the lite hidden units on wider features (the table gives H and N).
# So the cost ratio is (ratio of steps) × (ratio of per-step cost): the first factor is
# the shapes of section 1 (bands × frames × blocks), the second the widths — and the second is the larger
# one. This is also why the lite model could widen N without much cost but had to keep K and the frame
# rate low: the steps of an LSTM run one after another, so on a CPU the number of steps sets a floor on
# the time that wider but fewer steps do not.
