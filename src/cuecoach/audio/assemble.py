"""A day's MP3 joined from encoded pieces: every sound is encoded once, at its phase, and kept as MP3 frames.

Half of a track is digital silence and the same lines and tones recur thousands of times,
so a track is written as a stream of frames: a constant silent frame, and the frames of
each *cluster* (a sound, or sounds closer together than a few frames) at its place.

Why joined frames decode as the rendered PCM:
* Frames are encoded at constant bit rate with the bit reservoir off: each frame holds
  its own data.
* MP3 decoding is linear, and a frame that codes no spectrum adds nothing. A cluster's
  frames are cut out of an encode in which digital silence surrounds it; outside them
  that encode holds only silent frames. So wherever silent frames separate two
  clusters, the join decodes to the sum of the clusters decoded alone: no click.
* A sound's samples fall on the frame grid at a *phase* (its start, plus the encoder's
  and decoder's delay, modulo 1152). The phase is part of a cluster's key, and a cluster
  is encoded at the phase it is used at, so it lands on its sample. Tones start on 10 ms
  boundaries, at one of 128 phases; spoken lines are placed on phase 0 (render.start_of),
  so a line is encoded once whatever its place.
* All missing clusters of a build are laid end to end (on their phases, with silence
  between) and encoded in one ffmpeg run per CPU, streamed, then cut into frames.

The encoder itself (its arguments, its identity, its silent and Info frames) is ``encoder.py``;
the cache the clusters' frames are kept in is ``framecache.py``.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cuecoach import system
from cuecoach.audio import mp3
from cuecoach.audio.encoder import Stock, encode_args
from cuecoach.audio.framecache import FORMAT_VERSION, Encoded, FrameCache
from cuecoach.errors import BuildError

MARGIN_FRAMES = 2  # how far (in frames) around a sound its spectrum may reach in an encode; checked on every cut
GAP_FRAMES = 3  # silent frames between two clusters in a batch encode, beyond their margins
LEAD_FRAMES = 4  # silent frames a batch starts with
RESET_FRAMES = 3  # loud frames before each cluster: two in a row set LAME's hearing threshold to one value
SETTLE_FRAMES = 6  # silent frames from that noise to a cluster's reach: the rest of the encoder's state settles
RESET_AMPLITUDE = 30_000  # loud enough for LAME to count the frames loud
RESET_SEED = 1152


@dataclass(frozen=True)
class Cluster:
    """Sounds encoded together: those whose reach on the frame grid overlaps. `parts` are (offset in samples
    from the cluster's start, the sound's id, its length in samples). A sound's id names its PCM exactly
    (a clip's cache key and its level, a tone's hash): its PCM is fetched only if the cluster must be encoded."""

    start: int  # the track sample its first sound starts on
    parts: tuple[tuple[int, str, int], ...]

    @property
    def length(self) -> int:
        return max(offset + length for offset, _, length in self.parts)

    @property
    def phase(self) -> int:
        return (self.start + mp3.DELAY) % mp3.SAMPLES_PER_FRAME

    @property
    def anchor(self) -> int:
        """The audio frame its first sample decodes in."""
        return (self.start + mp3.DELAY) // mp3.SAMPLES_PER_FRAME

    def key(self, encoder: str) -> str:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{FORMAT_VERSION}|{encoder}|{self.phase}|".encode())
        for offset, piece, length in self.parts:
            digest.update(f"{offset}|{piece}|{length}|".encode())
        return digest.hexdigest()



def _reach(start: int, length: int) -> tuple[int, int]:
    """The frames a sound of `length` samples at track sample `start` may touch, margins included."""
    first = (start + mp3.DELAY) // mp3.SAMPLES_PER_FRAME
    last = (start + max(length, 1) - 1 + mp3.DELAY) // mp3.SAMPLES_PER_FRAME
    return first - MARGIN_FRAMES, last + MARGIN_FRAMES


def clusters(pieces: Sequence[tuple[int, str, int]]) -> list[Cluster]:
    """Group (track sample, id, length) sounds into clusters: sounds whose reaches overlap are encoded together."""
    groups: list[list[tuple[int, str, int]]] = []
    reach_end = None
    for start, piece, length in sorted((p for p in pieces if p[2] > 0), key=lambda p: p[0]):
        first, last = _reach(start, length)
        if groups and reach_end is not None and first <= reach_end:
            groups[-1].append((start, piece, length))
            reach_end = max(reach_end, last)
        else:
            groups.append([(start, piece, length)])
            reach_end = last
    return [Cluster(group[0][0], tuple((s - group[0][0], piece, n) for s, piece, n in group)) for group in groups]


def padding_period(bitrate: str) -> int:
    """Frames after which the encoder's padding pattern repeats (49 at 64 kbps and 44.1 kHz): a frame's padding
    bit, and so its budget of bits, depends on its index in the stream modulo this."""
    remainder = 144 * int(bitrate.rstrip("k")) * 1000 % mp3.SAMPLE_RATE
    return mp3.SAMPLE_RATE // math.gcd(remainder, mp3.SAMPLE_RATE) if remainder else 1


@functools.lru_cache(maxsize=1)
def _reset_burst() -> bytes:
    """Loud noise, always the same, that puts the encoder in one state before every cluster (see _layout)."""
    import numpy as np

    noise = np.random.default_rng(RESET_SEED).integers(-RESET_AMPLITUDE, RESET_AMPLITUDE,
                                                        RESET_FRAMES * mp3.SAMPLES_PER_FRAME)
    return noise.astype("<i2").tobytes()


def _residue(cluster: Cluster, period: int) -> int:
    """Where in the padding period a cluster's first frame sits in any batch: fixed by the cluster alone, and
    spread over the period, so that a batch can be packed with little silence (see _layout)."""
    digest = hashlib.blake2b(repr((cluster.phase, cluster.parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % period


def _layout(batch: Sequence[Cluster], bitrate: str) -> tuple[list[int], list[int], list[int], int]:
    """The order in which a batch's clusters are encoded (indices into `batch`); in that order, where each
    starts (a sample, keeping its phase) and where its reset burst starts; and the batch's length.

    A cluster's frames must not depend on what else the batch holds (a day built alone and in a batch gives
    the same bytes). LAME carries two things from frame to frame beyond a few frames of silence: the padding
    pattern, fixed by the frame's index, and its auto-adjusted hearing threshold, which decays for about 95
    silent frames after anything loud. So every cluster's first frame sits at its own place in the padding
    period (`_residue`), and RESET_FRAMES of loud noise, SETTLE_FRAMES before it, set that threshold to one
    value; the noise's frames are thrown away. The next cluster encoded is one whose place comes soonest:
    waiting for a whole period after each cluster took a third of a day's encoding (measured)."""
    period = padding_period(bitrate)
    waiting: dict[int, deque[int]] = {}
    for i, cluster in enumerate(batch):
        waiting.setdefault(_residue(cluster, period), deque()).append(i)
    order: list[int] = []
    starts: list[int] = []
    bursts: list[int] = []
    frame = LEAD_FRAMES
    while len(order) < len(batch):
        earliest = frame + RESET_FRAMES + SETTLE_FRAMES
        first = earliest + next(wait for wait in range(period) if waiting.get((earliest + wait) % period))
        order.append(waiting[first % period].popleft())
        cluster = batch[order[-1]]
        bursts.append((first - SETTLE_FRAMES - RESET_FRAMES) * mp3.SAMPLES_PER_FRAME - mp3.DELAY)
        start = (first + MARGIN_FRAMES) * mp3.SAMPLES_PER_FRAME + cluster.phase - mp3.DELAY
        starts.append(start)
        _, last = _reach(start, cluster.length)
        frame = last + 1 + GAP_FRAMES
    return order, starts, bursts, frame * mp3.SAMPLES_PER_FRAME


