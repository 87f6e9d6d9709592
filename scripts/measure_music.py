"""Measure where the music sits under the voice in built tracks, as a listener hears them (issue 19).

    .venv/bin/python scripts/measure_music.py [output-folder] [routines-folder]

For every day with music in the output folder: the MP3 decoded by ffmpeg, and the bed rendered alone
through the same envelope (``music.ducked``, from the day's JSON: its sources, levels and ducked spans),
scaled by the one gain that fits it to the decoded track where only music plays. From the two: the
music under every spoken line (the track less the bed, against the bed), the track between lines against
the speech, every tone against the music around it (K-weighted energies, as BS.1770 weighs), and the
largest sample-to-sample step of the decoded track between lines and at each join of encoded stretches
against the bed's own there (a click would stand out of it by far more than the codec's noise).
Prints one line a day and the ranges over all days. A coach's files are read from the routines folder.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cuecoach import system
from cuecoach.audio import bed, loudness, mp3, music, stretches

RATE = music.RATE
MARGIN_S = 0.2  # kept clear of the bed's ramps when measuring it between lines


def decoded(path: Path) -> np.ndarray:
    pcm = system.run([system.ffmpeg(), "-v", "error", "-nostdin", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar",
                      str(RATE), "-"], f"decoding {path.name}")
    return loudness.samples(pcm)


def the_loop(sources: list[str], routines: Path) -> np.ndarray:
    if sources == ["default"]:
        return loudness.samples(bed.bed_pcm())
    return music.cycle([decoded(routines / name) for name in sources])


def level(x: np.ndarray) -> float:
    """Mean K-weighted energy in dB (no gating): a level to compare parts by."""
    weighted = loudness.k_weighted(x.astype(np.float32))[: len(x)]
    return 10 * float(np.log10(max(float(np.mean(np.square(weighted, dtype=np.float64))), 1e-20)))


def between_lines(spans: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """Where the bed is up: gaps it does not stay down across, clear of its ramps and its end fade."""
    edges = [(0, 0), *sorted(spans), (n - int(music.END_FADE_S * RATE), n)]
    after, before = int((music.RELEASE_S + MARGIN_S) * RATE), int((music.LEAD_S + MARGIN_S) * RATE)
    return [(a + after, b - before) for (_, a), (b, _) in zip(edges, edges[1:], strict=False)
            if b - a - music.LEAD_S * RATE >= music.STAY_DOWN_S * RATE and b - before - (a + after) > RATE // 2]


def measure_day(json_path: Path, routines: Path) -> dict | None:
    timeline = json.loads(json_path.read_text())
    heard = timeline.get("music")
    if not isinstance(heard, dict):
        return None
    signal = decoded(json_path.with_suffix(".mp3"))
    spans = [(s * RATE // 1000, e * RATE // 1000) for s, e in heard["ducked_ms"]]
    alone = music.ducked(the_loop(heard["sources"], routines), len(signal), spans,
                         loudness.clip_lufs(timeline["loudness"]), heard["level"], heard["duck"])
    quiet = between_lines(spans, len(signal))
    both = np.concatenate([alone[a:b] for a, b in quiet])
    gain = float(np.dot(both, np.concatenate([signal[a:b] for a, b in quiet])) / np.dot(both, both))
    bed_part = alone * gain
    under, speech, tones = [], [], []
    for event, (a, b) in zip(timeline["events"], spans, strict=True):
        voice = level(signal[a:b] - bed_part[a:b])
        if event["kind"] == "speech":
            speech.append(voice)
            under.append(voice - level(bed_part[a:b]))
        else:
            tones.append(voice - level(bed_part[max(0, a - RATE // 2):b + RATE // 2]))
    speech_db = 10 * np.log10(np.mean(np.power(10, np.array(speech) / 10)))
    between = [speech_db - level(signal[a:b]) for a, b in quiet]
    # clicks: the decoded track's largest step against the bed's own, between lines and at every join of encoded
    # stretches (where a build cuts this day: the frame after the encoder's delay)
    joins = [first * mp3.SAMPLES_PER_FRAME - mp3.DELAY for first in stretches.cuts(
        spans, len(signal), int(music.LEAD_S * RATE), int(music.RELEASE_S * RATE))[1:]]
    places = quiet + [(j - mp3.SAMPLES_PER_FRAME, j + mp3.SAMPLES_PER_FRAME) for j in joins]
    steps = [float(np.abs(np.diff(signal[a:b])).max() - np.abs(np.diff(bed_part[a:b])).max()) for a, b in places]
    return {"day": json_path.stem, "under": min(under), "between": (min(between), max(between)),
            "tone": min(tones), "step": max(steps), "joins": len(joins)}


def main() -> None:
    output = Path(sys.argv[1] if len(sys.argv) > 1 else "output")
    routines = Path(sys.argv[2] if len(sys.argv) > 2 else "routines")
    with ThreadPoolExecutor() as pool:
        found = [day for day in pool.map(lambda p: measure_day(p, routines), sorted(output.glob("*.json"))) if day]
    for day in found:
        print(f"{day['day']}: music at least {day['under']:.1f} LU under every line; between lines "
              f"{day['between'][0]:.1f} to {day['between'][1]:.1f} LU under the speech; every tone at least "
              f"{day['tone']:.1f} LU over the music; largest step between lines and at its {day['joins']} joins "
              f"{day['step']:+.4f} of full scale beside the bed's own")
    if not found:
        sys.exit(f"no day with music in {output}")
    print(f"{len(found)} days: under every line at least {min(d['under'] for d in found):.1f} LU (at least 15); "
          f"between lines {min(d['between'][0] for d in found):.1f} to {max(d['between'][1] for d in found):.1f} LU "
          f"(6 to 12); tones at least {min(d['tone'] for d in found):.1f} LU over the music (at least 6); "
          f"largest step {max(d['step'] for d in found):+.4f} of full scale beside the bed's own, between lines and at "
          f"{sum(d['joins'] for d in found)} joins")


if __name__ == "__main__":
    main()
