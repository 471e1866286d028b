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
# - to hear the default shipped model on a real recording, and what the model card says of it,
# - to separate your own recording with the shipped weights.
#
# Sections 1–4 and 6 use two of the shipped models (`mtass_lite/pretrained/`), a lite Complex-MTASSNet and
# a lite Conv-TasNet trained on MTASS-tiny by `python -m mtass_lite reproduce`; the first cells say which
# reproduction run they come from, read from the weights themselves. Section 5 listens to the default
# model of `separate`, trained on real recordings, and shows the model card of everything that ships.

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
from IPython.display import HTML, Markdown, display

from mtass_lite import TRACKS, explore, results_dir, viz
from mtass_lite.audio import load_audio, save_audio
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.tiny import ensure_tiny
from mtass_lite.evaluate import evaluate_model
from mtass_lite.metrics import improvement
from mtass_lite.results import check_committed, paper_table, read_json, write_json
from mtass_lite.separate import pretrained_path, resolve_model, separate_array, separate_file

root = ensure_tiny(progress=False)
test = MTASSDataset(root, "test")
meta = pd.DataFrame(read_metadata(root, "test"))
labels = {k: v["label"] for k, v in paper_table().items()}
models = {name: resolve_model(name, device="cpu") for name in ("complex_mtassnet", "conv_tasnet")}
shipped = {name: torch.load(pretrained_path(name), weights_only=True) for name in models}  # weights + record
trained = {name: ckpt["trained"] for name, ckpt in shipped.items()}
for name, tr in trained.items():
    print(f"{labels[name]}: {tr['step']} steps, {tr['cpu_seconds'] / 60:.1f} CPU-min on {tr['data']} ({tr['recipe']})")

# %%
# which committed reproduction trained these weights: the one whose run has the same steps and CPU time
def reproduction_of(name: str, tr: dict) -> str | None:
    for path in sorted(results_dir().glob("reproduction_cpu*.json")):
        run = read_json(path)["models"].get(name, {}).get("training", {})
        if run.get("step") == tr["step"] and abs(run.get("cpu_seconds", -1e9) - tr["cpu_seconds"]) < 1:
            return path.name
    return None


def plan_of(result_file: str) -> str:
    plan = read_json(results_dir() / result_file)["plan"]
    return f"{plan['cpu_minutes']:g} CPU-min per model, augmentation: {plan['overrides'].get('augment', 'none')}"


sources = {name: reproduction_of(name, tr) for name, tr in trained.items()}
lines = []
for name, src in sources.items():
    where = (f"the run of `results/{src}` ({plan_of(src)})" if src else
             "a run that no committed `results/reproduction_cpu*.json` records")
    lines.append(f"- {labels[name]}: {trained[name]['step']} training steps, "
                 f"{trained[name]['cpu_seconds'] / 60:.1f} CPU-min; {where}.")
current = "reproduction_cpu.json"
note = ""
if any(src != current for src in sources.values()) and (results_dir() / current).exists():
    table11 = read_json(results_dir() / current)["models"]
    gap = "; ".join(f"{labels[name]} {ckpt['test_sdri']['avg']:.2f} dB with these weights, "
                    f"{table11[name]['sdri']['avg']['mean']:.2f} dB in the table" for name, ckpt in shipped.items())
    note = (f"\n\nChapter 11's main table (`results/{current}`: {plan_of(current)}) comes from a different run, "
            f"whose weights are not shipped. Average test SDRi: {gap}.")
Markdown("**Where the shipped weights come from.**\n\n" + "\n".join(lines) + note)

# %% [markdown]
# ## 1. Listen first
# The mixture, each track's reference and both models' estimates, with their SDRi and SI-SDRi. The
# players are embedded in the notebook, so the first test mixture plays without a kernel; with a
# running kernel, choose another mixture and the players below change.

# %%
estimates = {}


