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
# # 05 · Training and evaluation
#
# **You will learn**
# - the training loop in plain PyTorch, in about thirty lines: random crops, forward, loss,
#   backward, Adam step — on a tiny STFT-mask separator defined right here,
# - what the engine's `Trainer` adds (seeded data order, validation, checkpoints, resume, a log,
#   step and time budgets), and that it computes *exactly* the same thing as the loop,
# - how the loss decides what a model learns: negative SNR vs negative SI-SDR vs RI-MSE, scored with
#   SDRi **and** SI-SDRi, next to trivial baselines that already score a positive SDRi,
# - how to read a run's `log.csv`, resume an interrupted run, and what separates fast from full mode.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import contextlib
import dataclasses
import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, Markdown, display
from torch import nn

import mtass_lite
from mtass_lite import REPO_ROOT, TRACKS, viz
from mtass_lite.baselines import BASELINES
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.evaluate import evaluate_model
from mtass_lite.losses import get_loss, neg_si_sdr, neg_snr
from mtass_lite.metrics import sdr, sdr_improvement, si_sdr_improvement
from mtass_lite.results import check_committed, read_json, write_json
from mtass_lite.separate import separate_array
from mtass_lite.stft import istft, stft
from mtass_lite.train import Trainer, batch_plan, load_checkpoint, load_config, resolve_device

FAST = mtass_lite.get_mode(MTASS_MODE) == "fast"
root = ensure_tiny(progress=False) if FAST else mtass_lite.data_root() / "mtass"
device = resolve_device("auto")  # CUDA when present: the Trainer makes the same choice
STEPS = 300 if FAST else 5000  # optimizer steps of every training run in this chapter (timed in section 3)
SEGMENT, BATCH = 4.0, 4  # 4-s crops, 4 per step: the engine's defaults (mtass_lite/configs/_base.yaml)


def run_dir(tag: str) -> str:
    """``runs/chapters/05/<tag>`` (git-ignored), relative to this notebook: no machine paths printed."""
    return os.path.relpath(REPO_ROOT / "runs" / "chapters" / "05" / tag)


# %% [markdown]
# ## 1. A tiny separator
# The smallest model that still separates: it reads the mixture STFT (512/256 Hamming, 257 bins,
# chapter 01), runs three 1-D convolutions **over time** with the 257 log-magnitude bins as
# channels, and writes three sigmoid masks (chapter 02's ratio-mask family), one per track. The
# masked spectra go back through the iSTFT. Like every model in the course it maps a mixture
# `[B, T]` to three tracks `[B, 3, T]`.

# %%
class TinyMaskNet(nn.Module):
    """Three real-valued masks from a 1-D conv net over the log-magnitude STFT: ``[B, T] -> [B, 3, T]``."""

    def __init__(self, hidden: int = 64, bins: int = 257):
        super().__init__()
        self.bins = bins
        self.net = nn.Sequential(
            nn.Conv1d(bins, hidden, 3, padding=1), nn.ReLU(),  # 3 frames of context (~48 ms)
            nn.Conv1d(hidden, hidden, 3, padding=2, dilation=2), nn.ReLU(),  # dilated: 7 frames in all
            nn.Conv1d(hidden, 3 * bins, 1),  # one mask per track and bin
        )

    def forward(self, mixture):
        X = stft(mixture)  # [B, F, N] complex
        masks = torch.sigmoid(self.net(torch.log1p(X.abs())))  # [B, 3F, N], in (0, 1)
        return istft(masks.unflatten(1, (3, self.bins)) * X.unsqueeze(1), length=mixture.shape[-1])  # [B, 3, T]


# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
print(f"TinyMaskNet: {sum(p.numel() for p in TinyMaskNet().parameters()):,} parameters; "
      f"output shape for [2, 16000]: {tuple(TinyMaskNet()(torch.zeros(2, 16000)).shape)}")

