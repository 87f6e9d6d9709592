"""Speech: text in, a finished clip out, cached by content. One module per engine behind `Engine`.

Every engine's audio goes through the same steps (`finish_clip`): decoded, resampled to the track's
rate (soxr), trimmed, checked against the length its text should take at the asked rate (a clip outside
the tolerance is made again by a fresh engine, and never cached), and levelled for good
(loudness.prepare_speech). A cached clip is final: no later step changes its level.

An engine that needs a fresh process for every clip (pyttsx3 on espeak) has its clips made in forked
children, many at once (`make_in_children`): a helper child forks a child for each attempt, which
speaks one clip, and passes its file on; this process decodes, trims, checks and levels each clip as it
comes, writes the cache, and asks again for the few whose length is off. A process that may not fork
(it has threads: see children.can_fork) has a spawned worker do all this (`make_in_worker`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cuecoach import children, spoken, system
from cuecoach.audio import loudness, sound
from cuecoach.config.schema import Program
from cuecoach.errors import BuildError, CueError
from cuecoach.synth import piper_engine, pyttsx3_engine

SYNTH_FORMAT = 8  # bump when the way clips are made changes: every key changes with it (and the MP3s' frames:
# a cluster's place in the padding pattern follows its pieces' keys, assemble._residue)
ENTRY_FORMAT = 2  # bump when a cache entry's layout changes (2: a checked WAV): entries of another are never read
ENGINES = {pyttsx3_engine.NAME: pyttsx3_engine, piper_engine.NAME: piper_engine}
ATTEMPTS = 3  # fresh engines tried for a clip whose length is off before the build gives up
IN_FLIGHT_PER_CPU = 3  # speaking children at once per CPU (each mostly waits for espeak); 1 to 8 measured alike


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
    engine: str = Program.engine
    loudness: float = Program.loudness  # the program's target; sets every clip's level

    def identity(self) -> str:
        return (pyttsx3_engine.identity() if self.engine == pyttsx3_engine.NAME
                else piper_engine.identity(self.voice))

    def key(self, text: str) -> str:
        """The cache key of a clip: everything that shapes its sound."""
        blob = json.dumps([SYNTH_FORMAT, self.identity(), self.voice if self.engine != "piper" else None,
                           self.rate, sound.TRIM_THRESHOLD_DBFS, sound.TRIM_KEEP_MS,
                           loudness.clip_lufs(self.loudness), loudness.PEAK_CEILING_DBTP,
                           loudness.COMPRESS_RATIO, loudness.COMPRESS_BELOW_LOUD_DB, text], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:24]


class SpeechCache:
    """Finished clips on disk, named by their key and the entry's format (``<dir>/speech/ab/abcdef….2.wav``), each
    a checked WAV (sound.checked_wav_bytes): a byte changed on disk makes the entry read as missing, and it is
    made again."""

    def __init__(self, root: Path | str):
        self.root = Path(root) / "speech"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.{ENTRY_FORMAT}.wav"

    def get(self, key: str) -> bytes | None:
        """The clip's PCM, or None if missing; a truncated or corrupt entry is deleted and reported missing."""
        path = self.path(key)
        pcm = sound.read_checked_wav(path)
        if pcm is None and path.exists():
            path.unlink(missing_ok=True)
        return pcm

    def length(self, key: str) -> int | None:
        """The clip's length in samples, from its header and size, or None if the entry is missing or its header
        is not the one its size calls for (its samples are checked when they are read: get)."""
        return sound.checked_wav_length(self.path(key))

    def put(self, key: str, pcm: bytes) -> None:
        # no fsync (it cost a build 3 ms a clip): an entry cut short by a crash fails the check on reading
        system.write_atomic(self.path(key), sound.checked_wav_bytes(pcm), sync=False)


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


def checked_clip(data: bytes, text: str, settings: VoiceSettings) -> tuple[bytes | None, float]:
    """An engine's audio decoded and trimmed: its PCM, or None if its length is off (a lost rate, a cut
    file), and the trimmed clip's length in ms."""
    clip = sound.trim(sound.decode(data, f"speech for {text!r}"))
    clip_ms = len(clip.raw_data) / sound.SAMPLE_WIDTH * 1000 / sound.FRAME_RATE
    return (clip.raw_data if length_ok(text, clip_ms, settings) else None), clip_ms


