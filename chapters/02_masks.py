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
# # 02 · Masks and their oracle upper bounds
#
# **You will learn**
# - the mask families a separation network can output: the ideal binary mask (IBM), the ideal ratio
#   mask (IRM), the phase-sensitive mask (PSM), the complex ratio mask (cIRM) and the Re/Im-scaling
#   mask of the released Complex-MTASSNet code,
# - how to compute each *oracle* mask from the true tracks, and what SDRi it reaches: the ceiling for a
#   model of that family,
# - why the complex masks are bounded in practice, and what the unbounded cIRM means.
#
# The table at the end is computed on the MTASS-tiny test set and written to
# `results/oracle_masks.json`; the chapter renders it from that file.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from mtass_lite import TRACKS, masks, metrics, viz
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.results import read_json, write_json
from mtass_lite.stft import istft, stft

root = ensure_tiny(progress=False)
test = MTASSDataset(root, "test")
mix, tgt = test[0]
Y, S = stft(mix), stft(tgt)  # [F, N] and [3, F, N]

# %% [markdown]
# ## 1. The ideal ratio mask, by hand
# $\mathrm{IRM}_k = \sqrt{|S_k|^2 / \sum_j |S_j|^2}$: each bin is shared among the tracks by their
# power. We compute it inline and check the library.

# %%
power = S.abs() ** 2
eps = 1e-8  # keeps silent bins defined (they get the mask 1 ** 0.5 = 1 instead of 0 / 0)
irm_by_hand = ((power + eps) / (power.sum(0, keepdim=True) + eps)).sqrt()
torch.testing.assert_close(irm_by_hand, masks.oracle_mask("irm", S, Y), atol=1e-4, rtol=1e-4)

fig, axes = plt.subplots(1, 3, figsize=(13, 3), sharey=True)
for ax, k, name in zip(axes, range(3), TRACKS):
    im = ax.imshow(irm_by_hand[k].numpy(), origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis",
                   extent=(0, len(mix) / 16000, 0, 8))
    ax.set(title=f"IRM · {name}", xlabel="time (s)")
axes[0].set_ylabel("freq (kHz)")
fig.colorbar(im, ax=axes, shrink=0.8)
viz.savefig(fig, "02_irm")

# %% [markdown]
# ## 2. Masks that use phase
# A real mask keeps the mixture's phase. The PSM, $|S|/|Y|\cos(\theta_S-\theta_Y)$, shrinks bins
# whose phase disagrees with the mixture; a complex mask can also *rotate* them. The unbounded cIRM
# $S/Y$ rebuilds each track exactly — a sanity check, not an upper bound a network can reach, since
# $|S/Y|$ is huge wherever the tracks cancel each other.

# %%
exact = masks.oracle_separation(mix.double(), tgt.double(), "cirm", bound=None)
mag = masks.oracle_mask("cirm", S, Y, bound=None).abs()

# %%
# NBVAL_CHECK_OUTPUT
print("unbounded cIRM rebuilds every track (SDR > 60 dB):", bool((metrics.sdr(exact, tgt.double()) > 60).all()))
print(f"share of bins with |cIRM| > 1: {(mag > 1).float().mean().item():.2f}")

# %% [markdown]
# The released Complex-MTASSNet code multiplies `[Re; Im]` of the mixture element-wise by the
# network's 514 outputs: $\hat S = M_r\,\mathrm{Re}\,Y + j\,M_i\,\mathrm{Im}\,Y$. That is *not* a
# complex multiplication; the paper calls its target a complex ratio mask. Chapter 10 trains both.

# %% [markdown]
# ## 3. Oracle SDRi per mask type on the tiny test set
# Bounded as a network would output them: IBM ∈ {0, 1}, IRM and PSM ∈ [0, 1], |cIRM| ≤ 1 and each
# Re/Im-scaling part ∈ [−1, 1]. SDRi here is the plain-SNR-form SDR improvement (the paper's metric).

# %%
max_items = None if MTASS_MODE == "full" else 50
oracle = masks.evaluate_oracle_masks(test, bound=1.0, max_items=max_items)
path = write_json("oracle_masks", {"dataset": str(root.name), "split": "test", "mode": MTASS_MODE, **oracle})
print("wrote", path.name)

# %% [markdown]
# The table below is rendered from `results/oracle_masks.json`.

# %%
# NBVAL_CHECK_OUTPUT
res = read_json("oracle_masks")
labels = {"ibm": "IBM", "irm": "IRM", "psm": "PSM (truncated)", "cirm": "cIRM (|M| ≤ 1)",
          "ri_scaling": "Re/Im scaling (released, |M| ≤ 1)"}
table = pd.DataFrame({labels[k]: {**v["sdri"], "average": np.mean(list(v["sdri"].values()))}
                      for k, v in res["mean"].items()}).T.round(1)
print(f"oracle SDRi (dB) on {res['n_items']} MTASS-tiny test mixtures")
print(table.to_string())

# %%
fig, ax = plt.subplots(figsize=(8, 3.2))
viz.plot_results_bars(ax, {labels[k]: v["sdri"] for k, v in res["mean"].items()}, ylabel="oracle SDRi (dB)")
ax.set_title("oracle masks on the MTASS-tiny test set")
viz.savefig(fig, "02_oracle_sdri")

# %% [markdown]
# Reading the table: the phase-aware masks (PSM, complex) beat the magnitude masks; noise, the
# broadband track, profits least from any mask that keeps the mixture's phase. The paper's best model
# reaches 12.6 / 9.9 / 8.4 dB on real data (chapter 11): well below these ceilings.
#
# ## 4. Listening to an oracle
# Oracle IRM on the first test mixture: the speech is clean but slightly "phasey".

# %%
irm_est = masks.oracle_separation(mix, tgt, "irm")
viz.listen_tracks(mix.numpy(), irm_est.numpy(), "02_irm", titles=["mixture", "IRM speech", "IRM music", "IRM noise"])

# %% [markdown]
# ## Exercises
# 1. Recompute the table with `bound=2.0`. Which mask gains most? Why does the IRM not change?
# 2. Replace the IRM exponent 0.5 by 1 (the "Wiener-like" mask, `masks.ideal_ratio_mask(..., beta=1)`).
# 3. Count the bins where the released Re/Im-scaling mask exceeds 1 in magnitude. What would a
#    linear output layer have to learn there?
# 4. Change the STFT to `n_fft=1024, hop=512`. Do the oracle scores go up or down, and for which track?
