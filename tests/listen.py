"""What a listener hears in an MP3, measured: decoding with ffmpeg, finding tones, measuring silence.

Used by the end-to-end tests. Tones are found by normalized cross-correlation with the
sound files themselves, so a test knows a start tone from a stop tone and from speech.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from cuecoach.verify import ncc  # the same correlation verify uses; a wrong one could not find tones to the sample

RATE = 44_100


def decode(path: Path) -> np.ndarray:
    """Decode any audio file to mono float samples at 44.1 kHz with ffmpeg (honours the encoder delay)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, RATE), path
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").astype(np.float64) / 32768.0


def find_onsets(signal: np.ndarray, template: np.ndarray, threshold: float = 0.8,
                chunk_s: float = 60.0) -> list[float]:
    """Times (s) where `template` starts in `signal`: peaks of the correlation above `threshold`."""
    hop = int(chunk_s * RATE)
    onsets: list[float] = []
    for begin in range(0, max(1, len(signal) - len(template) + 1), hop):
        piece = signal[begin: begin + hop + len(template)]
        if len(piece) < len(template):
            break
        score = ncc(piece, template)[:hop]
        above = np.flatnonzero(score > threshold)
        while above.size:
            first = above[0]
            group = above[above < first + len(template)]
            best = group[np.argmax(score[group])]
            onsets.append((begin + best) / RATE)
            above = above[above >= first + len(template)]
    merged: list[float] = []
    for t in onsets:  # a peak straddling two chunks is found twice
        if not merged or t - merged[-1] > len(template) / RATE:
            merged.append(t)
    return merged


def level_db(signal: np.ndarray, start_s: float, end_s: float) -> float:
    """RMS level of a stretch in dBFS (-inf for digital silence)."""
    piece = signal[int(start_s * RATE): int(end_s * RATE)]
    rms = float(np.sqrt(np.mean(piece ** 2))) if piece.size else 0.0
    return 20 * np.log10(rms) if rms > 0 else float("-inf")