# %% [markdown]
# ## 2. The loop, by hand
# **The loss.** The MTASS paper scores separations with the plain SNR-form SDR,
# $\mathrm{SDR}(\hat s, s) = 10\log_{10}\frac{\|s\|^2}{\|s-\hat s\|^2}$ (chapter 03). Its negative
# is a loss: minimise $-\sum_k \mathrm{SDR}(\hat s_k, s_k)$ over the three tracks, averaged over
# the batch. Written out, then checked against the library's `get_loss("snr")`:

# %%
def neg_snr_by_hand(estimate, target):
    """Negative plain-SNR SDR in dB per track: ``[B, 3, T] x2 -> [B, 3]``."""
    return -10 * torch.log10(target.pow(2).sum(-1) / (target - estimate).pow(2).sum(-1))


est, ref = torch.randn(2, 3, 8000), torch.randn(2, 3, 8000)
torch.testing.assert_close(neg_snr_by_hand(est, ref).mean(0).sum(), get_loss("snr")(est, ref))

# %% [markdown]
# **The data.** Each step takes `BATCH` random 4-s crops of training mixtures. Which mixtures, and
# where the crops start, come from `batch_plan(step, ...)`: a pure function of `(seed, step)`, so a
# step's batch never depends on what came before (section 6 needs that to resume exactly). Any
# random crops would do for this loop; we use the same plan as the `Trainer` to compare the two.
#
# **The loop.** Forward, loss, `zero_grad`, `backward`, gradient-norm clip (at 5, a guard against
# the occasional huge gradient), Adam step at lr 1e-3 (the released Complex-MTASSNet setting).

# %%
train_set = MTASSDataset(root, "train", segment=SEGMENT)
lengths = [train_set.num_samples(i) for i in range(len(train_set))]

torch.manual_seed(0)  # the initial weights
model = TinyMaskNet().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
history = []
for step in range(1, STEPS + 1):
    mixtures, targets = [], []
    for i, offset in batch_plan(step, lengths, BATCH, train_set.segment_samples, seed=0):
        train_set.set_offsets({i: offset})  # crop mixture i at this offset
        mixture, target = train_set[i]  # [T], [3, T]
        mixtures.append(mixture)
        targets.append(target)
    mix, tgt = torch.stack(mixtures).to(device), torch.stack(targets).to(device)  # [B, T], [B, 3, T]
    loss = neg_snr_by_hand(model(mix), tgt).mean(0).sum()  # mean over the batch, sum over tracks
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
    optimizer.step()
    history.append(loss.item())

first, last = np.mean(history[:10]), np.mean(history[-10:])
print(f"loss (sum over tracks of -SNR, dB): first 10 steps {first:.2f}, last 10 steps {last:.2f}")
assert last < first - 3, "the loss should fall by several dB"

# %% [markdown]
# The untrained net outputs masks near one half, and half the mixture is already a fair guess of
# each track (about +1 dB SDR on this data; section 4's "mixture / 3" baseline is the same idea),
# so the loss starts near −3 dB. It falls by several dB as the masks learn which bins belong to
# which track; step to step it jumps with the four random crops each step sees.
#
# ## 3. The same through the `Trainer`
# `Trainer(model, data_root, config).fit()` runs that loop and adds what a real run needs:
# validation on dev mixtures (mean SDRi) every `valid_every` steps with the best weights kept in
# `best.pt`, `last.pt` for resuming, a `log.csv` row per step, budgets (`max_steps`, `max_minutes`),
# a clear error on a NaN loss, Ctrl-C that saves, several GPUs under `torchrun`. Its settings are a
# `TrainConfig`; `load_config(model, preset, **overrides)` reads them from
# `mtass_lite/configs/`. Our model is not in the registry, so it gets the base settings
# (`_base.yaml`: the loop's batch, crop, lr, clip and loss) and we pass the instance itself.