def separate_item(i: int) -> dict:
    if i not in estimates:
        mix, _ = test[i]
        estimates[i] = {name: separate_array(m, mix) for name, m in models.items()}
    return estimates[i]


def item_scores(est, tgt, mix) -> dict:
    """``{track: {"SDRi": dB, "SI-SDRi": dB}}`` of one model on one mixture."""
    sdri, si_sdri = (improvement(est, tgt, mix, metric) for metric in ("sdr", "si_sdr"))
    return {t: {"SDRi": float(sdri[k]), "SI-SDRi": float(si_sdri[k])} for k, t in enumerate(TRACKS)}


def players(i: int) -> str:
    mix, tgt = (x.numpy() for x in test[i])
    est = {labels[name]: e for name, e in separate_item(i).items()}
    key = f"test {i}"
    return viz.chooser_html({key: mix}, {key: tgt}, {key: est},
                            {key: {m: item_scores(e, tgt, mix) for m, e in est.items()}})


choice = widgets.Dropdown(options=[(f"test {i}: music {float(meta.snr_music[i]):+.1f} dB, noise "
                                    f"{float(meta.snr_noise[i]):+.1f} dB", i) for i in range(len(test))],
                          value=0, description="mixture")
view = explore.live(lambda mixture: [HTML(players(mixture))], {"mixture": choice})

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
                     "snr_noise": float(row.snr_noise), **{f"sdri_{t}": it["sdri"][t] for t in TRACKS},
                     **{f"si_sdri_{t}": it["si_sdri"][t] for t in TRACKS}})
error_analysis = {"split": "test", "metric": "sdri (plain SNR form) and si_sdri", "items": rows}

# %%
# NBVAL_CHECK_OUTPUT
# the shipped weights must score as committed (a change that moves a number fails the test command)
print(check_committed("ch12_error_analysis", error_analysis))
print("wrote", write_json("ch12_error_analysis", error_analysis).name)

# %%
# correlation (Pearson r) of each track's SDRi with the SNR of the music and of the noise, per model
df = pd.DataFrame(read_json("ch12_error_analysis")["items"])
SNRS = ("snr_music", "snr_noise")
corr = pd.concat({labels[name]: pd.DataFrame({t: {s: g[f"sdri_{t}"].corr(g[s]) for s in SNRS} for t in TRACKS})
                  for name, g in df.groupby("model", sort=False)})
corr.round(2)

# %%
# each track against the SNR its SDRi follows more closely (larger |r|, averaged over the two models)
mean_abs = corr.abs().groupby(level=1).mean()  # [snr, track]
driver = {t: mean_abs[t].idxmax() for t in TRACKS}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2), sharey=True)
for ax, t in zip(axes, TRACKS):
    for name, g in df.groupby("model", sort=False):
        ax.scatter(g[driver[t]], g[f"sdri_{t}"], s=12, label=labels[name])
    ax.set(title=f"{t} SDRi vs {driver[t]}", xlabel=f"{driver[t]} (dB)")
axes[0].set_ylabel("SDRi (dB)")
axes[0].legend(fontsize=8)
fig.tight_layout()
viz.savefig(fig, "12_sdri_vs_snr")


def r_text(t: str) -> str:
    other = next(s for s in SNRS if s != driver[t])
    rs = ", ".join(f"{m} r = {corr.loc[(m, driver[t]), t]:+.2f}" for m in corr.index.unique(level=0))
    return (f"**{t}** SDRi follows `{driver[t]}` ({rs}; against `{other}` |r| ≤ "
            f"{corr.xs(other, level=1)[t].abs().max():.2f})")


Markdown("In the plots: " + "; ".join(r_text(t) for t in TRACKS) + ".")

