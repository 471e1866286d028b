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
# # Solutions · 04 Building the MTASS dataset
#
# Worked solutions to the exercises of chapter 04 (`chapters/04_dataset.ipynb`), for the lecturer
# and for students checking their work. Every number and every verdict below is computed when the
# notebook runs. The small splits of exercises 1 and 3 are built into a temporary folder and deleted
# afterwards; MTASS-tiny itself is only read.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, Markdown, display

import mtass_lite
from mtass_lite import SAMPLE_RATE, TRACKS, checks, viz
from mtass_lite.data import mixing
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.masks import oracle_mask, oracle_separation
from mtass_lite.metrics import sdr
from mtass_lite.stft import stft

FAST = mtass_lite.get_mode(MTASS_MODE) == "fast"
N_MIX = 8 if FAST else 100  # mixtures per small split in exercise 1
root = ensure_tiny(progress=False)  # read only

# %% [markdown]
# ## Exercise 1
# *Change the SNR range to U(−10, 0) dB and rebuild a small split. How does the oracle IRM of
# chapter 02 change?*
#
# **Source pools.** Any three pools do; we take the stems of the first 12 MTASS-tiny training
# mixtures as source items (6 s each; the recipe rescales music and noise to the drawn SNRs anyway)
# and build two splits of 3-s mixtures from them, with the same seed: one with the recipe's
# U(−5, 5) dB, one with U(−10, 0) dB.

# %%
train_dir = root / "train"
ids = [r["id"] for r in read_metadata(root, "train")][:12]
pools = {t: [mixing.Source(f"{t}{k}", path=str(train_dir / t / f"{i}.wav")) for k, i in enumerate(ids)]
         for t in TRACKS}
RANGES = {"U(−5, 5) dB (MTASS)": (-5.0, 5.0), "U(−10, 0) dB": (-10.0, 0.0)}

tmp = tempfile.TemporaryDirectory()
splits = {}
for label, snr_range in RANGES.items():
    out = Path(tmp.name) / f"snr_{snr_range[0]:+.0f}_{snr_range[1]:+.0f}"
    mixing.build_split(out, "train", pools, n_mixtures=N_MIX, seed=0, segment_seconds=3.0, workers=1,
                       progress=False, snr_range_db=snr_range)
    splits[label] = MTASSDataset(out, "train")
a, b = splits.values()
meta_a, meta_b = (pd.DataFrame(ds.metadata).astype({"snr_music": float, "snr_noise": float}) for ds in (a, b))
same_picks = all((meta_a[f"{t}_id"] == meta_b[f"{t}_id"]).all() and (meta_a[f"{t}_offset"] == meta_b[f"{t}_offset"]).all()
                 for t in TRACKS)
shift = np.abs(meta_b[["snr_music", "snr_noise"]].to_numpy() - meta_a[["snr_music", "snr_noise"]].to_numpy() + 5).max()
print(f"{N_MIX} mixtures per split; same segments picked in both splits: {same_picks}; "
      f"SNRs shifted by exactly -5 dB (largest deviation {shift:.1e} dB)")

# %% [markdown]
# Same seed, same random streams: `uniform(a, b)` is `a + (b − a)·u`, so each mixture of the second
# split holds the *same* speech, music and noise segments, with music and noise both 5 dB louder.
# The comparison is paired. For each mixture: the oracle IRM (chapter 02,
# `masks.oracle_mask("irm", S, Y)`), its mean value per track over the bins, the separation it
# gives (`masks.oracle_separation`) scored with plain SDR, and the SDRi over the mixture.

# %%
def irm_stats(ds):
    rows = []
    for i in range(len(ds)):
        mix, tgt = ds[i]
        mix, tgt = mix.double(), tgt.double()
        M = oracle_mask("irm", stft(tgt), stft(mix))  # [3, F, N]
        est = oracle_separation(mix, tgt, "irm")
        sdr_est, sdr_mix = sdr(est, tgt), sdr(mix.expand_as(tgt), tgt)
        for k, t in enumerate(TRACKS):
            rows.append({"track": t, "mean IRM": float(M[k].mean()), "IRM > 0.5": float((M[k] > 0.5).double().mean()),
                         "oracle SDR": float(sdr_est[k]), "SDR(mixture)": float(sdr_mix[k]),
                         "oracle SDRi": float(sdr_est[k] - sdr_mix[k])})
    return pd.DataFrame(rows).groupby("track", sort=False).mean()


stats = {label: irm_stats(ds) for label, ds in splits.items()}
print("mean over the mixtures; 'IRM > 0.5': share of bins the track dominates; SDRs in dB")
print(pd.concat(stats, names=["SNR range"]).round(2).to_string())

# %%
lo, hi = (stats[k] for k in RANGES)
d = hi - lo


def moves(x, up="rises", down="falls"):
    return f"{up} by {x:.1f} dB" if x > 0 else f"{down} by {-x:.1f} dB"


def trend(x):
    return "grows" if x > 0 else "shrinks"