# %%
def fit(loss: str, tag: str | None = None, resume=False, **settings) -> tuple[nn.Module, dict]:
    """Train a fresh seed-0 TinyMaskNet with ``loss``; return (model, run summary).

    ``resume=False`` starts over in ``runs/chapters/05/<tag>``: every run of this chapter is then
    computed in the same process as the loop it is compared with (section 6 shows resuming).
    """
    settings = {"max_steps": STEPS, "max_minutes": 30, "valid_every": STEPS // 6, "valid_items": 10, **settings}
    cfg = load_config(preset="fast" if FAST else "full", loss=loss, out_dir=run_dir(tag or loss),
                      progress=False, **settings)
    torch.manual_seed(0)
    net = TinyMaskNet()
    with contextlib.redirect_stderr(sys.stdout):  # the Trainer reports on stderr (meant for terminals)
        run = Trainer(net, root, cfg, resume=resume).fit()
    return net, run


models, runs = {}, {}
models["snr"], runs["snr"] = fit("snr")

# %% [markdown]
# Same seed, same batches, same loss, same optimizer: the Trainer's logged losses are the loop's.

# %%
log = pd.read_csv(runs["snr"]["log"])
gap = np.abs(log["loss"].to_numpy() - np.array(history)).max()
print(f"largest difference between the loop's and the Trainer's loss over {STEPS} steps: {gap:.1e} dB")
if FAST:  # on a CPU both runs are deterministic; GPU kernels may differ in the last bits
    assert gap < 1e-3

fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(np.arange(1, STEPS + 1), history, lw=3, alpha=0.4, label="plain PyTorch loop")
ax.plot(log["step"], log["loss"], lw=1, color="k", label="Trainer (log.csv)")
ax.set(xlabel="step", ylabel="loss: Σ −SNR (dB)", title="the same training, twice")
ax.legend()
viz.savefig(fig, "05_loop_vs_trainer")

# %%
train_s = float(log["seconds"].iloc[-1])  # cumulated time in training steps, from the run's log.csv
display(Markdown(f"On this machine ({device.type.upper()}) the Trainer's {len(log)} steps took {train_s:.0f} s "
                 f"in training steps, **{train_s / len(log):.2f} s per step** of {BATCH} × {SEGMENT:.0f}-s crops "
                 "(read from `log.csv`'s `seconds` column; validation not included)."))

# %% [markdown]
# **Listening: before and after training.** The same test mixture through the seed-0 network
# before its first step (masks near one half: three quieter copies of the mixture) and after the
# −SNR run. Each row: the reference, the model's estimate, and the residual (reference − estimate),
# which holds what the model got wrong; SDRi and SI-SDRi of that estimate on this mixture beside it.

# %%
test_set = MTASSDataset(root, "test")
demo_mix, demo_ref = test_set[0]
torch.manual_seed(0)
untrained = TinyMaskNet()  # the initial weights of every run in this chapter


def compare(model, caption):
    estimate = separate_array(model, demo_mix)
    ests, refs, mix64 = torch.as_tensor(estimate).double(), demo_ref.double(), demo_mix.double()
    sc = {t: {"SDRi": float(a), "SI-SDRi": float(b)} for t, a, b in
          zip(TRACKS, sdr_improvement(ests, refs, mix64), si_sdr_improvement(ests, refs, mix64))}
    return viz.listen_compare(demo_mix.numpy(), demo_ref.numpy(), estimate, scores=sc, caption=caption)


with torch.no_grad():
    display(compare(untrained.eval(), "untrained TinyMaskNet (seed 0, step 0)"))
    display(compare(models["snr"].eval(), f"TinyMaskNet after {STEPS} steps with the −SNR loss"))

# %% [markdown]
# **Loading a checkpoint.** Registry models are rebuilt from the name, size and config stored in
# the checkpoint. A model defined in a notebook cannot be rebuilt from a name, so
# `load_checkpoint` asks for an instance and fills in its weights:

# %%
try:
    load_checkpoint(runs["snr"]["best_checkpoint"])
except ValueError as err:
    print("without model=:", str(err).split(";")[1].strip())
best, ckpt = load_checkpoint(runs["snr"]["best_checkpoint"], model=TinyMaskNet())
print(f"best.pt: step {ckpt['step']}, dev SDRi {ckpt['valid']['valid_sdri']:.2f} dB")

# %% [markdown]
# ## 4. Losses compared
# Three objectives a separation net can minimise, summed over the tracks (`mtass_lite.losses`):
#
# | name | per track | cares about the output's gain? |
# |---|---|---|
# | `snr` | $-10\log_{10}\frac{\lVert s\rVert^2}{\lVert s-\hat s\rVert^2}$ | yes: the twin of the paper's SDRi |
# | `si_sdr` | $-10\log_{10}\frac{\lVert\alpha s\rVert^2}{\lVert\alpha s-\hat s\rVert^2},\ \alpha=\frac{\langle\hat s,s\rangle}{\lVert s\rVert^2}$ (Le Roux et al. 2019) | **no** |
# | `ri_mse` | mean of $(\mathrm{Re}\,\hat S-\mathrm{Re}\,S)^2+(\mathrm{Im}\,\hat S-\mathrm{Im}\,S)^2$ over the STFT | yes |
#
# (The released Complex-MTASSNet objective, `mtass`, is an RI-MSE on the network's own spectra
# + 0.01 × `snr`; chapter 10. `mtass_wave` is the same mix with the `ri_mse` above, taken on the output
# waveform's STFT, for a model that has no spectra of its own — like this chapter's.)
# SI-SDR first rescales the reference to the estimate, so multiplying the estimate by any gain
# leaves it unchanged — and leaves the network free to output *any* gain:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(1)
ref = torch.randn(1, 3, 16000)
est = ref + 0.5 * torch.randn(1, 3, 16000)
for g in (1.0, 0.1, 10.0):
    print(f"estimate x {g:>4}: -SI-SDR {neg_si_sdr(g * est, ref).mean():6.2f} dB | -SNR {neg_snr(g * est, ref).mean():6.2f} dB")

# %% [markdown]
# Now the experiment: the same model, seed, batches and step budget, three losses. (The `snr` run
# is the one from section 3.)

# %%
for loss in ("si_sdr", "ri_mse"):
    models[loss], runs[loss] = fit(loss)

# %% [markdown]
# Each model and the two baselines of `mtass_lite.baselines` are scored on the whole test split
# with `evaluate_model`: SDRi (plain SNR form, the paper's metric) and SI-SDRi, mean over mixtures
# with a 95 % confidence interval. The numbers go to `results/ch05_losses.json`; the table is read
# back from that file.

# %%
LABELS = {"snr": "trained: −SNR", "si_sdr": "trained: −SI-SDR", "ri_mse": "trained: RI-MSE",
          "mixture/3": "baseline: mixture / 3", "silence": "baseline: silence"}
scored = {**models, **{name: cls() for name, cls in BASELINES.items()}}
evaluations = {name: evaluate_model(m, root, "test", progress=False) for name, m in scored.items()}
losses_result = {
    "what": "TinyMaskNet (chapter 05) trained with three losses, same seed/data/steps; baselines. "
            "Test split; mean over mixtures and 95% CI half-width, dB.",
    "dataset": root.name, "steps": STEPS, "batch": BATCH, "segment_s": SEGMENT,
    "models": {name: {m: ev["summary"][m] for m in ("sdri", "si_sdri", "sdr_mix")} for name, ev in evaluations.items()},
}

# %%
# NBVAL_CHECK_OUTPUT
# the committed numbers must come back (a code change that moves them fails the test command here)
print(check_committed("ch05_losses", losses_result))
print("wrote", write_json("ch05_losses", losses_result).name)

# %%
res = read_json("ch05_losses")
table = pd.DataFrame({
    LABELS[name]: {**{("SDRi", t): r["sdri"][t]["mean"] for t in (*TRACKS, "avg")},
                   ("SDRi", "avg ±95%"): r["sdri"]["avg"]["ci95"],
                   **{("SI-SDRi", t): r["si_sdri"][t]["mean"] for t in (*TRACKS, "avg")}}
    for name, r in res["models"].items()}).T
print(f"{res['dataset']} test split, {res['models']['snr']['sdri']['avg']['n']} mixtures; "
      f"models trained {res['steps']} steps of {res['batch']} x {res['segment_s']:.0f} s; dB")
print(table.round(2).to_string())

sdri = {name: r["sdri"]["avg"]["mean"] for name, r in res["models"].items()}
si_sdri = {name: r["si_sdri"]["avg"]["mean"] for name, r in res["models"].items()}
assert sdri["snr"] > sdri["silence"], "the SNR-trained model must beat silence on average"
assert sdri["snr"] > sdri["mixture/3"], "... and a third of the mixture"
assert si_sdri["si_sdr"] > 0, "the SI-SDR-trained model must improve the scale-invariant SDR"

# %%
# a trivial baseline above a trained model anywhere in the table? Say where, and why.
why = {"si_sdr": "the −SI-SDR loss leaves the output's gain free and the plain-SNR SDRi punishes a wrong gain "
                 "(the gain table below)",
       "snr": "300 steps of a 10-k-parameter net", "ri_mse": "300 steps of a 10-k-parameter net"}
above = [(b, m, metric, t) for m in ("snr", "si_sdr", "ri_mse") for b in ("mixture/3", "silence")
         for metric in ("sdri", "si_sdri") for t in (*TRACKS, "avg")
         if res["models"][b][metric][t]["mean"] > res["models"][m][metric][t]["mean"]]
display(Markdown("No baseline is above a trained model in this table." if not above else "In this table "
                 + "; ".join(f"**{LABELS[b]}** is above **{LABELS[m]}** on {t} "
                             f"{'SDRi' if metric == 'sdri' else 'SI-SDRi'} "
                             f"({res['models'][b][metric][t]['mean']:.2f} vs {res['models'][m][metric][t]['mean']:.2f} dB"
                             f" — {why[m]})" for b, m, metric, t in above) + "."))

# %% [markdown]
# **Why a positive SDRi is not, by itself, evidence of separation.** Music and noise are mixed at
# −5…5 dB against the speech, so each track is usually *weaker* than the other two together: its
# SDR in the unprocessed mixture is negative. An all-zero estimate has SDR = 0 dB, hence
# $\mathrm{SDRi} = 0 - \mathrm{SDR}(\text{mixture}) > 0$ — "silence" scores a few dB of SDRi
# having separated nothing. A third of the mixture scores more SDRi still, and exactly 0 dB SI-SDRi
# (a gain changes no SI-SDR). SI-SDR of an all-zero estimate is 0 / 0; a small $\epsilon$ would make
# it 0 dB and hand silence the same free SI-SDRi, so `metrics.si_sdr` scores silence at the fixed
# floor `SILENCE_FLOOR_DB` = −50 dB (chapter 03): in the table, silence's SI-SDRi is strongly
# negative, and only SDRi flatters it. Hence the rule of this course: a model must **beat the
# baselines**, read with SDRi *and* SI-SDRi.

# %%
sdr_mix = {t: res["models"]["silence"]["sdr_mix"][t]["mean"] for t in TRACKS}
silence = {t: res["models"]["silence"]["sdri"][t]["mean"] for t in TRACKS}
assert all(abs(silence[t] + sdr_mix[t]) < 1e-6 for t in TRACKS)  # SDRi(silence) == -SDR(mixture)

# %%
# NBVAL_CHECK_OUTPUT
print("mean SDR of the mixture as an estimate of each track (dB):", {t: round(v, 1) for t, v in sdr_mix.items()})
print("silence's SDRi is exactly -SDR(mixture), positive for every track:", all(silence[t] > 0 for t in TRACKS))

# %% [markdown]
# **The SI-SDR-trained model's gain.** The SI-SDR loss never sees the output's gain, so nothing
# pins it. For each test estimate we compute the gain that would maximise its SDR,
# $\beta^* = \langle \hat s, s\rangle / \lVert\hat s\rVert^2$ (a least-squares fit that uses the
# reference: an *oracle* check, not a fix), and the SDR that the wrong gain costs,
# $\mathrm{SDR}(\beta^*\hat s) - \mathrm{SDR}(\hat s)$. A scale-dependent loss learns
# $\beta^* \approx 1$ (0 dB; negative means the estimate is too loud); scale invariance leaves it
# wherever training happened to drift. Our sigmoid masks keep each output between silence and the
# mixture, which limits the drift; a network with unbounded outputs can drift much further (while
# building this course, a net trained with −SI-SDR alone on real mixtures scored a positive SI-SDRi
# and an SDRi of −21 dB).

# %%
test = MTASSDataset(root, "test")
gain_rows = {}
for name in ("snr", "si_sdr", "ri_mse"):
    beta_db, cost_db = [], []
    for i in range(len(test)):
        mixture, target = test[i]
        est = torch.as_tensor(separate_array(models[name], mixture)).double()  # [3, T]
        ref = target.double()
        beta = (est * ref).sum(-1) / est.pow(2).sum(-1)  # [3]
        beta_db.append(20 * torch.log10(beta.abs()))
        cost_db.append(sdr(beta[:, None] * est, ref) - sdr(est, ref))
    beta_db, cost_db = torch.stack(beta_db), torch.stack(cost_db)  # [items, 3]
    gain_rows[LABELS[name]] = {**{f"best gain, {t} (dB)": float(beta_db[:, k].median()) for k, t in enumerate(TRACKS)},
                               "SDR lost to the gain (dB)": float(cost_db.mean())}
gains = pd.DataFrame(gain_rows).T
print("median over test mixtures of 20 log10(best gain); mean SDR the gain costs:")
print(gains.round(2).to_string())
assert gains.loc[LABELS["si_sdr"], "SDR lost to the gain (dB)"] > gains.loc[LABELS["snr"], "SDR lost to the gain (dB)"]
assert sdri["si_sdr"] < sdri["snr"], "the wrong gain shows in the SI-SDR-trained model's SDRi"

# %% [markdown]
# The −SI-SDR model separates about as well as the −SNR model by its SI-SDRi, but its gains are
# off (look at the speech column) and the plain-SNR SDRi, the paper's metric, charges it for
# that. Listen to the speech of the first test mixture: the reference, the −SNR model's estimate,
# the −SI-SDR model's estimate as it comes out, and the same estimate at its oracle best gain
# $\beta^*$ (players keep each clip's level, so a drifted gain is heard as a level difference).

# %%
def speech_estimate(model):
    with torch.no_grad():
        return torch.as_tensor(separate_array(model.eval(), demo_mix))[0].double()


ref_speech = demo_ref[0].double()
drift = {"trained: −SNR": speech_estimate(models["snr"]), "trained: −SI-SDR": speech_estimate(models["si_sdr"])}
beta_si = float((drift["trained: −SI-SDR"] * ref_speech).sum() / drift["trained: −SI-SDR"].pow(2).sum())
drift[f"trained: −SI-SDR × β* ({20 * np.log10(abs(beta_si)):+.1f} dB, oracle)"] = beta_si * drift["trained: −SI-SDR"]


def rms_db(x):
    return 10 * np.log10(float(x.pow(2).mean()))


display(HTML(viz.player_html(ref_speech.numpy(), f"reference speech (level {rms_db(ref_speech):.1f} dBFS)") + "".join(
    viz.player_html(x.numpy(), f"{name}: level {rms_db(x):.1f} dBFS, SDR {float(sdr(x, ref_speech)):.1f} dB")
    for name, x in drift.items())))

# %% [markdown]
# Same separation, different loudness: SI-SDR cannot tell the two −SI-SDR players apart, plain SDR
# can. Train with a scale-dependent loss (`snr`, or `mtass`, whose RI-MSE term fixes the scale), or
# add an SNR term, whenever the score is scale-dependent.

# %% [markdown]
# ## 5. Reading the log
# Every run folder holds `config.yaml` (the settings), `log.csv` (a row per step), `last.pt`,
# `best.pt` and `summary.json`. The log's columns:

# %%
# NBVAL_CHECK_OUTPUT
print(list(pd.read_csv(runs["snr"]["log"]).columns))

# %% [markdown]
# `loss_<track>` is each track's part of the loss (already averaged over the batch), `grad_norm`
# the gradient norm *before* clipping (a spike there warns before a NaN does), `seconds` the
# cumulated time in training steps, and the `valid_*` columns are filled on validation steps only.
# The training loss is noisy — each step sees four random crops — so smooth it before reading
# trends. Its units differ between losses; the dev SDRi does not, so it is the curve to compare —
# against the baselines scored on the same dev mixtures (grey lines).

# %%
logs = {name: pd.read_csv(run["log"]) for name, run in runs.items()}
dev_base = {name: evaluate_model(cls(), root, "dev", max_items=10, progress=False)["summary"]["sdri"]["avg"]["mean"]
            for name, cls in BASELINES.items()}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.2))