# %% [markdown]
# Read the signs: a higher `snr_music` means *quieter* music relative to the speech. The quieter a
# track is in the mixture, the worse the mixture is as its estimate, and the more an estimate can
# gain: SDRi rewards digging out buried tracks, and a track that was already loud leaves less to
# improve. Compare the absolute SDR (`evaluate_model` reports `sdr` too) before concluding that a
# model "handles" some condition better.
#
# ## 4. The worst mixtures
# The three test mixtures with the lowest average SDRi for Complex-MTASSNet, with what the metadata
# says about them: the recipe's SNRs and the speech source (`sources.csv` of the split holds each
# speaker's language and voice: the neural voice's accent, sex and pitch for English, the eSpeak
# voice for Mandarin).

# %%
DEFAULT = "complex_mtassnet"
speakers = pd.read_csv(root / "test" / "sources.csv", dtype=str).query("track == 'speech'").set_index("id")


def voice_of(description: str) -> str:
    """The voice column: Piper's accent, sex and pitch for English speakers, the eSpeak voice for Mandarin."""
    f = dict(kv.split("=", 1) for kv in description.split() if "=" in kv)
    return f"{f['accent']} {f['sex']} {f['pitch']}" if f.get("engine") == "piper" else f.get("voice", "")


speakers["voice"] = speakers.description.map(voice_of)
LANGUAGES = {"cmn": "Mandarin", "en": "English"}
cm = df[df.model == DEFAULT].set_index("id")
table = meta.set_index("id")[["speech_id", "music_id", "noise_id", "snr_music", "snr_noise"]].astype(
    {"snr_music": float, "snr_noise": float})
table["speaker"] = table.speech_id.str.replace(r"_s\d+$", "", regex=True)
table["language"] = table.speaker.map(speakers.language).map(lambda code: LANGUAGES.get(code, code))
table["voice"] = table.speaker.map(speakers.voice)
table["sdri_avg"] = cm[[f"sdri_{t}" for t in TRACKS]].mean(axis=1)
worst = table.nsmallest(3, "sdri_avg")
worst[["sdri_avg", "snr_music", "snr_noise", "language", "voice", "music_id", "noise_id"]].round(2)

# %%
for mid, row in worst.iterrows():
    i = int(meta.index[meta.id == mid][0])
    mix, tgt = (x.numpy() for x in test[i])
    est = separate_item(i)[DEFAULT]
    display(viz.listen_compare(mix, tgt, est, scores=item_scores(est, tgt, mix),
                               caption=f"test {i} ({labels[DEFAULT]}): average SDRi {row.sdri_avg:+.2f} dB; "
                                       f"music {row.snr_music:+.1f} dB, noise {row.snr_noise:+.1f} dB; "
                                       f"{row.language} speech, voice {row.voice}"))

# %%
# what the worst mixtures share, against the whole test set
share = worst.language.value_counts()
top, n_top = share.index[0], int(share.iloc[0])
in_test = int((table.language == top).sum())
by_lang = table.groupby("language").sdri_avg.mean()
common = (f"All {len(worst)} worst mixtures" if n_top == len(worst) else f"{n_top} of the {len(worst)} worst mixtures")
sentence = (f"{common} have {top} speech, against {in_test} of the {len(table)} test mixtures. Over the whole "
            f"test set {labels[DEFAULT]} averages " + " and ".join(
                f"{v:+.2f} dB SDRi on {lang} mixtures" for lang, v in by_lang.sort_values().items()) + ". ")
for name, g in df[df.model != DEFAULT].groupby("model", sort=False):  # the other model's worst
    ids = g.set_index("id")[[f"sdri_{t}" for t in TRACKS]].mean(axis=1).nsmallest(len(worst)).index
    k = int((table.language[ids] == top).sum())
    sentence += (("All" if k == len(ids) else f"{k} of the") + f" {len(ids)} worst for {labels[name]} have {top} "
                 f"speech{' too' if k else ''}. ")
voices = worst.voice.value_counts()
if voices.iloc[0] > 1:
    sentence += f"{int(voices.iloc[0])} of the {len(worst)} worst are spoken by one voice, `{voices.index[0]}`. "
