"""A day's mix with music, planned whole and rendered in windows, each window known by what it is made of.

``plan`` works out, from the measures of the parts (``measures.py``) and without rendering a sample, the
track's gain and its limiter: a factor for each block of measures.BLOCK samples (``music.bed_and_levels``). A
``Recipe`` is then everything one window of the track [begin, stop) is made of: the pieces that reach into
it (by their content's key), the envelope's corners that shape it, the loop and its place in it, the loop's
gain, the blocks' factors, the ceiling, the track's end where it is near. ``render`` makes the window's
16-bit PCM from its recipe alone, sample by sample in the same order of operations wherever the window
falls, so that a window is the same samples as that part of the whole track rendered at once
(``DayMix.render(0, n)``, the reference), and a recipe's ``key`` (its content, this module's code, the
measures' format) can stand for the PCM: a stretch of a track whose recipe is unchanged by an edit is
neither rendered nor encoded again (``audio/stretches.py``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cuecoach.audio import loudness, measures, music

BLOCK = measures.BLOCK


@functools.lru_cache(maxsize=1)
def code_key() -> str:
    """This module's, music.py's and measures.py's code: a change to how a window is made changes every key."""
    digest = hashlib.blake2b(digest_size=16)
    for module in (music, measures):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Recipe:
    """What the track's samples [begin, stop) are made of (see the module's docstring)."""

    begin: int
    stop: int
    n: int  # the track's length (samples)
    fade: int  # its last this many samples fade the bed out
    pieces: tuple[tuple[int, str], ...]  # (first sample, key) of each piece that reaches into the window
    corners: tuple[tuple[int, float], ...]  # the envelope's corners (sample, dB) that shape the window
    loop: str  # the loop's key
    loop_length: int
    bed_gain: float
    factors: bytes  # float32: the track's gain times the limiter's, block begin // BLOCK to (stop - 1) // BLOCK
    ceiling: float

    def key(self) -> str:
        near_end = self.stop > self.n - self.fade  # the track's end shapes the window only where it is this near
        parts = (code_key(), self.stop - self.begin, max(0, -self.begin), self.n - self.begin if near_end else None,
                 self.fade if near_end else None, tuple((at - self.begin, key) for at, key in self.pieces),
                 tuple((at - self.begin, db) for at, db in self.corners), self.loop, self.begin % self.loop_length,
                 repr(self.bed_gain), self.begin % BLOCK, repr(self.ceiling))
        digest = hashlib.blake2b(repr(parts).encode(), digest_size=16)
        digest.update(self.factors)
        return digest.hexdigest()


def render(recipe: Recipe, pcm_of: Mapping[str, bytes], loop: np.ndarray) -> bytes:
    """The window's 16-bit mono PCM from its recipe; `pcm_of` gives a piece's PCM by its key, `loop` is the
    loop in single precision. Every step works in place on the window (a fresh array the size of a day's
    track costs as much to map as the arithmetic on it)."""
    begin, stop = recipe.begin, recipe.stop
    lo, hi = max(0, begin), min(stop, recipe.n)  # the track's own samples: silence outside it
    x = np.empty(stop - begin, dtype=np.float32)
    x[:max(0, lo - begin)] = 0
    x[max(0, hi - begin):] = 0
    if hi > lo:
        inside = x[lo - begin:hi - begin]
        inside[:] = music.bed_scale(recipe.corners, lo, hi, recipe.n, recipe.fade)
        inside *= np.float32(recipe.bed_gain)
        at = 0
        while at < len(inside):  # times the loop, a turn at a time from the track's place in it
            place = (lo + at) % len(loop)
            part = inside[at:at + len(loop) - place]
            part *= loop[place:place + len(part)]
            at += len(part)
        for first, key in recipe.pieces:
            voice = np.frombuffer(pcm_of[key], dtype="<i2")
            a, b = max(first, lo), min(first + len(voice), hi)
            if b > a:
                x[a - begin:b - begin] += voice[a - first:b - first].astype(np.float32) * np.float32(1 / 32768)
        _times_blocks(inside, lo, np.frombuffer(recipe.factors, dtype=np.float32))
    ceiling = np.float32(recipe.ceiling)
    np.clip(x, -ceiling, ceiling, out=x)
    x *= np.float32(32768)  # under the ceiling (< 1): within 16 bits
    return np.round(x, out=x).astype("<i2").tobytes()