def _batch_pcm(batch: Sequence[Cluster], starts: list[int], bursts: list[int], total: int,
               pcm_of: Callable[[str], bytes]) -> Iterator[bytes]:
    """The batch's PCM in pieces (streamed to ffmpeg, never held whole)."""
    at = 0
    for cluster, start, burst in zip(batch, starts, bursts, strict=True):
        sounds: list[tuple[int, Callable[[], bytes]]] = [(burst, _reset_burst)]
        sounds += [(start + offset, functools.partial(pcm_of, piece)) for offset, piece, _ in cluster.parts]
        for begin, fetch in sounds:
            pcm = fetch()
            if begin > at:
                yield bytes(2 * (begin - at))
                at = begin
            skip = at - begin  # sounds in a cluster do not overlap (slots never do); be safe if they touch
            if skip < len(pcm) // 2:
                yield pcm[2 * skip:]
                at = begin + len(pcm) // 2
    yield bytes(2 * (total - at))


def encode_batch(batch: Sequence[Cluster], bitrate: str, what: str, pcm_of: Callable[[str], bytes]
                 ) -> list[Encoded]:
    """Encode clusters in one ffmpeg run and cut out each one's frames."""
    order, starts, bursts, total = _layout(batch, bitrate)
    ordered = [batch[i] for i in order]
    data = system.run(encode_args(bitrate, xing=False), what,
                      input=_batch_pcm(ordered, starts, bursts, total, pcm_of))
    frames = mp3.split(data)
    cuts: list[tuple[int, list[bytes]]] = []  # each cluster's first frame (from its anchor) and frames
    for cluster, start in zip(ordered, starts, strict=True):
        reach_first, reach_last = _reach(start, cluster.length)
        window = frames[reach_first:reach_last + 1]
        if len(window) != reach_last + 1 - reach_first or not (mp3.is_silent(window[0])
                                                                and mp3.is_silent(window[-1])):
            raise BuildError("encoding: a sound reached beyond its margin of frames; "
                             "raise assemble.MARGIN_FRAMES")
        loud = [i for i, frame in enumerate(window) if not mp3.is_silent(frame)]
        anchor = (start + mp3.DELAY) // mp3.SAMPLES_PER_FRAME
        cuts.append((reach_first + loud[0] - anchor, window[loud[0]:loud[-1] + 1]) if loud else (0, []))
    crcs = iter(mp3.frame_crcs([frame for _, kept in cuts for frame in kept]))  # in one pass: a pass costs ~2 ms
    found = {i: Encoded(first, tuple(kept), tuple(next(crcs) for _ in kept))
             for i, (first, kept) in zip(order, cuts, strict=True)}
    return [found[i] for i in range(len(batch))]