for t in TRACKS:
    ax1.plot(logs["snr"]["step"], logs["snr"][f"loss_{t}"].rolling(10, min_periods=1).mean(),
             color=viz.TRACK_COLORS[t], label=t)
ax1.set(xlabel="step", ylabel="−SNR (dB), 10-step mean", title="−SNR run: training loss per track")
ax1.legend()
for name, lg in logs.items():
    v = lg.dropna(subset=["valid_sdri"])
    ax2.plot(v["step"], v["valid_sdri"], "o-", label=LABELS[name])
for (name, value), ls in zip(dev_base.items(), ("--", ":")):
    ax2.axhline(value, color="gray", ls=ls, label=f"baseline: {name}")
ax2.set(xlabel="step", ylabel="mean SDRi (dB)", title="dev SDRi (10 mixtures) during training")
ax2.legend(fontsize=8)
viz.savefig(fig, "05_training_log")

# %% [markdown]
# ## 6. Resuming
# A run stops — a budget, Ctrl-C, a lost machine. Calling the Trainer again on the same `out_dir`
# continues from `last.pt`: weights, Adam's moments, step, RNG state and best score. The batches
# of step $s$ depend only on `(seed, s)`, so the resumed run sees exactly the batches the
# uninterrupted run saw. Below: the `snr` run again, stopped at step `STEPS // 4` by its
# `max_steps`, then a *second* call with a freshly built model and `max_steps = STEPS // 2` on the
# same folder. (No validation here: `valid_every=0`; the first call starts over, `resume=False`, so
# re-running this cell always shows the resume.)

