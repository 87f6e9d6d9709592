"""Loudness (ITU-R BS.1770 / EBU R128) measured and set with numpy: pure functions on 16-bit mono PCM.

Speech from espeak has a crest factor near 20 dB, so a plain gain to -16 LUFS would clip.
Each clip is therefore evened out once, when it is synthesized (and cached): brought to
the target loudness by a look-ahead peak limiter with its ceiling below full scale. A
track is then measured exactly, from the K-weighted energy of each clip at its place (the
silence between contributes nothing), and one small gain sets it on the target.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import numpy as np

RATE = 44_100
TARGET_LUFS = -16.0
SPEECH_CEILING_DBFS = -4.5  # sample peak; a 64 kbps MP3 of limited espeak speech overshoots it by up to 3 dB (measured)
TONE_BELOW_VOICE_LU = 0.0  # tones as loud as the voice: a start heard across a room (issue 9)
CLIP_LUFS = -13.5  # clips are made denser than the target, so a track is turned down, never pushed into the limiter
MP3_LOSS_LU = 0.4  # a 64 kbps MP3 of espeak speech measures this much quieter than its PCM (measured)
SUB_BLOCK = RATE // 10  # 100 ms: gating blocks are 400 ms long, every 100 ms
BIN = RATE // 100  # 10 ms: every piece starts on a whole 10 ms
MAX_BOOST_DB = 3.0
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0


def _biquad_response(b: tuple[float, float, float], a: tuple[float, float, float], z1: np.ndarray) -> np.ndarray:
    return (b[0] + b[1] * z1 + b[2] * z1 ** 2) / (a[0] + a[1] * z1 + a[2] * z1 ** 2)


@lru_cache(maxsize=16)
def _k_weighting(size: int) -> np.ndarray:
    """Frequency response of the K-weighting pre-filter (high shelf, then high pass) at rfft bins."""
    z1 = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)  # z^-1 on the unit circle
    # high shelf: +4 dB above about 1.7 kHz (coefficients from BS.1770's analog design, any rate)
    gain, q, fc = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    big_a, w0 = 10 ** (gain / 40), 2 * math.pi * fc / RATE
    alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
    root = 2 * math.sqrt(big_a) * alpha
    shelf = _biquad_response(
        (big_a * ((big_a + 1) + (big_a - 1) * cos + root), -2 * big_a * ((big_a - 1) + (big_a + 1) * cos),
         big_a * ((big_a + 1) + (big_a - 1) * cos - root)),
        ((big_a + 1) - (big_a - 1) * cos + root, 2 * ((big_a - 1) - (big_a + 1) * cos),
         (big_a + 1) - (big_a - 1) * cos - root), z1)
    # high pass at about 38 Hz
    q, fc = 0.5003270373238773, 38.13547087602444
    w0 = 2 * math.pi * fc / RATE
    alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
    high_pass = _biquad_response(((1 + cos) / 2, -(1 + cos), (1 + cos) / 2), (1 + alpha, -2 * cos, 1 - alpha), z1)
    return (shelf * high_pass).astype(np.complex64)


def samples(pcm: bytes | bytearray) -> np.ndarray:
    return np.frombuffer(bytes(pcm), dtype="<i2").astype(np.float64) / 32768.0


def to_pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2").tobytes()


def k_energy(x: np.ndarray) -> np.ndarray:
    """Per-sample energy of the K-weighted signal, including the filter's tail (about 0.2 s).
    Single precision: ample for a meter, and numpy's FFT runs it nearly three times as fast."""
    n = len(x) + RATE // 5
    size = 1 << (n - 1).bit_length()
    spectrum = np.fft.rfft(x.astype(np.float32), size) * _k_weighting(size)
    weighted = np.fft.irfft(spectrum, size)[:n].astype(np.float64)
    return weighted ** 2