def encode_missing(wanted: dict[str, Cluster], cache: FrameCache, bitrate: str, jobs: int,
                   pcm_of: Callable[[str], bytes], what: str = "encoding") -> dict[str, Encoded]:
    """Every wanted cluster's frames: read from the cache, and the missing ones encoded (in at most `jobs`
    ffmpeg runs side by side) and cached. Each entry is read once, here: a damaged one is encoded with the
    others, and the tracks are joined from what this returns (about 20 MB for the 42 days)."""
    found: dict[str, Encoded] = {}
    missing = []
    for key, cluster in wanted.items():
        encoded = cache.get(key)
        if encoded is None:
            missing.append((key, cluster))
        else:
            found[key] = encoded
    if not missing:
        return found
    # one run per CPU, of about equal length; a run takes the clusters in order of their sounds, so that
    # the same sound at its many phases comes up together (pcm_of may then keep just a few in memory)
    missing.sort(key=lambda kc: kc[1].parts)
    share = sum(c.length for _, c in missing) / max(1, min(jobs, len(missing)))
    runs: list[list[tuple[str, Cluster]]] = [[]]
    load = 0
    for item in missing:
        if load >= share and len(runs) < jobs:
            runs.append([])
            load = 0
        runs[-1].append(item)
        load += item[1].length

    def encode_run(run: list[tuple[str, Cluster]]) -> None:
        for (key, _), encoded in zip(run, encode_batch([c for _, c in run], bitrate, what, pcm_of), strict=True):
            cache.put(key, encoded)
            found[key] = encoded

    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        list(pool.map(encode_run, runs))
    return found


# -- joining -----------------------------------------------------------------------------

def join(placed: Sequence[tuple[Cluster, Encoded]], n_samples: int, stock: Stock) -> tuple[list[bytes], list[int]]:
    """The audio frames of a track of `n_samples`, and their CRCs: each cluster's frames at its place,
    silence elsewhere. Silent frames are padded or not so that the stream keeps its constant byte rate."""
    count = mp3.frame_count(n_samples)
    frames: list[bytes | None] = [None] * count
    crcs = [0] * count
    for cluster, encoded in placed:
        at = cluster.anchor + encoded.first
        if at < 0 or at + len(encoded.frames) > count:
            raise BuildError(f"a sound at sample {cluster.start} does not fit in the track")
        if any(frames[i] is not None for i in range(at, at + len(encoded.frames))):
            raise BuildError(f"two sounds share frames near sample {cluster.start}")
        frames[at:at + len(encoded.frames)] = encoded.frames
        crcs[at:at + len(encoded.frames)] = encoded.crcs
    silent, silent_crcs = stock.silent, stock.silent_crcs
    short = len(silent[0])
    written = 0
    for i, frame in enumerate(frames):
        if frame is None:
            padded = written + short < int((i + 1) * stock.bytes_per_frame)
            frame = frames[i] = silent[padded]
            crcs[i] = silent_crcs[padded]
        written += len(frame)
    return frames, crcs  # type: ignore[return-value]  # no None is left: each was given a silent frame


def write_track(target: Path, tag: bytes, frames: list[bytes], crcs: list[int], n_samples: int,
                stock: Stock) -> None:
    """The ID3 tag, the Info frame, the audio frames: atomically."""
    info = mp3.info_frame(stock.info_template, frames, n_samples, mp3.joined_crc(frames, crcs))
    system.write_atomic(target, b"".join([tag, info, *frames]))
