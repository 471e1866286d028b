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
# # Solutions · 03 Measuring separation: SDR, SI-SDR, BSS-eval, PESQ and STOI
#
# Worked solutions to the exercises of chapter 03 (`chapters/03_metrics.ipynb`), for the lecturer and for
# students checking their work, including the "implement it" assignment (exercise 5: SI-SDR). Every number
# and every verdict below is computed when the notebook runs.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from scipy.optimize import minimize_scalar
from scipy.signal import butter, sosfilt

import mtass_lite
from mtass_lite import TRACKS, checks, data_root, masks, metrics, viz
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.data.tiny import ensure_tiny

FAST = mtass_lite.get_mode(MTASS_MODE) == "fast"
root = ensure_tiny(progress=False)
test = MTASSDataset(root, "test")
mix, tgt = (t.numpy().astype(np.float64) for t in test[0])
speech = tgt[0]
est = speech + 0.1 * np.random.default_rng(0).standard_normal(len(speech)) * speech.std()  # the chapter's `est`

# %% [markdown]
# ## Exercise 1
# *Find the gain β\* that maximises SDR for `est` and show that it is ⟨ŝ, s⟩ / ‖ŝ‖². Compare it with SI-SDR's
# projection coefficient α = ⟨ŝ, s⟩ / ‖s‖². With ρ = ⟨ŝ, s⟩ / (‖ŝ‖ ‖s‖), show that the best-gain SDR is
# 10 log10(1 / (1 − ρ²)) and SI-SDR (without mean removal) 10 log10(ρ² / (1 − ρ²)): they rank estimates identically
# and differ by −20 log10|ρ|. Check numerically, and check that SI-SDR is the plain SDR of ŝ against αs.*
#
# **Derivation.** SDR(βŝ, s) = 10 log10 ‖s‖² / ‖s − βŝ‖², so maximising it minimises
# ‖s − βŝ‖² = ‖s‖² − 2β⟨ŝ, s⟩ + β²‖ŝ‖², a parabola in β with its minimum at **β\* = ⟨ŝ, s⟩ / ‖ŝ‖²** (the
# least-squares gain: s projected on ŝ). There ‖s − β\*ŝ‖² = ‖s‖² − ⟨ŝ, s⟩² / ‖ŝ‖² = ‖s‖²(1 − ρ²), hence
# SDR\* = 10 log10 1 / (1 − ρ²).
#
# SI-SDR scales the *reference* instead: s_t = αs with α = ⟨ŝ, s⟩ / ‖s‖² (ŝ projected on s). Then
# ‖s_t‖² = ⟨ŝ, s⟩² / ‖s‖² = ρ²‖ŝ‖² and ‖ŝ − s_t‖² = ‖ŝ‖² − ⟨ŝ, s⟩² / ‖s‖² = ‖ŝ‖²(1 − ρ²), hence
# SI-SDR = 10 log10 ρ² / (1 − ρ²). Both are increasing functions of ρ² alone, so they order any set of estimates the
# same way; SDR\* − SI-SDR = −10 log10 ρ² = −20 log10|ρ| ≥ 0, which tends to 0 as |ρ| → 1 (good estimates). And
# 10 log10 ‖s_t‖² / ‖ŝ − s_t‖² is by definition the plain SDR of ŝ against the rescaled reference αs.

# %%
dot, e2, s2 = est @ speech, est @ est, speech @ speech
beta_star, alpha = dot / e2, dot / s2
rho = dot / np.sqrt(e2 * s2)
_ = checks.ex03_1(beta_star)

# numerically, without the formula: maximise SDR(β est) over β
beta_grid = minimize_scalar(lambda b: -float(metrics.sdr(b * est, speech)), bounds=(0.5, 1.5), method="bounded",
                            options={"xatol": 1e-9}).x
