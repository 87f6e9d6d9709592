"""What a mix with music needs to know of its parts before it is rendered: loudness and peaks, block by block.

A track with music is its voice (clips and tones placed on silence) plus the bed (a loop under an envelope).
Its gain and limiter (``music.levels``) need, for every limiter block of BLOCK samples (1 ms), the mix's
K-weighted energy and its true peak. Both are worked out from measures of the parts, taken once:
* **A piece** (a clip or a tone, ``measure``): its K-weighted energy and its true peak (BS.1770's 4x
  oversampling), per BLOCK samples from its start, the filters' tails included. A clip is measured once
  for all the days that say it, and cached by its content (``to_bytes``, ``from_bytes``).
* **The loop** (``LoopMeasure``): its K-weighted energy as running sums, and the true peak of every window of
  BLOCK samples at every place in the loop, both taken round the loop (it repeats).
* **The track** (``track_measures``): each piece's blocks laid where it starts (a piece starting inside a block
  shares its energy between the two blocks it meets, and gives its peak to both), the bed's from the loop at
  the track's place in it, times the envelope there.
The energy leaves out what the voice and the bed share (their cross term): the bed is ducked at least 10 LU
under the voice, the two are unrelated, and over a gating block of 400 ms it averages out (within 0.05 LU of
measuring the rendered mix, tests/test_music.py). The peak of a block is the voice's plus the bed's, which
the mix's true peak never exceeds (oversampling is linear): a limiter on it keeps the mix under its ceiling.
Pure: numpy arrays in and out.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cuecoach.audio import loudness

BLOCK = loudness.LIMIT_STEP  # 45 samples: the limiter's block, a 98th of a loudness sub-block
PAD_BLOCKS = 3  # silence measured before and after a piece: the oversampling filter rings about 70 samples
HEAD = struct.Struct("<4sII16s")  # a cached measure: its format, its two arrays' lengths, their digest
MAGIC = b"CCM1"


@dataclass(frozen=True)
class Measured:
    """A piece's K-weighted energy per BLOCK from its first sample (its filter's tail included), and its true
    peak per BLOCK from PAD_BLOCKS blocks before its first sample to as many after its end."""

    energy: np.ndarray  # float64
    peaks: np.ndarray  # float32


def measure(pcm: bytes | bytearray) -> Measured:
    """Measure a piece (16-bit mono PCM)."""
    x = np.frombuffer(bytes(pcm), dtype="<i2").astype(np.float32) * np.float32(1 / 32768)
    weighted = np.square(loudness.k_weighted(x), dtype=np.float32)
    energy = np.zeros(-(-len(weighted) // BLOCK) * BLOCK, dtype=np.float64)
    energy[: len(weighted)] = weighted
    pad = PAD_BLOCKS * BLOCK
    padded = np.concatenate([np.zeros(pad, np.float32), x, np.zeros(pad, np.float32)])
    return Measured(energy.reshape(-1, BLOCK).sum(axis=1), loudness.true_peaks(padded, BLOCK).astype(np.float32))


def to_bytes(measured: Measured) -> bytes:
    arrays = measured.energy.astype("<f8").tobytes() + measured.peaks.astype("<f4").tobytes()
    digest = hashlib.blake2b(arrays, digest_size=16).digest()
    return HEAD.pack(MAGIC, len(measured.energy), len(measured.peaks), digest) + arrays


def from_bytes(data: bytes) -> Measured | None:
    """A cached measure, or None if it is not one (another format, cut short or damaged)."""
    if len(data) < HEAD.size:
        return None
    magic, n_energy, n_peaks, digest = HEAD.unpack_from(data)
    if magic != MAGIC or len(data) != HEAD.size + 8 * n_energy + 4 * n_peaks \
            or hashlib.blake2b(memoryview(data)[HEAD.size:], digest_size=16).digest() != digest:
        return None
    energy = np.frombuffer(data, dtype="<f8", count=n_energy, offset=HEAD.size)
    return Measured(energy, np.frombuffer(data, dtype="<f4", count=n_peaks, offset=HEAD.size + 8 * n_energy))


@dataclass(frozen=True)
class LoopMeasure:
    """The loop's K-weighted energy as running sums (length + 1, from 0), and the true peak of the BLOCK samples
    from each place in the loop (taken round it)."""

    length: int
    running: np.ndarray  # float64
    window_peaks: np.ndarray  # float32
    lufs: float  # its integrated loudness, measured round it


def measure_loop(loop: np.ndarray) -> LoopMeasure:
    n, tail, pad = len(loop), loudness.K_TAIL, PAD_BLOCKS * BLOCK
    turns = -(-(max(tail, pad) + BLOCK) // n)  # whole turns of context on either side of one turn
    round_trip = np.tile(np.asarray(loop, dtype=np.float32), 2 * turns + 1)
    base = turns * n  # the loop's start, with its wrap before and after it
    weighted = loudness.k_weighted(round_trip[base - tail:base + n])[tail:tail + n]
    running = np.concatenate([[0.0], np.cumsum(np.square(weighted, dtype=np.float64))])
    over = loudness.true_peaks(round_trip[base - pad:base + n + BLOCK + pad], 1)[pad:pad + n + BLOCK]
    lufs = loudness.integrated(loudness.sub_block_sums(np.square(weighted)))
    return LoopMeasure(n, running, -loudness.window_min(-over, BLOCK)[:n].astype(np.float32), lufs)


@dataclass(frozen=True)
class TrackMeasures:
    """A track's K-weighted energy and true peak per block (before its gain), its voice's and its bed's (the bed
    at a gain of 1) apart."""

    voice_energy: np.ndarray
    voice_peaks: np.ndarray
    bed_energy: np.ndarray
    bed_peaks: np.ndarray

    def mixed(self, bed_gain: float) -> tuple[np.ndarray, np.ndarray]:
        """The mix's energy and peak bound per block, the bed at `bed_gain`."""
        return self.voice_energy + self.bed_energy * bed_gain ** 2, self.voice_peaks + self.bed_peaks * bed_gain


