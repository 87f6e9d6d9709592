"""Music under the voice, ducked on the script's own timeline. Pure: numpy arrays in, 16-bit mono PCM out.

* **The bed** (``cycle``, ``looped``): the music's pieces in order, each joined to the next with an
  equal-gain crossfade, the last to the first as well, so the cycle repeats without a seam; a piece
  made as a seamless loop (cuecoach's own bed) is repeated as it is.
* **The envelope** (``envelope``): the bed sits ``level`` LU under the speech; it goes down to
  ``duck`` LU under it LEAD_S before each spoken line or tone, stays down to its end and across gaps
  shorter than STAY_DOWN_S, and comes back up over RELEASE_S. It is known before anything is heard: the
  script says when each sound starts, and its PCM how long it lasts.
* **The mix** (``mix``): the voice track plus the enveloped bed, then one gain for the whole track so it
  measures the program's target (music between lines lowers a track's integrated loudness by a few LU),
  rounded to GAIN_STEP_DB so that an edit elsewhere in the day rarely changes it, and a look-ahead
  true-peak limiter on the rare peaks that gain pushes over MIX_CEILING_DBTP.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cuecoach.audio import loudness

RATE = 44_100
CROSSFADE_S = 3.0  # between two pieces, and from the last to the first: long enough that no join is heard
LEAD_S = 0.3  # the bed starts down this long before a line or tone: the first syllable is heard clear
RELEASE_S = 1.0  # and comes back up over this, after it
STAY_DOWN_S = 2.5  # a gap shorter than this between two sounds keeps the bed down: no pumping between lines
END_FADE_S = 2.0  # the bed fades out over the track's last seconds
GAIN_STEP_DB = 0.5  # the track's gain is a multiple of this: within the ±1 LU tolerance, and steady across edits
MIX_CEILING_DBTP = -2.5  # the mix's true peaks; the MP3 encode adds up to about half a dB (measured)


def crossfade_len(pieces: Sequence[np.ndarray]) -> int:
    """CROSSFADE_S, or a third of the shortest piece if that is shorter."""
    return int(min(CROSSFADE_S * RATE, min(len(piece) for piece in pieces) // 3))


def cycle(pieces: Sequence[np.ndarray], seamless: bool = False) -> np.ndarray:
    """The pieces in order, crossfaded into one another and the last into the first: a loop without a seam."""
    if seamless and len(pieces) == 1:
        return np.asarray(pieces[0], dtype=np.float64)
    fade = crossfade_len(pieces)
    # equal gain (raised cosine), not equal power: the sum never swings wider than the louder piece, so a join
    # never moves faster than the music itself (equal power lifts two pieces in phase by 3 dB mid-fade)
    fade_in = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
    fade_out = 1 - fade_in
    joined = np.asarray(pieces[0], dtype=np.float64)
    for piece in pieces[1:]:
        head = joined[-fade:] * fade_out + piece[:fade] * fade_in
        joined = np.concatenate([joined[:-fade], head, piece[fade:]])
    loop = joined[fade:].copy()
    loop[-fade:] = joined[-fade:] * fade_out + joined[:fade] * fade_in
    return loop


def looped(loop: np.ndarray, n: int) -> np.ndarray:
    """`n` samples of the loop, repeated."""
    return np.tile(loop, -(-n // len(loop)))[:n]


def envelope(spans: Sequence[tuple[int, int]], n: int, level: float, duck: float) -> np.ndarray:
    """The bed's gain, sample by sample, in dB: -`level` between sounds, -`duck` under the `spans`
    (start and end samples of every line and tone), ramps before and after, a fade at the end."""
    lead, release, stay = (int(seconds * RATE) for seconds in (LEAD_S, RELEASE_S, STAY_DOWN_S))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start - lead - merged[-1][1] < stay:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    points = [(0, -level)]
    for start, end in merged:
        points += [(max(start - lead, points[-1][0]), -level), (max(start, 0), -duck), (end, -duck),
                   (end + release, -level)]
    points.append((max(n, points[-1][0]), -level))
    at, db = zip(*points, strict=True)
    gain = np.interp(np.arange(n), at, db)
    fade = min(n, int(END_FADE_S * RATE))
    gain[n - fade:] += 20 * np.log10(np.maximum(np.linspace(1, 0, fade), 1e-4))
    return gain


def bed_gain(loop: np.ndarray, speech_lufs: float) -> float:
    """The linear gain that puts the loop at `speech_lufs` (before the envelope)."""
    measured = loudness.loudness(loop)
    return 10 ** ((speech_lufs - measured) / 20) if math.isfinite(measured) else 0.0


def ducked(loop: np.ndarray, n: int, spans: Sequence[tuple[int, int]], speech_lufs: float, level: float,
           duck: float) -> np.ndarray:
    """The bed alone, `n` samples, through its envelope: what `mix` adds under the voice (before the track's gain)."""
    return looped(loop, n) * bed_gain(loop, speech_lufs) * 10 ** (envelope(spans, n, level, duck) / 20)


def mix(voice: bytes | bytearray, loop: np.ndarray, spans: Sequence[tuple[int, int]], speech_lufs: float,
        level: float, duck: float, target_lufs: float) -> bytes:
    """The voice track with the bed under it, the whole at `target_lufs`: see the module's docstring."""
    x = loudness.samples(voice)
    x += ducked(loop, len(x), spans, speech_lufs, level, duck)
    measured = loudness.loudness(x)
    step = GAIN_STEP_DB * round((target_lufs - measured) / GAIN_STEP_DB) if math.isfinite(measured) else 0.0
    x *= 10 ** (step / 20)
    ceiling = 10 ** (MIX_CEILING_DBTP / 20)
    found = loudness.limiter_gain(loudness.true_peaks(x, loudness.LIMIT_STEP), ceiling)
    if found is not None:
        x *= np.repeat(found, loudness.LIMIT_STEP)[: len(x)]
    return loudness.to_pcm(np.clip(x, -ceiling, ceiling, out=x))
