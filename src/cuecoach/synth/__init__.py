"""Speech: text in, a finished clip out, cached by content. One module per engine behind `Engine`.

Every engine's audio goes through the same steps: decoded, resampled to the track's rate (soxr),
trimmed, checked against the length its text should take at the asked rate (a clip outside the
tolerance is made again by a fresh engine, and never cached), and levelled for good
(loudness.prepare_speech). A cached clip is final: no later step changes its level.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Callable, Protocol

from .. import audio, loudness, spoken, system
from ..errors import BuildError
from . import piper_engine, pyttsx3_engine

SYNTH_FORMAT = 5  # bump when the way clips are made changes: every key changes with it
ENGINES = {pyttsx3_engine.NAME: pyttsx3_engine, piper_engine.NAME: piper_engine}
ATTEMPTS = 3  # fresh engines tried for a clip whose length is off before the build gives up


class Engine(Protocol):
    """A speech engine: one voice at one rate."""

    name: str

    def speak(self, text: str) -> bytes:
        """Audio (a WAV at the engine's own rate) of `text`."""
        ...


@dataclass(frozen=True)
class VoiceSettings:
    voice: str | None
    rate: int
    engine: str = pyttsx3_engine.NAME
    loudness: float = loudness.DEFAULT_TARGET_LUFS  # the program's target; sets every clip's level

    def identity(self) -> str:
        return (pyttsx3_engine.identity() if self.engine == pyttsx3_engine.NAME
                else piper_engine.identity(self.voice))

    def key(self, text: str) -> str:
        """The cache key of a clip: everything that shapes its sound."""
        blob = json.dumps([SYNTH_FORMAT, self.identity(), self.voice if self.engine != "piper" else None,
                           self.rate, audio.TRIM_THRESHOLD_DBFS, audio.TRIM_KEEP_MS,
                           loudness.clip_lufs(self.loudness), loudness.PEAK_CEILING_DBTP,
                           loudness.COMPRESS_RATIO, loudness.COMPRESS_BELOW_LOUD_DB, text], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


class SpeechCache:
    """Finished clips on disk, named by their key: ``<dir>/speech/ab/abcdef….wav``."""

    def __init__(self, root):
        from pathlib import Path

        self.root = Path(root) / "speech"

    def path(self, key: str):
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> bytes | None:
        """The clip's PCM, or None if missing; a truncated or corrupt entry is deleted and reported missing."""
        path = self.path(key)
        pcm = audio.read_track_wav(path)
        if pcm is None and path.exists():
            path.unlink(missing_ok=True)
        return pcm

    def length(self, key: str) -> int | None:
        """The clip's length in samples, from its header, or None if the entry is missing or not whole."""
        return audio.track_wav_length(self.path(key))

    def put(self, key: str, pcm: bytes) -> None:
        system.write_atomic(self.path(key), audio.wav_bytes(pcm))


_engines: dict[VoiceSettings, Engine] = {}  # one per process and settings (a Piper model loads once)


def open_engine(settings: VoiceSettings) -> Engine:
    if settings.engine not in ENGINES:
        raise BuildError(f"no speech engine '{settings.engine}'; use one of: {', '.join(ENGINES)}")
    if settings not in _engines:
        _engines[settings] = ENGINES[settings.engine].Engine(settings.voice, settings.rate)
    return _engines[settings]


def list_voices() -> list[tuple[str, str, str, str]]:
    """(engine, id, name, languages) of every voice of every installed engine."""
    found = []
    for name, module in ENGINES.items():
        try:
            found += [(name, *voice) for voice in module.voices()]
        except BuildError:
            continue
    return found


def length_ok(text: str, clip_ms: float, settings: VoiceSettings) -> bool:
    """Whether a clip lasts what its text takes at the asked rate (spoken.expected_range)."""
    low, high = spoken.expected_range_ms(text, settings.rate, settings.engine)
    return low <= clip_ms <= high


def synthesize(text: str, settings: VoiceSettings) -> bytes:
    """Speak `text`: trimmed, checked and levelled PCM in the track's format. A clip whose length is off
    (a lost rate, a cut file) is made again by a fresh engine; after ATTEMPTS the build fails."""
    clip_ms = 0.0
    for _ in range(ATTEMPTS):
        engine = open_engine(settings)
        clip = audio.trim(audio.decode(engine.speak(text), f"speech for {text!r}"))
        clip_ms = len(clip.raw_data) / audio.SAMPLE_WIDTH * 1000 / audio.FRAME_RATE
        if length_ok(text, clip_ms, settings):
            return loudness.prepare_speech(clip.raw_data, settings.loudness)
        _engines.pop(settings, None)  # the next attempt gets a fresh engine
    low, high = spoken.expected_range_ms(text, settings.rate, settings.engine)
    raise BuildError(f"the speech engine keeps speaking {text!r} in {clip_ms / 1000:.2f} s, outside the "
                     f"{low / 1000:.2f} to {high / 1000:.2f} s its words take at {settings.rate} words a minute")


def ensure_clips(texts: list[str], settings: VoiceSettings, cache: SpeechCache,
                 on_synth: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """PCM for every text: from the cache, synthesizing (and caching) only what is missing."""
    clips: dict[str, bytes] = {}
    for text in texts:
        key = settings.key(text)
        pcm = cache.get(key)
        if pcm is None:
            if on_synth:
                on_synth(text)
            pcm = synthesize(text, settings)
            cache.put(key, pcm)
        clips[text] = pcm
    return clips