def track_measures(placed: Sequence[tuple[int, Measured]], loop: LoopMeasure, points: Sequence[tuple[int, float]],
                   edges: np.ndarray, n: int) -> TrackMeasures:
    """The track's measures in each block, from its pieces (placed at their first samples) and the loop under the
    envelope: its corners `points` and its linear gains at the blocks' edges, `edges` (one more than the blocks;
    music.gains_at), for a track of `n` samples."""
    n_blocks = len(edges) - 1
    energy = np.zeros(n_blocks + 1)
    peaks = np.zeros(n_blocks + 2)
    for at, measured in placed:
        _lay_energy(energy, at, measured.energy)
        _lay_peaks(peaks, at - PAD_BLOCKS * BLOCK, measured.peaks)
    starts = np.arange(n_blocks, dtype=np.int64) * BLOCK
    highest = np.maximum(edges[:-1], edges[1:])
    for corner, db in points:  # a corner inside a block may be higher than its edges
        if 0 <= corner < n_blocks * BLOCK:
            highest[corner // BLOCK] = max(highest[corner // BLOCK], 10 ** (db / 20) if corner < n else 0.0)
    place = starts % loop.length
    ends = place + BLOCK
    over = ends > loop.length
    sums = loop.running[np.minimum(ends, loop.length)] - loop.running[place]
    sums[over] += loop.running[ends[over] - loop.length]
    return TrackMeasures(energy[:n_blocks], peaks[:n_blocks], sums * (edges[:-1] ** 2 + edges[1:] ** 2) / 2,
                         loop.window_peaks[place] * highest)


def _lay_energy(energy: np.ndarray, at: int, blocks: np.ndarray) -> None:
    """Add a piece's block energies starting at sample `at`, each shared between the two track blocks it meets."""
    first, share = divmod(at, BLOCK)
    count = max(0, min(len(blocks), len(energy) - 1 - first))
    if count:
        energy[first:first + count] += blocks[:count] * (1 - share / BLOCK)
        energy[first + 1:first + 1 + count] += blocks[:count] * (share / BLOCK)


def _lay_peaks(peaks: np.ndarray, at: int, blocks: np.ndarray) -> None:
    """Add a piece's block peaks starting at sample `at` (maybe before the track): each to both blocks it meets."""
    first, share = divmod(at, BLOCK)
    skip = max(0, -first)
    count = max(0, min(len(blocks), len(peaks) - 1 - first))
    if count <= skip:
        return
    own = blocks[skip:count].astype(np.float64)
    if share:
        spread = np.zeros(len(own) + 1)
        spread[:-1] = own
        spread[1:] = np.maximum(spread[1:], own)
        peaks[first + skip:first + count + 1] += spread
    else:
        peaks[first + skip:first + count] += own
