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
# - the pitfalls: a gain error, a half-millisecond delay, a filtered estimate, leakage, silence,
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
from IPython.display import HTML, Markdown, display
from scipy.signal import butter, sosfilt

from mtass_lite import TRACKS, explore, metrics, viz
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
# very negative (−21 dB SDRi has been measured that way on real mixtures). Train with an SNR-form loss if you
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
# so a delay or an equaliser costs nothing. That also means it can flatter an estimate. The fourth
# estimate is the honest failure: the speech with some music left in it (at −10 dB).

# %%
delayed = np.roll(speech, 8)
lowpassed = sosfilt(butter(6, 3000, fs=16000, output="sos"), speech)
leaky = speech + np.sqrt(np.sum(speech ** 2) / (np.sum(tgt[1] ** 2) * 10)) * tgt[1]  # music at -10 dB
pitfalls = {"0.5 × s": 0.5 * speech, "s delayed 0.5 ms": delayed, "s low-passed at 3 kHz": lowpassed,
            "s + music at −10 dB": leaky}
rows = {}
for name, e in pitfalls.items():
    # BSS-eval needs all three references to split error into interference and artefacts
    est3 = np.stack([e, tgt[1], tgt[2]])
    rows[name] = (metrics.sdr(e, speech), metrics.si_sdr(e, speech), metrics.bss_eval_sdr(est3, tgt)[0])

# %%
# NBVAL_CHECK_OUTPUT
def db(v, width):  # above 50 dB the fit is perfect up to rounding, and the exact value is noise
    return f"{'> 50':>{width}s}" if v > 50 else f"{v:{width}.1f}"


print(f"{'estimate':24s} {'SDR':>7s} {'SI-SDR':>7s} {'BSS-SDR':>8s}")
for name, (a, b, c) in rows.items():
    print(f"{name:24s} {db(a, 7)} {db(b, 7)} {db(c, 8)}")

# %% [markdown]
# Listen, then look at the scores: the gain error is only quieter, the delay is inaudible, the
# low-pass is muffled, and the leakage is the only estimate that contains *another source*.

# %%
def scored_player(x, sc=None):
    text = "" if sc is None else f"SDR {sc[0]:+.1f} dB · SI-SDR {sc[1]:+.1f} dB · BSS-eval SDR {sc[2]:+.1f} dB"
    return f"<tr><td>{viz.player_html(x)}</td><td>{text}</td></tr>"


table_rows = [("reference s", speech, None)] + [(name, e, rows[name]) for name, e in pitfalls.items()]
display(HTML("<table><thead><tr><th style='text-align:left'>estimate</th><th></th>"
             "<th style='text-align:left'>scores against s</th></tr></thead><tbody>"
             + "".join(scored_player(e, sc).replace("<tr>", f"<tr><td style='text-align:left'><b>{name}</b></td>", 1)
                       for name, e, sc in table_rows) + "</tbody></table>"))
leak, delay = rows["s + music at −10 dB"], rows["s delayed 0.5 ms"]
rank = {m: sorted(rows, key=lambda n: rows[n][j], reverse=True).index("s + music at −10 dB") + 1
        for j, m in enumerate(("SDR", "SI-SDR", "BSS-eval SDR"))}
display(Markdown(
    f"The leakage scores {leak[0]:.1f} / {leak[1]:.1f} / {leak[2]:.1f} dB (SDR / SI-SDR / BSS-eval SDR): "
    f"it ranks {rank['SDR']} of {len(rows)} on SDR and {rank['BSS-eval SDR']} of {len(rows)} on BSS-eval. "
    f"The inaudible delay scores {delay[0]:.1f} dB SDR and {delay[1]:.1f} dB SI-SDR. The sample-exact metrics "
    "punish what you cannot hear; BSS-eval's 512-tap filter forgives delays and equalisation — too generously "
    "for the muffled low-pass — and mainly judges the interference."))

# %% [markdown]
# ## 5. Our BSS-eval agrees with mir_eval
# We compute BSS-eval with `fast_bss_eval`, which is faster (timed below); `mir_eval` is the
# reference implementation (its `separation` module is deprecated). The unit tests cross-check them
# on random and tonal signals; here on a real-like estimate.

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
display(Markdown(f"Timed on this machine, for 3 sources × {len(mix) / 16000:.0f} s: `fast_bss_eval` "
                 f"{t_ours:.2f} s, `mir_eval` {t_theirs:.2f} s: `fast_bss_eval` was **{t_theirs / t_ours:.1f}× faster**. "
                 "(Timings vary with the machine and its load; the agreement above does not.)"))

# %% [markdown]
# ## 6. Silent references, silent estimates
# SDR of a track whose reference is silent is undefined (division by ~0). The MTASS recipe never
# produces one (silent segments are redrawn, chapter 04); when you evaluate your own data, check.

# %%
print(f"SDR against a silent reference: {float(metrics.sdr(est, np.zeros_like(est))):.0f} dB (meaningless)")

