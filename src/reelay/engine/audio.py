"""Procedural ambient audio bed and PCM helpers (48 kHz stereo float32, shape (2, n)).

The bed is a detuned sine pad plus spectrally shaped noise, keyed by the prompt's theme (rain is
hissy, ocean swells, fire crackles, night is low and sparse) and fully determined by (prompt, seed).
It is background sound, not music or speech.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelay.engine.scene import theme_for
from reelay.engine.seeding import derive_seed
from reelay.engine.spec import AUDIO_RATE

PEAK = 0.5  # -6 dBFS: loud enough to hear, far from clipping after AAC


@dataclass(frozen=True)
class Mood:
    """How a theme sounds: pad chord, noise colour and texture."""

    root_hz: float
    chord: tuple[int, ...]  # semitones above the root
    noise_gain: float
    noise_tilt: float  # spectral slope: 0 white, 1 pink, 2 brown
    noise_cutoff_hz: float
    swell_hz: float  # slow amplitude swell of the noise (waves, wind); 0 for none
    crackle: float  # impulses per second (fire); 0 for none


MOODS: dict[str, Mood] = {
    "snow": Mood(220.0, (0, 7, 14, 19), 0.25, 1.5, 3000.0, 0.08, 0.0),
    "rain": Mood(196.0, (0, 3, 7, 10), 0.9, 0.6, 9000.0, 0.0, 0.0),
    "fire": Mood(110.0, (0, 7, 12, 15), 0.5, 1.8, 1500.0, 0.15, 25.0),
    "ocean": Mood(146.8, (0, 5, 9, 12), 0.8, 1.2, 2500.0, 0.1, 0.0),
    "night": Mood(98.0, (0, 7, 10, 15), 0.15, 1.5, 1200.0, 0.05, 0.0),
    "space": Mood(82.4, (0, 7, 14, 21), 0.12, 2.0, 800.0, 0.03, 0.0),
    "forest": Mood(174.6, (0, 4, 7, 11), 0.35, 1.0, 5000.0, 0.07, 0.0),
    "sunset": Mood(164.8, (0, 4, 7, 14), 0.2, 1.4, 2500.0, 0.06, 0.0),
    "city": Mood(130.8, (0, 3, 7, 10, 14), 0.45, 1.0, 4000.0, 0.0, 0.0),
    "desert": Mood(123.5, (0, 5, 7, 12), 0.55, 1.1, 3500.0, 0.12, 0.0),
    "garden": Mood(261.6, (0, 4, 7, 9), 0.2, 1.0, 6000.0, 0.05, 0.0),
}


def mood_for(prompt: str, seed: int) -> Mood:
    """The theme's mood, or one picked from a hash of the prompt when no theme word matches."""
    theme = theme_for(prompt)
    if theme is not None:
        return MOODS[theme]
    names = sorted(MOODS)
    return MOODS[names[derive_seed(prompt, seed, "mood") % len(names)]]


def ambient_bed(prompt: str, seed: int, seconds: float) -> np.ndarray:
    """A deterministic stereo bed of exactly ``round(seconds * 48000)`` samples, peak at -6 dBFS."""
    n = max(1, round(seconds * AUDIO_RATE))
    mood = mood_for(prompt, seed)
    rng = np.random.default_rng(derive_seed(prompt, seed, "audio"))
    t = np.arange(n, dtype=np.float64) / AUDIO_RATE
    out = np.zeros((2, n), dtype=np.float64)
    shape = _noise_shape(n, mood)  # the same for both channels
    for ch in range(2):
        out[ch] += _pad(t, mood, rng) + mood.noise_gain * _noise(n, t, mood, shape, rng)
    out *= _fades(n)
    peak = float(np.max(np.abs(out)))
    if peak > 0:
        out *= PEAK / peak
    return out.astype(np.float32)


def fit_length(pcm: np.ndarray, samples: int) -> np.ndarray:
    """Trim or zero-pad a (2, n) track to exactly ``samples``."""
    if pcm.shape[1] >= samples:
        return pcm[:, :samples]
    return np.pad(pcm, ((0, 0), (0, samples - pcm.shape[1])))


def _pad(t: np.ndarray, mood: Mood, rng: np.random.Generator) -> np.ndarray:
    """Detuned sines with slow, independent breathing so the chord never sounds static."""
    pad = np.zeros_like(t)
    for i, semitones in enumerate(mood.chord):
        freq = mood.root_hz * 2.0 ** (semitones / 12.0) * (1.0 + rng.uniform(-0.004, 0.004))
        lfo = 0.6 + 0.4 * _sine(rng.uniform(0.05, 0.2), rng.uniform(0, 2 * np.pi), t)
        pad += lfo * _sine(freq, rng.uniform(0, 2 * np.pi), t) / (1.0 + 0.5 * i)
    return pad / len(mood.chord)


def _sine(hz: float, phase: float, t: np.ndarray) -> np.ndarray:
    """sin(2 pi hz t + phase) as float32, with whole cycles taken off in float64 first.

    numpy computes float64 sines one at a time through the C library and float32 ones vectorised,
    about 40 times faster; with the argument kept within two turns, the float32 sine is within
    1e-6 of the float64 one, below what the float32 bed keeps of a -6 dBFS signal anyway.
    """
    cycles = hz * t
    cycles -= np.floor(cycles)
    angle = (2 * np.pi) * cycles + phase
    out: np.ndarray = np.sin(angle.astype(np.float32))
    return out


def _noise_shape(n: int, mood: Mood) -> np.ndarray:
    """The mood's noise colour as gains on the rfft bins of ``n`` samples: tilt, then a cutoff."""
    freqs = np.fft.rfftfreq(n, 1.0 / AUDIO_RATE)
    shape: np.ndarray = 1.0 / np.maximum(freqs, 20.0) ** (mood.noise_tilt / 2.0)
    shape /= 1.0 + (freqs / mood.noise_cutoff_hz) ** 4
    return shape


def _noise(n: int, t: np.ndarray, mood: Mood, shape: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Coloured noise shaped in the frequency domain (vectorised, no per-sample filter loop)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    noise = np.fft.irfft(spectrum * shape, n)
    noise /= max(float(np.std(noise)), 1e-9) * 4.0
    if mood.swell_hz > 0:
        noise *= 0.55 + 0.45 * _sine(mood.swell_hz, rng.uniform(0, 2 * np.pi), t)
    if mood.crackle > 0:
        noise += _crackle(n, mood.crackle, rng)
    return noise


def _crackle(n: int, per_second: float, rng: np.random.Generator) -> np.ndarray:
    """Sparse decaying clicks, like a wood fire."""
    impulses = np.zeros(n)
    count = max(1, int(per_second * n / AUDIO_RATE))
    impulses[rng.integers(0, n, count)] = rng.uniform(-0.6, 0.6, count)
    kernel = np.exp(-np.arange(96) / 12.0) * np.sin(np.arange(96) * 1.3)
    return np.convolve(impulses, kernel, mode="same")


def _fades(n: int) -> np.ndarray:
    """Half-second (or quarter-clip) raised-cosine fade in and out, so clips never start with a click."""
    length = max(1, min(AUDIO_RATE // 2, n // 4))
    env = np.ones(n)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, length))
    env[:length] = ramp
    env[n - length :] = np.minimum(env[n - length :], ramp[::-1])
    return env
