"""Loudness (ITU-R BS.1770 / EBU R128) measured and set with numpy: pure functions on 16-bit mono PCM.

Every piece's level is fixed when it is made, never per track: each speech clip is gently
compressed, set to one clip loudness (derived from the program's target), and only its rare
peaks are limited; each tone is set a fixed distance under the voice. A cached clip is
therefore final, and a track made of such pieces measures the target (the offset between
clip and track loudness, and the MP3's peak overshoot, are measured over all 42 days:
see scripts/measure_loudness.py).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

RATE = 44_100
TONE_BELOW_VOICE_LU = 0.0  # tones as loud as the voice: a start heard across a room
CLIP_ABOVE_TRACK_LU = 0.6  # tracks measured 0.6 LU under their clips (-19.7 to -19.6 over 42 days, clips at -19)
PEAK_CEILING_DBTP = -3.0  # true peak of a clip; 64 kbps MP3s of all 42 days measured at most 0.4 dB over it
COMPRESS_RATIO = 1.5  # gentle: the voice keeps its rise and fall
COMPRESS_BELOW_LOUD_DB = 10.0  # the compressor acts only on the loudest tenth of a line, and on what is near it
OVERSAMPLE = 4  # true peak, as BS.1770 measures it
LIMIT_STEP = 45  # the limiter works on blocks of about 1 ms (a 98th of a sub-block): fine enough for gain riding
SUB_BLOCK = RATE // 10  # 100 ms: gating blocks are 400 ms long, every 100 ms
assert SUB_BLOCK % LIMIT_STEP == 0  # a limiter block never straddles two sub-blocks (see _set_level)
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
K_TAIL = RATE // 5  # the K-weighting filter's impulse response, long enough for its 38 Hz high pass to die away
K_BLOCK = 1 << 15  # FFT size of the K-weighting's overlap-add: fixed (one table) and small (the CPU's cache)
LEVEL_ROUNDS = 6  # gain and limit at most this often: limiting takes a little loudness, the next gain makes
# it up (a round is cheap: no new FFT)
LEVEL_TOLERANCE_LU = 0.05  # close enough to the clip loudness: no further round


def _biquad_response(b: tuple[float, float, float], a: tuple[float, float, float], z1: np.ndarray) -> np.ndarray:
    z2 = z1 * z1
    return (b[0] + b[1] * z1 + b[2] * z2) / (a[0] + a[1] * z1 + a[2] * z2)


def _k_weighting(size: int) -> np.ndarray:
    """Frequency response of the K-weighting pre-filter (high shelf, then high pass) at rfft bins, in double."""
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
    return shelf * high_pass


@lru_cache(maxsize=1)
def _k_block_spectrum() -> np.ndarray:
    """The K-weighting filter's impulse response, cut at K_TAIL samples (where it has died away to under
    1e-15), as the rfft of K_BLOCK points that weights each block."""
    response = np.fft.irfft(_k_weighting(4 * K_BLOCK), 4 * K_BLOCK)[:K_TAIL]
    return np.fft.rfft(response, K_BLOCK).astype(np.complex64)


def samples(pcm: bytes | bytearray) -> np.ndarray:
    return np.frombuffer(bytes(pcm), dtype="<i2").astype(np.float64) / 32768.0


def to_pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2").tobytes()


def k_weighted(x: np.ndarray) -> np.ndarray:
    """The K-weighted signal, its filter's tail included (len(x) + K_TAIL samples, single precision).
    The filter runs as an overlap-add FFT convolution in blocks of K_BLOCK (ample for a meter)."""
    step = K_BLOCK - K_TAIL  # new samples a block; its convolution's tail overlaps the next block
    count = max(1, -(-len(x) // step))
    segments = np.zeros((count, K_BLOCK), dtype=np.float32)
    segments[:, :step] = np.pad(x, (0, count * step - len(x))).reshape(count, step)
    weighted = np.fft.irfft(np.fft.rfft(segments, axis=1) * _k_block_spectrum(), K_BLOCK, axis=1)
    weighted[1:, :K_TAIL] += weighted[:-1, step:]
    return np.concatenate((weighted[:, :step].ravel(), weighted[-1, step:]))[:len(x) + K_TAIL]


def sub_block_sums(energy: np.ndarray) -> np.ndarray:
    """Energy summed (in double) over 100 ms sub-blocks, the last one partial."""
    whole = len(energy) // SUB_BLOCK
    sums = energy[: whole * SUB_BLOCK].reshape(whole, SUB_BLOCK).sum(axis=1, dtype=np.float64)
    return np.append(sums, energy[whole * SUB_BLOCK:].sum(dtype=np.float64)) if len(energy) % SUB_BLOCK else sums


def k_blocks(x: np.ndarray) -> np.ndarray:
    """Energy of the K-weighted signal, its filter's tail included, summed over 100 ms sub-blocks."""
    return sub_block_sums(np.square(k_weighted(x)))


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
    return integrated(k_blocks(x))


