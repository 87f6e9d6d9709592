"""Audio pieces in the one format the track uses (44.1 kHz, mono, 16-bit): decoding, checking, trimming, and the
checked WAV a cache entry is (its digest verified when read: a changed byte reads as missing)."""

from __future__ import annotations

import hashlib
import io
import os
import wave
from pathlib import Path

import numpy as np
from pydub import AudioSegment

from cuecoach import system
from cuecoach.errors import BuildError

FRAME_RATE = 44_100
CHANNELS = 1
SAMPLE_WIDTH = 2
TRIM_THRESHOLD_DBFS = -50.0
TRIM_KEEP_MS = 10  # keep a breath of the fade-in and fade-out around trimmed speech


def frames(ms: int) -> int:
    """Frames in `ms` milliseconds; exact for multiples of 10 ms."""
    return ms * FRAME_RATE // 1000


def conform(segment: AudioSegment) -> AudioSegment:
    """Bring a segment to the track's rate, channels and width (mixing rates would resample the whole track)."""
    if segment.channels != CHANNELS:
        segment = segment.set_channels(CHANNELS)
    if segment.sample_width != SAMPLE_WIDTH:
        segment = segment.set_sample_width(SAMPLE_WIDTH)
    if segment.frame_rate != FRAME_RATE:
        segment = track_segment(resample(segment.raw_data, segment.frame_rate))
    return segment


def track_segment(pcm: bytes) -> AudioSegment:
    """PCM in the track's format as an AudioSegment."""
    return AudioSegment(data=pcm, sample_width=SAMPLE_WIDTH, frame_rate=FRAME_RATE, channels=CHANNELS)


