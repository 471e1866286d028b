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
# # 12 · Listening and error analysis
#
# **You will learn**
# - to listen to a separation before scoring it: mixture, reference and each model's estimate,
# - to compare spectrograms of a reference and its estimate and name what went wrong,
# - how SDRi depends on the input SNRs of music and noise, and what the worst mixtures have in common,
# - to separate your own recording with the shipped weights.
#
# The two shipped models (`mtass_lite/pretrained/`) are the lite Complex-MTASSNet and Conv-TasNet of
# the CPU reproduction (chapter 11), trained on MTASS-tiny by `python -m mtass_lite reproduce`.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import tempfile
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, display

from mtass_lite import TRACKS, viz
from mtass_lite.audio import load_audio, save_audio
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.evaluate import evaluate_model
from mtass_lite.results import paper_table, read_json, write_json
from mtass_lite.separate import resolve_model, separate_array, separate_file

root = ensure_tiny(progress=False)
test = MTASSDataset(root, "test")
meta = pd.DataFrame(read_metadata(root, "test"))
labels = {k: v["label"] for k, v in paper_table().items()}
models = {name: resolve_model(name, device="cpu") for name in ("complex_mtassnet", "conv_tasnet")}
for name, m in models.items():
    trained = torch.load(Path(__import__("mtass_lite").__file__).parent / "pretrained" / f"{name}_lite.pt",
                         weights_only=True)["trained"]
    print(f"{labels[name]}: {trained['step']} steps, {trained['cpu_seconds'] / 60:.0f} CPU-min on {trained['data']}")

# %% [markdown]
# ## 1. Listen first
# Choose a test mixture; the players point at wav files written next to this notebook.

# %%
estimates = {}


def separate_item(i: int) -> dict:
    if i not in estimates:
        mix, _ = test[i]
        estimates[i] = {name: separate_array(m, mix) for name, m in models.items()}
    return estimates[i]


def players(i: int) -> str:
    mix, tgt = test[i]
    est = separate_item(i)
    rows = [viz.listen(mix.numpy(), f"12_{i}_mixture", "mixture").data]
    for k, t in enumerate(TRACKS):
        rows.append(f"<b>{t}</b>")
        rows.append(viz.listen(tgt[k].numpy(), f"12_{i}_{t}_ref", "reference").data)
        rows += [viz.listen(e[k], f"12_{i}_{t}_{name}", labels[name]).data for name, e in est.items()]
    return "".join(rows)


out = widgets.Output()
choice = widgets.Dropdown(options=[(f"test {i}: music {float(meta.snr_music[i]):+.1f} dB, noise "
                                    f"{float(meta.snr_noise[i]):+.1f} dB", i) for i in range(len(test))],
                          value=0, description="mixture")


def show(change=None):
    out.clear_output()
    with out:
        display(HTML(players(choice.value)))


choice.observe(show, names="value")
show()
display(widgets.VBox([choice, out]))

# %% [markdown]
# ## 2. Look: reference against estimate

# %%
i = 0
mix, tgt = test[i]
est = separate_item(i)["complex_mtassnet"]
fig, axes = plt.subplots(3, 2, figsize=(11, 7), sharex=True, sharey=True)
for k, t in enumerate(TRACKS):
    viz.plot_spectrogram(axes[k, 0], tgt[k].numpy(), f"{t}: reference")
    viz.plot_spectrogram(axes[k, 1], est[k], f"{t}: Complex-MTASSNet lite")
fig.tight_layout()
viz.savefig(fig, "12_reference_vs_estimate")

# %% [markdown]
# Typical errors at this scale: speech harmonics leaking into the music estimate (both are
# harmonic), broadband noise left under speech pauses, and drum onsets landing in the noise track.
#
# ## 3. SDRi against the input SNRs
# Per-mixture SDRi of both shipped models on the tiny test set, written to `results/` and read back.

# %%
rows = []
for name, m in models.items():
    res = evaluate_model(m, root, "test", progress=False)
    for it, (_, row) in zip(res["items"], meta.iterrows()):
        rows.append({"model": name, "id": it["id"], "snr_music": float(row.snr_music),
                     "snr_noise": float(row.snr_noise), **{f"sdri_{t}": it["sdri"][t] for t in TRACKS}})
