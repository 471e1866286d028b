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
# # Solutions · 02 Masks and their oracle upper bounds
#
# Worked solutions to the exercises of chapter 02 (`chapters/02_masks.ipynb`), for the lecturer and for
# students checking their work, including the two "implement it" assignments (exercises 5 and 6: the IRM
# and the cIRM). Every number and every verdict below is computed when the notebook runs.
#
# **Budget.** The chapter's table averages all 50 MTASS-tiny test mixtures. In the default fast mode the
# oracle comparisons here use the first 20 mixtures (a few seconds each); `MTASS_MODE=full` uses all 50.
# Oracle masks need no training, so the fast numbers are already real measurements, only on fewer items.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

import mtass_lite
from mtass_lite import TRACKS, checks, masks, metrics, viz
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.stft import istft, stft

FAST = mtass_lite.get_mode(MTASS_MODE) == "fast"
root = ensure_tiny(progress=False)
test = MTASSDataset(root, "test")
N_ITEMS = 20 if FAST else len(test)
items = [(m.double(), t.double()) for m, t in (test[i] for i in range(N_ITEMS))]
labels = {"ibm": "IBM", "irm": "IRM", "psm": "PSM", "cirm": "cIRM", "ri_scaling": "Re/Im scaling"}
print(f"mode {MTASS_MODE}: {N_ITEMS} of {len(test)} test mixtures")


def sdri_table(mean: dict) -> pd.DataFrame:
    """``{kind: {"sdri": {track: dB}}}`` -> a table with the average of the three tracks."""
    return pd.DataFrame({labels[k]: {**v["sdri"], "average": np.mean(list(v["sdri"].values()))}
                         for k, v in mean.items()}).T


# %% [markdown]
# ## Exercise 1
# *Recompute the table with `bound=2.0`. Which mask gains most? Why does the IRM not change?*

# %%
tables = {b: sdri_table(masks.evaluate_oracle_masks(test, bound=b, max_items=N_ITEMS)["mean"]) for b in (1.0, 2.0)}
gain = tables[2.0] - tables[1.0]
display(pd.concat({"bound 1 (chapter)": tables[1.0], "bound 2": tables[2.0], "gain": gain}, axis=1).round(2))

# %%
best = gain["average"].idxmax()
unchanged = [k for k in gain.index if np.abs(gain.loc[k]).max() < 1e-9]
display(Markdown(
    f"On {N_ITEMS} test mixtures, **{best}** gains most from the looser bound "
    f"({gain.loc[best, 'average']:+.2f} dB on average; the other complex mask "
    f"{gain['average'].drop(best).idxmax()} {gain['average'].drop(best).max():+.2f} dB). "
    f"Only the complex masks change: {', '.join(unchanged)} are identical to the last digit. The bound applies to the "
    f"cIRM's magnitude and to the Re/Im-scaling parts only; the IRM is "
    f"(|S|² / Σ_j |S_j|²)^½ ≤ 1 by construction (a share of the bin's power), the IBM is 0 or 1 and the PSM is "
    f"truncated to [0, 1] whatever `bound` says. A bound of 2 lets a complex mask *amplify* a bin where the "
    f"tracks cancel (|S| > |Y|), which only a complex mask can exploit, since it can also rotate the phase."))

# %% [markdown]
# ## Exercise 2
# *Replace the IRM exponent 0.5 by 1 (the "Wiener-like" mask, `masks.ideal_ratio_mask(..., beta=1)`).*


# %%
def irm_separation(mix, tgt, beta):
    """Oracle IRM with exponent ``beta`` for all three tracks -> time-domain estimates ``[3, T]``."""
    Y, S = stft(mix), stft(tgt)
    M = torch.stack([masks.ideal_ratio_mask(S[k], S, beta=beta) for k in range(3)])
    return istft(masks.apply_mask(M, Y), mix.shape[-1])


res = {}
for beta in (0.5, 1.0):
    est = [irm_separation(m, t, beta) for m, t in items]
    res[beta] = {"SDRi": np.mean([metrics.sdr_improvement(e, t, m).numpy() for e, (m, t) in zip(est, items)], 0),
                 "SI-SDRi": np.mean([metrics.si_sdr_improvement(e, t, m).numpy() for e, (m, t) in zip(est, items)], 0)}
table2 = pd.DataFrame({f"{metric}, beta={beta}": dict(zip(TRACKS, v[metric])) for beta, v in res.items()
                       for metric in ("SDRi", "SI-SDRi")}).T
display(table2.assign(average=table2.mean(axis=1)).round(2))

