"""Speech: each distinct text is synthesized once with pyttsx3 into a content-addressed cache of trimmed WAVs.

pyttsx3 2.99 with espeak-ng loses files when several saves share one runAndWait(), and
sometimes loses a rate change between clips, so each clip gets its own save and
runAndWait(), voice and rate are set once per engine, and every clip is checked before
use. pyttsx3.init() returns one engine per process: it is created lazily, in the process
that uses it, never before a fork.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Iterator

from . import audio, loudness, system
from .errors import BuildError

SYNTH_FORMAT = 4  # bump when the way clips are made changes: every key changes with it


def driver_name() -> str:
    """The pyttsx3 driver this platform uses, known without starting it."""
    return {"darwin": "nsss", "win32": "sapi5"}.get(sys.platform, "espeak")


def _pyttsx3_version() -> str:
    try:
        return version("pyttsx3")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class VoiceSettings:
    voice: str | None
    rate: int
    engine: str = f"pyttsx3-{_pyttsx3_version()}-{driver_name()}"

    def key(self, text: str) -> str:
        """The cache key of a clip: everything that shapes its sound."""
        blob = json.dumps([SYNTH_FORMAT, self.engine, self.voice, self.rate, audio.TRIM_THRESHOLD_DBFS,
                           audio.TRIM_KEEP_MS, loudness.CLIP_LUFS, loudness.SPEECH_CEILING_DBFS, "compress-4-limit-2-5", text], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


class SpeechCache:
    """Trimmed clips on disk, named by their key: ``<dir>/speech/ab/abcdef….wav``."""

    def __init__(self, root: Path):
        self.root = Path(root) / "speech"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> bytes | None:
        """The clip's PCM, or None if missing; a truncated or corrupt entry is deleted and reported missing."""
        path = self.path(key)
        pcm = audio.read_track_wav(path)
        if pcm is None and path.exists():
            path.unlink(missing_ok=True)
        return pcm

    def put(self, key: str, pcm: bytes) -> None:
        system.write_atomic(self.path(key), audio.wav_bytes(pcm))


# -- the engine, one per process ----------------------------------------------------------

_engine: Any = None
_engine_settings: VoiceSettings | None = None
_finished = threading.Event()  # set by the driver when an utterance is done


def _start_engine(settings: VoiceSettings) -> Any:
    global _engine, _engine_settings
    if _engine is not None:
        if settings != _engine_settings:
            raise BuildError("one process can speak with one voice and rate; build these routines separately")
        return _engine
    try:
        import pyttsx3

        engine = pyttsx3.init()
    except Exception as exc:  # noqa: BLE001 - the driver raises many kinds when the library is missing
        hint = {"espeak": "install espeak-ng (Debian/Ubuntu: sudo apt-get install espeak-ng)",
                "nsss": "check that pyobjc is installed (pip install pyobjc)",
                "sapi5": "check that pywin32 is installed (pip install pywin32)"}[driver_name()]
        raise BuildError(f"no speech engine: {type(exc).__name__}: {exc}; {hint}") from None
    if settings.voice:
        engine.setProperty("voice", pick_voice(engine, settings.voice))
    engine.setProperty("rate", settings.rate)
    engine.connect("finished-utterance", lambda **_: _finished.set())
    _engine, _engine_settings = engine, settings
    return engine


def list_voices() -> list[tuple[str, str, str]]:
    """(id, name, languages) of every voice the engine offers."""
    engine = _start_engine(VoiceSettings(None, 160))
    return [(v.id, v.name or "", ", ".join(str(lang) for lang in (v.languages or [])))
            for v in engine.getProperty("voices")]


def pick_voice(engine: Any, wanted: str) -> str:
    """The first voice whose id or name is, ends with, or contains `wanted` (case-insensitive)."""
    voices = engine.getProperty("voices")
    low = wanted.lower()
    for test in (lambda v: v.id.lower() == low or (v.name or "").lower() == low,
                 lambda v: v.id.lower().endswith("/" + low),
                 lambda v: low in v.id.lower() or low in (v.name or "").lower()):
        for voice in voices:
            if test(voice):
                return voice.id
    raise BuildError(f"no voice matches '{wanted}' (program.yaml 'voice'); run `cuecoach voices` to list them, "
                     "or set voice: null for the system default")


class _BriefSleep:
    """Stands in for the `time` module inside pyttsx3's espeak driver. Its run loop starts the
    (asynchronous) synthesis, then sleeps 10 ms before it returns; the file is waited for
    here anyway, so 1 ms will do: a cold build of the program spent 7 s less waiting."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, 0.001))


@contextlib.contextmanager
def _brief_espeak_loop() -> Iterator[None]:
    module = sys.modules.get("pyttsx3.drivers.espeak")
    if module is None or getattr(module, "time", None) is not time:
        yield  # another driver, or a pyttsx3 that works otherwise: leave it alone
        return
    module.time = _BriefSleep()
    try:
        yield
    finally:
        module.time = time


def _speak_to_file(engine: Any, text: str, path: Path) -> bytes:
    """One save and one runAndWait() for one clip, then wait until the file is whole and the
    driver has said the utterance is finished: its callback resets the driver's state after
    writing the file, and the next clip must not start before that (else espeak drops it).
    A clip that never arrives is asked for again, twice."""
    for _ in range(3):
        _finished.clear()
        path.unlink(missing_ok=True)
        # The espeak driver prints "Audio saved to …" when the file is done, which can be after
        # runAndWait() returns: stdout stays redirected until the clip is complete.
        with contextlib.redirect_stdout(io.StringIO()), _brief_espeak_loop():
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            data = _wait_for_clip(path)
        if data is not None:
            return data
    raise BuildError(f"the speech engine wrote no audio for: {text!r}")


def _wait_for_clip(path: Path, timeout: float = 5.0) -> bytes | None:
    deadline = time.monotonic() + timeout
    last, whole_since = -1, None
    while time.monotonic() < deadline:
        data = path.read_bytes() if path.exists() else b""
        if _complete_wav(data) or (len(data) > 44 and len(data) == last):
            whole_since = whole_since or time.monotonic()
            # a driver that never reports "finished" is trusted half a second after its file is whole
            if _finished.is_set() or time.monotonic() - whole_since > 0.5:
                time.sleep(0.002)  # the driver's callback returns right after it reports
                return data
        last = len(data)
        time.sleep(0.002)
    return None


def _complete_wav(data: bytes) -> bool:
    """A RIFF file whose header sizes match its length (written whole); other formats are not judged here."""
    return (len(data) > 44 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"
            and int.from_bytes(data[4:8], "little") + 8 == len(data))


def synthesize(text: str, settings: VoiceSettings) -> bytes:
    """Speak `text` and return trimmed PCM in the track's format, evened out to the target loudness."""
    engine = _start_engine(settings)
    handle, name = tempfile.mkstemp(prefix="cuecoach-", suffix=".wav")
    os.close(handle)
    os.unlink(name)
    path = Path(name)
    try:
        data = _speak_to_file(engine, text, path)
    finally:
        path.unlink(missing_ok=True)
    clip = audio.trim(audio.decode(data, f"speech for {text!r}"))
    if len(clip) < 50:
        raise BuildError(f"the speech engine produced silence for: {text!r}")
    return loudness.prepare_speech(clip.raw_data)


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