sdr_star = float(metrics.sdr(beta_star * est, speech))
si_nz = float(metrics.si_sdr(est, speech, zero_mean=False))
checks_table = pd.DataFrame({
    "computed": [beta_grid, beta_star, alpha, sdr_star, 10 * np.log10(1 / (1 - rho ** 2)), si_nz,
                 10 * np.log10(rho ** 2 / (1 - rho ** 2)), sdr_star - si_nz, -20 * np.log10(abs(rho)),
                 float(metrics.sdr(est, alpha * speech))],
}, index=["β maximising SDR (numerical search)", "β* = <ŝ,s>/||ŝ||²", "α = <ŝ,s>/||s||²",
          "SDR(β* ŝ, s) (dB)", "10 log10 1/(1−ρ²) (dB)", "SI-SDR, zero_mean=False (dB)",
          "10 log10 ρ²/(1−ρ²) (dB)", "SDR* − SI-SDR (dB)", "−20 log10|ρ| (dB)", "SDR(ŝ, α s) (dB)"])
print(checks_table.to_string(float_format=lambda v: f"{v:.6f}"))

# %%
# the same on estimates of very different quality: the two scores order them identically
rng = np.random.default_rng(1)
cands = {f"s + noise at {snr:+d} dB": speech + 10 ** (-snr / 20) * speech.std() * rng.standard_normal(len(speech))
         for snr in (-10, -3, 0, 5, 20)}
cands["s + music at −10 dB"] = speech + np.sqrt(s2 / (10 * (tgt[1] @ tgt[1]))) * tgt[1]
cands["0.5 × s delayed 0.5 ms"] = 0.5 * np.roll(speech, 8)
rank = pd.DataFrame({n: {"ρ": (e @ speech) / np.sqrt((e @ e) * s2),
                         "best-gain SDR": 10 * np.log10(1 / (1 - ((e @ speech) ** 2 / ((e @ e) * s2)))),
                         "SI-SDR": float(metrics.si_sdr(e, speech, zero_mean=False))} for n, e in cands.items()}).T
rank["difference"] = rank["best-gain SDR"] - rank["SI-SDR"]
same_order = list(rank["best-gain SDR"].sort_values().index) == list(rank["SI-SDR"].sort_values().index)
display(rank.round(3))
closed_form_err = max(abs(sdr_star - 10 * np.log10(1 / (1 - rho ** 2))),
                      abs(si_nz - 10 * np.log10(rho ** 2 / (1 - rho ** 2))))
rescaled_err = abs(si_nz - float(metrics.sdr(est, alpha * speech)))
shrink = "shrinks" if beta_star < 1 else "amplifies"
display(Markdown(
    f"For the chapter's `est`: **β\\* = {beta_star:.5f}** (a numerical search finds {beta_grid:.5f}), while "
    f"α = {alpha:.5f}: β\\* {shrink} the noisy estimate (its added noise is worth cutting), α rescales the "
    f"reference by {abs(alpha - 1):.1e} only. The closed forms match the library to {closed_form_err:.1e} dB, "
    f"the difference is −20 log10|ρ| = {-20 * np.log10(abs(rho)):.4f} dB (ρ = {rho:.5f}), and SI-SDR equals "
    f"SDR(ŝ, αs) to {rescaled_err:.1e} dB. Over the seven estimates above the two scores "
    f"{'give the same ranking' if same_order else 'do NOT give the same ranking'}; their difference grows from "
    f"{rank['difference'].min():.3f} dB for the best to {rank['difference'].max():.2f} dB for the worst."))

# %% [markdown]
# ## Exercise 2
# *Write SDRi for SI-SDR (SI-SDRi) by hand and check it against `metrics.si_sdr_improvement`.*
#
# SI-SDRi of track k = SI-SDR(ŝ_k, s_k) − SI-SDR(y, s_k): the unprocessed mixture y is the baseline "estimate"
# of every track. Written with the SI-SDR of exercise 5 (numpy, over the last axis):


# %%
def my_si_sdr(estimate, reference):
    """SI-SDR in dB over the last axis: zero-mean, project the estimate on the reference, 10 log10 of the ratio."""
    estimate = estimate - estimate.mean(-1, keepdims=True)
    reference = reference - reference.mean(-1, keepdims=True)
    alpha = (estimate * reference).sum(-1, keepdims=True) / (reference ** 2).sum(-1, keepdims=True)
    target = alpha * reference
    return 10 * np.log10((target ** 2).sum(-1) / ((estimate - target) ** 2).sum(-1))