def true_peaks(x: np.ndarray, step: int) -> np.ndarray:
    """The true peak (BS.1770: 4x oversampled) of each block of `step` samples. soxr's band-limited
    interpolation, in single precision: within 0.002 dB of an exact (FFT) interpolation on speech
    clips, in a tenth of its time."""
    import soxr

    n_blocks = -(-len(x) // step)
    padded = np.zeros(n_blocks * step, dtype=np.float32)
    padded[: len(x)] = x
    over = soxr.resample(padded, RATE, RATE * OVERSAMPLE, quality="HQ")  # exactly OVERSAMPLE times as long
    np.abs(over, out=over)
    plain = padded.reshape(n_blocks, step)
    peaks = np.maximum(plain.max(axis=1), -plain.min(axis=1))
    return np.maximum(over.reshape(n_blocks, step * OVERSAMPLE).max(axis=1), peaks).astype(np.float64)


def window_min(values: np.ndarray, width: int) -> np.ndarray:
    """out[i] = min(values[i:i + width]) wherever the window fits: a few whole-array passes, each doubling the
    window (a sliding view's minimum visits each value `width` times, measured 0.1 s a track)."""
    span, current = 1, values
    while 2 * span <= width:
        current = np.minimum(current[:-span], current[span:])
        span *= 2
    rest = width - span
    return np.minimum(current[: len(current) - rest], current[rest:]) if rest else current


def limiter_gain(peaks: np.ndarray, ceiling: float, attack_ms: int = 2, hold_ms: int = 5) -> np.ndarray | None:
    """Look-ahead true-peak limiter: from the true peak of each 1 ms block (LIMIT_STEP samples), a smooth
    gain per block that keeps every peak, between samples too, at or under `ceiling` (linear); None if
    no peak reaches it. On levelled speech it acts only on rare peaks (a plosive, a stress)."""
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    if need.min() >= 1.0:
        return None
    reach = attack_ms + hold_ms
    low = window_min(np.pad(need, reach, constant_values=1.0), 2 * reach + 1)
    # a moving average of that minimum never exceeds the gain any block within `reach` needs
    width = attack_ms * 2 + 1
    smooth = np.convolve(np.pad(low, width // 2, mode="edge"), np.ones(width) / width, mode="valid")
    return np.minimum(smooth, low)


def compress(x: np.ndarray, ratio: float = COMPRESS_RATIO, below_loud_db: float = COMPRESS_BELOW_LOUD_DB
             ) -> np.ndarray:
    """A gentle RMS compressor (10 ms window, soft ratio): takes the edge off the loudest syllables
    and leaves the rest of a line's natural rise and fall alone."""
    step = 44
    n_blocks = -(-len(x) // step)
    power = (np.pad(x, (0, n_blocks * step - len(x))).reshape(n_blocks, step) ** 2).mean(axis=1)
    power = np.convolve(np.pad(power, 5, mode="edge"), np.ones(10) / 10, mode="valid")[:n_blocks]
    level = 10 * np.log10(np.maximum(power, 1e-12))
    voiced = level[level > -60]
    if voiced.size == 0:
        return x
    threshold = np.percentile(voiced, 90) - below_loud_db
    gain_db = -np.maximum(level - threshold, 0) * (1 - 1 / ratio)
    gain_db = np.convolve(np.pad(gain_db, 2, mode="edge"), np.ones(5) / 5, mode="valid")[:n_blocks]
    return x * np.repeat(10 ** (gain_db / 20), step)[: len(x)]


def clip_lufs(target_lufs: float) -> float:
    """The loudness every speech clip is made at, so that tracks measure `target_lufs`."""
    return target_lufs + CLIP_ABOVE_TRACK_LU


def tone_lufs(target_lufs: float) -> float:
    """The loudness every tone is made at."""
    return clip_lufs(target_lufs) - TONE_BELOW_VOICE_LU


def _set_level(x: np.ndarray, lufs: float) -> np.ndarray:
    """A gain to `lufs`, and the limiter's gain on the rare peaks it pushes over the ceiling; since limiting
    takes a little loudness, the gain is raised and the limiter worked out again, up to LEVEL_ROUNDS times.

    The costly measures are taken once: the K-weighted signal and the true peaks of `x`. For a gain g
    the peaks are g times as high, and a round measures the loudness of g * K(x) * limiter gain, which
    differs from that of K(g * x * limiter gain) by under 0.001 LU on speech (the limiter's gain moves
    slowly and is 1 nearly everywhere; see tests/test_loudness.py)."""
    ceiling = 10 ** (PEAK_CEILING_DBTP / 20)
    # the K-weighted energy of each limiter block, in whole sub-blocks (the tail's too, where the gain stays
    # the last block's): a round's sub-block sums are then a few thousand products, not a pass over the clip
    energy = np.square(k_weighted(x))
    n_sub = -(-len(energy) // SUB_BLOCK)
    padded = np.zeros(n_sub * SUB_BLOCK)
    padded[: len(energy)] = energy
    by_block = padded.reshape(-1, LIMIT_STEP).sum(axis=1)
    level = integrated(by_block.reshape(n_sub, -1).sum(axis=1))
    if not math.isfinite(level):
        return x
    peaks = true_peaks(x, LIMIT_STEP)
    gain, found = 1.0, None
    for _ in range(LEVEL_ROUNDS):
        gain *= 10 ** ((lufs - level) / 20)
        found = limiter_gain(peaks * gain, ceiling)
        if found is None:  # a gain alone: its loudness is exact
            break
        squared = np.full(len(by_block), found[-1] ** 2)
        squared[: len(found)] = np.square(found)
        level = integrated((by_block * squared).reshape(n_sub, -1).sum(axis=1) * gain ** 2)
        if abs(level - lufs) < LEVEL_TOLERANCE_LU:
            break
    y = x * gain if found is None else x * (gain * np.repeat(found, LIMIT_STEP)[: len(x)])
    return np.clip(y, -ceiling, ceiling, out=y)


def prepare_speech(pcm: bytes, target_lufs: float) -> bytes:
    """Level a speech clip once, for good: gently compressed, at the clip loudness, true peaks under the ceiling."""
    return to_pcm(_set_level(compress(samples(pcm)), clip_lufs(target_lufs)))


def prepare_tone(pcm: bytes, target_lufs: float) -> bytes:
    """Set a tone at its fixed level under the voice."""
    return to_pcm(_set_level(samples(pcm), tone_lufs(target_lufs)))


def crest_db(x: np.ndarray) -> float:
    """Peak over RMS of a piece, in dB (brick-walled speech: under 10; natural speech: 15 to 20)."""
    rms = math.sqrt(float(np.mean(x ** 2))) if len(x) else 0.0
    return 20 * math.log10(float(np.abs(x).max()) / rms) if rms > 0 else 0.0