mean_snr = {s: (worst[s].mean(), table[s].mean()) for s in SNRS}
sentence += ("Their SNRs average " + ", ".join(f"`{s}` {w:+.1f} dB (test set {a:+.1f} dB)"
                                               for s, (w, a) in mean_snr.items()) + ".")
Markdown(sentence)

# %% [markdown]
# ## 5. Real recordings: the default shipped model
# `python -m mtass_lite separate` without `--model` uses the shipped model that separates real
# recordings best: the model card `results/shipped_models.json` (written by
# `benchmarks/shipped_models.py`) scores every shipped file on a fixed real test set of 100 recipe
# mixtures of real speech, songs and noise, and on MTASS-tiny's test set:

# %%
from mtass_lite import report
from mtass_lite.shipped import REAL_EXAMPLE, default_model

card = report.shipped_markdown()
Markdown(card) if card else print("results/shipped_models.json is missing: run benchmarks/shipped_models.py")

# %% [markdown]
# Listen to the default on one real mixture of that test set (its speech, song and noise are CC BY
# recordings, credited in `mtass_lite/data/examples/real_mixture/ATTRIBUTION.md`): reference | estimate |
# residual per track, with the scores beside them. The residual is what the model missed of a track and
# what it let in from the others; compare it with the MTASS-tiny mixtures of section 1.

# %%
name, size = default_model()
default = resolve_model(name, size=size, device="cpu")
real_mix = load_audio(REAL_EXAMPLE / "mixture.flac")
real_refs = np.stack([load_audio(REAL_EXAMPLE / f"{t}.flac") for t in TRACKS])
real_est = separate_array(default, real_mix)
viz.listen_separation(real_mix, real_refs, real_est, caption=f"default shipped model {name}_{size} on a real mixture")

# %% [markdown]
# ## 6. Separate your own file
# Any length, rate and channel count: the file is downmixed and resampled to 16 kHz, separated in
# overlapping chunks and written as three wav files. Here we make a 44.1 kHz stereo file from a test
# mixture to show the path; replace `my_file` with your recording, or run
# `python -m mtass_lite separate my.wav` in a terminal (the default model; `--model NAME` for another).

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
sdri = improvement(stems[:, :n], reference[:, :n], test[1][0].numpy()[:n], "sdr")
print("SDRi of the file path vs the reference tracks (dB):", {t: round(float(v), 2) for t, v in zip(TRACKS, sdri)})

# %% [markdown]
# ## Exercises
# 1. Find a test mixture where Conv-TasNet beats Complex-MTASSNet on speech. Listen: what differs?
#    Check: `checks.ex12_1(mixture_id)`. *(reading only)*
# 2. Plot SDRi against the music-to-noise ratio `snr_noise − snr_music`. Which track depends on it?
#    Check: `checks.ex12_2(corr, depends)` (`corr`: `{track: Pearson r}` for Complex-MTASSNet, `depends`: the
#    tracks with |r| ≥ 0.5). *(reading only)*
# 3. Record yourself (16 kHz or not) over music, separate it, and listen. What does a model trained
#    only on synthetic speech do with a real voice? (Compare with `benchmarks/real_generalisation.py`.)
#    *(≈ 1 CPU-min: separating a minute of audio takes about a CPU-second; rerunning the benchmark
#    scores 5 models on 100 mixtures at under 0.1 CPU-s each)*
# 4. The worst mixtures share a language. Is it the language or a few voices? Average SDRi per
#    speaker (`table.groupby("speaker")`) and listen to the best and the worst Mandarin speaker.
#    Check: `checks.ex12_4(per_speaker)`. *(reading only)*
#
# Costs measured on two CPU cores; solutions: `chapters/solutions/12_listening_solutions.ipynb`; self-checks: `checks.ex12_1`, `checks.ex12_2`, `checks.ex12_4`
