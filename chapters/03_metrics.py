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
# # 03 · Measuring separation: SDR, SI-SDR, BSS-eval, PESQ and STOI
#
# **You will learn**
# - the plain SNR-form SDR that the MTASS table reports (as SDR *improvement*, SDRi),
# - scale-invariant SDR (SI-SDR) and the BSS-eval SDR, and what each forgives,
# - the pitfalls: a gain error, a one-sample delay, a filtered estimate, a silent reference,
# - perceptual speech measures (PESQ-wb, STOI) for the speech track.
#
# Whenever this course prints a number it says which metric it is. Mixing them up is the most
# common error in separation papers' comparisons.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy.signal import butter, sosfilt

from mtass_lite import TRACKS, metrics, viz
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.data.tiny import ensure_tiny

root = ensure_tiny(progress=False)
mix, tgt = (t.numpy().astype(np.float64) for t in MTASSDataset(root, "test")[0])
speech = tgt[0]

# %% [markdown]
# ## 1. SDR in its plain SNR form
# $$\mathrm{SDR}(\hat s, s) = 10 \log_{10} \frac{\lVert s \rVert^2}{\lVert s - \hat s \rVert^2}$$
# Everything that is not the reference counts as error, including a wrong gain.

# %%
def sdr_by_hand(est, ref):
    return 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - est) ** 2))


est = speech + 0.1 * np.random.default_rng(0).standard_normal(len(speech)) * speech.std()
np.testing.assert_allclose(sdr_by_hand(est, speech), metrics.sdr(est, speech), rtol=1e-6)

# %%
# NBVAL_CHECK_OUTPUT
print(f"SDR of s against 0.5 s: {metrics.sdr(0.5 * speech, speech):.2f} dB  (10 log10 4 = 6.02)")

# %% [markdown]
# ## 2. SDRi: improvement over doing nothing
# The mixture itself is an "estimate" of every track. SDRi = SDR(estimate) − SDR(mixture): the
# MTASS table's number. Returning the mixture scores 0 dB SDRi on every track.

# %%
# NBVAL_CHECK_OUTPUT
base = metrics.sdr(np.stack([mix] * 3), tgt)
print("SDR of the mixture per track (dB):", {t: round(float(v), 1) for t, v in zip(TRACKS, base)})
print("SDRi of returning the mixture:", metrics.sdr_improvement(np.stack([mix] * 3), tgt, mix).round(6))

# %% [markdown]
# ## 3. Scale: SDR punishes it, SI-SDR forgives it
# SI-SDR first projects the estimate on the reference, $s_t = \frac{\langle \hat s, s\rangle}{\lVert s\rVert^2}s$,
# and measures $10\log_{10}\lVert s_t\rVert^2/\lVert \hat s - s_t\rVert^2$. A network trained with
# SI-SDR alone may output the right shape at any gain: its SI-SDRi can be high while its plain SDRi is
# very negative (PAPER_FACTS: −21 dB measured on real mixtures). Train with an SNR-form loss if you
# will be scored by SDR.

# %%
gains = np.logspace(-1, 1, 41)
fig, ax = plt.subplots(figsize=(7, 3))
ax.semilogx(gains, [metrics.sdr(g * est, speech) for g in gains], label="SDR (plain SNR form)")
ax.semilogx(gains, [metrics.si_sdr(g * est, speech) for g in gains], label="SI-SDR")
ax.set(xlabel="gain applied to a good estimate", ylabel="dB")
ax.legend()
viz.savefig(fig, "03_scale")

# %% [markdown]
# ## 4. A small delay ruins both; BSS-eval forgives it
# BSS-eval (Vincent et al. 2006) lets the reference pass through a 512-tap filter before comparing,
# so a delay or an equaliser costs nothing. That also means it can flatter an estimate.

# %%
delayed = np.roll(speech, 8)
lowpassed = sosfilt(butter(6, 3000, fs=16000, output="sos"), speech)
rows = {}
for name, e in {"0.5 × s": 0.5 * speech, "s delayed 0.5 ms": delayed, "s low-passed at 3 kHz": lowpassed}.items():
    # BSS-eval needs all three references to split error into interference and artefacts
    est3 = np.stack([e, tgt[1], tgt[2]])
    rows[name] = (metrics.sdr(e, speech), metrics.si_sdr(e, speech), metrics.bss_eval_sdr(est3, tgt)[0])

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'estimate':24s} {'SDR':>7s} {'SI-SDR':>7s} {'BSS-SDR':>8s}")
for name, (a, b, c) in rows.items():
    print(f"{name:24s} {a:7.1f} {b:7.1f} {c:8.1f}")

# %% [markdown]
# ## 5. Our BSS-eval agrees with mir_eval
# We compute BSS-eval with `fast_bss_eval` (≈ 6× faster); `mir_eval` is the reference
# implementation (its `separation` module is deprecated). The unit tests cross-check them on random
# and tonal signals; here on a real-like estimate.

# %%
import time
import warnings

import mir_eval

noisy_est = tgt + 0.3 * np.stack([mix] * 3)
t0 = time.perf_counter()
ours = metrics.bss_eval(noisy_est, tgt)[0]
t_ours = time.perf_counter() - t0
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    theirs = mir_eval.separation.bss_eval_sources(tgt, noisy_est, compute_permutation=False)[0]
    t_theirs = time.perf_counter() - t0

# %%
# NBVAL_CHECK_OUTPUT
print("max |fast_bss_eval - mir_eval| SDR below 0.05 dB:", np.abs(ours - theirs).max() < 0.05)

# %%
print(f"fast_bss_eval {t_ours:.2f} s, mir_eval {t_theirs:.2f} s for 3 sources × {len(mix) / 16000:.0f} s")

# %% [markdown]
# ## 6. Silent references
# SDR of a track whose reference is silent is undefined (division by ~0). The MTASS recipe never
# produces one (silent segments are redrawn, chapter 04); when you evaluate your own data, check.

# %%
print(f"SDR against a silent reference: {float(metrics.sdr(est, np.zeros_like(est))):.0f} dB (meaningless)")

# %% [markdown]
# ## 7. Speech quality and intelligibility
# PESQ-wb (ITU-T P.862.2, 1.04–4.64) and STOI (0–1) compare a speech estimate with clean speech.
# They apply to the speech track only.

# %%
snrs = [-5, 0, 5, 10, 20]
noise = tgt[1] + tgt[2]
pesq_stoi = []
for snr in snrs:
    g = np.sqrt(np.sum(speech ** 2) / (np.sum(noise ** 2) * 10 ** (snr / 10)))
    noisy = speech + g * noise
    pesq_stoi.append((metrics.pesq_wb(noisy, speech), metrics.stoi(noisy, speech)))

# %%
# NBVAL_CHECK_OUTPUT
for snr, (p, s) in zip(snrs, pesq_stoi):
    print(f"speech + music&noise at {snr:3d} dB: PESQ-wb {p:.1f}, STOI {s:.2f}")

# %% [markdown]
# ## Exercises
# 1. Find the gain that maximises SDR for `est` in section 3. Compare it with the SI-SDR projection
#    coefficient. Why are they the same?
# 2. Write SDRi for SI-SDR (SI-SDRi) by hand and check it against `metrics.si_sdr_improvement`.
# 3. Show that BSS-eval's SDR for a low-passed estimate improves as `filter_length` grows.
# 4. The synthetic speech here is eSpeak's. Would you expect PESQ to behave the same on real speech?
