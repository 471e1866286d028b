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
# - why the MTASS paper's setting (512-sample Hamming window, hop 256 at 16 kHz) reconstructs
#   perfectly, and
# - how the complex STFT is fed to a network as stacked real and imaginary parts `[Re; Im]`.
#
# Every spectral model in this course (GCRN, D3Net, Complex-MTASSNet) uses `mtass_lite.stft`;
# here we derive it by hand and check the library against our derivation.

# %% tags=["parameters"]
import os

MTASS_MODE = os.environ.get("MTASS_MODE", "fast")

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from mtass_lite import SAMPLE_RATE, TRACKS, viz
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
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2), sharey=True)
for ax, n_fft in zip(axes, (128, 512, 2048)):
    viz.plot_spectrogram(ax, test, f"n_fft = {n_fft} ({n_fft / sr * 1000:.0f} ms)", n_fft=n_fft, hop=n_fft // 4)
    ax.set_ylim(0, 4)
fig.tight_layout()
viz.savefig(fig, "01_resolution")

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
# ## 4. Perfect reconstruction
# With a periodic Hamming window and 50 % overlap the shifted windows sum to a constant
# (2 × 0.54 = 1.08), the *constant overlap-add* condition: the inverse STFT can undo the analysis
# exactly. That is what lets a model edit the spectrum and return to a waveform.

# %%
w = S.make_window().numpy()
print("w[:256] + w[256:] is constant:", np.allclose(w[:256] + w[256:], 1.08, atol=1e-6))
mix, tgt = MTASSDataset(root, "test")[0]
X = S.stft(mix)
err = (S.istft(X, len(mix)) - mix).abs().max().item()

# %%
# NBVAL_CHECK_OUTPUT
print("reconstruction error below 1e-5:", err < 1e-5)

# %% [markdown]
# ## 5. A mixture and its three tracks
# Speech shows harmonic stripes with gaps between words, music steadier harmonic lines and note
# onsets, noise broadband texture. They overlap in time *and* frequency: the separation problem.

# %%
fig = viz.plot_tracks(mix.numpy(), tgt.numpy(), suptitle="an MTASS-tiny test mixture")
viz.savefig(fig, "01_mixture_tracks")
viz.listen_tracks(mix.numpy(), tgt.numpy(), "01_test0")

# %% [markdown]
# ## 6. Feeding a network: `[Re; Im]`
# Networks take real tensors. Complex-MTASSNet stacks the real and imaginary parts along the
# frequency axis: 257 complex bins become 514 real channels (PAPER_FACTS, "Front end").

# %%
Y = S.ri_stack(X)
assert torch.equal(S.ri_unstack(Y), X)
print("complex", tuple(X.shape), "->", "real [Re; Im]", tuple(Y.shape))

# %% [markdown]
# ## Exercises
# 1. Change the hop to 128 (75 % overlap). Is reconstruction still perfect? How many frames do
#    you get for the test mixture, and what does that cost a model?
# 2. Use a rectangular window with hop 256 and check the overlap-add condition. What goes wrong?
# 3. Find the smallest `n_fft` that separates the 440 Hz and 470 Hz tones in section 2. Relate it
#    to the bin spacing `sr / n_fft`.
# 4. Plot the phase `angle(X)` of the mixture. Why do most masks leave it alone?
