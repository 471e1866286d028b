"""Procedural noise for MTASS-tiny: the "everything else" track, built from seeded numpy generators.

MTASS takes its noise from the DNS-Challenge set (doors, traffic, machines, rain, wind...). This
module stands in for it offline with sounds of the same families and none of speech's or music's
structure: no formants, no syllable rhythm, no pitched melodies or chords.

Every generator has the signature ``fn(rng, n, sr) -> [n] float32`` with unit RMS, so callers set the
level. :func:`make_noise` draws one or two of them into a "recording"; it is a pure function of the
``numpy.random.Generator`` it is given.

=================  ==========================================================================
``coloured``       stationary 1/f^alpha noise, alpha ~ U(0, 2) (white -> pink -> brown)
``modulated``      coloured noise under a slow random loudness envelope (traffic / crowd swells)
``impulsive``      clicks and knocks: damped resonances at random (Poisson) times
``hum``            machine hum: a drifting fundamental with harmonics, plus broadband hiss
``rain``           thousands of tiny band-passed impulses per second over a hiss bed
``wind``           low-passed noise bands with slow gusting envelopes
=================  ==========================================================================
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import signal
from scipy.interpolate import CubicSpline

from .. import SAMPLE_RATE

NoiseFn = Callable[[np.random.Generator, int, int], np.ndarray]


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x / max(rms, 1e-12)).astype(np.float32)


def _shape_spectrum(white: np.ndarray, sr: int, alpha: float, f_lo: float = 20.0) -> np.ndarray:
    """Colour white noise with power ~ 1/f^alpha; below ``f_lo`` Hz is removed (no DC drift)."""
    spec = np.fft.rfft(white)
    f = np.fft.rfftfreq(white.size, 1.0 / sr)
    gain = np.zeros_like(f)
    keep = f >= f_lo
    gain[keep] = f[keep] ** (-alpha / 2.0)
    return np.fft.irfft(spec * gain, n=white.size)


def _smooth_curve(rng: np.random.Generator, n: int, sr: int, rate_hz: float) -> np.ndarray:
    """A smooth random curve ``[n]`` (zero mean, unit std) varying at about ``rate_hz``."""
    n_knots = max(4, int(np.ceil(n / sr * rate_hz)) + 3)
    knots = rng.standard_normal(n_knots)
    t = np.linspace(0, n_knots - 3, n)
    # Cubic interpolation through random knots: smooth, band-limited by construction.
    curve = CubicSpline(np.arange(n_knots), knots)(t + 1)
    return (curve - curve.mean()) / max(curve.std(), 1e-9)


def coloured(rng: np.random.Generator, n: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Stationary coloured noise, ``alpha ~ U(0, 2)``: 0 white, 1 pink, 2 brown."""
    alpha = rng.uniform(0.0, 2.0)
    return _unit_rms(_shape_spectrum(rng.standard_normal(n), sr, alpha))


def modulated(rng: np.random.Generator, n: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Non-stationary noise: coloured noise times a log-normal envelope varying at 0.1-2 Hz."""
    base = _shape_spectrum(rng.standard_normal(n), sr, rng.uniform(0.5, 2.0))
    depth_db = rng.uniform(6.0, 20.0)  # peak-to-trough swing of the loudness
    env_db = depth_db / 2 * np.tanh(_smooth_curve(rng, n, sr, rng.uniform(0.1, 2.0)))
    return _unit_rms(base * 10 ** (env_db / 20))


def impulsive(rng: np.random.Generator, n: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Clicks (1-5 ms noise bursts) and knocks (damped 80-4000 Hz resonances) at Poisson times."""
    out = 0.05 * _unit_rms(_shape_spectrum(rng.standard_normal(n), sr, 1.0))  # faint room-tone bed
    rate = rng.uniform(1.0, 6.0)  # events per second
    n_events = rng.poisson(rate * n / sr) + 1
    for start in np.sort(rng.integers(0, n, n_events)):
        amp = 10 ** (rng.uniform(-12, 0) / 20)
        if rng.random() < 0.4:  # click
            length = int(sr * rng.uniform(0.001, 0.005))
            ev = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.3 * length))
        else:  # knock: 1-3 damped modes, like a door or a tapped object
            length = int(sr * 0.3)
            t = np.arange(length) / sr
            ev = np.zeros(length)
            for _ in range(rng.integers(1, 4)):
                f0, tau = rng.uniform(80, 4000), rng.uniform(0.005, 0.08)
                ev += rng.uniform(0.3, 1) * np.sin(2 * np.pi * f0 * t + rng.uniform(0, 2 * np.pi)) * np.exp(-t / tau)
        end = min(n, start + ev.size)
        out[start:end] += amp * ev[: end - start] / max(np.abs(ev).max(), 1e-9)
    return _unit_rms(out)