# %%
d_sdri = res[1.0]["SDRi"] - res[0.5]["SDRi"]
d_si = res[1.0]["SI-SDRi"] - res[0.5]["SI-SDRi"]
display(Markdown(
    f"The exponent-1 mask changes SDRi by {', '.join(f'{t} {v:+.2f} dB' for t, v in zip(TRACKS, d_sdri))} and "
    f"SI-SDRi by {', '.join(f'{t} {v:+.2f} dB' for t, v in zip(TRACKS, d_si))} "
    f"({'better' if d_sdri.mean() > 0 else 'worse'} on average). With beta = 1 the mask is the Wiener gain "
    f"|S|² / Σ|S_j|², the real gain that minimises the mean squared error |S − M·Y|² when the tracks are "
    f"uncorrelated in each bin — the error plain SDR measures, so "
    + ("it is no surprise that it scores higher. " if d_sdri.mean() > 0 else
       "one would expect it to score higher; here the tracks' correlation within bins turns that around. ")
    + "It is smaller than its square root wherever a bin is shared (x < √x for x in (0, 1)): it suppresses the "
    "other tracks harder, at the price of attenuating the target more where it is weak. The square-root IRM "
    "instead makes the estimates' *powers* add up to the mixture's (Σ_k IRM_k² = 1), a power-preserving split "
    "that can sound more natural than its SDR says."))

# %% [markdown]
# ## Exercise 3
# *Count the bins where the released Re/Im-scaling mask exceeds 1 in magnitude. What would a linear output layer
# have to learn there?*

# %%
stats = []
for m, t in items:
    Y, S = stft(m), stft(t)
    M = masks.oracle_mask("ri_scaling", S, Y, bound=None)  # unbounded: [3, F, N], complex storage of (M_r, M_i)
    parts = torch.stack([M.real, M.imag])  # [2, 3, F, N]
    over = parts.abs() > 1
    energy = (S.abs() ** 2)
    stats.append({"share of (bin, part) values > 1": float(over.float().mean()),
                  "share of bins with either part > 1": float((over[0] | over[1]).float().mean()),
                  "99th percentile |M|": float(parts.abs().flatten().quantile(0.99)),
                  "largest |M|": float(parts.abs().max()),
                  "track energy in those bins": float((energy * (over[0] | over[1])).sum() / energy.sum())})
ri = pd.DataFrame(stats)
display(ri.describe().loc[["mean", "min", "max"]].round(3))
bounded = masks.evaluate_oracle_masks(test, kinds=("ri_scaling",), bound=1.0, max_items=N_ITEMS)["mean"]
free = masks.evaluate_oracle_masks(test, kinds=("ri_scaling",), bound=None, max_items=N_ITEMS)["mean"]
print("oracle Re/Im scaling SDRi (dB), parts bounded to [-1, 1]:",
      {k: round(v, 1) for k, v in bounded["ri_scaling"]["sdri"].items()})
print("oracle Re/Im scaling SDRi (dB), unbounded:             ",
      {k: round(min(v, 99), 1) for k, v in free["ri_scaling"]["sdri"].items()})

# %%
mean = ri.mean()
display(Markdown(
    f"About **{mean['share of bins with either part > 1']:.0%}** of the bins (mean over {N_ITEMS} mixtures and three "
    f"tracks) have a part outside [−1, 1]; those bins carry {mean['track energy in those bins']:.0%} of the tracks' "
    f"energy. The values are heavy-tailed: the 99th percentile of |M| is about "
    f"{mean['99th percentile |M|']:.0f} and the largest reach {ri['largest |M|'].median():.0e} (median over mixtures): "
    f"M_r = Re S / Re Y explodes wherever Re Y crosses zero, which happens in every bin where the tracks partly "
    f"cancel, and it changes sign with Re Y. A linear output layer would have to regress these huge, sign-flipping "
    f"ratios precisely, although they multiply a nearly zero Re Y: an error of 100 in M_r there costs little in the "
    f"signal, while an MSE loss *on the mask* would be dominated by them. Hence the practice: train on the "
    f"reconstructed signal (chapter 10's loss), and/or bound the output (tanh) — the bounded oracle above shows the "
    f"ceiling that costs, against the exact reconstruction of the unbounded one."))

# %% [markdown]
# ## Exercise 4
# *Change the STFT to `n_fft=1024, hop=512`. Do the oracle scores go up or down, and for which track?*

# %%
rows = {}
for setting, kw in {"512 / 256 (chapter)": {}, "1024 / 512": {"n_fft": 1024, "hop": 512}}.items():
    for kind in masks.MASK_TYPES:
        sdri = [metrics.sdr_improvement(masks.oracle_separation(m, t, kind, bound=1.0, **kw), t, m).numpy()
                for m, t in items]
        rows[(labels[kind], setting)] = dict(zip(TRACKS, np.mean(sdri, 0)))