def my_si_sdri(estimates, references, mixture):
    """SI-SDRi per track: [..., 3, T] x2, [..., T] -> [..., 3]."""
    baseline = my_si_sdr(np.broadcast_to(mixture[..., None, :], references.shape), references)
    return my_si_sdr(estimates, references) - baseline


_ = checks.ex03_2(my_si_sdri)
irm_est = masks.oracle_separation(*(x for x in test[0]), "irm").numpy().astype(np.float64)  # a real estimate
mine, lib = my_si_sdri(irm_est, tgt, mix), metrics.si_sdr_improvement(irm_est, tgt, mix)
print("oracle-IRM estimates of test 0, SI-SDRi by hand:", {t: round(float(v), 3) for t, v in zip(TRACKS, mine)})
print("                         metrics.si_sdr_improvement:", {t: round(float(v), 3) for t, v in zip(TRACKS, lib)})
print(f"largest difference: {np.abs(mine - lib).max():.1e} dB")

# %% [markdown]
# ## Exercise 3
# *Show that BSS-eval's SDR for a low-passed estimate improves as `filter_length` grows.*

# %%
lowpassed = sosfilt(butter(6, 3000, fs=16000, output="sos"), speech)
est3 = np.stack([lowpassed, tgt[1], tgt[2]])  # as in the chapter: the other tracks are perfect
lengths = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
bss = {L: float(metrics.bss_eval_sdr(est3, tgt, filter_length=L)[0]) for L in lengths}
print(f"SDR {float(metrics.sdr(lowpassed, speech)):.1f} dB, SI-SDR {float(metrics.si_sdr(lowpassed, speech)):.1f} dB; "
      "BSS-eval SDR by filter length:")
print("  ".join(f"{L}: {v:.1f}" for L, v in bss.items()))
display(viz.listen(speech, label="speech (reference)"))
display(viz.listen(lowpassed, label=f"low-passed at 3 kHz: BSS-eval SDR {bss[512]:.0f} dB with 512 taps"))
half = next(L for L in lengths if bss[L] > 0.5 * bss[512])
monotonic = all(bss[b] >= bss[a] - 0.05 for a, b in zip(lengths, lengths[1:]))
display(Markdown(
    f"BSS-eval's SDR grows from {bss[1]:.1f} dB with a single tap (a gain only, like SI-SDR) to {bss[512]:.1f} dB "
    f"with the default 512 taps; it is already above half of that at {half} taps. BSS-eval counts as "
    f"*target* whatever a filter of `filter_length` taps can make out of the reference: a 6th-order Butterworth "
    f"low-pass has a short impulse response, so a few dozen taps copy it almost perfectly and the muffled estimate "
    f"scores like a near-perfect one — the flattery the chapter warns about. The curve is "
    f"{'non-decreasing' if monotonic else 'not monotonic here'}"
    f", as it must be up to numerical noise: a longer filter can always set its extra taps to zero."))

# %% [markdown]
# ## Exercise 4
# *The speech here is synthetic (a neural voice for English, eSpeak for Mandarin). Would you expect PESQ to
# behave the same on real speech?*
#
# **Expectation.** PESQ (and its wide-band version P.862.2) was built and calibrated to predict listeners' MOS for
# *natural* speech passed through telephone-like degradations; its cognitive model weights disturbances
# frame by frame in a perceptual (Bark) loudness domain. Synthetic speech is steadier — eSpeak's formant
# synthesis most, the neural voice less so, both with little breath noise, jitter or shimmer, more regular
# silences and no room — so the relative distortion per frame differs from real speech at the same SNR. The *ordering* (more noise → lower PESQ) should hold for both, but the absolute
# values need not agree, and a MOS-LQO on synthetic speech is not a calibrated listener score. The same holds for
# STOI, which correlates envelopes in 384-ms windows.
#
# **Measured** where the real-recordings test set is on this machine (`data/realmini_mix`, built by
# `benchmarks/real_generalisation.py` from recordings that are not part of the package): PESQ-wb of the speech
# track plus its own mixture's music and noise at the chapter's SNRs, MTASS-tiny's synthetic speech against real
# speech, a few mixtures each.

