"""Short-time Fourier transform in torch, with the MTASS paper's setting as the default.

Complex-MTASSNet (the MTASS paper, front end): 512-sample Hamming window, hop 256, 512-point FFT
-> 257 bins. Introduced in chapter 01; every spectral model's front end uses :class:`STFT`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

N_FFT = 512
HOP = 256
WINDOW = "hamming"


def make_window(n_fft: int = N_FFT, kind: str = WINDOW, device=None, dtype=torch.float32) -> Tensor:
    """Periodic analysis window ``[n_fft]`` (periodic, so hop n_fft/2 overlap-adds to a constant)."""
    fn = {"hamming": torch.hamming_window, "hann": torch.hann_window}[kind]
    return fn(n_fft, periodic=True, device=device, dtype=dtype)


def stft(x: Tensor, n_fft: int = N_FFT, hop: int = HOP, window: str = WINDOW) -> Tensor:
    """``x[..., T]`` -> complex ``[..., F, N]`` with ``F = n_fft // 2 + 1`` and ``N = T // hop + 1``.

    Centered frames (reflect padding), so frame ``n`` is centred on sample ``n * hop``.
    """
    lead = x.shape[:-1]
    w = make_window(n_fft, window, device=x.device, dtype=x.dtype if x.is_floating_point() else torch.float32)
    X = torch.stft(x.reshape(-1, x.shape[-1]), n_fft, hop, n_fft, w, center=True,
                   pad_mode="reflect", return_complex=True)
    return X.reshape(*lead, *X.shape[-2:])


def istft(X: Tensor, length: int, n_fft: int = N_FFT, hop: int = HOP, window: str = WINDOW) -> Tensor:
    """Inverse of :func:`stft`: complex ``[..., F, N]`` -> ``[..., length]`` (weighted overlap-add)."""
    lead = X.shape[:-2]
    w = make_window(n_fft, window, device=X.device, dtype=X.real.dtype)
    x = torch.istft(X.reshape(-1, *X.shape[-2:]), n_fft, hop, n_fft, w, center=True, length=length)
    return x.reshape(*lead, length)


def ri_stack(X: Tensor) -> Tensor:
    """complex ``[..., F, N]`` -> real ``[..., 2F, N]`` as [Re; Im] along the frequency axis."""
    return torch.cat([X.real, X.imag], dim=-2)


def ri_unstack(Y: Tensor) -> Tensor:
    """real ``[..., 2F, N]`` ([Re; Im]) -> complex ``[..., F, N]``; inverse of :func:`ri_stack`."""
    F = Y.shape[-2] // 2
    return torch.complex(Y[..., :F, :].contiguous(), Y[..., F:, :].contiguous())


class STFT(nn.Module):
    """STFT/iSTFT pair as a module (no parameters), so a model owns its front end."""

    def __init__(self, n_fft: int = N_FFT, hop: int = HOP, window: str = WINDOW):
        super().__init__()
        self.n_fft, self.hop, self.window = n_fft, hop, window

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    def forward(self, x: Tensor) -> Tensor:
        """``[..., T]`` -> complex ``[..., F, N]``."""
        return stft(x, self.n_fft, self.hop, self.window)

    def inverse(self, X: Tensor, length: int) -> Tensor:
        """complex ``[..., F, N]`` -> ``[..., length]``."""
        return istft(X, length, self.n_fft, self.hop, self.window)

    def n_frames(self, length: int) -> int:
        return length // self.hop + 1
