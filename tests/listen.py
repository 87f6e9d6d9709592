"""What a listener hears in an MP3, measured: decoding with ffmpeg, finding tones, measuring silence.

Used by the end-to-end tests. Tones are found by normalized cross-correlation with the
sound files themselves, so a test knows a start tone from a stop tone and from speech.
"""

from __future__ import annotations

import subprocess
import wave
from itertools import pairwise
from pathlib import Path

import numpy as np

from cuecoach.builder.verify import ncc

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


WINDOW_S = 0.010  # 10 ms windows for telling sound from silence
AUDIBLE_DB = -50.0  # a window louder than this is heard (the silence between cues is digital zero)


def audible(signal: np.ndarray) -> np.ndarray:
    """For each 10 ms window: whether anything is heard in it."""
    width = int(WINDOW_S * RATE)
    n = len(signal) // width
    power = (signal[: n * width].reshape(n, width) ** 2).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(power) > AUDIBLE_DB


def heard_span(loud: np.ndarray, start_s: float, end_s: float) -> tuple[float, float] | None:
    """First and last moment (s) something is heard between two times, or None if nothing is."""
    first, last = int(np.floor(start_s / WINDOW_S + 1e-6)), int(np.ceil(end_s / WINDOW_S - 1e-6))  # 615.41 / 0.01
    hits = np.flatnonzero(loud[first:last])
    if hits.size == 0:
        return None
    return (first + hits[0]) * WINDOW_S, (first + hits[-1] + 1) * WINDOW_S


def loudness_lufs(signal: np.ndarray, start_s: float, end_s: float) -> float:
    """BS.1770 loudness of one stretch (a tone, a spoken line) on its own, as cuecoach measures a clip."""
    from cuecoach.audio.loudness import loudness

    return loudness(signal[int(start_s * RATE): int(end_s * RATE)])


def lines_heard(signal: np.ndarray, timeline: dict, loud: np.ndarray | None = None) -> list[dict]:
    """Every spoken line of a timeline with the span it is heard over in the decoded audio.

    A count (three, two, one) is one line: its words are a second apart by design."""
    loud = audible(signal) if loud is None else loud
    lines: list[dict] = []
    for event in timeline["events"]:
        if event["kind"] != "speech":
            continue
        span = heard_span(loud, event["at_ms"] / 1000, (event["at_ms"] + event["slot_ms"]) / 1000)
        assert span is not None, f"nothing heard for {event['text']!r} at {event['at_ms']} ms"
        previous = lines[-1] if lines else None
        if previous and event["role"] in ("countdown", "lead-in") and previous["role"] == event["role"] \
                and previous["block"] == event["block"] and span[0] - previous["end"] < 1.0:
            previous["end"] = span[1]
            continue
        lines.append({**event, "start": span[0], "end": span[1]})
    return lines


def quiet_before_lead_ins(signal: np.ndarray, timeline: dict) -> list[tuple[int, float]]:
    """For each block started by a lead-in after talk (a first side, a second side): its number and the
    seconds in which nothing at all is heard between the talk before the lead-in and the lead-in."""
    loud = audible(signal)
    lines = lines_heard(signal, timeline, loud)
    found = []
    for before, lead in pairwise(lines):
        if lead["role"] != "lead-in" or before["role"] == "next-set":
            continue  # a rest between sets is timed from the stop tone, not from the last word
        silent_from = before["end"]
        heard_again = heard_span(loud, silent_from, lead["start"] + 0.05)
        found.append((lead["start"], (heard_again[0] if heard_again else lead["start"]) - silent_from))
    return found