path = write_json("ch12_error_analysis", {"split": "test", "metric": "sdri (plain SNR form)", "items": rows})
print("wrote", path.name)

# %%
df = pd.DataFrame(read_json("ch12_error_analysis")["items"])
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2), sharey=True)
for ax, t, snr in zip(axes, TRACKS, ("snr_music", "snr_music", "snr_noise")):
    for name, g in df.groupby("model"):
        ax.scatter(g[snr], g[f"sdri_{t}"], s=12, label=labels[name])
    ax.set(title=f"{t} SDRi vs {snr}", xlabel=f"{snr} (dB)")
axes[0].set_ylabel("SDRi (dB)")
axes[0].legend(fontsize=8)
fig.tight_layout()
viz.savefig(fig, "12_sdri_vs_snr")

# %%
# correlation of each track's SDRi with the SNR of the music and of the noise (Complex-MTASSNet)
cm = df[df.model == "complex_mtassnet"]
corr = pd.DataFrame({t: {s: cm[f"sdri_{t}"].corr(cm[s]) for s in ("snr_music", "snr_noise")} for t in TRACKS}).round(2)
corr

# %% [markdown]
# Read the signs: a higher `snr_music` means *quieter* music relative to the speech. The quieter a
# track is in the mixture, the worse the mixture is as its estimate, and the more an estimate can
# gain: SDRi rewards digging out buried tracks, and a track that was already loud leaves less to
# improve. Compare the absolute SDR (`evaluate_model` reports `sdr` too) before concluding that a
# model "handles" some condition better.
#
# ## 4. The worst mixtures

# %%
cm = cm.assign(avg=cm[[f"sdri_{t}" for t in TRACKS]].mean(axis=1))
worst = cm.nsmallest(3, "avg")
worst_meta = meta.set_index("id").loc[worst.id, ["speech_id", "music_id", "noise_id", "snr_music", "snr_noise"]]
worst_meta.assign(sdri_avg=worst.avg.values).round(2)

# %%
j = int(meta.index[meta.id == worst.id.iloc[0]][0])
display(HTML(players(j)))

# %% [markdown]
# ## 5. Separate your own file
# Any length, rate and channel count: the file is downmixed and resampled to 16 kHz, separated in
# overlapping chunks and written as three wav files. Here we make a 44.1 kHz stereo file from a test
# mixture to show the path; replace `my_file` with your recording, or run
# `python -m mtass_lite separate my.wav --model complex_mtassnet` in a terminal.

# %%
import logging
import sys

# the library logs what it did to the input (downmix, resampling); show it as plain notes
logging.basicConfig(stream=sys.stdout, format="note: %(message)s", force=True)
with tempfile.TemporaryDirectory() as tmp:
    from mtass_lite.audio import resample

    mix44 = resample(test[1][0].numpy(), 16000, 44100)
    my_file = Path(tmp) / "my_recording.wav"
    save_audio(my_file, np.stack([mix44, 0.8 * mix44], axis=1), 44100)
    paths = separate_file(my_file, models["complex_mtassnet"], out_dir=tmp)
    stems = np.stack([load_audio(paths[t]) for t in TRACKS])
    reference = test[1][1].numpy()

# %%
# NBVAL_CHECK_OUTPUT
print("stems:", sorted(p.name for p in paths.values()), "| shape:", stems.shape)

# %%
n = min(stems.shape[1], reference.shape[1])
print("SDRi of the file path vs the reference tracks (dB):",
      {t: round(float(v), 2) for t, v in zip(TRACKS, __import__("mtass_lite").metrics.sdr_improvement(
          stems[:, :n], reference[:, :n], test[1][0].numpy()[:n]))})

# %% [markdown]
# ## Exercises
# 1. Find a test mixture where Conv-TasNet beats Complex-MTASSNet on speech. Listen: what differs?
# 2. Plot SDRi against the music-to-noise ratio `snr_noise − snr_music`. Which track depends on it?
# 3. Record yourself (16 kHz or not) over music, separate it, and listen. What does a model trained
#    only on synthetic speech do with a real voice? (Compare with `benchmarks/real_generalisation.py`.)
