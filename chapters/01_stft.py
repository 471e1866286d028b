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
# # 01 · The STFT: seeing sound in time and frequency
#
# **You will learn**
# - how the short-time Fourier transform (STFT) cuts a signal into windowed frames,
# - why window length trades time resolution against frequency resolution,
# - how the inverse STFT is derived (least-squares overlap-add), why the MTASS paper's setting
#   (512-sample Hamming window, hop 256 at 16 kHz) reconstructs perfectly, and what a wrong
#   synthesis *sounds* like,
# - that our STFT is exactly `librosa.stft` with the same settings, and what a mel spectrogram shows,
# - how the complex STFT is fed to a network as stacked real and imaginary parts `[Re; Im]`.
#
# Every spectral model in this course (GCRN, D3Net, Complex-MTASSNet) uses `mtass_lite.stft`;
# here we derive it by hand and check the library against our derivation.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import librosa
import librosa.display
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML, display

from mtass_lite import SAMPLE_RATE, TRACKS, explore, metrics, viz
from mtass_lite import stft as S
from mtass_lite.data.datasets import MTASSDataset
from mtass_lite.data.tiny import ensure_tiny

root = ensure_tiny(progress=False)
sr = SAMPLE_RATE

# %% [markdown]
# ## 1. Frames and windows, by hand
# A frame is `n_fft` samples starting every `hop` samples; each frame is multiplied by a window and
# Fourier-transformed. `torch.stft(center=True)` first pads `n_fft/2` samples on each side (by
# reflection), so frame `n` is centred on sample `n * hop`.

# %%
def stft_by_hand(x: np.ndarray, n_fft: int = 512, hop: int = 256) -> np.ndarray:
    """Our own STFT: reflect-pad, frame, window (periodic Hamming), rFFT -> [F, N]."""
    window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hamming
    xp = np.pad(x, n_fft // 2, mode="reflect")
    n_frames = 1 + (len(xp) - n_fft) // hop
    frames = np.stack([xp[i * hop: i * hop + n_fft] for i in range(n_frames)], axis=1)  # [n_fft, N]
    return np.fft.rfft(frames * window[:, None], axis=0)


rng = np.random.default_rng(0)
x = rng.standard_normal(sr).astype(np.float32)  # 1 s of white noise
ours = stft_by_hand(x)
lib = S.stft(torch.from_numpy(x)).numpy()
np.testing.assert_allclose(ours, lib, atol=1e-3)
print("shape [F, N]:", lib.shape, "| by hand == library:", np.allclose(ours, lib, atol=1e-3))

# %% [markdown]
# **librosa computes the same thing.** `librosa.stft` with the same window (a *periodic* Hamming:
# `window="hamming"` goes through `scipy.signal.get_window(..., fftbins=True)`), the same hop,
# centred frames and **reflect** padding (librosa's own default is zero padding, `pad_mode="constant"`)
# gives our STFT to float32 rounding. (One edge case: librosa ≥ 0.10 pads the last frames separately,
# and when the length is an exact multiple of the hop its final frame differs from padding the
# whole signal in one reflected sample; our 1-s clip is 62.5 hops long.)

# %%
theirs = librosa.stft(x, n_fft=S.N_FFT, hop_length=S.HOP, win_length=S.N_FFT, window=S.WINDOW,
                      center=True, pad_mode="reflect")
np.testing.assert_allclose(lib, theirs, rtol=0, atol=1e-5 * np.abs(theirs).max())
np.testing.assert_allclose(S.make_window().numpy(), librosa.filters.get_window(S.WINDOW, S.N_FFT), atol=1e-6)

# %%
# NBVAL_CHECK_OUTPUT
print("mtass_lite.stft == librosa.stft (hamming, hop 256, centred, reflect), shape", theirs.shape, ":",
      np.allclose(lib, theirs, rtol=0, atol=1e-5 * np.abs(theirs).max()))

# %% [markdown]
# With `n_fft = 512` at 16 kHz a frame spans 32 ms and the bins are 16000 / 512 = 31.25 Hz apart;
# `F = 512 / 2 + 1 = 257` bins from 0 Hz to the Nyquist frequency, 8 kHz.

# %%
# NBVAL_CHECK_OUTPUT
print(f"frame = {S.N_FFT / sr * 1000:.0f} ms, hop = {S.HOP / sr * 1000:.0f} ms, "
      f"bin spacing = {sr / S.N_FFT:.2f} Hz, bins = {S.N_FFT // 2 + 1}")

# %% [markdown]
# ## 2. Time versus frequency resolution
# A test signal with a rising chirp, two close tones (440 and 470 Hz) and clicks. Short windows
# locate the clicks but blur the two tones; long windows separate the tones but smear the clicks.

# %%
t = np.arange(2 * sr) / sr
test = (0.3 * np.sin(2 * np.pi * (200 * t + 900 * t ** 2))      # chirp 200 -> 3800 Hz
        + 0.3 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 470 * t))
