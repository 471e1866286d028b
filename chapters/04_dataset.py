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
# # 04 · Building the MTASS dataset
#
# **You will learn**
# - the MTASS mixing recipe: 10-s segments, music and noise at SNRs drawn from U(−5, 5) dB relative to
#   the speech, targets = the scaled stems, mixture = their exact sum,
# - what we do better than the original scripts: seeded mixtures, a clip guard instead of int16
#   wrap-around, redrawn silent segments instead of divisions by zero, atomic resumable writes,
# - how the embedded MTASS-tiny set is made from pip-installed tools, and how to build the paper's
#   real dataset (or an open alternative) when you have the disk, the network and a GPU.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import json
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, display

from mtass_lite import TRACKS, explore, viz
from mtass_lite.data import mixing, music_synth, noise_synth, speech_synth, tts
from mtass_lite.data.corpora import corpus_table
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.tiny import MARKER, ensure_tiny

root = ensure_tiny(progress=False)

# %% [markdown]
# ## 1. The recipe, by hand
# For a speech segment $s$ and another segment $x$ (music or noise) at a drawn SNR, MTASS scales
# $x$ by $g = \sqrt{E_s / (E_x\,10^{\mathrm{SNR}/10})}$ where $E$ is the energy over the whole clip.
# Then $10\log_{10}(E_s / E_{gx}) = \mathrm{SNR}$ exactly.

# %%
rng = np.random.default_rng(0)
s, x = rng.standard_normal(16000), 0.1 * rng.standard_normal(16000)
snr = 3.0
g = np.sqrt(np.sum(s ** 2) / (np.sum(x ** 2) * 10 ** (snr / 10)))
scaled, g_lib = mixing.mix_at_snr(s, x, snr)
np.testing.assert_allclose(g, g_lib)
print(f"g = {g:.4f}; realised SNR = {10 * np.log10(np.sum(s ** 2) / np.sum(scaled.astype(float) ** 2)):.4f} dB")

# %% [markdown]
# ## 2. Three kinds of source, all from pip packages
# English speech read by a neural voice (Piper's `en_US-joe-medium`, inside a pip wheel; MTASS-tiny moves
# each speaker to its own pitch, vocal-tract length, rate and accent), Mandarin speech from eSpeak NG,
# music rendered from MIDI through a General-MIDI SoundFont (a generated song, often "sung" by a choir
# or voice patch, as MTASS's music has vocals), and procedural noise. English speech was eSpeak's too
# until a measurement showed that models trained on the neural voice lose less on real speech (the
# README's data section, `results/tts_speech*.json`).

# %%
# a female speaker as MTASS-tiny makes one: pitch median moved to 200 Hz, vocal tract shortened by 15 %
speech = tts.synthesize("The quick brown fox jumps over the lazy dog.", accent="en-us", sex="female",
                        pitch_median_hz=200.0, formant_ratio=1.15)
mandarin = speech_synth.synthesize("今天天气很好，我们去公园散步吧。", voice="cmn")
music = music_synth.render(music_synth.song(np.random.default_rng(1), 6.0))
noise, kinds = noise_synth.make_noise(np.random.default_rng(2), 6 * 16000)
print(f"speech {len(speech) / 16000:.1f} s, Mandarin {len(mandarin) / 16000:.1f} s, "
      f"music {len(music) / 16000:.1f} s, noise {len(noise) / 16000:.1f} s ({'+'.join(kinds)})")
viz.listen_tracks(speech, [mandarin, music, noise],
                  titles=["English speech", "Mandarin speech", "generated song", "noise"])

# %% [markdown]
# **Hearing the SNR range.** The same three sources mixed by the recipe at both ends of its range:
# at −5 dB the music and the noise are each 5 dB *louder* than the speech, at +5 dB each is 5 dB
# quieter. Every MTASS mixture lies somewhere between (the two SNRs are drawn independently).

# %%
n = len(speech)
demo = {}
for snr_m, snr_n in ((-5.0, -5.0), (5.0, 5.0)):
    stems = np.stack([speech, mixing.mix_at_snr(speech, music[:n], snr_m)[0], mixing.mix_at_snr(speech, noise[:n], snr_n)[0]])
    demo[(snr_m, snr_n)], _, _ = mixing.peak_guard(stems)  # the guard keeps the SNRs if it fires
display(HTML("".join(viz.player_html(x, f"speech + music at SNR {m:+.0f} dB + noise at SNR {k:+.0f} dB")
                     for (m, k), x in demo.items())))

# %% [markdown]
# ## 3. Mixture *i* is a pure function of (seed, split, i)
# `make_mixture` seeds independent random streams from `(seed, split, i)` for the speech, music and
# noise picks and the two SNRs. No global random state: the same call gives the same mixture in any
# process, in any order, after any interruption. The original scripts used unseeded `random.randint`.