# %%
real_root = data_root() / "realmini_mix"
snrs = [-5, 0, 5, 10, 20]
n_clips = 3 if FAST else 10


def pesq_stoi_curve(dataset, n):
    """Mean PESQ-wb and STOI of speech + (music + noise) at each SNR, over the first ``n`` mixtures."""
    out = np.zeros((2, len(snrs)))
    for i in range(n):
        tracks = dataset[i][1].numpy().astype(np.float64)
        s, rest = tracks[0], tracks[1] + tracks[2]
        for j, snr in enumerate(snrs):
            noisy = s + np.sqrt((s @ s) / ((rest @ rest) * 10 ** (snr / 10))) * rest
            out[:, j] += (metrics.pesq_wb(noisy, s), metrics.stoi(noisy, s))
    return out / n


curves = {"synthetic (MTASS-tiny)": pesq_stoi_curve(test, n_clips)}
if (real_root / "test" / "metadata.csv").is_file():
    curves["real speech (realmini)"] = pesq_stoi_curve(MTASSDataset(real_root, "test"), n_clips)
table4 = pd.DataFrame({(m, n): dict(zip([f"{s} dB" for s in snrs], c[k])) for n, c in curves.items()
                       for k, m in enumerate(("PESQ-wb", "STOI"))}).T
display(table4.round(2))

# %%
if len(curves) == 2:
    (syn, real) = curves.values()
    gap = real[0] - syn[0]
    rising = all((np.diff(c[0]) >= -0.02).all() for c in (syn, real))
    display(Markdown(
        f"On {n_clips} mixtures each, the PESQ curves {'both rise' if rising else 'do not both rise'} with the SNR"
        f"{', so the ordering holds' if rising else ''}; the absolute values differ: real speech scores "
        f"{', '.join(f'{g:+.2f}' for g in gap)} MOS against MTASS-tiny's synthetic speech at {', '.join(f'{s} dB' for s in snrs)} "
        f"(at the lowest SNRs both sit near the scale's floor, 1.04, where PESQ no longer discriminates). STOI differs "
        f"too: {', '.join(f'{r - e:+.2f}' for r, e in zip(real[1], syn[1]))} for real speech. So PESQ and STOI measured "
        f"on MTASS-tiny's synthetic speech compare models with each other on that data, but are not the scores a "
        f"model would get on real speech."))
else:
    print("the real-recordings test set is not on this machine: only the expectation above applies")

# %% [markdown]
# ## Exercise 5 (implement it): SI-SDR
# *Write `my_si_sdr(estimate, reference)` for numpy arrays `[T]` or `[B, T]` and check it with
# `checks.ex03_si_sdr(my_si_sdr)`.*
#
# `my_si_sdr` of exercise 2 is the answer: remove the means, project the *estimate* on the *reference*
# (α = ⟨ŝ, s⟩ / ‖s‖²), take 10 log10 ‖αs‖² / ‖ŝ − αs‖², every sum over the last axis.

# %%
_ = checks.ex03_si_sdr(my_si_sdr)


# the trap of exercise 1: projecting the other way (the SDR-optimal gain) gives the best-gain SDR, not SI-SDR
def best_gain_sdr(estimate, reference):
    estimate = estimate - estimate.mean(-1, keepdims=True)
    reference = reference - reference.mean(-1, keepdims=True)
    beta = (estimate * reference).sum(-1, keepdims=True) / (estimate ** 2).sum(-1, keepdims=True)
    return 10 * np.log10((reference ** 2).sum(-1) / ((reference - beta * estimate) ** 2).sum(-1))


_ = checks.ex03_si_sdr(best_gain_sdr)
print(f"on the chapter's `est`: my_si_sdr {my_si_sdr(est, speech):.4f} dB, metrics.si_sdr "
      f"{float(metrics.si_sdr(est, speech)):.4f} dB; unchanged at 0.1 × est: {my_si_sdr(0.1 * est, speech):.4f} dB")