def finish_clip(data: bytes, text: str, settings: VoiceSettings) -> tuple[bytes | None, float]:
    """An engine's audio made final: checked, then levelled for good (None if its length is off)."""
    pcm, clip_ms = checked_clip(data, text, settings)
    return (loudness.prepare_speech(pcm, settings.loudness) if pcm is not None else None), clip_ms


def _length_error(text: str, clip_ms: float, settings: VoiceSettings) -> BuildError:
    low, high = spoken.expected_range_ms(text, settings.rate, settings.engine)
    return BuildError(f"the speech engine keeps speaking {text!r} in {clip_ms / 1000:.2f} s, outside the "
                      f"{low / 1000:.2f} to {high / 1000:.2f} s its words take at {settings.rate} words a minute")


def synthesize(text: str, settings: VoiceSettings) -> bytes:
    """Speak `text`: trimmed, checked and levelled PCM in the track's format. A clip whose length is off
    (a lost rate, a cut file) is made again by a fresh engine; after ATTEMPTS the build fails."""
    clip_ms = 0.0
    for _ in range(ATTEMPTS):
        pcm, clip_ms = finish_clip(open_engine(settings).speak(text), text, settings)
        if pcm is not None:
            return pcm
        _engines.pop(settings, None)  # the next attempt gets a fresh engine
    raise _length_error(text, clip_ms, settings)


def made_in_children(settings: VoiceSettings) -> bool:
    """Whether the engine needs a fresh process for every clip: its clips are then made in forked children."""
    return settings.engine == pyttsx3_engine.NAME and pyttsx3_engine.fresh_process_per_clip()


def _speak_in_child(text: str, settings: VoiceSettings) -> bytes:
    """In a fresh child, one attempt: the engine's audio file, or nothing if it gave none (a cancel)."""
    engine = open_engine(settings)
    assert isinstance(engine, pyttsx3_engine.Engine)  # only its clips are made in children (made_in_children)
    return engine.speak_here(text) or b""


def make_in_children(texts: list[str], settings: VoiceSettings, cache: SpeechCache,
                     on_made: Callable[[str, bytes], None], at_once: int | None = None) -> dict[str, str]:
    """Make and cache the clips of `texts`. A helper child forks a fresh child for each attempt at a clip,
    `at_once` at a time (IN_FLIGHT_PER_CPU per CPU), which speaks it; the helper passes each file on as it
    comes, and this process, which forks nothing meanwhile, decodes, trims, checks, levels and caches it.
    The helper does nothing but fork and pass on: its own work would fault in pages its children share
    (decoding there cost 3 ms a clip, most of it the kernel's, against 1 ms here, measured). A clip of the
    wrong length is asked for again in another round, of fresh children. Calls `on_made` with each clip
    made; returns text -> error for the texts that failed."""
    try:
        open_engine(settings)  # here: finding the voice asks a child of its own, once
    except BuildError as exc:  # no engine, no such voice: every line fails alike
        return dict.fromkeys(texts, str(exc))
    pyttsx3_engine.preload()
    failed: dict[str, str] = {}
    wrong: dict[str, float] = {}  # text -> the length of its last clip, for texts whose clips were off
    todo = list(texts)
    for _ in range(ATTEMPTS):
        wrong, heard = {}, set()
        speak = functools.partial(_speak_all, todo, settings, at_once or IN_FLIGHT_PER_CPU * (os.cpu_count() or 1))
        with children.child_stream(speak) as messages:
            for kind, number, payload in messages:
                if kind != b"R":
                    heard.add(todo[number])
                _take(kind, todo[number], payload, settings, cache, on_made, failed, wrong)
        failed.update((text, f"the speech process ended before speaking {text!r}") for text in todo
                      if text not in heard)
        todo = list(wrong)
        if not todo:
            break
    failed.update((text, str(_length_error(text, clip_ms, settings))) for text, clip_ms in wrong.items())
    return failed


def make_clips(texts: list[str], settings: VoiceSettings, cache: SpeechCache,
               on_made: Callable[[str, bytes], None], at_once: int | None = None) -> dict[str, str]:
    """make_in_children here, where this process may fork; else make_in_worker."""
    make = make_in_children if children.can_fork() else make_in_worker
    return make(texts, settings, cache, on_made, at_once)