# %%
pools = mixing.make_pools([np.concatenate([speech, mandarin])], [music], [noise])
cfg = mixing.MixConfig(segment_seconds=3.0)
a = mixing.make_mixture(7, pools, seed=0, split="demo", cfg=cfg)
b = mixing.make_mixture(7, pools, seed=0, split="demo", cfg=cfg)
c = mixing.make_mixture(7, pools, seed=1, split="demo", cfg=cfg)

# %%
# NBVAL_CHECK_OUTPUT
print("same (seed, i) -> identical:", np.array_equal(a.mixture, b.mixture))
print("another seed -> different:", not np.array_equal(a.mixture, c.mixture))
print("mixture == exact sum of targets:", np.array_equal(a.mixture, a.targets[0] + a.targets[1] + a.targets[2]))

# %% [markdown]
# ## 4. Guards the original scripts lacked
# **Clipping.** The original wrote int16 without checking the peak: values above 1 wrapped around to
# the other sign — loud clicks in the data. Here, if the mixture would peak above 0.99, *all* stems
# are scaled together, which keeps every SNR, and `clip_scale` is logged.
#
# **Silence.** A silent segment makes $E_x = 0$ and the gain infinite; the original printed a message
# and set the gain to 0. Here such a segment is redrawn and the redraw counted.

# %%
loud = mixing.make_pools([np.concatenate([speech, mandarin]) * 8], [music], [noise])
m = mixing.make_mixture(0, loud, seed=0, split="demo", cfg=cfg)
realised = [10 * np.log10(mixing.energy(m.targets[0]) / mixing.energy(m.targets[k])) for k in (1, 2)]
silent_pool = mixing.make_pools([np.zeros(48000, np.float32), speech], [music], [noise])
redrawn = [mixing.make_mixture(i, silent_pool, seed=0, split="demo", cfg=cfg).row["speech_redraws"] for i in range(20)]

# %%
# NBVAL_CHECK_OUTPUT
print(f"clip guard: scale {m.row['clip_scale']:.3f}, peak now {np.abs(m.mixture).max():.2f}")
print("SNRs kept:", np.allclose(realised, [m.row["snr_music"], m.row["snr_noise"]], atol=0.01))
print("mixtures that had to redraw a silent speech segment:", sum(r > 0 for r in redrawn), "of 20")

# %% [markdown]
# Listen to that loud mixture as the recipe writes it (all stems scaled by `clip_scale`), and as the
# original scripts would have written it: the unscaled sum cast to int16, where every sample beyond
# full scale wraps around to the other sign.

# %%
unguarded = (m.targets.astype(np.float64) / m.row["clip_scale"]).sum(0)
wrapped = ((np.round(unguarded * 32768).astype(np.int64) + 32768) % 65536 - 32768) / 32768  # int16 wrap-around
label = f"SNR music {m.row['snr_music']:+.1f} dB, noise {m.row['snr_noise']:+.1f} dB"
display(HTML(viz.player_html(m.mixture, f"clip guard fired (scale {m.row['clip_scale']:.3f}) — {label}")
             + viz.player_html(wrapped, f"no guard, int16 wrap-around (peak was {np.abs(unguarded).max():.1f}) — {label}")))

# %% [markdown]
# ## 5. The MTASS-tiny set
# `data_scripts/make_tiny.py` (or `ensure_tiny()`, which every chapter calls) plans the source pools,
# renders them in parallel and mixes each split with the recipe above. Pools are split *before*
# mixing, so no sentence, voice setting, piece or noise seed crosses train/dev/test. The build writes
# `mtass_tiny.json` last; its presence marks a complete build, and it records a hash of the decoded
# audio: a rebuild from the same seed gives the same hash (a unit test rebuilds a small set twice).

# %%
marker = json.loads((root / MARKER).read_text())
print(f"built in {marker['build_seconds']:.0f} s on {marker['workers']} workers (this machine, when it was built)")

# %%
# NBVAL_CHECK_OUTPUT
print(f"{marker['hours']:.2f} h of mixtures; config {marker['config']}")
print("sources per split:", {k: v for k, v in marker["sources"].items()})

# %% [markdown]
# Drawn SNRs of the training split, from `metadata.csv`: uniform in [−5, 5] dB as the recipe says.

# %%
meta = pd.DataFrame(read_metadata(root, "train"))
fig, axes = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
for ax, col in zip(axes, ("snr_music", "snr_noise")):
    ax.hist(meta[col].astype(float), bins=20, range=(-5, 5), color=viz.TRACK_COLORS[col[4:]])
    ax.set(title=col, xlabel="dB")