test[(np.arange(len(t)) % 4000) == 0] += 3.0                     # a click every 0.25 s
fig, axes = plt.subplots(2, 3, figsize=(13, 6), sharex=True)
for col, n_fft in enumerate((128, 512, 2048)):
    for row, (lo, hi) in enumerate(((0, 4000), (300, 600))):  # top: the whole picture; bottom: the two tones
        ax = axes[row, col]
        viz.plot_spectrogram(ax, test, f"n_fft = {n_fft} ({n_fft / sr * 1000:.0f} ms, bins {sr / n_fft:.1f} Hz apart)"
                             if row == 0 else f"zoom: 300–600 Hz (tones at 440 and 470 Hz)", n_fft=n_fft, hop=n_fft // 4)
        ax.set_ylim(lo, hi)
        if row == 0:
            ax.set_xlabel("")
        if col:
            ax.set_ylabel("")
fig.tight_layout()
viz.savefig(fig, "01_resolution")

# %% [markdown]
# In the zoom, only the 2048-point window (7.8 Hz bins) shows two separate lines 30 Hz apart;
# at 512 points (31.25 Hz bins, main lobe of the Hamming window ≈ 4 bins wide) they merge into one
# band, at 128 points into a smear. The clicks in the top row go the other way: sharp at 128.

# %% [markdown]
# ## 3. Why a window, and why Hamming
# Cutting a frame out abruptly (a rectangular window) spreads a pure tone's energy over all bins
# ("leakage"). A tapered window trades a wider main lobe for far lower side lobes.

# %%
tone = np.sin(2 * np.pi * 1013.7 * np.arange(512) / sr)  # between two bins on purpose
freqs = np.fft.rfftfreq(512, 1 / sr)
fig, ax = plt.subplots(figsize=(8, 3))
for name, w in {"rectangular": np.ones(512), "Hamming": S.make_window().numpy()}.items():
    spec = 20 * np.log10(np.abs(np.fft.rfft(tone * w)) + 1e-9)
    ax.plot(freqs, spec - spec.max(), label=name)
ax.set(xlim=(0, 4000), ylim=(-90, 3), xlabel="Hz", ylabel="dB", title="one frame of a 1013.7 Hz tone")
ax.legend()
viz.savefig(fig, "01_leakage")

# %% [markdown]
# ## 4. Perfect reconstruction, and how to break it
# **Deriving the inverse.** Frame $n$ holds $y_n[m] = w[m]\,x[nH + m]$ (on the padded signal, hop
# $H$); the inverse FFT gives each $y_n$ back exactly. Several frames overlap at every sample $t$, so
# we pick the signal that fits all of them best in the least-squares sense (Griffin & Lim 1984):
# $$\hat x = \arg\min_x \sum_n \sum_m \bigl(y_n[m] - w[m]\,x[nH+m]\bigr)^2
# \quad\Rightarrow\quad
# \hat x[t] = \frac{\sum_n w[t-nH]\,y_n[t-nH]}{\sum_n w^2[t-nH]} .$$
# Multiply each frame by the window again, overlap-add, divide by the overlap-added *squared*
# window. If the spectrum was not modified this returns $x$ exactly, for any window and hop, as
# long as the denominator never vanishes: $\sum_n w^2[t-nH] > 0$ for all $t$, the
# **NOLA** (nonzero overlap-add) condition. That is what `torch.istft`, and hence
# `mtass_lite.stft.istft`, computes.
#
# The better-known **COLA** (constant overlap-add) condition, $\sum_n w[t-nH] = C$, is what
# *plain* overlap-add needs: add the frames $y_n$ as they are, with no synthesis window, and divide by
# the constant $C$. A periodic Hamming at 50 % overlap is COLA ($C = 2 \times 0.54 = 1.08$), but
# its $\sum w^2$ is *not* constant — it need not be, since the iSTFT divides by it sample by sample.

# %%
def istft_by_hand(X: np.ndarray, length: int, n_fft: int = 512, hop: int = 256) -> np.ndarray:
    """Least-squares overlap-add: irFFT each frame, window again, overlap-add, divide by sum of w^2."""
    window = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = np.fft.irfft(X, n=n_fft, axis=0)  # [n_fft, N]: w * (a piece of the padded signal)
    out, wsq = np.zeros(n_fft + hop * (X.shape[1] - 1)), np.zeros(n_fft + hop * (X.shape[1] - 1))
    for n in range(X.shape[1]):
        out[n * hop: n * hop + n_fft] += window * frames[:, n]
        wsq[n * hop: n * hop + n_fft] += window ** 2
    return (out / wsq)[n_fft // 2: n_fft // 2 + length]  # NOLA: wsq > 0 everywhere; drop the padding


mix, tgt = MTASSDataset(root, "test")[0]
X = S.stft(mix)
recon = S.istft(X, len(mix))
by_hand_ok = np.allclose(istft_by_hand(X.numpy().astype(np.complex128), len(mix)), recon.numpy(), atol=1e-5)
assert by_hand_ok
err = (recon - mix).abs().max().item()

w = S.make_window().numpy()
ola_w, ola_w2 = w[:256] + w[256:], w[:256] ** 2 + w[256:] ** 2  # sums over the two frames covering a hop
print(f"hop 256: sum of w  ranges {ola_w.min():.3f}..{ola_w.max():.3f} (COLA: constant 1.08)")
print(f"hop 256: sum of w² ranges {ola_w2.min():.3f}..{ola_w2.max():.3f} (not constant, never 0: NOLA)")

# %%
# NBVAL_CHECK_OUTPUT
print("iSTFT by hand == library:", by_hand_ok)
print("reconstruction error below 1e-5:", err < 1e-5)

# %% [markdown]
# **Hearing a wrong synthesis.** Two plausible shortcuts, each checked against the original:
#
# - *ignore* $\sum w^2$: window the frames again and divide by its *average* instead of sample
#   by sample, at the course's own 512/256 Hamming setting. $\sum w^2$ ranges over 0.58…1.01 (printed
#   above), so the gain swings ±26 % around its mean 62.5 times a second (16000 / 256 Hz): a rough,
#   fluttering sound.
# - *plain overlap-add at a non-COLA hop*: add the frames without a synthesis window, at hop 384
#   (25 % overlap), dividing by the average of $\sum w$. Hamming is not COLA there; the gain dips
#   between frames, about 42 times a second (16000 / 384 Hz).
#
# Both distortions are amplitude modulations at the frame rate: SDR says how large, your ears say
# how annoying. (We derive them inline: the library's iSTFT does not offer wrong modes.)

# %%
def ola_shortcut(x: torch.Tensor, hop: int, synthesis_window: bool) -> np.ndarray:
    """Analysis by the library STFT; synthesis by overlap-add normalised by a constant (the mistake)."""
    n_fft = S.N_FFT
    window = S.make_window().numpy().astype(np.float64)
    frames = np.fft.irfft(S.stft(x, n_fft, hop).numpy().astype(np.complex128), n=n_fft, axis=0)
    syn = window if synthesis_window else np.ones(n_fft)
    out, norm = np.zeros(n_fft + hop * (frames.shape[1] - 1)), np.zeros(n_fft + hop * (frames.shape[1] - 1))
    for n in range(frames.shape[1]):
        out[n * hop: n * hop + n_fft] += syn * frames[:, n]
        norm[n * hop: n * hop + n_fft] += syn * window
    core = slice(n_fft // 2, n_fft // 2 + x.shape[-1])
    return out[core] / norm[core].mean()  # a constant instead of the sample-wise normaliser


original = mix.numpy().astype(np.float64)
versions = {
    "library iSTFT (÷ Σw², NOLA)": recon.numpy(),
    "window again, ignore Σw² (hop 256)": ola_shortcut(mix, 256, synthesis_window=True),
    "plain OLA at a non-COLA hop (hop 384)": ola_shortcut(mix, 384, synthesis_window=False),
}
snr_db = {name: float(metrics.sdr(v, original)) for name, v in versions.items()}
display(HTML(viz.player_html(original, "original") + "".join(
    viz.player_html(v, f"{name} — SNR vs original {min(snr_db[name], 99):.0f} dB") for name, v in versions.items())))

# %%
# NBVAL_CHECK_OUTPUT
for name, v in snr_db.items():
    print(f"{name:40s} SNR vs original {'> 60' if v > 60 else f'{v:5.1f}'} dB")

# %% [markdown]
# What the ear hears is this gain curve, repeated every hop: the library's normalisation flattens
# it to 1, the shortcuts leave it rippling.

# %%
fig, ax = plt.subplots(figsize=(8, 2.8))
t_ms = np.arange(4 * 384) / sr * 1000
for hop, syn, label in ((256, True, "Σ w² / mean, hop 256"), (384, False, "Σ w / mean, hop 384")):
    env = np.zeros(4 * 384 + 3 * 512)
    for k in range((4 * 384 + 512) // hop + 1):  # overlap-add the (squared) window, frame by frame
        env[k * hop: k * hop + 512] += w ** 2 if syn else w
    env = env[512: 512 + 4 * 384]  # away from the edges
    ax.plot(t_ms, env / env.mean(), label=label)
ax.axhline(1.0, color="k", lw=0.8, ls="--", label="library iSTFT (÷ Σ w² sample by sample)")
ax.set(xlabel="ms", ylabel="gain", ylim=(0, 1.5), title="what the synthesis does to the signal's level")
ax.legend(fontsize=8, loc="lower right")
viz.savefig(fig, "01_ola_gain")

# %% [markdown]
# ## 5. A mixture and its three tracks
# Speech shows harmonic stripes with gaps between words, music steadier harmonic lines and note
# onsets, noise broadband texture. They overlap in time *and* frequency: the separation problem.

# %%
fig = viz.plot_tracks(mix.numpy(), tgt.numpy(), suptitle="an MTASS-tiny test mixture")
viz.savefig(fig, "01_mixture_tracks")
viz.listen_tracks(mix.numpy(), tgt.numpy())

# %% [markdown]
# ## 6. Feeding a network: `[Re; Im]`
# Networks take real tensors. Complex-MTASSNet stacks the real and imaginary parts along the
# frequency axis: 257 complex bins become 514 real channels (the paper's front end).

# %%
Y = S.ri_stack(X)
assert torch.equal(S.ri_unstack(Y), X)
print("complex", tuple(X.shape), "->", "real [Re; Im]", tuple(Y.shape))

# %% [markdown]
# ## 7. A perceptual frequency axis: the mel spectrogram
# The linear STFT gives every 31.25-Hz bin the same room, although hearing resolves low
# frequencies far more finely than high ones. A *mel* spectrogram pools the power spectrum through
# triangular filters spaced evenly on the mel scale (roughly linear below 1 kHz, logarithmic above):
# here 80 filters from 0 to 8 kHz, applied to **our** power spectrogram $|X|^2$. Speech harmonics and
# music notes get room; the noise's broadband top is squeezed. Many separation and ASR front ends use it —
# but it cannot be inverted exactly, so the models of this course mask the linear STFT instead.

# %%
mel = librosa.feature.melspectrogram(S=X.abs().numpy() ** 2, sr=sr, n_fft=S.N_FFT, n_mels=80, fmax=sr / 2)
mel_db = librosa.power_to_db(mel, ref=np.max, top_db=80)
fig, axes = plt.subplots(1, 2, figsize=(13, 3.4))
viz.plot_spectrogram(axes[0], mix.numpy(), "linear STFT (257 bins)")
librosa.display.specshow(mel_db, sr=sr, hop_length=S.HOP, n_fft=S.N_FFT, x_axis="time", y_axis="mel",
                         fmax=sr / 2, ax=axes[1], cmap="magma")
axes[1].set(title="mel spectrogram (80 mel bands)", xlabel="time (s)", ylabel="freq (Hz, mel scale)")
fig.tight_layout()
viz.savefig(fig, "01_mel")
print("linear", tuple(X.shape), "-> mel", mel.shape)

# %% [markdown]
# ## 8. Explore it yourself
# Pick `n_fft`, the hop and the window; see the spectrogram, the windows' sums Σw (COLA) and Σw²
# (NOLA), the round-trip error of `torch.istft` and of plain overlap-add, and hear both reconstructions.
# The outputs below are the default setting, saved with the notebook; with a running kernel
# (JupyterLab) the controls move them.

# %%
explore.stft_explorer(mix.numpy())

# %% [markdown]
# ## Exercises
# 1. Change the hop to 128 (75 % overlap). Is reconstruction still perfect? How many frames do
#    you get for the test mixture, and what does that cost a model? Check: `checks.ex01_1(n_frames)`.
#    *(≈ 1 CPU-min)*
# 2. A rectangular window at hop 256 *is* COLA (every sample is covered by exactly two frames):
#    check it, and check that plain overlap-add reconstructs with it. Now take hop 384: is the
#    rectangular window still COLA? Is it NOLA? Does `torch.istft` still reconstruct, and would
#    `ola_shortcut` (section 4)? Finally find a window and hop that break NOLA (hint: a periodic
#    Hann window, whose first sample is 0, with hop = `n_fft`). *(≈ 1 CPU-min)*
# 3. Find the smallest `n_fft` that separates the 440 Hz and 470 Hz tones in section 2. Relate it
#    to the bin spacing `sr / n_fft`. *(≈ 1 CPU-min)*
# 4. Plot the phase `angle(X)` of the mixture. Why do most masks leave it alone? *(≈ 1 CPU-min)*
#
# Costs measured on two CPU cores (shared), chapter already loaded, rounded up to whole minutes: each
# takes seconds — under 1 CPU-s, except exercise 3's `n_fft` sweep, 8 CPU-s; solutions:
# `chapters/solutions/01_stft_solutions.ipynb`; self-checks: `checks.ex01_1` (`from mtass_lite import checks`).
