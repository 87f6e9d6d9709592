"""Fit and check the speech-length models on every line of a built program, with no synthesis: each
line's clip is read from the speech cache the build filled.

    .venv/bin/cuecoach build --all [--engine piper] -o OUT --cache CACHE
    .venv/bin/python scripts/calibrate_speech.py OUT CACHE

Prints, for the engine the build used: the words a minute actually spoken (against the asked rate),
each clip's length against spoken.estimate_ms (the plan's slot: must stay under 1) and against
spoken.expected_ms (the length check), and a least-squares fit of the features expected_ms uses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from cuecoach import spoken
from cuecoach.audio import sound
from cuecoach.synth.clips import SpeechCache, VoiceSettings


def lines(output: Path, cache: Path) -> tuple[VoiceSettings, dict[str, float]]:
    found: dict[str, float] = {}
    settings = None
    for timeline in sorted(output.glob("*.json")):
        data = json.loads(timeline.read_text())
        settings = VoiceSettings(data["voice"], data["rate"], data["engine"], data["loudness"])
        for event in data["events"]:
            if event["kind"] == "speech" and event["text"] not in found:
                pcm = SpeechCache(cache).get(settings.key(event["text"]))
                if pcm is not None:
                    found[event["text"]] = len(pcm) / sound.SAMPLE_WIDTH * 1000 / sound.FRAME_RATE
    return settings, found


def main() -> None:
    settings, found = lines(Path(sys.argv[1]), Path(sys.argv[2]))
    texts = list(found)
    ms = np.array([found[t] for t in texts])
    words = sum(len(spoken.spoken(t).split()) for t in texts)
    print(f"{settings.engine} at {settings.rate}: {len(texts)} lines, {words / ms.sum() * 60_000:.0f} words a minute")
    for name, model in (("estimate_ms", spoken.estimate_ms), ("expected_ms", spoken.expected_ms)):
        ratio = np.sort(ms / np.array([model(t, settings.rate, settings.engine) for t in texts]))
        print(f"  clip / {name}: min {ratio[0]:.3f}  p1 {np.percentile(ratio, 1):.3f}  median "
              f"{np.median(ratio):.3f}  p99 {np.percentile(ratio, 99):.3f}  max {ratio[-1]:.3f}")
    features = np.array([spoken.length_features(t) for t in texts])
    scale = spoken.rate_scale(settings.rate)
    coef, *_ = np.linalg.lstsq(features * scale, ms, rcond=None)
    print(f"  fit at {spoken.CALIBRATION_RATE} wpm (constant, letters, words, sentence breaks, commas):",
          np.round(coef, 1))


if __name__ == "__main__":
    main()