# %%
quarter, half = STEPS // 4, STEPS // 2
_, first_call = fit("snr", tag="resume", valid_every=0, max_steps=quarter, resume=False)
_, second_call = fit("snr", tag="resume", valid_every=0, max_steps=half, resume="auto")
print(f"first call stopped at step {first_call['last_step']}; the second call resumed from step "
      f"{second_call['resumed_from']} and ended at step {second_call['last_step']}")
assert second_call["resumed_from"] == quarter and second_call["last_step"] == half

# %% [markdown]
# The loss at step $s$ is computed with the weights after step $s-1$. On a CPU the interrupted run
# logs exactly — to the last bit — the losses of the uninterrupted `snr` run of section 3:

# %%
resumed_loss = pd.read_csv(second_call["log"])["loss"].to_numpy()
same = np.array_equal(resumed_loss, logs["snr"]["loss"].to_numpy()[:half])
print(f"steps 1-{half}, interrupted at {quarter} and resumed == uninterrupted, bit for bit:", same)
if FAST:  # GPU kernels need not be bit-reproducible
    assert same

# %% [markdown]
# From the command line it is the same story: `train` resumes whenever `--out` holds a checkpoint
# with the same settings (it refuses, naming the differences, when they differ), `--restart`
# starts over, and Ctrl-C stops after the current step and saves.
#
# ```bash
# python -m mtass_lite train --model complex_mtassnet --preset fast --out runs/cmn                    # 2000 steps or 10 min
# python -m mtass_lite train --model complex_mtassnet --preset fast --out runs/cmn --max-steps 4000   # continues to 4000
# python -m mtass_lite train --model complex_mtassnet --preset fast --out runs/cmn --restart          # starts over
# python -m mtass_lite train --model mypackage.nets:MyNet --preset fast --out runs/mine               # your own model
# python -m mtass_lite evaluate --checkpoint runs/cmn/best.pt --out results/cmn_test.json           # SDRi, SI-SDRi, CIs
# torchrun --nproc_per_node 4 -m mtass_lite train --model complex_mtassnet --preset full --out runs/cmn_full
# ```
#
# ## 7. Fast mode and full mode
# One code path, two sizes. `MTASS_MODE=fast` (the default, what CI runs): MTASS-tiny, lite
# models, a few CPU minutes per run. `MTASS_MODE=full`: the real MTASS data (chapter 04), the
# paper's model sizes, a GPU. Each registry model has a preset per mode in `mtass_lite/configs/`;
# here Complex-MTASSNet's, read with `load_config`, side by side:

# %%
# NBVAL_CHECK_OUTPUT
presets = {p: load_config("complex_mtassnet", p).to_dict() for p in ("fast", "full")}
keys = [k for k in presets["fast"] if k not in ("out_dir", "data_root", "progress", "augment")]  # augment: ch11
side = pd.DataFrame({p: [str(presets[p][k]) for k in keys] for p in presets}, index=keys)
side["differs"] = ["<-" if presets["fast"][k] != presets["full"][k] else "" for k in keys]
print(side.to_string())

# %% [markdown]
# What changes, and why:
# - **model size** `lite` → `paper`: 28 M parameters only make sense with 55 hours of audio and a GPU;
# - **crops** 4 s × 4 → whole 10-s MTASS clips × 10 (the released code: batch 10 of 1000-frame, 16-s
#   segments cut from clips joined end to end; our loader crops within one clip, so 10 s is the most);
# - **steps** 2000 with a 10-minute cap → 100,000 (= 50 epochs of 20,000 mixtures), no cap;
# - **validation** every 100 steps on 10 tiny dev mixtures → every 2000 steps on all 1,000;
# - **gradient clipping** at norm 5 → none, as in the released code.
#
# The loss (the released RI-MSE + 0.01 × SNR), Adam at 1e-3 with no schedule and the seed
# stay. On a GPU the Trainer adds mixed precision (`amp: auto`: bf16 where supported); on a CPU it
# runs in float32. The chapters read the mode once, in their parameters cell, and pick data and
# model size from it; `python -m mtass_lite train --preset full` does the same from the shell.

