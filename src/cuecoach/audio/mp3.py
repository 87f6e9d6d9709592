"""MPEG-1 Layer III frames as bytes: split a stream, tell a silent frame, write the Xing/LAME "Info" frame. Pure.

Only what cuecoach's own streams need: MPEG-1, 44.1 kHz, mono, constant bit rate, no CRC,
encoded with the bit reservoir off, so that every frame carries its own data
(main_data_begin is 0) and frames can be joined like bricks.

Timing (LAME, as ffmpeg's libmp3lame runs it): input sample t decodes at position
t + ENCODER_DELAY + DECODER_DELAY of the stream of audio frames (1152 samples each).
The Info frame tells a gapless decoder to drop ENCODER_DELAY + DECODER_DELAY samples at
the start and `padding` - DECODER_DELAY at the end (ffmpeg's mp3 demuxer; Chromium uses it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SAMPLES_PER_FRAME = 1152
ENCODER_DELAY = 576  # LAME's, written in the Info frame
DECODER_DELAY = 529  # the decoder's filter bank (528 + 1, as ffmpeg counts it)
DELAY = ENCODER_DELAY + DECODER_DELAY
SAMPLE_RATE = 44_100
BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)  # MPEG-1 Layer III, kbit/s
SIDE_INFO = 17  # bytes of side information in a mono MPEG-1 frame
XING_AT = 4 + SIDE_INFO  # the Xing tag follows the side information
TOC_SIZE = 100
LAME_AT = XING_AT + 8 + 8 + TOC_SIZE + 4  # "Info", flags, frames, bytes, TOC, quality: then LAME's extension
TAG_CRC_SPAN = 190  # bytes of the Info frame its CRC covers (as ffmpeg's muxer computes it)


class FrameError(ValueError):
    pass


@dataclass(frozen=True)
class Header:
    bitrate: int  # kbit/s
    padded: bool
    mono: bool
    size: int


def header(data: bytes | memoryview, at: int = 0) -> Header:
    """The header of the frame at `at`; FrameError unless it is MPEG-1 Layer III at 44.1 kHz without CRC."""
    if at + 4 > len(data):
        raise FrameError(f"a frame header is cut off at byte {at}")
    word = int.from_bytes(data[at:at + 4], "big")
    if word >> 21 != 0x7FF or (word >> 19) & 3 != 3 or (word >> 17) & 3 != 1:
        raise FrameError(f"no MPEG-1 Layer III frame at byte {at}")
    if not (word >> 16) & 1:
        raise FrameError(f"the frame at byte {at} has a CRC, which cuecoach does not write")
    rate_index, sr_index = (word >> 12) & 15, (word >> 10) & 3
    if rate_index in (0, 15) or sr_index != 0:
        raise FrameError(f"the frame at byte {at} is not constant-rate 44.1 kHz")
    bitrate, padded = BITRATES[rate_index], bool((word >> 9) & 1)
    return Header(bitrate, padded, (word >> 6) & 3 == 3, 144_000 * bitrate // SAMPLE_RATE + padded)


def split(data: bytes) -> list[bytes]:
    """The frames of a bare stream (no ID3 tag), in order; FrameError if anything but whole frames is there."""
    found, at = [], 0
    view = memoryview(data)
    sizes: dict[bytes, int] = {}  # a constant-rate stream has two headers: each checked once (a day has 36,000)
    while at < len(data):
        word = data[at:at + 4]
        size = sizes.get(word) or sizes.setdefault(word, header(view, at).size)
        if at + size > len(data):
            raise FrameError(f"the last frame is cut off at byte {at}")
        found.append(data[at:at + size])
        at += size
    return found


def is_silent(frame: bytes) -> bool:
    """True if the frame codes no spectrum at all (both granules empty): it adds nothing to what is decoded.

    Its decoded samples may still hold the tail of the frame before it (the filter banks
    overlap): decoding is linear, so joining such frames adds the pieces' sounds exactly."""
    bits = int.from_bytes(frame[4:4 + SIDE_INFO], "big")
    width = SIDE_INFO * 8
    # mono side info: main_data_begin 9, private 5, scfsi 4, then per granule part2_3_length 12, big_values 9, …
    for granule_at in (18, 18 + 59):
        part2_3 = (bits >> (width - granule_at - 12)) & 0xFFF
        big_values = (bits >> (width - granule_at - 21)) & 0x1FF
        if part2_3 or big_values:
            return False
    return True


