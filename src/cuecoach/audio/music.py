"""Music under the voice, ducked on the script's own timeline. Pure: numpy arrays in and out.

* **The bed** (``cycle``, ``looped``): the music's pieces in order, each joined to the next with an
  equal-gain crossfade, the last to the first as well, so the cycle repeats without a seam; a piece
  made as a seamless loop (cuecoach's own bed) is repeated as it is.
* **The envelope** (``corners``, ``envelope``, ``bed_scale``): the bed sits ``level`` LU under the
  speech; it goes down to ``duck`` LU under it LEAD_S before each spoken line or tone, stays down to its
  end and across gaps shorter than STAY_DOWN_S, and comes back up over RELEASE_S. It is known before
  anything is heard: the script says when each sound starts, and its PCM how long it lasts.
* **The levels** (``levels``): the voice track plus the enveloped bed, under one gain for the whole track so
  it measures the program's target (music between lines lowers a track's integrated loudness by a few LU),
  rounded to GAIN_STEP_DB so that an edit elsewhere in the day rarely changes it, and a look-ahead
  true-peak limiter on the rare peaks that gain pushes over MIX_CEILING_DBTP; where the limiter takes more
  than half a step of loudness (a quiet day's speech peaks pushed up), the gain is a step higher. The
  levels are worked out from the parts' measures (``measures.py``), and the mix rendered from them in
  windows (``mixdown.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cuecoach.audio import loudness, measures

RATE = 44_100
CROSSFADE_S = 3.0  # between two pieces, and from the last to the first: long enough that no join is heard
LEAD_S = 0.3  # the bed starts down this long before a line or tone: the first syllable is heard clear
RELEASE_S = 1.0  # and comes back up over this, after it
STAY_DOWN_S = 2.5  # a gap shorter than this between two sounds keeps the bed down: no pumping between lines
END_FADE_S = 2.0  # the bed fades out over the track's last seconds
GAIN_STEP_DB = 0.5  # the track's gain is a multiple of this: within the ±1 LU tolerance, and steady across edits
MIX_CEILING_DBTP = -3.5  # the mix's true peaks: its MP3 decoded peaked up to 1.5 dB over them (42 days with the bed)
LEVEL_ROUNDS = 4  # at most this many steps more, to make up the loudness the limiter takes
MIX_ABOVE_TARGET_LU = 0.5  # the mix aims this far over the track's target: its MP3 measured 0.3 to 0.9 LU under
# the target when aimed at it (42 days with the bed: the codec's lost highs, the cross term left out, the rounding)
EVEN_MAX_DB = 4.0  # the most a stretch between lines is raised or lowered to even out the bed's own swells
BED_ROUNDS = 3  # the bed lowered by what the limiter takes from the speech, worked out again at most this often
BED_LOWERED_MAX_LU = 1.5  # at most: a voice whose peaks the limiter takes far more from (clicks over a murmur)
# would otherwise lower the bed, then the track's loudness, then raise the gain into the limiter again


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


def corners(spans: Sequence[tuple[int, int]], n: int, level: float, duck: float) -> list[tuple[int, float]]:
    """The envelope's corners (sample, dB), before the end fade: see `envelope`."""
    lead, release, stay = (int(seconds * RATE) for seconds in (LEAD_S, RELEASE_S, STAY_DOWN_S))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start - lead - merged[-1][1] < stay:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    points: list[tuple[int, float]] = [(0, -level)]
    for start, end in merged:
        points += [(max(start - lead, points[-1][0]), -level), (max(start, 0), -duck), (end, -duck),
                   (end + release, -level)]
    points.append((max(n, points[-1][0]), -level))
    return points


def envelope(spans: Sequence[tuple[int, int]], n: int, level: float, duck: float) -> np.ndarray:
    """The bed's gain, sample by sample, in dB: -`level` between sounds, -`duck` under the `spans`
    (start and end samples of every line and tone), ramps before and after, a fade at the end."""
    return 20 * np.log10(bed_scale(corners(spans, n, level, duck), 0, n, n, fade_len(n)))


def evened(points: Sequence[tuple[int, float]], loop: measures.LoopMeasure, level: float
           ) -> list[tuple[int, float]]:
    """The envelope's corners with each stretch between lines (where it sits at -`level`) raised or lowered by
    how much quieter or louder the loop is there than on the whole (at most EVEN_MAX_DB): the bed's chords swell
    and fall by about 5 LU, which would put one gap 12 LU under the speech and the next 7. The change is made
    where the bed moves anyway, on its ramps."""
    evened = list(points)
    whole = loop.running[-1] / loop.length
    for i, ((a, db_a), (b, db_b)) in enumerate(zip(points, points[1:], strict=False)):
        if db_a != -level or db_b != -level or b - a < RATE // 2:
            continue
        ends = np.array([a, b]) % loop.length
        turns = (b - a) // loop.length
        inside = loop.running[ends[1]] - loop.running[ends[0]] + (turns + (ends[1] < ends[0])) * loop.running[-1]
        if inside > 0 and whole > 0:
            offset = float(np.clip(10 * np.log10(inside / (b - a) / whole), -EVEN_MAX_DB, EVEN_MAX_DB))
            evened[i], evened[i + 1] = (a, -level - offset), (b, -level - offset)
    return evened