def hum(rng: np.random.Generator, n: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Machine hum: fundamental 40-250 Hz drifting by <1 %, 3-12 harmonics, broadband hiss."""
    f0 = rng.uniform(40.0, 250.0)
    drift = 1 + rng.uniform(0.001, 0.01) * _smooth_curve(rng, n, sr, 0.3)
    phase = 2 * np.pi * np.cumsum(f0 * drift) / sr
    n_harm = int(rng.integers(3, 13))
    rolloff = rng.uniform(0.5, 2.0)
    x = np.zeros(n)
    for k in range(1, n_harm + 1):
        if k * f0 * 1.02 >= sr / 2:
            break
        x += k ** -rolloff * rng.uniform(0.3, 1.0) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    hiss = _unit_rms(_shape_spectrum(rng.standard_normal(n), sr, rng.uniform(0, 1.5)))
    return _unit_rms(_unit_rms(x) + 10 ** (rng.uniform(-25, -8) / 20) * hiss)


def rain(rng: np.random.Generator, n: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Rain-like: 300-3000 tiny drops per second, each band-passed (1-6 kHz), over a hiss bed."""
    x = np.zeros(n)
    rate = rng.uniform(300, 3000)
    n_drops = rng.poisson(rate * n / sr)
    # Drops fall in a few groups, each with its own resonance (roof, leaves, puddles).
    for group in np.array_split(rng.integers(0, n, n_drops), int(rng.integers(2, 5))):
        impulses = np.zeros(n)
        np.add.at(impulses, group, rng.lognormal(0.0, 0.5, group.size) * rng.choice([-1, 1], group.size))
        fc = rng.uniform(1000, 6000)
        sos = signal.butter(2, [fc / 1.5, min(fc * 1.5, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
        x += signal.sosfilt(sos, impulses)
    bed = _unit_rms(_shape_spectrum(rng.standard_normal(n), sr, rng.uniform(0.0, 1.0)))
    return _unit_rms(_unit_rms(x) + 10 ** (rng.uniform(-20, -6) / 20) * bed)


def wind(rng: np.random.Generator, n: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Wind-like: 3-5 low noise bands (60-1200 Hz), each with a slow gust envelope (0.05-0.8 Hz)."""
    x = np.zeros(n)
    for _ in range(int(rng.integers(3, 6))):
        fc = rng.uniform(60, 1200)
        sos = signal.butter(2, [fc / 1.4, fc * 1.4], btype="bandpass", fs=sr, output="sos")
        band = signal.sosfilt(sos, rng.standard_normal(n))
        gust = np.exp(rng.uniform(0.5, 1.5) * _smooth_curve(rng, n, sr, rng.uniform(0.05, 0.8)))
        x += _unit_rms(band) * gust
    return _unit_rms(x)


NOISE_TYPES: dict[str, NoiseFn] = {
    "coloured": coloured,
    "modulated": modulated,
    "impulsive": impulsive,
    "hum": hum,
    "rain": rain,
    "wind": wind,
}


def make_noise(rng: np.random.Generator, n: int, sr: int = SAMPLE_RATE,
               kinds: tuple[str, ...] | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """One noise "recording" ``[n]`` (unit RMS) and the generator names used.

    Without ``kinds``: one type drawn uniformly, and with probability 0.4 a second one added
    6-15 dB below it (rain with hum, wind with knocks...).
    """
    names = sorted(NOISE_TYPES)
    if kinds is None:
        kinds = (names[rng.integers(len(names))],)
        if rng.random() < 0.4:
            second = names[rng.integers(len(names))]
            if second != kinds[0]:
                kinds = kinds + (second,)
    x = np.zeros(n)
    for k, kind in enumerate(kinds):
        gain = 1.0 if k == 0 else 10 ** (-rng.uniform(6, 15) / 20)
        x += gain * NOISE_TYPES[kind](rng, n, sr)
    return _unit_rms(x), tuple(kinds)
