"""cuecoach's own music bed: a calm loop made by code (numpy), the same samples on every machine.

Soft pads of a slow progression of eight chords (each note a few harmonics, two voices a hair apart),
a low root under them and a quiet arpeggio of bell-like notes over them: more than a tone, calm enough
for mobility work, and nothing to license. Every sound is laid on the loop circularly (what runs past
its end continues at its start), so the loop repeats without a seam or a crossfade. Pure: 16-bit mono
PCM at the track's rate; ``music.py`` sets its level and loops it; the builder caches it by this
module's content.
"""

from __future__ import annotations

import functools

import numpy as np

RATE = 44_100
CHORD_S = 6.0  # each chord's length: slow, the pace of a long breath
FADE_S = 2.0  # a pad fades in and out over this, overlapping the next chord's
# the progression, as MIDI notes: Dmaj9, Bm7, Gmaj7, A6sus, F#m7, Bm9, Em9, A7sus (a I-vi-IV-V family in D)
CHORDS = ((50, 57, 61, 64, 66), (47, 57, 62, 66, 69), (43, 55, 59, 62, 66), (45, 57, 62, 64, 66),
          (42, 57, 61, 64, 69), (47, 57, 61, 62, 66), (40, 55, 59, 62, 66), (45, 55, 59, 62, 64))
HARMONICS = (1.0, 0.32, 0.12, 0.05)  # a soft, round timbre: the fundamental and a little of the first overtones
DETUNE = 0.0015  # two voices a hair apart: a slow shimmer, no beating you notice
PLUCK_S = 0.75  # the arpeggio's pace: eight notes a chord
PLUCK_DECAY_S = 1.1
PLUCK_GAIN = 0.22  # under the pads
BASS_GAIN = 0.5
PEAK = 0.5  # of full scale; music.py sets the level


def _midi(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


TABLE = 4096  # samples of one cycle in a wave table: a timbre is a table read at the note's pace


@functools.lru_cache(maxsize=4)
def _table(harmonics: tuple[float, ...]) -> np.ndarray:
    cycle = np.arange(TABLE) / TABLE
    return np.sum([amplitude * np.sin(2 * np.pi * k * cycle + k) for k, amplitude in enumerate(harmonics, start=1)],
                  axis=0)


def _tone(freq: float, n: int, harmonics: tuple[float, ...] = HARMONICS) -> np.ndarray:
    """A note of `n` samples: two voices a hair apart, each a wave table read at its pace."""
    table = _table(harmonics)
    out = np.zeros(n, dtype=np.float32)
    for shift in (1 - DETUNE, 1 + DETUNE):
        phase = (np.arange(n, dtype=np.float64) * (freq * shift * TABLE / RATE)).astype(np.int64) % TABLE
        out += table[phase]
    return out


def _add_circular(loop: np.ndarray, at: int, sound: np.ndarray) -> None:
    """Lay `sound` on the loop from `at`, wrapping past its end to its start."""
    at %= len(loop)
    while len(sound):
        part = sound[: len(loop) - at]
        loop[at:at + len(part)] += part
        sound, at = sound[len(part):], 0


def bed_pcm() -> bytes:
    """The loop: 16-bit mono PCM, CHORD_S seconds a chord, the same bytes on every call and machine."""
    chord_n, fade_n = int(CHORD_S * RATE), int(FADE_S * RATE)
    loop = np.zeros(chord_n * len(CHORDS))
    pad_n = chord_n + fade_n
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade_n))  # raised cosine: no edge to hear
    shape = np.ones(pad_n)
    shape[:fade_n], shape[-fade_n:] = ramp, ramp[::-1]
    pluck_n = int(PLUCK_S * RATE)
    decay = np.exp(-np.arange(int(3 * PLUCK_DECAY_S * RATE)) / (PLUCK_DECAY_S * RATE))
    decay[: RATE // 200] *= np.linspace(0, 1, RATE // 200)  # a 5 ms attack: soft, yet no click
    for i, (root, *upper) in enumerate(CHORDS):
        start = i * chord_n - fade_n // 2
        pad = sum(_tone(_midi(note), pad_n) for note in upper) / len(upper)
        pad += BASS_GAIN * _tone(_midi(root), pad_n, HARMONICS[:2])
        _add_circular(loop, start, pad * shape)
        for j in range(chord_n // pluck_n):
            note = upper[(j * 2 + i) % len(upper)] + 12
            pluck = PLUCK_GAIN * _tone(_midi(note), len(decay), (1.0, 0.2)) * decay
            _add_circular(loop, i * chord_n + j * pluck_n, pluck)
    loop *= PEAK / np.abs(loop).max()
    return np.round(loop * 32767).astype("<i2").tobytes()
