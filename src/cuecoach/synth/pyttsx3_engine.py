"""pyttsx3 (espeak-ng on Linux, the system voice on macOS and Windows): every clip from a fresh engine.

Two faults of pyttsx3 2.99's espeak driver decide this design (both measured):

- The lost rate. The driver runs espeak-ng in its asynchronous mode, where a property change
  is a command queued for espeak's own thread. `runAndWait()` queues an end-of-loop command that
  calls the driver's `stop()`, and `stop()` calls `espeak_Cancel()` whenever espeak is still
  busy, which it is if it has not yet taken the queued rate. `espeak_Cancel()` throws the queue
  away and restores the last rate espeak applied: the driver's own start-up rate of 200 words a
  minute. A clip, or every clip of an engine whose rate is set once, then comes out at 200.
  The same cancel can leave the driver's stop flag raised, which cancels the next utterance
  (an empty or cut file), and lets `runAndWait()` return before the file exists.
- Order dependence. espeak-ng keeps synthesis state from one utterance to the next within a
  process: the same text spoken after different texts gives different files (lengths up to
  22 ms apart), so a cache filled in build order differs between a serial and a parallel build.
  Reseeding the C library's random generator does not change this; a new process does: the
  first utterance of a process is always the same file, identical to the espeak-ng command's.

So each clip is spoken by a new engine in a forked child process, which makes every clip the first
utterance of its process: the same bytes whatever the build order, and however many clips are made at
once. The build imports pyttsx3 and its driver (so children need not) but never starts espeak. A child
mostly waits (for espeak's thread, for the driver's 10 ms loop), so many run at once: a helper child
forks them (`synth.make_in_children`, `children.in_children`) and only passes their files on, and the
build's own process, which forks nothing meanwhile, decodes, trims, checks, levels and caches each clip
(measured: decoding in the helper cost 3 ms a clip against 1 ms here, in a fresh child 7 of its 16 ms,
most of it page faults; levelling in a fresh process, or in one that keeps forking, took two to three
times as long). A process that may not fork (one with threads) has a spawned worker do all this.

The child lets the driver cancel nothing: it queues voice, rate and file, then runs the driver's own
loop (`startLoop()`), where espeak takes the rate before it speaks (its commands run in order) and
the driver ends the loop once it has written the file. `runAndWait()` is not used: its end-of-loop
command calls the driver's `stop()`, which cancels espeak if it is still busy with the rate (the lost
rate above), and it returns before the file exists. A cancel is still noticed (the driver reports the
utterance as not completed) and the clip is made again by a fresh child, and the caller checks every
clip's length against its text at the rate. The child's stdout, where the driver prints "Audio saved to
...", is /dev/null: the child is ours, the library is left as it is.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cuecoach import children
from cuecoach.errors import BuildError

NAME = "pyttsx3"
CHILD_TIMEOUT_S = 30.0  # generous: a loaded machine takes well under a second a clip
ATTEMPTS = 5  # fresh children tried for a clip that came out cancelled or empty, or whose child was lost
RETRIES: list[str] = []  # lines spoken again after a cancel or a lost child, for measurements
SETTLE_S = 0.02  # other drivers: time for the engine to take voice and rate before the run loop starts
FILE_TIMEOUT_S = 10.0  # other drivers: runAndWait() can return before the file is written


def driver_name() -> str:
    """The pyttsx3 driver this platform uses, known without starting it."""
    return {"darwin": "nsss", "win32": "sapi5"}.get(sys.platform, "espeak")


@lru_cache(maxsize=1)
def identity() -> str:
    try:
        return f"pyttsx3-{version('pyttsx3')}-{driver_name()}"
    except PackageNotFoundError:
        return f"pyttsx3-unknown-{driver_name()}"


def _init() -> Any:
    try:
        import pyttsx3

        return pyttsx3.init()
    except Exception as exc:  # noqa: BLE001 - the driver raises many kinds when the library is missing
        hint = {"espeak": "install espeak-ng (Debian/Ubuntu: sudo apt-get install espeak-ng)",
                "nsss": "check that pyobjc is installed (pip install pyobjc)",
                "sapi5": "check that pywin32 is installed (pip install pywin32)"}[driver_name()]
        raise BuildError(f"no speech engine: {type(exc).__name__}: {exc}; {hint}") from None


def fresh_process_per_clip() -> bool:
    """Whether every clip must be spoken in a fresh process (espeak: see above)."""
    return driver_name() == "espeak"


def preload() -> None:
    """Import pyttsx3 and its driver here, where nothing starts espeak, so that forked children need not."""
    try:
        importlib.import_module(f"pyttsx3.drivers.{driver_name()}")
    except Exception:  # noqa: BLE001 - a missing library is reported by the child that starts the engine
        pass


def voices() -> list[tuple[str, str, str]]:
    """(id, name, languages) of every voice; asked in a child, so this process keeps no engine."""
    listed = _in_child(_voices_here)
    if listed is None:
        raise BuildError("the speech engine's process ended while listing its voices; run the command again")
    return [tuple(voice) for voice in json.loads(listed)]


def _voices_here() -> bytes:
    engine = _init()
    return json.dumps([(v.id, v.name or "", ", ".join(str(lang) for lang in (v.languages or [])))
                       for v in engine.getProperty("voices")]).encode()


def pick_voice(found: list[tuple[str, str, str]], wanted: str) -> str | None:
    """The first voice whose id or name is, ends with, or contains `wanted` (case-insensitive)."""
    low = wanted.lower()
    for test in (lambda v: v[0].lower() == low or v[1].lower() == low,
                 lambda v: v[0].lower().endswith("/" + low),
                 lambda v: low in v[0].lower() or low in v[1].lower()):
        for voice in found:
            if test(voice):
                return voice[0]
    return None


def _whole_wav(data: bytes) -> bool:
    """Whether a WAV the driver wrote is all there: its RIFF size is the file's."""
    return len(data) > 44 and int.from_bytes(data[4:8], "little") + 8 == len(data)


