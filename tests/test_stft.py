import numpy as np
import pytest
import torch

from mtass_lite import stft as S


@pytest.mark.parametrize("length", [16000, 16001, 12345, 511])
def test_perfect_reconstruction(length):
    x = torch.randn(2, 3, length, generator=torch.Generator().manual_seed(length))
    X = S.stft(x)
    assert X.shape == (2, 3, 257, length // 256 + 1)
    torch.testing.assert_close(S.istft(X, length), x, atol=1e-5, rtol=0)


def test_paper_defaults_and_window():
    # the MTASS paper: 512-sample Hamming window, hop 256, 257 bins.
    assert (S.N_FFT, S.HOP, S.WINDOW) == (512, 256, "hamming")
    w = S.make_window()
    np.testing.assert_allclose(w.numpy(), np.hamming(513)[:-1], atol=1e-6)  # periodic Hamming
    # A periodic Hamming at 50 % overlap sums to a constant (COLA): 2 * 0.54 = 1.08.
    ola = w[:256] + w[256:]
    torch.testing.assert_close(ola, torch.full_like(ola, 1.08), atol=1e-6, rtol=0)


def test_stored_spectrogram_pins_settings():
    # A silent change of STFT settings (window, centring, normalisation) moves these values (open-unmix habit).
    t = torch.arange(4096, dtype=torch.float32) / 16000
    x = torch.sin(2 * torch.pi * 1000 * t)
    X = S.stft(x)
    k = round(1000 * 512 / 16000)  # bin 32
    assert X.abs()[:, 8].argmax().item() == k
    assert X.abs()[k, 8].item() == pytest.approx(0.54 * 512 / 2, rel=1e-3)


def test_ri_stack_roundtrip_and_module():
    X = torch.randn(2, 257, 10, dtype=torch.complex64)
    Y = S.ri_stack(X)
    assert Y.shape == (2, 514, 10)
    torch.testing.assert_close(S.ri_unstack(Y), X)
    m = S.STFT()
    assert m.n_bins == 257 and m.n_frames(16000) == 63
    x = torch.randn(1, 16000)
    torch.testing.assert_close(m.inverse(m(x), 16000), x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("length", [16000, 16001, 12345, 4000])
def test_matches_librosa_stft(length):
    # Same periodic Hamming window, hop, centred frames and reflect padding (librosa's default pad is zeros).
    librosa = pytest.importorskip("librosa")
    x = np.random.default_rng(length).standard_normal(length).astype(np.float32)
    ours = S.stft(torch.from_numpy(x)).numpy()
    theirs = librosa.stft(x, n_fft=S.N_FFT, hop_length=S.HOP, win_length=S.N_FFT, window=S.WINDOW,
                          center=True, pad_mode="reflect")
    assert ours.shape == theirs.shape == (257, length // S.HOP + 1)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * np.abs(theirs).max())


def test_matches_librosa_stft_length_multiple_of_hop():
    # librosa >= 0.10 pads the tail frames separately; when the length is an exact multiple of the hop,
    # the last frame's reflected padding differs by one sample from padding the whole signal (what
    # torch.stft and np.pad do). Every other frame agrees.
    librosa = pytest.importorskip("librosa")
    x = np.random.default_rng(0).standard_normal(62 * S.HOP).astype(np.float32)
    ours = S.stft(torch.from_numpy(x)).numpy()
    theirs = librosa.stft(x, n_fft=S.N_FFT, hop_length=S.HOP, window=S.WINDOW, center=True, pad_mode="reflect")
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours[:, :-1], theirs[:, :-1], rtol=0, atol=1e-5 * np.abs(theirs).max())
    by_hand = np.fft.rfft(np.pad(x.astype(np.float64), S.N_FFT // 2, mode="reflect")[-S.N_FFT:]
                          * S.make_window().double().numpy())
    np.testing.assert_allclose(ours[:, -1], by_hand, rtol=0, atol=1e-3)