# %% [markdown]
# **Silent estimates.** The other way round — a real reference, an all-zero *estimate* — matters
# for every model, since an untrained or collapsed network can output silence. SI-SDR of silence is
# 0 / 0: the projection $\langle \hat s, s\rangle s / \lVert s\rVert^2$ and the residual are both
# zero. A small $\epsilon$ in numerator and denominator would make it $10\log_{10}(\epsilon/\epsilon)
# = 0$ dB, and then silence would score SI-SDRi $= 0 - \text{SI-SDR(mixture)} > 0$ whenever a track is
# weaker than the rest of the mixture (most tracks here): doing nothing would beat barely trained
# models. `metrics.si_sdr` therefore gives an estimate with less than $10^{-10}$ of the reference's
# energy a fixed floor, `metrics.SILENCE_FLOOR_DB` = −50 dB (about the chance level of an unrelated
# signal over a few seconds), so silence's SI-SDRi is strongly negative. Plain SDR needs no such rule:
# an all-zero estimate leaves the error equal to the reference, so $\mathrm{SDR} = 10\log_{10}
# \lVert s\rVert^2 / \lVert s\rVert^2 = 0$ dB exactly, a well-defined value — and SDRi of silence is
# $-\mathrm{SDR(mixture)}$, positive for a weak track. That is why a model must beat the trivial
# baselines (silence, and the mixture / 3, which scores more SDRi still; chapter 05), not just 0 dB.

# %%
# NBVAL_CHECK_OUTPUT
silence = np.zeros_like(speech)
print(f"SI-SDR of silence: {float(metrics.si_sdr(silence, speech)):.1f} dB (the floor; "
      f"with eps alone it would be {float(metrics.si_sdr(silence, speech, silence_floor=False)):.1f} dB)")
print(f"SDR of silence: {float(metrics.sdr(silence, speech)):.1f} dB (exact, no floor needed)")
print(f"speech: SI-SDRi of silence {float(metrics.si_sdr(silence, speech) - metrics.si_sdr(mix, speech)):+.1f} dB, "
      f"SDRi of silence {float(metrics.sdr(silence, speech) - metrics.sdr(mix, speech)):+.1f} dB")

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
# ## 8. Explore it yourself
# Distort the speech reference — gain, delay, low-pass, leakage of the music track — and watch SDR,
# SI-SDR and BSS-eval SDR respond; listen to the distorted estimate beside the reference.
# The outputs below are the default setting, saved with the notebook; with a running kernel
# (JupyterLab) the controls move them.

# %%
explore.metric_explorer(speech, tgt[1])

# %% [markdown]
# ## Exercises
# 1. Find the gain $\beta^*$ that maximises SDR for `est` in section 3 and show that it is
#    $\langle \hat s, s\rangle / \lVert\hat s\rVert^2$. Compare it with SI-SDR's projection coefficient
#    $\alpha = \langle \hat s, s\rangle / \lVert s\rVert^2$: they differ (one scales the estimate, the other
#    the reference). With $\rho = \frac{\langle \hat s, s\rangle}{\lVert\hat s\rVert\,\lVert s\rVert}$, show that
#    the best-gain SDR is $10\log_{10}\frac{1}{1-\rho^2}$ and the SI-SDR (without mean removal,
#    `metrics.si_sdr(est, speech, zero_mean=False)`) is $10\log_{10}\frac{\rho^2}{1-\rho^2}$: both grow
#    with $|\rho|$, so they rank estimates identically, and they differ by $-20\log_{10}|\rho|$, which
#    vanishes for good estimates. Check numerically, and check that SI-SDR is exactly the plain SDR of
#    $\hat s$ against the rescaled reference $\alpha s$. Check: `checks.ex03_1(beta)`
#    with your β\*. *(≈ 1 CPU-min)*
# 2. Write SDRi for SI-SDR (SI-SDRi) by hand and check it against `metrics.si_sdr_improvement`.
#    Check: `checks.ex03_2(my_si_sdri)` for `my_si_sdri(estimates, references, mixture)`
#    (`[..., 3, T]` twice and `[..., T]` → `[..., 3]`). *(≈ 1 CPU-min)*
# 3. Show that BSS-eval's SDR for a low-passed estimate improves as `filter_length` grows. *(≈ 1 CPU-min)*
# 4. The speech here is synthetic (a neural voice for English, eSpeak for Mandarin). Would you expect
#    PESQ to behave the same on real speech?
#    *(reading only)*
#
# **Implement it** (fill in the function in the next cell; the cell after it checks it):
#
# 5. SI-SDR: `my_si_sdr(estimate, reference)` for numpy arrays `[T]` (→ a number) or `[B, T]` (→ `[B]`):
#    remove the means, project the estimate on the reference, return dB. Scaling the estimate must not
#    change the result. Check: `checks.ex03_si_sdr(my_si_sdr)`. *(≈ 1 CPU-min)*
#
# Costs measured on two CPU cores (shared), chapter already loaded, rounded up to whole minutes: each
# takes about a CPU-second or less; solutions: `chapters/solutions/03_metrics_solutions.ipynb`; self-checks:
# `checks.ex03_1`, `checks.ex03_2`, `checks.ex03_si_sdr`.

# %%
# Exercise 5: replace the `raise` by your code, then run the next cell.
def my_si_sdr(estimate, reference):
    """SI-SDR in dB over the last axis: [T] -> a number, [B, T] -> [B] (numpy float64)."""
    raise NotImplementedError  # your code


# %%
from mtass_lite import checks

try:
    checks.ex03_si_sdr(my_si_sdr)
except NotImplementedError:
    print("not implemented yet — see exercise 5")