# %% [markdown]
# ## Exercises
# 1. Add an `nn.Conv1d` layer with dilation 4 to `TinyMaskNet` and retrain with the `snr` loss for
#    the same steps. Does the dev SDRi curve rise faster? Does the gap to silence grow?
#    *(≈ 2 CPU-min)*
# 2. Train with `loss="mtass_wave"` (RI-MSE + 0.01 × −SNR; the waveform form of the released mix,
#    since `TinyMaskNet` has no spectra of its own). Where does it land between `ri_mse` and
#    `snr` in SDRi and SI-SDRi, and why is the weight 0.01 so small? (Compare the two terms'
#    magnitudes: the losses in the `ri_mse` and `snr` runs' `log.csv`.) *(≈ 2 CPU-min)*
# 3. Replace the sigmoid in `TinyMaskNet` by `softplus` (unbounded masks) and train with `si_sdr`.
#    Track the best gain $\beta^*$ over training: how far does it drift, and what happens to SDRi?
#    Write `best_gain(estimate, reference)` first. Check: `checks.ex05_3(best_gain)`.
#    *(≈ 2 CPU-min)*
# 4. Kill a `python -m mtass_lite train --model complex_mtassnet --preset fast --max-steps 200
#    --out runs/ex05_4` run with Ctrl-C half-way, run the same command again and compare the final
#    `log.csv` with an uninterrupted run's (same command, another `--out`). *(≈ 5 CPU-min)*
#
# Costs measured on two CPU cores (shared with other jobs: seconds per step from the solutions'
# `log.csv` × the exercise's steps — 300 per run, as in this chapter's fast mode — rounded up);
# solutions: `chapters/solutions/05_training_solutions.ipynb`; self-checks: `checks.ex05_3`.