display(Markdown(
    f"**Conclusion.** With music and noise 5 dB louder, the speech's mean IRM goes from "
    f"{lo.loc['speech', 'mean IRM']:.2f} to {hi.loc['speech', 'mean IRM']:.2f} (bins it dominates: "
    f"{lo.loc['speech', 'IRM > 0.5']:.0%} → {hi.loc['speech', 'IRM > 0.5']:.0%}); the music's mask "
    f"{trend(d.loc['music', 'mean IRM'])} ({lo.loc['music', 'mean IRM']:.2f} → {hi.loc['music', 'mean IRM']:.2f}) and the "
    f"noise's {trend(d.loc['noise', 'mean IRM'])} ({lo.loc['noise', 'mean IRM']:.2f} → {hi.loc['noise', 'mean IRM']:.2f}). "
    f"The oracle IRM's SDR, the ceiling of a real-valued mask, {moves(d.loc['speech', 'oracle SDR'])} for the speech, "
    f"{moves(d.loc['music', 'oracle SDR'])} for the music and {moves(d.loc['noise', 'oracle SDR'])} for the noise. "
    f"The speech's oracle *SDRi* {moves(d.loc['speech', 'oracle SDRi'])}, because the mixture itself is a worse "
    f"speech estimate ({moves(d.loc['speech', 'SDR(mixture)'])}): SDRi figures from datasets with different SNR "
    f"ranges are not comparable."))

# %% [markdown]
# The speech IRM of the first mixture in both splits, and the two mixtures to listen to:

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3), sharey=True)
for ax, (label, ds) in zip(axes, splits.items()):
    mix, tgt = ds[0]
    M = oracle_mask("irm", stft(tgt.double()), stft(mix.double()))
    im = ax.imshow(M[0].numpy(), origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis",
                   extent=(0, len(mix) / SAMPLE_RATE, 0, SAMPLE_RATE / 2000))
    ax.set(title=f"speech IRM, SNRs ~ {label}", xlabel="time (s)")
axes[0].set_ylabel("freq (kHz)")
fig.colorbar(im, ax=axes, shrink=0.8)
plt.show()
display(HTML("".join(viz.player_html(ds[0][0].numpy(), f"mixture 0, SNRs ~ {label}: music "
                                     f"{float(ds.metadata[0]['snr_music']):+.1f} dB, noise {float(ds.metadata[0]['snr_noise']):+.1f} dB")
                     for label, ds in splits.items())))
tmp.cleanup()

# %% [markdown]
# ## Exercise 2
# *The recipe sets both SNRs relative to the speech. What is the music-to-noise ratio's range? Plot
# its histogram from `metadata.csv`.*
#
# With $\mathrm{SNR}_m = 10\log_{10}(E_s/E_m)$ and $\mathrm{SNR}_n = 10\log_{10}(E_s/E_n)$, the
# speech cancels:
# $$\mathrm{MNR} = 10\log_{10}\frac{E_m}{E_n} = \mathrm{SNR}_n - \mathrm{SNR}_m .$$
# Two independent U(a, b) draws: the difference ranges over [a − b, b − a], with a triangular
# density peaking at 0 dB. The clip guard scales all stems together, so it does not change it.

# %%
a_db, b_db = mixing.SNR_RANGE_DB  # the library's recipe
low_db, high_db = a_db - b_db, b_db - a_db
checks.ex04_2(low_db, high_db)
print(f"music-to-noise ratio range for SNRs ~ U({a_db:g}, {b_db:g}) dB: [{low_db:g}, {high_db:g}] dB")

# %%
meta = pd.DataFrame(read_metadata(root, "train")).astype({"snr_music": float, "snr_noise": float})
mnr = meta.snr_noise - meta.snr_music
width = b_db - a_db
grid = np.linspace(low_db, high_db, 201)
fig, ax = plt.subplots(figsize=(7, 3))
ax.hist(mnr, bins=20, range=(low_db, high_db), density=True, color="0.6", label=f"MTASS-tiny train ({len(mnr)} mixtures)")
ax.plot(grid, (width - np.abs(grid)) / width ** 2, "k", label="triangular density of SNR_n − SNR_m")
ax.set(xlabel="music-to-noise ratio (dB)", ylabel="density", title="10 log10(E_music / E_noise) = snr_noise − snr_music")
ax.legend(fontsize=8)
plt.show()
print(f"observed: min {mnr.min():+.2f} dB, max {mnr.max():+.2f} dB, mean {mnr.mean():+.2f} dB; "
      f"|MNR| > 8 dB in {(mnr.abs() > 8).mean():.1%} of the mixtures (the triangle predicts {(width - 8) ** 2 / width ** 2:.1%})")

# %% [markdown]
# The observed extremes stay inside [−10, 10] dB and the ends are rare: reaching ±10 dB needs both
# SNRs at opposite ends of their range at once. The music is never more than 10 dB louder or quieter
# than the noise; and since both draws are relative to the speech, a recipe that drew the MNR itself
# would be a different dataset.

# %% [markdown]
# ## Exercise 3
# *Make a pool whose speech items are only 1 s long with a 3-s segment. What does `make_mixture` do,
# and what does the metadata say?*
#
# A 1-s speech item fills a third of the 3-s segment, less than `min_fill` = 50 %: `draw_segment`
# redraws it, and with *only* such items it gives up after `max_redraws + 1` = 101 draws.