table4 = pd.DataFrame(rows).T
delta = table4.xs("1024 / 512", level=1) - table4.xs("512 / 256 (chapter)", level=1)
display(pd.concat({"SDRi, 1024 / 512": table4.xs("1024 / 512", level=1), "change vs 512 / 256": delta}, axis=1)
        .round(2))

# %%
per_track = delta.mean(axis=0)
display(Markdown(
    "With twice the window (64 ms, 15.6-Hz bins) and half as many frames, the oracle SDRi changes on average over "
    "the five masks by " + ", ".join(f"**{t} {v:+.2f} dB**" for t, v in per_track.items()) + ". "
    + ("All tracks go up" if (per_track > 0).all() else "Not all tracks go up")
    + f", {per_track.idxmax()} most and {per_track.idxmin()} least. A 64-ms window resolves harmonic partials "
    "twice as finely, so the sources overlap in fewer bins — a gain for the tonal tracks (sustained music notes, "
    "voiced speech); it smears onsets, fast pitch glides and transients over twice the time, which holds back "
    "the least stationary track. On MTASS-tiny's synthetic sources (TTS voices, SoundFont notes) the first effect "
    "wins; on real recordings the balance may differ (the paper's 32-ms window is the usual compromise for "
    "speech), and the oracle ceiling is not the only criterion: a network also has to *estimate* the mask from fewer, longer frames."))

# %% [markdown]
# ## Exercise 5 (implement it): the IRM
# *Write `my_irm(S, S_all, beta=0.5)` = (|S|² / Σ_j |S_j|²)^beta, with the sources on axis −3 of `S_all`, and
# check it with `checks.ex02_irm(my_irm)`.*


# %%
def my_irm(S, S_all, beta=0.5):
    """IRM [..., F, N]: (|S|^2 / sum_j |S_j|^2)^beta; eps keeps silent bins defined (they get 1)."""
    eps = 1e-8
    power = S.abs() ** 2
    total = (S_all.abs() ** 2).sum(-3)  # the source axis: S_all[..., K, F, N]
    return ((power + eps) / (total + eps)) ** beta


_ = checks.ex02_irm(my_irm)


# a typical slip, and what the check says about it
def irm_magnitudes(S, S_all, beta=0.5):
    return ((S.abs() + 1e-8) / (S_all.abs().sum(-3) + 1e-8)) ** beta


_ = checks.ex02_irm(irm_magnitudes)

# %% [markdown]
# The power ratio matters: the powers of uncorrelated sources add up to the mixture's power (on average), their
# magnitudes do not (Σ_j |S_j| ≥ |Y|, the triangle inequality). And the magnitude ratio under-weights a dominant
# source: with |S| = 1 against 0.5 for the rest, (1 / 1.5)^0.5 = 0.82 instead of the IRM's (1 / 1.25)^0.5 = 0.89.

# %% [markdown]
# ## Exercise 6 (implement it): the cIRM
# *Write `my_cirm(S, Y, bound=None)` = S / Y as S·conj(Y) / |Y|², with an optional bound that clips the magnitude
# and keeps the phase, and check it with `checks.ex02_cirm(my_cirm)`.*


# %%
def my_cirm(S, Y, bound=None):
    """cIRM S / Y (complex [..., F, N]); with ``bound``, |M| is clipped to it and the phase kept."""
    eps = 1e-8
    M = S * Y.conj() / (Y.abs() ** 2 + eps)
    if bound is not None:
        mag = M.abs()
        M = M * (mag.clamp(max=bound) / (mag + eps))  # a real factor <= 1: the phase is unchanged
    return M


_ = checks.ex02_cirm(my_cirm)


# the classic slip: no conjugate
def cirm_no_conj(S, Y, bound=None):
    return S * Y / (Y.abs() ** 2 + 1e-8)


_ = checks.ex02_cirm(cirm_no_conj)

# %% [markdown]
# Listen to what the bound does (the chapter's first test mixture, speech track): the unbounded cIRM rebuilds
# the speech exactly; |M| ≤ 1 can only attenuate, so wherever the tracks cancelled in the mixture the speech
# stays too quiet.

# %%
mix0, tgt0 = items[0]
Y0, S0 = stft(mix0), stft(tgt0)
ests = {b: istft(masks.apply_mask(my_cirm(S0, Y0.unsqueeze(-3), bound=b), Y0.unsqueeze(-3)), mix0.shape[-1])
        for b in (None, 1.0)}
for b, e in ests.items():
    sdri = metrics.sdr_improvement(e, tgt0, mix0).numpy()
    display(viz.listen(e[0].numpy(), label=f"speech, cIRM {'unbounded' if b is None else f'|M| ≤ {b:g}'}: "
                                           f"SDRi {min(sdri[0], 99):+.1f} dB"))