def bed_scale(points: Sequence[tuple[int, float]], lo: int, hi: int, n: int, fade: int) -> np.ndarray:
    """The envelope (its corners `points`, see `corners`) as linear gains for samples [lo, hi) of a track of `n`
    samples whose last `fade` fade out; single precision, each sample worked out on its own (a ramp's from the
    ramp's corners), so that any window of the track gives the same values."""
    gain = np.empty(hi - lo, dtype=np.float32)
    for (a, db_a), (b, db_b) in zip(points, points[1:], strict=False):
        start, end = max(a, lo), min(b, hi)
        if end <= start:
            continue
        if db_a == db_b:
            gain[start - lo:end - lo] = 10 ** (db_a / 20)
        else:
            gain[start - lo:end - lo] = 10 ** (np.interp(np.arange(start, end), (a, b), (db_a, db_b)) / 20)
    if hi > n - fade:
        at = np.arange(max(lo, n - fade), hi)
        gain[at[0] - lo:] *= _faded(at, n, fade).astype(np.float32)
    return gain


def _faded(at: np.ndarray, n: int, fade: int) -> np.ndarray:
    """The end fade's factor at the samples `at` (each at or after n - fade)."""
    return np.maximum(1 - (at - (n - fade)) / max(1, fade - 1), 1e-4)


def gains_at(points: Sequence[tuple[int, float]], at: np.ndarray, n: int, fade: int) -> np.ndarray:
    """The envelope (its corners `points`) as linear gains at the samples `at`, in double precision: as
    `bed_scale` makes them, and 0 past the track's end (the measures of the blocks' edges)."""
    at_corner, db = zip(*points, strict=True)
    gains = 10 ** (np.interp(at, at_corner, db) / 20)
    fading = at >= n - fade
    gains[fading] *= _faded(at[fading], n, fade)
    gains[at >= n] = 0.0
    return gains


def fade_len(n: int) -> int:
    return min(n, int(END_FADE_S * RATE))


def bed_gain(loop_lufs: float, speech_lufs: float) -> float:
    """The linear gain that puts a loop measuring `loop_lufs` at `speech_lufs` (before the envelope)."""
    return 10 ** ((speech_lufs - loop_lufs) / 20) if math.isfinite(loop_lufs) else 0.0


def ducked(loop: np.ndarray, n: int, spans: Sequence[tuple[int, int]], speech_lufs: float, level: float,
           duck: float) -> np.ndarray:
    """The bed alone, `n` samples, through its envelope: what the mix adds under the voice (before the track's
    gain and limiter); single precision."""
    measured = measures.measure_loop(loop)
    bed = looped(loop.astype(np.float32), n)
    bed *= np.float32(bed_gain(measured.lufs, speech_lufs))
    bed *= bed_scale(evened(corners(spans, n, level, duck), measured, level), 0, n, n, fade_len(n))
    return bed


def ceiling() -> float:
    """The mix's true-peak ceiling, linear."""
    return float(10 ** (MIX_CEILING_DBTP / 20))


def _level(energy: np.ndarray, gain: float, found: np.ndarray | None) -> float:
    """The loudness of the mix whose block energies are `energy` under a gain, and the limiter's gains."""
    if found is not None:
        energy = energy * np.square(found)
    per_sub = loudness.SUB_BLOCK // loudness.LIMIT_STEP
    return loudness.integrated(energy.reshape(-1, per_sub).sum(axis=1) * gain ** 2)


def levels(energy: np.ndarray, peaks: np.ndarray, target_lufs: float) -> np.ndarray:
    """The factor each limiter block of the mix is multiplied by (the track's gain times the limiter's), from the
    blocks' K-weighted energies and true peaks (in whole sub-blocks): see the module's docstring."""
    measured = _level(energy, 1.0, None)
    if not math.isfinite(measured):
        return np.ones(len(peaks))
    step = GAIN_STEP_DB * round((target_lufs - measured) / GAIN_STEP_DB)
    for _ in range(LEVEL_ROUNDS):  # the limiter takes some loudness (half a LU on a quiet day): a step more
        found = loudness.limiter_gain(peaks * 10 ** (step / 20), ceiling())
        if found is None or _level(energy, 10 ** (step / 20), found) > target_lufs - GAIN_STEP_DB / 2:
            break
        step += GAIN_STEP_DB
    else:
        found = loudness.limiter_gain(peaks * 10 ** (step / 20), ceiling())
    gain = 10 ** (step / 20)
    return gain * found if found is not None else np.full(len(peaks), gain)


def speech_taken(voice_energy: np.ndarray, factors: np.ndarray) -> float:
    """How much loudness (LU) the limiter takes from the speech: its loudness under the track's gain alone, less
    its loudness under the factors (the gain is the largest factor: the limiter only ever lowers it)."""
    gain = float(np.max(factors))
    taken = _level(voice_energy, gain, None) - _level(voice_energy, 1.0, factors)
    return taken if math.isfinite(taken) else 0.0


def bed_and_levels(parts: measures.TrackMeasures, bed_gain: float, target_lufs: float) -> tuple[float, np.ndarray]:
    """The loop's gain and the blocks' factors (`levels`), the bed lowered by what the limiter takes from the
    speech: the limiter acts on the voice's peaks, not on the bed's, and the bed is to sit its `level` under the
    speech as it is heard (at a ceiling of -3 dBTP a day's limiter took up to 1 LU from its speech, measured)."""
    lowered = 0.0
    for _ in range(BED_ROUNDS):
        gain = bed_gain * 10 ** (-lowered / 20)
        factors = levels(*parts.mixed(gain), target_lufs + MIX_ABOVE_TARGET_LU)
        # in the gain's steps, as the gain: an edit elsewhere in the day rarely moves the bed (or every stretch)
        taken = GAIN_STEP_DB * round(min(speech_taken(parts.voice_energy, factors), BED_LOWERED_MAX_LU) / GAIN_STEP_DB)
        if taken == lowered:
            break
        lowered = taken
    return gain, factors
