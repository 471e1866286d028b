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
# # Solutions · 12 Listening and error analysis
#
# Worked solutions to the exercises of chapter 12 (`chapters/12_listening.py`), with the shipped lite
# weights (`mtass_lite/pretrained/`) on MTASS-tiny. Per-mixture scores are read from
# `results/ch12_error_analysis.json`, which chapter 12 writes; every number in a conclusion is computed
# in its cell.

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
from IPython.display import Markdown, display

from mtass_lite import TRACKS, checks, viz
from mtass_lite.audio import load_audio, resample, save_audio
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.metrics import improvement
from mtass_lite.results import paper_table, read_json
from mtass_lite.separate import resolve_model, separate_array, separate_file

torch.set_num_threads(1)
root = ensure_tiny(progress=False)
test = MTASSDataset(root, "test")
meta = pd.DataFrame(read_metadata(root, "test"))
labels = {k: v["label"] for k, v in paper_table().items()}
models = {name: resolve_model(name, device="cpu") for name in ("complex_mtassnet", "conv_tasnet")}
df = pd.DataFrame(read_json("ch12_error_analysis")["items"])

# %% [markdown]
# ## Exercise 1
# *Find a test mixture where Conv-TasNet beats Complex-MTASSNet on speech. Listen: what differs?*

# %%
speech = df.pivot(index="id", columns="model", values="sdri_speech")
margin = (speech.conv_tasnet - speech.complex_mtassnet).sort_values(ascending=False)
uid = margin.index[0]
checks.ex12_1(uid)
print(f"Conv-TasNet has the higher speech SDRi on {int((margin > 0).sum())} of {len(margin)} test mixtures; "
      f"the largest margin is on test {uid}: {speech.conv_tasnet[uid]:+.2f} against {speech.complex_mtassnet[uid]:+.2f} dB")

# %% [markdown]
# Listen to the speech reference and both speech estimates. Then measure what each estimate is made
# of: project it onto the three reference tracks (least squares, `ŝ ≈ a·speech + b·music + c·noise + e`)
# and compare the leaked music and noise (`b·music`, `c·noise`) and the artefacts `e` with the
# speech part, in dB.

# %%
i = int(meta.index[meta.id == uid][0])
mix, tgt = (x.numpy() for x in test[i])
ests = {name: separate_array(m, mix) for name, m in models.items()}
display(viz.listen(mix, label=f"test {uid}: mixture"))
display(viz.listen(tgt[0], label="speech: reference"))
for name, e in ests.items():
    display(viz.listen(e[0], label=f"speech: {labels[name]}"))


def decompose(est: np.ndarray, refs: np.ndarray) -> dict:
    """dB of the leaked music, leaked noise and artefacts relative to the speech part of a speech estimate."""
    coef, *_ = np.linalg.lstsq(refs.T.astype(np.float64), est.astype(np.float64), rcond=None)
    parts = coef[:, None] * refs
    artefact = est - parts.sum(0)
    target = (parts[0] ** 2).sum()
    return {"speech gain a": coef[0],
            "music leak (dB)": 10 * np.log10((parts[1] ** 2).sum() / target),
            "noise leak (dB)": 10 * np.log10((parts[2] ** 2).sum() / target),
            "artefacts (dB)": 10 * np.log10((artefact ** 2).sum() / target)}


parts = pd.DataFrame({labels[name]: decompose(e[0], tgt) for name, e in ests.items()}).T
parts.round(2)

# %%
cm_, ct_ = parts.loc[labels["complex_mtassnet"]], parts.loc[labels["conv_tasnet"]]
diff = {k: cm_[k] - ct_[k] for k in ("music leak (dB)", "noise leak (dB)", "artefacts (dB)")}
worst_part = max(diff, key=diff.get)
Markdown(f"**Conclusion.** On test {uid} Complex-MTASSNet's speech estimate is worse mainly in its "
         f"**{worst_part.split(' (')[0]}**: {cm_[worst_part]:+.1f} dB against Conv-TasNet's {ct_[worst_part]:+.1f} dB "
         f"relative to the speech part (music leak {diff['music leak (dB)']:+.1f} dB, noise leak "
         f"{diff['noise leak (dB)']:+.1f} dB, artefacts {diff['artefacts (dB)']:+.1f} dB worse). "
         f"Its speech part is also scaled by {cm_['speech gain a']:.2f} against Conv-TasNet's {ct_['speech gain a']:.2f} "
         f"(1 = the reference's level), which the scale-dependent SDR charges too. That is what to listen for in the "
         f"players above: the residual {worst_part.split(' (')[0]} under the voice.")