def _times_blocks(x: np.ndarray, lo: int, factors: np.ndarray) -> None:
    """x (the track's samples from `lo`) times the factor of each block of BLOCK samples, blocks from lo // BLOCK."""
    head = min(len(x), -lo % BLOCK)
    x[:head] *= factors[0]
    whole = (len(x) - head) // BLOCK
    rest = factors[1:] if head else factors
    x[head:head + whole * BLOCK].reshape(whole, BLOCK)[...] *= rest[:whole, None]
    if head + whole * BLOCK < len(x):
        x[head + whole * BLOCK:] *= rest[whole]


@dataclass(frozen=True)
class DayMix:
    """A day's mix, planned: its recipes and their rendering (see the module's docstring)."""

    n: int
    fade: int
    placed: tuple[tuple[int, str], ...]  # (first sample, key) of every piece, in the track's order
    ends: tuple[int, ...]  # each piece's end sample
    pcm_of: Mapping[str, bytes]
    corners: tuple[tuple[int, float], ...]
    loop: np.ndarray  # float32
    loop_key: str
    bed_gain: float
    factors: np.ndarray  # float32, a block each

    def recipe(self, begin: int, stop: int) -> Recipe:
        lo, hi = max(0, begin), min(stop, self.n)
        pieces = tuple(piece for piece, end in zip(self.placed, self.ends, strict=True) if piece[0] < hi and end > lo)
        at = [corner for corner, _ in self.corners]
        first = max(0, int(np.searchsorted(at, lo, side="right")) - 1)
        last = int(np.searchsorted(at, hi, side="left")) + 1
        factors = self.factors[lo // BLOCK:(hi - 1) // BLOCK + 1] if hi > lo else self.factors[:0]
        return Recipe(begin, stop, self.n, self.fade, pieces, self.corners[first:last], self.loop_key,
                      len(self.loop), self.bed_gain, factors.tobytes(), music.ceiling())

    def render(self, begin: int, stop: int) -> bytes:
        return render(self.recipe(begin, stop), self.pcm_of, self.loop)

    def spans(self) -> list[tuple[int, int]]:
        """Where each piece sounds (first and end sample): where the bed is ducked."""
        return [(at, end) for (at, _), end in zip(self.placed, self.ends, strict=True)]


def plan(placed: Sequence[tuple[int, str, bytes, measures.Measured]], n: int, loop: np.ndarray, loop_key: str,
         loop_measure: measures.LoopMeasure, speech_lufs: float, level: float, duck: float, target_lufs: float
         ) -> DayMix:
    """A day's mix from its pieces (first sample, key, PCM, measures) and its loop: the bed `level` LU under
    `speech_lufs` between sounds, `duck` under them, the whole at `target_lufs` (music.bed_and_levels)."""
    spans = [(at, at + len(pcm) // 2) for at, _, pcm, _ in placed]
    corners = tuple(music.evened(music.corners(spans, n, level, duck), loop_measure, level))
    fade = music.fade_len(n)
    n_sub = -(-(n + loudness.K_TAIL) // loudness.SUB_BLOCK)
    n_blocks = n_sub * (loudness.SUB_BLOCK // BLOCK)
    edges = music.gains_at(corners, np.arange(n_blocks + 1, dtype=np.float64) * BLOCK, n, fade)
    parts = measures.track_measures([(at, m) for at, _, _, m in placed], loop_measure, corners, edges, n)
    gain, factors = music.bed_and_levels(parts, music.bed_gain(loop_measure.lufs, speech_lufs), target_lufs)
    return DayMix(n, fade, tuple((at, key) for at, key, _, _ in placed), tuple(end for _, end in spans),
                  {key: pcm for _, key, pcm, _ in placed}, corners, np.asarray(loop, dtype=np.float32), loop_key,
                  gain, factors.astype(np.float32))


def piece_key(pcm: bytes | bytearray) -> str:
    """A piece's key: its content's hash."""
    return hashlib.blake2b(pcm, digest_size=16).hexdigest()