def resample(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM at `rate` brought to FRAME_RATE by soxr's high-quality resampler (a band-limited
    filter: pydub's own conversion interpolates, which leaves images of the voice above 11 kHz)."""
    import soxr

    x = np.frombuffer(pcm, dtype="<i2")
    return soxr.resample(x, rate, FRAME_RATE, quality="HQ").tobytes()  # int16 in, int16 out


def decode(data: bytes, what: str) -> AudioSegment:
    """Decode audio by its content, not its name (macOS voices write AIFF whatever the name says)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(data)) as reader:
                params = reader.getparams()
                pcm = reader.readframes(params.nframes)
            return conform(AudioSegment(data=pcm, sample_width=params.sampwidth,
                                        frame_rate=params.framerate, channels=params.nchannels))
        except (wave.Error, EOFError, ValueError):
            pass  # e.g. float WAV: let ffmpeg read it
    wav = system.run([system.ffmpeg(), "-v", "error", "-i", "pipe:0", "-f", "wav", "-ac", str(CHANNELS),
                      "-ar", str(FRAME_RATE), "-acodec", "pcm_s16le", "pipe:1"], f"decoding {what}", input=data)
    with wave.open(io.BytesIO(_fix_streamed_wav(wav))) as reader:
        return track_segment(reader.readframes(reader.getnframes()))


def _fix_streamed_wav(wav: bytes) -> bytes:
    """ffmpeg writing WAV to a pipe cannot seek back to fill in the sizes: fill them in."""
    if len(wav) < 44 or wav[:4] != b"RIFF":
        raise BuildError("ffmpeg returned no WAV data")
    data_at = wav.find(b"data", 12)
    fixed = bytearray(wav)
    fixed[4:8] = (len(wav) - 8).to_bytes(4, "little")
    fixed[data_at + 4:data_at + 8] = (len(wav) - data_at - 8).to_bytes(4, "little")
    return bytes(fixed)


def load_file(path: Path) -> AudioSegment:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BuildError(f"{path}: cannot read: {exc.strerror}") from None
    if not data:
        raise BuildError(f"{path}: the file is empty")
    return decode(data, str(path))


def trim(segment: AudioSegment) -> AudioSegment:
    """Cut the silence a speech engine leaves at both ends of a segment in the track's format, keeping
    TRIM_KEEP_MS of margin.

    Silence is any millisecond whose RMS is under TRIM_THRESHOLD_DBFS (as pydub's
    detect_leading_silence judges it, but in one pass over the samples)."""
    x = np.frombuffer(segment.raw_data, dtype="<i2").astype(np.float64) / 32768.0
    step = FRAME_RATE // 1000
    n_ms = len(x) // step
    if n_ms == 0:
        return segment[:0]
    rms = np.sqrt((x[: n_ms * step].reshape(n_ms, step) ** 2).mean(axis=1))
    loud = np.flatnonzero(rms > 10 ** (TRIM_THRESHOLD_DBFS / 20))
    if loud.size == 0:
        return segment[:0]
    start = max(0, int(loud[0]) - TRIM_KEEP_MS) * step
    end = min(len(x), (int(loud[-1]) + 1 + TRIM_KEEP_MS) * step)
    return track_segment(segment.raw_data[start * SAMPLE_WIDTH:end * SAMPLE_WIDTH])


def wav_header(n_frames: int) -> bytes:
    """The 44-byte header of a WAV in the track's format, for PCM written after it."""
    data_size = n_frames * SAMPLE_WIDTH * CHANNELS
    return (b"RIFF" + (36 + data_size).to_bytes(4, "little") + b"WAVEfmt "
            + (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + CHANNELS.to_bytes(2, "little")
            + FRAME_RATE.to_bytes(4, "little") + (FRAME_RATE * SAMPLE_WIDTH * CHANNELS).to_bytes(4, "little")
            + (SAMPLE_WIDTH * CHANNELS).to_bytes(2, "little") + (8 * SAMPLE_WIDTH).to_bytes(2, "little")
            + b"data" + data_size.to_bytes(4, "little"))


# A checked WAV (a cache entry): the track's 44-byte header, the PCM, then a chunk of our own holding a digest
# of all that comes before it. Readers of WAV skip a chunk they do not know; we read only ours, whole or not at all.
CHECK_CHUNK = b"cchk"
DIGEST_SIZE = 16
CHECK_TRAILER = 8 + DIGEST_SIZE
_HEADER = 44


def _digest(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


def _checked_header(n_frames: int) -> bytes:
    """The header of a checked WAV of `n_frames`: the track's, its RIFF size counting the check chunk."""
    head = wav_header(n_frames)
    return head[:4] + (36 + n_frames * SAMPLE_WIDTH * CHANNELS + CHECK_TRAILER).to_bytes(4, "little") + head[8:]


def checked_wav_bytes(pcm: bytes) -> bytes:
    """A checked WAV of `pcm` (the track's format): header, PCM and the digest of both."""
    body = _checked_header(len(pcm) // (SAMPLE_WIDTH * CHANNELS)) + pcm
    return body + CHECK_CHUNK + DIGEST_SIZE.to_bytes(4, "little") + _digest(body)


def _checked_frames(head: bytes, size: int) -> int | None:
    """The frames a checked WAV of `size` bytes holds if `head` (its first 44 bytes) is exactly the header
    it must have; None for any other header (a flipped size, rate or format byte)."""
    pcm_bytes = size - _HEADER - CHECK_TRAILER
    if pcm_bytes <= 0 or pcm_bytes % (SAMPLE_WIDTH * CHANNELS):
        return None
    n_frames = pcm_bytes // (SAMPLE_WIDTH * CHANNELS)
    return n_frames if head == _checked_header(n_frames) else None


def read_checked_wav(path: Path) -> bytes | None:
    """The PCM of a checked WAV, or None if it is missing, or any byte of it is not as written."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    body, trailer = memoryview(data)[:-CHECK_TRAILER], data[-CHECK_TRAILER:]
    if _checked_frames(data[:_HEADER], len(data)) is None \
            or trailer != CHECK_CHUNK + DIGEST_SIZE.to_bytes(4, "little") + _digest(body):
        return None
    return bytes(body[_HEADER:])


def checked_wav_length(path: Path) -> int | None:
    """The frames of a checked WAV from its header and size alone, or None if the header is not exactly the
    one its size calls for (its samples are checked by read_checked_wav, when they are read)."""
    try:
        with open(path, "rb") as entry:
            return _checked_frames(entry.read(_HEADER), os.fstat(entry.fileno()).st_size)
    except OSError:
        return None


def wav_bytes(pcm: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(CHANNELS)
        writer.setsampwidth(SAMPLE_WIDTH)
        writer.setframerate(FRAME_RATE)
        writer.writeframes(pcm)
    return out.getvalue()