# %% [markdown]
# ## Exercise 2
# *Plot SDRi against the music-to-noise ratio `snr_noise − snr_music`. Which track depends on it?*
#
# `snr_noise − snr_music` = (speech over noise) − (speech over music) = music level over noise level, dB.

# %%
df["mnr"] = df.snr_noise - df.snr_music
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2), sharey=True)
corr = {}
for ax, t in zip(axes, TRACKS):
    for name, g in df.groupby("model", sort=False):
        ax.scatter(g.mnr, g[f"sdri_{t}"], s=12, label=labels[name])
        corr.setdefault(name, {})[t] = g[f"sdri_{t}"].corr(g.mnr)
    ax.set(title=f"{t} SDRi", xlabel="snr_noise − snr_music (dB): music over noise")
axes[0].set_ylabel("SDRi (dB)")
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()
corr = pd.DataFrame(corr).T.rename(index=labels)
display(corr.round(2))

# %%
r = corr.loc[labels["complex_mtassnet"]]
depends = [t for t in TRACKS if abs(r[t]) >= 0.5]
checks.ex12_2(r.to_dict(), depends)
Markdown("**Conclusion.** " + "; ".join(
    f"**{t}** SDRi {'falls' if r[t] < 0 else 'rises'} with the music-to-noise ratio (r = {r[t]:+.2f} for "
    f"Complex-MTASSNet, {corr.loc[labels['conv_tasnet'], t]:+.2f} for Conv-TasNet)" for t in depends)
    + "".join(f"; {t} hardly follows it (r = {r[t]:+.2f})" for t in TRACKS if t not in depends)
    + ". The louder the music relative to the noise, the less "
    "there is to gain on the music (it was already loud in the mixture) and the more on the noise (buried): SDRi "
    "rewards digging out quiet tracks, as chapter 12 section 3 explains.")

# %% [markdown]
# ## Exercise 3
# *Record yourself over music, separate it, and listen. What does a model trained only on synthetic
# speech do with a real voice?*
#
# An executed notebook has no microphone, so the path is shown with a stand-in: the speech and music of
# a test mixture written as a 44.1 kHz stereo file (no noise: a voice over music). Replace `my_file`
# with your recording. The answer to the question comes from `results/real_generalisation.json`: the
# reproduction's models scored on MTASS-tiny and on mixtures of real recordings.

# %%
import logging
import sys

# the library logs what it did to the input (downmix, resampling); show it as plain notes
logging.basicConfig(stream=sys.stdout, format="note: %(message)s", force=True)
with tempfile.TemporaryDirectory() as tmp:
    voice_over_music = resample(test[5][1][:2].sum(0).numpy(), 16000, 44100)
    my_file = Path(tmp) / "my_recording.wav"
    save_audio(my_file, np.stack([voice_over_music, voice_over_music], axis=1), 44100)
    paths = separate_file(my_file, models["complex_mtassnet"], out_dir=tmp)
    stems = {t: load_audio(paths[t]) for t in TRACKS}
level = {t: round(float(10 * np.log10((s ** 2).mean() + 1e-12)), 1) for t, s in stems.items()}
print("written:", sorted(p.name for p in paths.values()), "| stem levels (dBFS):",
      level)

# %%
real = read_json("real_generalisation")
rows = {labels[m]: {f"{t} SDRi {where}": v[where]["sdri"][t]["mean"] for where in ("tiny", "real") for t in ("speech", "avg")}
        for m, v in real["models"].items()}