def make_in_worker(texts: list[str], settings: VoiceSettings, cache: SpeechCache,
                   on_made: Callable[[str, bytes], None], at_once: int | None = None) -> dict[str, str]:
    """make_in_children for a process that may not fork (it has threads: see children.can_fork): in a
    spawned worker, which may; `on_made` hears of the clips once the worker is done."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as worker:
        made, failed = worker.submit(_make_in_worker, texts, settings, cache, at_once).result()
    for text, pcm in made.items():
        on_made(text, pcm)
    return failed


def _make_in_worker(texts: list[str], settings: VoiceSettings, cache: SpeechCache, at_once: int | None
                    ) -> tuple[dict[str, bytes], dict[str, str]]:
    made: dict[str, bytes] = {}
    failed = make_in_children(texts, settings, cache, made.__setitem__, at_once)
    return made, failed


def _take(kind: bytes, text: str, payload: bytes, settings: VoiceSettings, cache: SpeechCache,
          on_made: Callable[[str, bytes], None], failed: dict[str, str], wrong: dict[str, float]) -> None:
    """One message from the helper: a file the engine wrote (b"W"), why a text failed (b"F"), or a retry (b"R")."""
    if kind == b"R":
        pyttsx3_engine.RETRIES.append(text)
        return
    if kind == b"F":
        failed[text] = payload.decode("utf-8", "replace")
        return
    try:
        pcm, clip_ms = checked_clip(payload, text, settings)
    except CueError as exc:  # audio that does not decode
        failed[text] = str(exc)
        return
    if pcm is None:
        wrong[text] = clip_ms
        return
    pcm = loudness.prepare_speech(pcm, settings.loudness)
    cache.put(settings.key(text), pcm)
    on_made(text, pcm)


def _speak_all(texts: list[str], settings: VoiceSettings, at_once: int,
               send: Callable[[bytes, int, bytes], None]) -> None:
    """In the helper child: each text's file as the engine wrote it (b"W"), or why there is none (b"F"), sent
    as it comes; b"R" for each fresh child asked to speak a line again after a cancel or a lost child."""
    number = {text: i for i, text in enumerate(texts)}
    tasks: deque[tuple[str, Callable[[], bytes]]] = deque(
        (text, functools.partial(_speak_in_child, text, settings)) for text in texts)
    tries = dict.fromkeys(texts, 0)  # children that gave no file: cancelled, empty, or lost
    outcomes = children.in_children(tasks, at_once, pyttsx3_engine.CHILD_TIMEOUT_S)
    with contextlib.closing(outcomes):
        for text, outcome in outcomes:
            if outcome.data:
                send(b"W", number[text], outcome.data)
                continue
            if outcome.lost or not outcome.error:  # worth another fresh child
                tries[text] += 1
                send(b"R", number[text], b"")
                if tries[text] < pyttsx3_engine.ATTEMPTS:
                    tasks.append((text, functools.partial(_speak_in_child, text, settings)))
                    continue
            send(b"F", number[text], _failure(text, outcome).encode())


def _failure(text: str, outcome: children.ChildOutcome) -> str:
    if outcome.lost:
        return f"the speech engine's process {outcome.error} while speaking {text!r}, {pyttsx3_engine.ATTEMPTS} times"
    return outcome.error or f"the speech engine wrote no audio for: {text!r}"


def ensure_clips(texts: list[str], settings: VoiceSettings, cache: SpeechCache,
                 on_synth: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """PCM for every text: from the cache, synthesizing (and caching) only what is missing; `on_synth` is
    called with each line synthesized, and last with the line that failed, if one does."""
    clips: dict[str, bytes] = {}
    missing: list[str] = []
    for text in dict.fromkeys(texts):
        pcm = cache.get(settings.key(text))
        if pcm is None:
            missing.append(text)
        else:
            clips[text] = pcm
    if missing and made_in_children(settings):
        def made(text: str, pcm: bytes) -> None:
            clips[text] = pcm
            if on_synth:
                on_synth(text)

        failed = make_clips(missing, settings, cache, made)
        for text in (text for text in missing if text in failed):
            if on_synth:
                on_synth(text)  # the line that failed is the last one named
            raise BuildError(failed[text])
    else:
        for text in missing:
            if on_synth:
                on_synth(text)
            clips[text] = synthesize(text, settings)
            cache.put(settings.key(text), clips[text])
    return {text: clips[text] for text in texts}