# %%
rng = np.random.default_rng(0)
speech_1s = [(0.1 * rng.standard_normal(SAMPLE_RATE)).astype(np.float32) for _ in range(3)]
music = [(0.1 * rng.standard_normal(5 * SAMPLE_RATE)).astype(np.float32)]
noise = [(0.1 * rng.standard_normal(5 * SAMPLE_RATE)).astype(np.float32)]
cfg = mixing.MixConfig(segment_seconds=3.0)
try:
    mixing.make_mixture(0, mixing.make_pools(speech_1s, music, noise), seed=0, split="demo", cfg=cfg)
except RuntimeError as err:
    print(f"make_mixture raised RuntimeError: {err}")

# %% [markdown]
# No mixture, so no metadata row: `build_split` would stop with this error before writing
# `metadata.csv` (written last). Items that fill at least half the segment are used and padded with
# zeros at the end; in a pool that mixes 1-s and 2-s items, the 1-s ones are redrawn. The metadata
# records both: `speech_pad` (samples of zeros) and `speech_redraws`.

# %%
speech_2s = [(0.1 * rng.standard_normal(2 * SAMPLE_RATE)).astype(np.float32) for _ in range(3)]
mixed_pool = mixing.make_pools(speech_1s + speech_2s, music, noise)
rows = pd.DataFrame([mixing.make_mixture(i, mixed_pool, seed=0, split="demo", cfg=cfg).row for i in range(6)])
rows[["id", "speech_id", "speech_offset", "speech_pad", "speech_redraws", "redraws"]]

# %%
Markdown(f"The mixtures use the 2-s items only ({', '.join(sorted(set(rows.speech_id)))}), padded with "
         f"{', '.join(str(v) for v in sorted(set(rows.speech_pad)))} zero samples at the end, and `speech_redraws` "
         f"counts the 1-s items drawn first ({int(rows.speech_redraws.sum())} in these {len(rows)} mixtures). A padded "
         "mixture has a silent end of speech — harmless for the energies (the SNR is set over the whole clip), but "
         "a model sees speech that stops. The rule, as a function, checked against the library's `draw_segment`:")

# %%
def pad_or_redraw(item_seconds, segment_seconds, min_fill=mixing.MIN_FILL):
    """Zeros appended (samples at 16 kHz) to a non-silent item, or None if the recipe redraws it."""
    n, T = round(item_seconds * SAMPLE_RATE), round(segment_seconds * SAMPLE_RATE)
    if n < min_fill * T:
        return None  # redrawn
    return max(0, T - n)  # a longer item is read at a random offset: no padding


checks.ex04_3(pad_or_redraw)
print("1 s in 3 s:", pad_or_redraw(1, 3), "| 2 s in 3 s:", pad_or_redraw(2, 3), "| 1.5 s in 3 s:", pad_or_redraw(1.5, 3))

# %% [markdown]
# ## Exercise 4
# *Why must pools be split before mixing rather than mixtures after?*
#
# Because the recipe **reuses** source segments: a split's mixtures are drawn, with replacement, from
# its pools. MTASS-tiny's training metadata shows how much (computed below): if we took its training
# mixtures and split *them* 80/20 at random, how many of the "test" mixtures would contain a speech,
# music or noise segment that some "training" mixture also contains?

# %%
meta = pd.DataFrame(read_metadata(root, "train"))
perm = np.random.default_rng(0).permutation(len(meta))
cut = int(0.8 * len(meta))
tr, te = meta.iloc[perm[:cut]], meta.iloc[perm[cut:]]
leak = {t: float(te[f"{t}_id"].isin(set(tr[f"{t}_id"])).mean()) for t in TRACKS}
any_leak = float(np.any([te[f"{t}_id"].isin(set(tr[f"{t}_id"])) for t in TRACKS], axis=0).mean())
uses = {t: len(meta) / meta[f"{t}_id"].nunique() for t in TRACKS}
print("each segment is used by", ", ".join(f"{t} {v:.1f}" for t, v in uses.items()), "mixtures on average")
print("held-out mixtures sharing a segment with the training part:",
      ", ".join(f"{t} {v:.0%}" for t, v in leak.items()), f"| any track: {any_leak:.0%}")

# %%
Markdown(
    f"**Answer.** Split after mixing and {any_leak:.0%} of the held-out mixtures share a segment — the same "
    f"sentence by the same voice, the same bars of the same piece, the same noise — with training "
    f"mixtures (speech {leak['speech']:.0%}, music {leak['music']:.0%}, noise {leak['noise']:.0%} here). A "
    "network that has memorised those segments scores well on them: the test SDRi then measures recall, not "
    "generalisation to unheard speakers, pieces and noises. Even a segment-level split is not enough: "
    "segments cut from one recording share its speaker, piece or noise scene, so the split must be made on "
    "the recordings (speakers, songs, noise files) *before* they are cut and mixed — which is what MTASS-tiny "
    "does (chapter 04, section 5) and what `prepare_mtass.py` does for the real corpora (by speaker and piece).")
