"""A day with music as MP3 frames joined from encoded *stretches*, each cached by its content.

A track with music is never silent, so the joins in silence of ``assemble.py`` do not apply.
Instead the mixed track is cut, on the frame grid, into stretches that follow the script
(``cuts``), and each stretch is encoded with the real audio around it, keyed by that audio (by the
key of what it is made of, ``mixdown.Recipe``, so that an unchanged stretch is known without rendering
it): an edit to one cue changes the stretches around it, and only those are made and encoded again.

Why the joined frames decode as a whole-track encode would:
* Frames are encoded at constant bit rate with the bit reservoir off: each holds its own data.
* Decoding overlaps each frame with the one before (the MDCT's halves, the filter banks), and
  the encoder decides a frame from the audio around it (its analysis window, its look-ahead for
  short blocks). So a stretch of frames [first, end) is encoded from PRE_ROLL_FRAMES frames of the
  track's own audio before it to POST_ROLL_FRAMES after it, and those frames are thrown away: on
  both sides of every join the encoder saw the same audio, so the halves that overlap cancel as
  they do inside one encode.
* LAME's padding pattern is fixed by a frame's index in its stream: a stretch's first frame is
  encoded at the same index modulo the pattern's period as in the track, so it has the same bits.
* LAME's auto-adjusted hearing threshold follows the loudness of the last few granules, and the
  pre-roll leads it to the track's own value (it rises at once and settles within the pre-roll).
Measured on week1-day1 with the default bed: every kept frame the same bytes as the whole encode's.

Where stretches are cut (``cuts``): in long gaps between sounds, a fixed distance before the next
sound starts (sounds start on their slots; an edited line changes its end, not the next start),
far enough from both that neither the previous line's end nor its release ramp reaches the audio
either encode sees; no stretch shorter than MIN_STRETCH_FRAMES, and one longer than
MAX_STRETCH_FRAMES cut again at multiples of it on the track's grid (so cuts never drift). A stretch is
encoded in one ffmpeg run with the day's other missing ones (``encode``).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from cuecoach import system
from cuecoach.audio import mp3
from cuecoach.audio.assemble import padding_period
from cuecoach.audio.encoder import encode_args
from cuecoach.audio.framecache import FORMAT_VERSION, Encoded, FrameCache
from cuecoach.errors import BuildError

FRAME = mp3.SAMPLES_PER_FRAME
PRE_ROLL_FRAMES = 10  # the track's audio encoded before a stretch: 3 left a frame in 600 unlike the whole
# encode's (the hearing threshold not yet settled), 10 none (measured)
POST_ROLL_FRAMES = 2  # and after it: the encoder's look-ahead (1 was enough, measured)
SETTLE_FRAMES = 2  # silence between two stretches' audio in one encode
MIN_GAP_S = 3.0  # a gap between sounds this long may hold a cut: the bed is up there, not staying down
MARGIN_FRAMES = 1  # between a cut's encoded audio and the ramps of the bed around the sounds
MIN_STRETCH_FRAMES = 766  # 20 s: a stretch costs PRE_ROLL + POST_ROLL + SETTLE frames more to encode
MAX_STRETCH_FRAMES = 2048  # 53 s: longer is cut again, so that a line's edit re-encodes at most about this
STRETCH_FORMAT = f"stretch-1|{FORMAT_VERSION}|{PRE_ROLL_FRAMES}|{POST_ROLL_FRAMES}"


@dataclass(frozen=True)
class Stretch:
    """Frames [first, end) of a track, and the key of the audio they are encoded from."""

    first: int
    end: int
    key: str


def cuts(spans: Sequence[tuple[int, int]], n_samples: int, lead: int, release: int) -> list[int]:
    """The frames stretches start at (0 first) for a track of `n_samples` whose sounds fill `spans` (samples);
    the bed is ducked `lead` samples before a sound and comes back up for `release` samples after it."""
    count = mp3.frame_count(n_samples)
    chosen = [0]
    ordered = sorted(spans)
    for (_, before_end), (after_start, _) in zip(ordered, ordered[1:], strict=False):
        if after_start - before_end < MIN_GAP_S * mp3.SAMPLE_RATE:
            continue
        # the last cut whose stretch before it is encoded from audio that ends before the bed goes down for
        # the next sound (see _window), if the stretch after it is encoded from audio after the last one's ramp
        cut = (after_start - lead) // FRAME - POST_ROLL_FRAMES - MARGIN_FRAMES
        pre_roll_from = (cut - PRE_ROLL_FRAMES - MARGIN_FRAMES) * FRAME
        if pre_roll_from >= before_end + release and cut - chosen[-1] >= MIN_STRETCH_FRAMES \
                and count - cut >= MIN_STRETCH_FRAMES:
            chosen.append(cut)
    bounded = []
    for start, end in zip(chosen, [*chosen[1:], count], strict=True):
        bounded.append(start)
        grid = -(-(start + MIN_STRETCH_FRAMES) // MAX_STRETCH_FRAMES) * MAX_STRETCH_FRAMES
        while end - start > MAX_STRETCH_FRAMES and end - grid >= MIN_STRETCH_FRAMES:
            bounded.append(grid)
            start, grid = grid, grid + MAX_STRETCH_FRAMES
    return bounded


def window(first: int, end: int) -> tuple[int, int]:
    """The track's samples a stretch of frames [first, end) is encoded from: its pre-roll to its post-roll
    (before the track's start and after its end: silence)."""
    return (first - PRE_ROLL_FRAMES) * FRAME, (end + POST_ROLL_FRAMES) * FRAME


def stretches(starts: Sequence[int], count: int, audio_key: Callable[[int, int], str], encoder: str, bitrate: str
              ) -> list[Stretch]:
    """The stretches of a track of `count` frames from their first frames, each keyed by the audio it is encoded
    from (`audio_key` of its window's samples: the key of what they are made of), its place in the padding
    pattern and the encoder."""
    period = padding_period(bitrate)
    found = []
    for first, end in zip(starts, [*starts[1:], count], strict=True):
        digest = hashlib.blake2b(f"{STRETCH_FORMAT}|{encoder}|{first % period}|{end - first}|".encode(),
                                 digest_size=16)
        digest.update(audio_key(*window(first, end)).encode())
        found.append(Stretch(first, end, digest.hexdigest()))
    return found


def _layout(batch: Sequence[Stretch], period: int) -> tuple[list[int], list[int]]:
    """The order stretches are encoded in one run, and the frame each one's pre-roll starts at: the soonest
    whose first frame then falls at its own place in the padding pattern (little silence between)."""
    waiting: dict[int, deque[int]] = {}
    for i, stretch in enumerate(batch):
        waiting.setdefault(stretch.first % period, deque()).append(i)
    order: list[int] = []
    begins: list[int] = []
    frame = 0
    while len(order) < len(batch):
        earliest = frame + (SETTLE_FRAMES if order else 0) + PRE_ROLL_FRAMES  # the first kept frame
        first = earliest + next(wait for wait in range(period) if waiting.get((earliest + wait) % period))
        order.append(waiting[first % period].popleft())
        stretch = batch[order[-1]]
        begins.append(first - PRE_ROLL_FRAMES)
        frame = first + stretch.end - stretch.first + POST_ROLL_FRAMES
    return order, begins


def _batch_pcm(ordered: Sequence[Stretch], begins: Sequence[int], audio: Callable[[int, int], bytes]
               ) -> Iterator[bytes]:
    at = 0
    for stretch, begin in zip(ordered, begins, strict=True):
        yield bytes(2 * FRAME * (begin - at))
        samples = audio(*window(stretch.first, stretch.end))
        yield samples
        at = begin + len(samples) // (2 * FRAME)


def encode(batch: Sequence[Stretch], audio: Callable[[int, int], bytes], bitrate: str, what: str) -> list[Encoded]:
    """The frames of each stretch, encoded in one ffmpeg run from its window of the track (`audio` of its
    samples [begin, stop), made as they are needed)."""
    order, begins = _layout(batch, padding_period(bitrate))
    ordered = [batch[i] for i in order]
    frames = mp3.split(system.run(encode_args(bitrate, xing=False), what, input=_batch_pcm(ordered, begins, audio)))
    kept: dict[int, list[bytes]] = {}
    for i, stretch, begin in zip(order, ordered, begins, strict=True):
        first = begin + PRE_ROLL_FRAMES
        kept[i] = frames[first:first + stretch.end - stretch.first]
        if len(kept[i]) != stretch.end - stretch.first:
            raise BuildError(f"{what}: ffmpeg gave {len(frames)} frames, too few for the stretches it was given")
    crcs = iter(mp3.frame_crcs([frame for i in order for frame in kept[i]]))
    return [Encoded(0, tuple(kept[i]), tuple(next(crcs) for _ in kept[i])) for i in range(len(batch))]


def frames_of(track: Sequence[Stretch], audio: Callable[[int, int], bytes], cache: FrameCache, bitrate: str,
              what: str) -> tuple[list[bytes], list[int], int]:
    """The track's audio frames and their CRCs, its stretches read from the cache or encoded (and cached) from
    `audio` (the track's samples [begin, stop)); and how many were encoded."""
    found = {stretch.key: cache.get(stretch.key) for stretch in track}
    missing = list({stretch.key: stretch for stretch in track if found[stretch.key] is None}.values())
    if missing:
        for stretch, encoded in zip(missing, encode(missing, audio, bitrate, what), strict=True):
            cache.put(stretch.key, encoded)
            found[stretch.key] = encoded
    frames: list[bytes] = []
    crcs: list[int] = []
    for stretch in track:
        kept = found[stretch.key]
        assert kept is not None  # each missing one was encoded just above
        frames += kept.frames
        crcs += kept.crcs
    return frames, crcs, len(missing)
