"""Measure what a listener gets from built tracks: loudness and true peak (ffmpeg ebur128 on the MP3),
and the crest factor of every spoken line on the decoded track.

    .venv/bin/python scripts/measure_loudness.py [output-folder]

Prints one line a day and the ranges over all days: the figures behind loudness.CLIP_ABOVE_TRACK_LU
and loudness.PEAK_CEILING_DBTP.
"""

from __future__ import annotations

import json
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cuecoach import system
from cuecoach.audio import sound
from cuecoach.audio.loudness import crest_db, samples
from cuecoach.builder.verify import measure_loudness

SILENCE = 10 ** (-50 / 20)


def spoken_crests(signal: np.ndarray, timeline: dict) -> list[float]:
    """Peak over RMS of each spoken line, from its first to its last sound above -50 dBFS."""
    crests = []
    for event in timeline["events"]:
        if event["kind"] != "speech":
            continue
        start = sound.frames(event["at_ms"])
        piece = signal[start: start + sound.frames(event["slot_ms"])]
        loud = np.flatnonzero(np.abs(piece) > SILENCE)
        if loud.size:
            crests.append(crest_db(piece[loud[0]: loud[-1] + 1]))
    return crests


def measure(mp3: Path) -> tuple[float, float, list[float]]:
    integrated, peak = measure_loudness(mp3)
    pcm = system.run([system.ffmpeg(), "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1", "-ar",
                      str(sound.FRAME_RATE), "-"], "decoding")
    timeline = json.loads(mp3.with_suffix(".json").read_text())
    return integrated, peak, spoken_crests(samples(pcm), timeline)


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "output")
    mp3s = sorted(folder.glob("*.mp3"))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(measure, mp3s))
    all_crests = []
    for mp3, (integrated, peak, crests) in zip(mp3s, results, strict=True):
        all_crests += crests
        crest = statistics.median(crests)
        print(f"{mp3.stem:12} {integrated:6.1f} LUFS {peak:6.1f} dBTP  crest median {crest:5.1f} dB")
    loud = [r[0] for r in results]
    peaks = [r[1] for r in results]
    print(f"{len(mp3s)} tracks: {min(loud):.1f} to {max(loud):.1f} LUFS (mean {statistics.mean(loud):.2f}), "
          f"true peak {min(peaks):.1f} to {max(peaks):.1f} dBTP, spoken lines' crest factor median "
          f"{statistics.median(all_crests):.1f} dB (10th percentile {np.percentile(all_crests, 10):.1f})")


if __name__ == "__main__":
    main()