axes[0].set_ylabel("mixtures")
viz.savefig(fig, "04_snr_histograms")

# %%
# NBVAL_CHECK_OUTPUT
print(f"clip guard applied to {(meta.clip_scale.astype(float) < 1).sum()} of {len(meta)} training mixtures; "
      f"silent redraws: {meta.redraws.astype(int).sum()}")
print("speech languages in train:", sorted(meta.speech_id.str.extract(r"_(en|cmn)_")[0].unique()))

# %% [markdown]
# ## 6. Building a split yourself — resumable
# `build_split` writes each file atomically (temp file + rename) and `metadata.csv` last. Kill it
# half-way and run it again: it skips finished mixtures and produces the same files.

# %%
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    mixing.build_split(tmp, "train", pools, n_mixtures=8, seed=0, segment_seconds=3.0, workers=1, progress=False)
    first = {p.name: p.read_bytes() for p in sorted(Path(tmp, "train", "mixture").iterdir())}
    for p in list(Path(tmp, "train", "music").iterdir())[:3]:
        p.unlink()  # as if the build had been killed
    mixing.build_split(tmp, "train", pools, n_mixtures=8, seed=0, segment_seconds=3.0, workers=1, progress=False)
    again = {p.name: p.read_bytes() for p in sorted(Path(tmp, "train", "mixture").iterdir())}
    ds = MTASSDataset(tmp, "train")
    mix0, tgt0 = ds[0]

# %%
# NBVAL_CHECK_OUTPUT
print("resumed build identical:", first == again, "| items:", len(ds), "| shapes:", tuple(mix0.shape), tuple(tgt0.shape))

# %% [markdown]
# ## 7. The real dataset
# The paper mixes AISHELL-1 (+ DiDiSpeech) speech, DSD100 songs (left channel, 44.1 → 16 kHz) and
# DNS-Challenge noise into **20,000 / 1,000 / 1,000** mixtures of 10 s (55.6 / 2.8 / 2.8 h). The same
# library code builds it, or an open alternative you can download directly:
#
# ```bash
# python data_scripts/download.py --list                 # every corpus, size, check, licence
# python data_scripts/download.py --recipe open          # resumable, verified (md5 where published)
# python data_scripts/prepare_mtass.py --recipe open     # split by speaker/piece, cut 10 s, mix
# python data_scripts/prepare_mtass.py --recipe paper --corpus-dir aishell1=/data/aishell ...
# MTASS_MODE=full MTASS_DATA_ROOT=/big/disk jupyter lab  # every chapter then reads the real data
# ```
#
# If you downloaded the authors' prepared copy (`test/mixture/mixture17/mixture_17.wav` ...),
# `mtass_lite.data.official.OfficialMTASSDataset` reads it in place and `link_official` maps it onto
# this course's layout. `docs/real_data.md` has the disk and time table and every licence.

# %%
print(corpus_table())

# %% [markdown]
# ## 8. Explore it yourself
# Move the two recipe SNRs (music and noise, each relative to the speech; −5 dB means the track is 5 dB
# louder than the speech): the mixture and the scaled tracks play, and the table says whether the clip
# guard fired.
# The outputs below are the default setting, saved with the notebook; with a running kernel
# (JupyterLab) the controls move them.

# %%
explore.snr_explorer(speech, music, noise)

# %% [markdown]
# ## Exercises
# 1. Change the SNR range to U(−10, 0) dB and rebuild a small split (a few 3-s mixtures with
#    `mixing.build_split(..., snr_range_db=(-10, 0))` into a temporary folder). How does the oracle
#    IRM of chapter 02 change? *(≈ 1 CPU-min)*
# 2. The recipe sets both SNRs relative to the *speech*. What is the music-to-noise ratio's range?
#    Plot its histogram from `metadata.csv`. Check: `checks.ex04_2(low_db, high_db)`.
#    *(≈ 1 CPU-min)*
# 3. Make a pool whose speech items are only 1 s long with a 3-s segment. What does `make_mixture`
#    do? Try 2-s items, and a pool with both: what do `speech_pad` and `speech_redraws` in the
#    metadata say? Write the rule as `pad_or_redraw(item_seconds, segment_seconds)`, returning the
#    zero samples appended or `None` when the item is redrawn. Check: `checks.ex04_3(pad_or_redraw)`.
#    *(≈ 1 CPU-min)*
# 4. Why must pools be split before mixing rather than mixtures after? *(reading only)*
#
# Costs measured on two CPU cores (shared, a few seconds each); solutions:
# `chapters/solutions/04_dataset_solutions.ipynb`; self-checks: `checks.ex04_2`, `checks.ex04_3`.