def speak_here(text: str, voice_id: str | None, rate: int) -> bytes | None:
    """In a fresh process (espeak): one engine, one utterance; the file's bytes, or None if the utterance
    was cancelled or no whole file came."""
    handle, path = tempfile.mkstemp(prefix="cuecoach-", suffix=".wav")
    os.close(handle)
    try:
        engine = _init()
        ended: list[bool] = []
        engine.connect("finished-utterance", lambda completed=True, **_: ended.append(completed))
        if voice_id:
            engine.setProperty("voice", voice_id)  # queued: the loop below gives them to espeak in order
        engine.setProperty("rate", rate)
        engine.save_to_file(text, path)
        engine.startLoop()  # ends when the driver has written the file
        data = Path(path).read_bytes()
    finally:
        Path(path).unlink(missing_ok=True)
    if ended != [True]:
        return None  # a cancel throws espeak's queued rate away: this clip may be at another rate
    return data if _whole_wav(data) else None


def _speak_in_run_loop(text: str, voice_id: str | None, rate: int) -> bytes | None:
    """The other drivers (macOS, Windows; untested): one engine kept in this process, runAndWait()."""
    handle, path = tempfile.mkstemp(prefix="cuecoach-", suffix=".wav")
    os.close(handle)
    os.unlink(path)
    engine = _init()
    finished, cancelled = threading.Event(), threading.Event()

    def on_finished(completed: bool = True, **_: object) -> None:
        finished.set()
        if not completed:
            cancelled.set()

    engine.connect("finished-utterance", on_finished)
    engine.runAndWait()  # a first, empty loop: the driver's start-up commands are dealt with here
    if voice_id:
        engine.setProperty("voice", voice_id)
    engine.setProperty("rate", rate)
    time.sleep(SETTLE_S)
    engine.save_to_file(text, path)
    engine.runAndWait()
    deadline = time.monotonic() + FILE_TIMEOUT_S
    try:
        while time.monotonic() < deadline and not cancelled.is_set():
            if finished.is_set() and os.path.exists(path):
                data = Path(path).read_bytes()
                if _whole_wav(data):
                    return data
            time.sleep(0.005)
    finally:
        Path(path).unlink(missing_ok=True)
    return None


def _in_child(function: Callable[[], bytes]) -> bytes | None:
    """`function`'s bytes, from a child forked for it (espeak; refused where forking is not safe), else from
    this process; None if the child was lost (it died or hung, and was ended)."""
    if not fresh_process_per_clip():
        return function()
    preload()
    (_, outcome), = children.in_children(deque([(None, function)]), 1, CHILD_TIMEOUT_S)
    if outcome.error and not outcome.lost:
        raise BuildError(outcome.error)
    return outcome.data


class Engine:
    """Speaks with pyttsx3, a fresh engine (and process) for every clip."""

    name = NAME

    def __init__(self, voice: str | None, rate: int):
        self.rate = rate
        self.voice_id = None
        if voice:
            self.voice_id = pick_voice(voices(), voice)
            if self.voice_id is None:
                raise BuildError(f"no pyttsx3 voice matches '{voice}' (program.yaml 'voice'); run `cuecoach voices` "
                                 "to list them, or set voice: null for the system default")

    def speak(self, text: str) -> bytes:
        """The engine's audio file (WAV, 22.05 kHz for espeak) for `text`, each attempt from a fresh child."""
        for _ in range(ATTEMPTS):
            data = _in_child(lambda: self.speak_here(text) or b"")
            if data:
                return data
            RETRIES.append(text)
        raise BuildError(f"the speech engine wrote no audio for: {text!r}")

    def speak_here(self, text: str) -> bytes | None:
        """`text` spoken in this process, which must be fresh for espeak (a forked child that never spoke);
        None if the utterance was cancelled or came out empty."""
        if fresh_process_per_clip():
            return speak_here(text, self.voice_id, self.rate)
        return _speak_in_run_loop(text, self.voice_id, self.rate)