def frame_count(n_samples: int) -> int:
    """Audio frames needed to decode `n_samples` through the encoder's and the decoder's delay."""
    return -(-(n_samples + DELAY) // SAMPLES_PER_FRAME)


# -- CRC-16 (the LAME tag's: polynomial 0x8005, reflected, initial 0) -----------------------

@lru_cache(maxsize=1)
def _crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table[byte] = crc
    return table


def _crc_bytes(crc: int, data: bytes) -> int:
    table = _crc_table()
    for byte in data:
        crc = int(table[(crc ^ byte) & 0xFF]) ^ (crc >> 8)
    return crc


@lru_cache(maxsize=64)
def _shift_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The CRC state after n zero bytes, as a function of the state before: linear, so two byte tables.
    Long runs are two runs of half the length, composed."""
    if n > 4096 and n % 2 == 0:
        half_low, half_high = _shift_tables(n // 2)

        def half(crc: int) -> int:
            return int(half_low[crc & 0xFF] ^ half_high[crc >> 8])

        basis = [half(half(1 << bit)) for bit in range(16)]
    else:
        basis = [_crc_bytes(1 << bit, bytes(n)) for bit in range(16)]
    low = np.zeros(256, dtype=np.uint32)
    high = np.zeros(256, dtype=np.uint32)
    for value in range(256):
        for bit in range(8):
            if value >> bit & 1:
                low[value] ^= basis[bit]
                high[value] ^= basis[bit + 8]
    return low, high


def crc16(data: bytes, chunk: int = 512) -> int:
    """CRC-16 of `data`, fast: chunks are run side by side in numpy, then joined pairwise (a CRC with
    initial 0 is linear, and leading zero bytes leave it unchanged). About 30 ms for a 7 MB track."""
    if len(data) <= chunk:
        return _crc_bytes(0, data)
    n_chunks = 1 << (-(-len(data) // chunk) - 1).bit_length()  # a power of two, for the pairwise joins
    padded = np.zeros(n_chunks * chunk, dtype=np.uint8)
    padded[n_chunks * chunk - len(data):] = np.frombuffer(data, dtype=np.uint8)  # zeros in front: no effect
    rows = padded.reshape(n_chunks, chunk)
    table = _crc_table()
    state = np.zeros(n_chunks, dtype=np.uint32)
    for column in range(chunk):
        state = table[(state ^ rows[:, column]) & 0xFF] ^ (state >> 8)
    span = chunk
    while len(state) > 1:  # crc(a + b) = crc(a) run through len(b) zero bytes, xor crc(b)
        low, high = _shift_tables(span)
        first, second = state[0::2], state[1::2]
        state = low[first & 0xFF] ^ high[first >> 8] ^ second
        span *= 2
    return int(state[0])


def frame_crcs(frames: list[bytes]) -> list[int]:
    """The CRC-16 of each frame, side by side in numpy (shorter frames padded with zeros in front)."""
    if not frames:
        return []
    width = max(len(f) for f in frames)
    rows = np.frombuffer(b"".join(bytes(width - len(f)) + f for f in frames), dtype=np.uint8).reshape(-1, width)
    table = _crc_table()
    state = np.zeros(len(frames), dtype=np.uint32)
    for column in range(width):
        state = table[(state ^ rows[:, column]) & 0xFF] ^ (state >> 8)
    return state.tolist()


def joined_crc(frames: list[bytes], crcs: list[int]) -> int:
    """The CRC-16 of the frames joined, from each frame's own: a few table lookups a frame."""
    shifts: dict[int, tuple[list[int], list[int]]] = {}
    crc = 0
    for frame, own in zip(frames, crcs, strict=True):
        size = len(frame)
        if size not in shifts:
            low_table, high_table = _shift_tables(size)
            shifts[size] = (low_table.tolist(), high_table.tolist())
        low, high = shifts[size]
        crc = low[crc & 0xFF] ^ high[crc >> 8] ^ own
    return crc


# -- the Info frame ---------------------------------------------------------------------

def info_frame(template: bytes, frames: list[bytes], n_samples: int, music_crc: int | None = None) -> bytes:
    """The Xing/LAME Info frame for `frames` (the audio frames) decoding to exactly `n_samples`.

    `template` is an Info frame the same encoder wrote (its encoder string, lowpass and
    flags are kept); the frame count, byte count, seek table, delay and padding, music
    length and both CRCs are filled in for the joined stream."""
    if template[XING_AT:XING_AT + 4] not in (b"Info", b"Xing") or len(template) < TAG_CRC_SPAN:
        raise FrameError("the Info frame template has no Xing tag")
    out = bytearray(template)
    padding = len(frames) * SAMPLES_PER_FRAME - ENCODER_DELAY - n_samples
    if not DECODER_DELAY <= padding < 4096:
        raise FrameError(f"{len(frames)} frames cannot hold {n_samples} samples")
    total = len(out) + sum(len(f) for f in frames)
    # the seek table: where each hundredth of the audio starts, in 256ths of the stream (as ffmpeg writes it)
    offsets = np.cumsum([0] + [len(f) for f in frames[:-1]]) if frames else np.zeros(1, dtype=np.int64)
    toc = bytes(min(255, int(offsets[i * len(frames) // TOC_SIZE]) * 256 // total) for i in range(TOC_SIZE))
    out[XING_AT:XING_AT + 8] = b"Info" + (0x0F).to_bytes(4, "big")  # frames, bytes, TOC and quality present
    out[XING_AT + 8:XING_AT + 16] = len(frames).to_bytes(4, "big") + total.to_bytes(4, "big")
    out[XING_AT + 16:XING_AT + 16 + TOC_SIZE] = toc
    out[LAME_AT + 21:LAME_AT + 24] = ((ENCODER_DELAY << 12) | padding).to_bytes(3, "big")
    out[LAME_AT + 28:LAME_AT + 32] = total.to_bytes(4, "big")
    music_crc = crc16(b"".join(frames)) if music_crc is None else music_crc
    out[LAME_AT + 32:LAME_AT + 34] = music_crc.to_bytes(2, "big")
    out[LAME_AT + 34:LAME_AT + 36] = b"\0\0"
    out[LAME_AT + 34:LAME_AT + 36] = _crc_bytes(0, bytes(out[:TAG_CRC_SPAN])).to_bytes(2, "big")
    return bytes(out)


def read_info(frame: bytes) -> dict[str, int]:
    """Frame count, byte count, encoder delay and padding from an Info frame (for tests and checks)."""
    if frame[XING_AT:XING_AT + 4] not in (b"Info", b"Xing"):
        raise FrameError("no Xing tag in this frame")
    delay_padding = int.from_bytes(frame[LAME_AT + 21:LAME_AT + 24], "big")
    return {"frames": int.from_bytes(frame[XING_AT + 8:XING_AT + 12], "big"),
            "bytes": int.from_bytes(frame[XING_AT + 12:XING_AT + 16], "big"),
            "delay": delay_padding >> 12, "padding": delay_padding & 0xFFF,
            "music_crc": int.from_bytes(frame[LAME_AT + 32:LAME_AT + 34], "big"),
            "tag_crc": int.from_bytes(frame[LAME_AT + 34:LAME_AT + 36], "big")}