gap = pd.DataFrame(rows).T
gap["speech drop (dB)"] = gap["speech SDRi real"] - gap["speech SDRi tiny"]
display(gap.round(2))
base = {k: v["real"]["sdri"]["speech"]["mean"] if "real" in v else None for k, v in real["baselines"].items()}
n_lose = int((gap["speech drop (dB)"] < 0).sum())
Markdown(f"**Conclusion.** On real recordings {'every model' if n_lose == len(gap) else f'{n_lose} of {len(gap)} models'} "
         f"loses speech SDRi: from "
         f"{gap['speech drop (dB)'].max():+.2f} dB ({gap['speech drop (dB)'].idxmax()}) to "
         f"{gap['speech drop (dB)'].min():+.2f} dB ({gap['speech drop (dB)'].idxmin()}). A model that has only heard "
         f"synthetic voices has never met the breath, jitter and room of a recorded voice; in your own "
         f"separation, listen for consonants and breaths landing in the noise track and for voice leaking into the "
         f"music track.")

# %% [markdown]
# ## Exercise 4
# *The worst mixtures share a language. Is it the language or a few voices? Average SDRi per speaker
# and listen to the best and the worst Mandarin speaker.*

# %%
speakers = pd.read_csv(root / "test" / "sources.csv", dtype=str).query("track == 'speech'").set_index("id")
cm = df[df.model == "complex_mtassnet"].set_index("id")
table = meta.set_index("id")[["speech_id"]].copy()
table["speaker"] = table.speech_id.str.replace(r"_s\d+$", "", regex=True)
table["language"] = table.speaker.map(speakers.language)
table["sdri_avg"] = cm[[f"sdri_{t}" for t in TRACKS]].mean(axis=1)
per_speaker = table.groupby("speaker").sdri_avg.mean()
checks.ex12_4(per_speaker)
by_speaker = table.groupby(["language", "speaker"]).sdri_avg.agg(["mean", "count"]).round(2)
by_speaker

# %%
lang_mean = table.groupby("language").sdri_avg.mean()
cmn = by_speaker.loc["cmn", "mean"]
best_spk, worst_spk = cmn.idxmax(), cmn.idxmin()
without_worst = table[table.speaker != worst_spk].groupby("language").sdri_avg.mean()
for spk in (best_spk, worst_spk):
    rows_spk = table[table.speaker == spk]
    uid = (rows_spk.sdri_avg - rows_spk.sdri_avg.mean()).abs().idxmin()  # the speaker's most typical mixture
    i = int(meta.index[meta.id == uid][0])
    mix, tgt = (x.numpy() for x in test[i])
    est = separate_array(models["complex_mtassnet"], mix)
    display(viz.listen(mix, label=f"{spk} (mean SDRi {cmn[spk]:+.2f} dB): test {uid}, mixture"))
    display(viz.listen(est[0], label=f"{spk}: Complex-MTASSNet speech estimate"))

# %%
en = by_speaker.loc["en", "mean"]
overlap = cmn.max() > en.min()
gap_all = lang_mean["en"] - lang_mean["cmn"]
gap_without = without_worst["en"] - without_worst["cmn"]
within_sd = float(pd.concat([cmn - cmn.mean(), en - en.mean()]).std(ddof=2))  # speaker spread inside a language
verdict_text = (
    "Removing one voice closes most of the gap: a few voices explain it better than the language. "
    if abs(gap_without) < 0.5 * abs(gap_all) else
    f"The gap survives removing the worst voice ({gap_without:+.2f} dB), but speakers of one language differ by "
    f"{within_sd:.2f} dB (standard deviation of the speaker means), "
    + ("more than the languages do: the voices matter at least as much as the language. "
       if within_sd >= abs(gap_all) else "less than the languages do: the language (or what its voices share) matters. "))
Markdown(f"**Conclusion.** Complex-MTASSNet averages {lang_mean['cmn']:+.2f} dB on Mandarin and {lang_mean['en']:+.2f} dB "
         f"on English mixtures (gap {gap_all:+.2f} dB). The Mandarin speakers range from {cmn.min():+.2f} ({worst_spk}) to "
         f"{cmn.max():+.2f} dB ({best_spk}), the English ones from {en.min():+.2f} to {en.max():+.2f} dB"
         + ("; the two ranges overlap. " if overlap else "; the ranges do not overlap. ")
         + f"Without {worst_spk} the Mandarin average becomes {without_worst['cmn']:+.2f} dB. " + verdict_text
         + f"With {int(cmn.size)} Mandarin and {int(en.size)} English speakers in the test split and a few mixtures "
         f"each, the data cannot separate the two explanations firmly.")