def _binned(energy: np.ndarray, width: int) -> np.ndarray:
    """Sums of `energy` over consecutive bins of `width` samples (the last one padded)."""
    bins = -(-len(energy) // width)
    return np.pad(energy, (0, bins * width - len(energy))).reshape(bins, width).sum(axis=1)


def integrated(sub_blocks: np.ndarray) -> float:
    """Gated integrated loudness (LUFS) from 100 ms sub-block energy sums; -inf for silence."""
    if len(sub_blocks) < 4:
        sub_blocks = np.pad(sub_blocks, (0, 4 - len(sub_blocks)))
    blocks = np.convolve(sub_blocks, np.ones(4), mode="valid") / (4 * SUB_BLOCK)
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10 * np.log10(blocks)
    gated = blocks[loud > ABSOLUTE_GATE]
    if gated.size == 0:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(gated.mean()) + RELATIVE_GATE
    gated = blocks[(loud > ABSOLUTE_GATE) & (loud > relative)]
    return float(-0.691 + 10 * np.log10(gated.mean()))


def loudness(x: np.ndarray) -> float:
    """Integrated loudness (LUFS) of one piece on its own."""
    return integrated(_binned(k_energy(x), SUB_BLOCK))


def limit(x: np.ndarray, ceiling: float, attack_ms: int = 2, hold_ms: int = 5) -> np.ndarray:
    """Look-ahead peak limiter: a smooth gain that keeps every sample at or under `ceiling` (linear)."""
    step = 44  # work on 1 ms blocks of peaks: fast, and fine enough for gain riding
    n_blocks = -(-len(x) // step)
    peaks = np.pad(np.abs(x), (0, n_blocks * step - len(x))).reshape(n_blocks, step).max(axis=1)
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    reach = attack_ms + hold_ms
    padded = np.pad(need, reach, constant_values=1.0)
    low = np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1).min(axis=1)
    # a moving average of that minimum never exceeds the gain any block within `reach` needs
    width = attack_ms * 2 + 1
    smooth = np.convolve(np.pad(low, width // 2, mode="edge"), np.ones(width) / width, mode="valid")
    gain = np.repeat(np.minimum(smooth, low), step)[: len(x)]
    return np.clip(x * gain, -ceiling, ceiling)


def compress(x: np.ndarray, ratio: float = 4.0, threshold_below_loud_db: float = 15.0) -> np.ndarray:
    """A gentle RMS compressor (10 ms window): evens syllables out, so limiting has less to do."""
    step = 44
    n_blocks = -(-len(x) // step)
    power = (np.pad(x, (0, n_blocks * step - len(x))).reshape(n_blocks, step) ** 2).mean(axis=1)
    power = np.convolve(np.pad(power, 5, mode="edge"), np.ones(10) / 10, mode="valid")[:n_blocks]
    level = 10 * np.log10(np.maximum(power, 1e-12))
    voiced = level[level > -60]
    if voiced.size == 0:
        return x
    threshold = np.percentile(voiced, 90) - threshold_below_loud_db
    gain_db = -np.maximum(level - threshold, 0) * (1 - 1 / ratio)
    gain_db = np.convolve(np.pad(gain_db, 2, mode="edge"), np.ones(5) / 5, mode="valid")[:n_blocks]
    return x * np.repeat(10 ** (gain_db / 20), step)[: len(x)]


def prepare_speech(pcm: bytes) -> bytes:
    """Even out a speech clip: compressed, a little louder than the target, sample peaks at the ceiling at most."""
    x = compress(samples(pcm))
    ceiling = 10 ** (SPEECH_CEILING_DBFS / 20)
    for _ in range(2):  # limiting lowers the loudness a little: a second pass makes up most of it
        level = loudness(x)
        if not math.isfinite(level) or abs(level - CLIP_LUFS) < 0.3:
            break
        x = limit(x * 10 ** ((CLIP_LUFS - level) / 20), ceiling)
    return to_pcm(x)


def prepare_tone(pcm: bytes) -> bytes:
    """Set a tone's level below the voice."""
    x = samples(pcm)
    level = loudness(x)
    if math.isfinite(level):
        x = limit(x * 10 ** ((TARGET_LUFS - TONE_BELOW_VOICE_LU - level) / 20), 10 ** (SPEECH_CEILING_DBFS / 20))
    return to_pcm(x)


_ENERGY_MEMO: dict[bytes, np.ndarray] = {}  # digest -> bins: the same clips come back in many days


def _energy(data: bytes) -> np.ndarray:
    """K-weighted energy of a piece in 10 ms bins (441 frames), its filter tail included."""
    digest = hashlib.blake2b(data, digest_size=16).digest()  # a key that does not keep the clip alive
    if digest not in _ENERGY_MEMO:
        _ENERGY_MEMO[digest] = _binned(k_energy(samples(data)), BIN)
    return _ENERGY_MEMO[digest]


def track_loudness(pieces: list[tuple[int, bytes]], total_frames: int) -> float:
    """Integrated loudness of a track made of (frame offset, PCM) pieces placed in silence."""
    n_bins = max(40, -(-total_frames // SUB_BLOCK)) * (SUB_BLOCK // BIN)
    bins = np.zeros(n_bins + 1)
    for offset, data in pieces:
        energy = _energy(data)
        first = offset // BIN  # offsets are whole multiples of 10 ms
        end = min(first + len(energy), n_bins)
        bins[first:end] += energy[: end - first]
    return integrated(bins[:n_bins].reshape(-1, SUB_BLOCK // BIN).sum(axis=1))


def level_track(pieces: list[tuple[int, bytes]], total_frames: int, fixed: set[bytes] = frozenset()
                ) -> dict[bytes, bytes]:
    """Level a track made of (frame offset, PCM) pieces so it measures the target loudness.

    One gain for every piece but the `fixed` ones (the tones keep their level). Clips are
    made denser than the target, so the gain is nearly always a cut, which needs no
    limiting; a boost (a track of unusually sparse speech) is capped at MAX_BOOST_DB and
    limited at the ceiling. Returns each distinct piece's new PCM.
    """
    level = track_loudness(pieces, total_frames)
    distinct = {data for _, data in pieces}
    if not math.isfinite(level):
        return {data: data for data in distinct}
    gain_db = min(MAX_BOOST_DB, TARGET_LUFS + MP3_LOSS_LU - level)
    ceiling = 10 ** (SPEECH_CEILING_DBFS / 20)
    leveled = {}
    for data in distinct:
        if data in fixed or abs(gain_db) < 0.01:
            leveled[data] = data
        elif gain_db < 0:
            leveled[data] = to_pcm(samples(data) * 10 ** (gain_db / 20))
        else:
            leveled[data] = to_pcm(limit(samples(data) * 10 ** (gain_db / 20), ceiling))
    return leveled
