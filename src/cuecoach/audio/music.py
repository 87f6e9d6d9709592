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
  true-peak limiter on the rare peaks that gain pushes over MIX_CEILING_DBTP; where the limiter takes more
  than half a step of loudness (a quiet day's speech peaks pushed up), the gain is a step higher.
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
TRUE_PEAK_OVER_DB = 6.0  # true peaks are sought only where the samples come this close to the ceiling
LEVEL_ROUNDS = 4  # at most this many steps more, to make up the loudness the limiter takes
CONTEXT_BLOCKS = 16  # limiter blocks of context around those, for the oversampling filter (16 ms)


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


def add_looped(out: np.ndarray, loop: np.ndarray, scale: np.ndarray) -> None:
    """out[:len(scale)] += the loop repeated, times `scale`, a loop's length at a time: no whole-track
    temporaries (each is a fresh 160 MB for a 15-minute day, and the system's time to map them, measured,
    was as much as the arithmetic)."""
    for at in range(0, len(scale), len(loop)):
        part = scale[at:at + len(loop)]
        out[at:at + len(part)] += loop[: len(part)] * part


def _points(spans: Sequence[tuple[int, int]], n: int, level: float, duck: float) -> list[tuple[int, float]]:
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
    at, db = zip(*_points(spans, n, level, duck), strict=True)
    gain = np.interp(np.arange(n), at, db)
    fade = min(n, int(END_FADE_S * RATE))
    gain[n - fade:] += 20 * np.log10(np.maximum(np.linspace(1, 0, fade), 1e-4))
    return gain


def linear_envelope(spans: Sequence[tuple[int, int]], n: int, level: float, duck: float) -> np.ndarray:
    """`envelope` as linear gains in single precision, worked out only where it moves (its ramps and its end
    fade): a whole-track interpolation and power took seconds a day (measured)."""
    gain = np.empty(n, dtype=np.float32)
    points = _points(spans, n, level, duck)
    for (a, db_a), (b, db_b) in zip(points, points[1:], strict=False):
        a, b = min(a, n), min(b, n)
        if b <= a:
            continue
        if db_a == db_b:
            gain[a:b] = 10 ** (db_a / 20)
        else:
            gain[a:b] = 10 ** (np.interp(np.arange(a, b), (a, b), (db_a, db_b)) / 20)
    fade = min(n, int(END_FADE_S * RATE))
    gain[n - fade:] *= np.maximum(np.linspace(1, 0, fade), 1e-4).astype(np.float32)
    return gain


def bed_gain(loop: np.ndarray, speech_lufs: float) -> float:
    """The linear gain that puts the loop at `speech_lufs` (before the envelope)."""
    measured = loudness.loudness(loop)
    return 10 ** ((speech_lufs - measured) / 20) if math.isfinite(measured) else 0.0


def ducked(loop: np.ndarray, n: int, spans: Sequence[tuple[int, int]], speech_lufs: float, level: float,
           duck: float) -> np.ndarray:
    """The bed alone, `n` samples, through its envelope: what `mix` adds under the voice (before the track's gain);
    single precision."""
    bed = looped(loop.astype(np.float32), n)
    bed *= np.float32(bed_gain(loop, speech_lufs))
    bed *= linear_envelope(spans, n, level, duck)
    return bed


def mixed_energy(voice: np.ndarray, loop: np.ndarray, scale: np.ndarray, spans: Sequence[tuple[int, int]]
                 ) -> np.ndarray:
    """The K-weighted energy of `voice` plus the loop under the gains `scale` (sample by sample), summed over
    each limiter block (LIMIT_STEP samples, the filter's tail included, in whole sub-blocks), measured in parts,
    as K-weighting is linear: the voice only where it sounds (about half the track), the loop once round (its
    K-weighting repeats with it), then the sum's energy. The loop's weighting is taken through the gains after
    the filter, not before: they move over hundreds of ms, the filter's response is over in a few (within
    1e-5 LU of measuring the mix itself on week1-day1, measured; a whole-track filter took a second a day)."""
    n, tail = len(voice), loudness.K_TAIL
    n_sub = -(-(n + tail) // loudness.SUB_BLOCK)
    weighted = np.zeros(n_sub * loudness.SUB_BLOCK, dtype=np.float32)
    regions: list[list[int]] = []
    for start, end in sorted(spans):
        if regions and start - regions[-1][1] < 2 * tail:
            regions[-1][1] = max(regions[-1][1], end)
        else:
            regions.append([start, end])
    for start, end in regions:
        end = min(end, n)
        if end > start:
            weighted[start:end + tail] += loudness.k_weighted(voice[start:end])
    round_trip = loudness.k_weighted(np.concatenate([loop[-tail:], loop]).astype(np.float32))
    add_looped(weighted, round_trip[tail:tail + len(loop)], scale)
    np.square(weighted, out=weighted)
    return weighted.reshape(-1, loudness.LIMIT_STEP).sum(axis=1, dtype=np.float64)


def _level(energy: np.ndarray, gain: float, found: np.ndarray | None) -> float:
    """The loudness of the mix whose block energies are `energy` under a gain, and the limiter's gains."""
    if found is not None:
        squared = np.full(len(energy), found[-1] ** 2)
        squared[: len(found)] = np.square(found)
        energy = energy * squared
    per_sub = loudness.SUB_BLOCK // loudness.LIMIT_STEP
    return loudness.integrated(energy.reshape(-1, per_sub).sum(axis=1) * gain ** 2)


def mix(voice: bytes | bytearray, loop: np.ndarray, spans: Sequence[tuple[int, int]], speech_lufs: float,
        level: float, duck: float, target_lufs: float) -> bytes:
    """The voice track with the bed under it, the whole at `target_lufs`: see the module's docstring."""
    x = np.frombuffer(voice, dtype="<i2").astype(np.float32)
    x *= np.float32(1 / 32768)
    scale = linear_envelope(spans, len(x), level, duck)
    scale *= np.float32(bed_gain(loop, speech_lufs))
    energy = mixed_energy(x, loop, scale, spans)
    add_looped(x, loop.astype(np.float32), scale)
    del scale
    measured = _level(energy, 1.0, None)
    if not math.isfinite(measured):
        return loudness.to_pcm(x)
    step = GAIN_STEP_DB * round((target_lufs - measured) / GAIN_STEP_DB)
    ceiling = 10 ** (MIX_CEILING_DBTP / 20)
    peaks = block_peaks(x, ceiling * 10 ** (-(step + GAIN_STEP_DB * LEVEL_ROUNDS) / 20))
    for _ in range(LEVEL_ROUNDS):  # the limiter takes some loudness (half a LU on a quiet day): a step more
        found = loudness.limiter_gain(peaks * 10 ** (step / 20), ceiling)
        if found is None or _level(energy, 10 ** (step / 20), found) > target_lufs - GAIN_STEP_DB / 2:
            break
        step += GAIN_STEP_DB
    else:
        found = loudness.limiter_gain(peaks * 10 ** (step / 20), ceiling)
    x *= np.float32(10 ** (step / 20))
    if found is not None:  # each block times its gain, in place (a whole-track gain array cost as much as the mix)
        block = loudness.LIMIT_STEP
        whole = len(x) // block * block
        x[:whole].reshape(-1, block)[...] *= found[: whole // block, None].astype(np.float32)
        x[whole:] *= np.float32(found[-1])
    np.clip(x, -ceiling, ceiling, out=x)
    x *= np.float32(32768)
    return np.clip(np.round(x, out=x), -32768, 32767, out=x).astype("<i2").tobytes()


def block_peaks(x: np.ndarray, ceiling: float) -> np.ndarray:
    """The peak of each limiter block of `x` (LIMIT_STEP samples): its true peak (4x oversampled) around blocks
    whose own samples come within TRUE_PEAK_OVER_DB of `ceiling`, its samples' peak elsewhere: a true peak does
    not rise that far over the samples of music and speech, and oversampling the whole track took a second a
    day (measured)."""
    step = loudness.LIMIT_STEP
    n_blocks = -(-len(x) // step)
    padded = np.zeros(n_blocks * step, dtype=np.float32)  # whole blocks: the last one filled with silence
    padded[: len(x)] = x
    blocks = padded.reshape(n_blocks, step)
    peaks = np.maximum(blocks.max(axis=1), -blocks.min(axis=1)).astype(np.float64)  # no whole-track temporary
    near = np.flatnonzero(peaks > ceiling * 10 ** (-TRUE_PEAK_OVER_DB / 20))
    if near.size == 0:
        return peaks
    # runs of nearby blocks, with context on both sides for the resampler's filter, side by side in one call
    breaks = np.flatnonzero(np.diff(near) > 2 * CONTEXT_BLOCKS) + 1
    runs = [(max(0, int(run[0]) - CONTEXT_BLOCKS), min(n_blocks, int(run[-1]) + 1 + CONTEXT_BLOCKS))
            for run in np.split(near, breaks)]
    found = loudness.true_peaks(np.concatenate([padded[a * step:b * step] for a, b in runs]), step)
    at = 0
    for a, b in runs:  # a run's context blocks may hear the next run through the filter: only its own are kept
        inner = slice(CONTEXT_BLOCKS if a else 0, b - a - (CONTEXT_BLOCKS if b < n_blocks else 0))
        peaks[a:b][inner] = np.maximum(peaks[a:b][inner], found[at:at + b - a][inner])
        at += b - a
    return peaks
