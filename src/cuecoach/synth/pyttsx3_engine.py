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

So each clip is spoken by a new engine in a forked child process (40 to 100 ms a clip on this
machine, against about 15 ms in one long-lived engine), which makes every clip the first utterance
of its process: the same bytes whatever the build order. The child runs one empty loop first, then
sets voice and rate outside any loop and gives espeak's thread a moment to take them, so the
loop that speaks finds espeak idle and cancels nothing; a cancel is still noticed (the driver
reports the utterance as not completed) and the clip is made again by a fresh engine, and the
caller checks every clip's length against its text at the rate. The child's stdout, where the driver
prints "Audio saved to ...", is /dev/null: the child is ours, the library is left as it is.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import threading
import time
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import BuildError

NAME = "pyttsx3"
SETTLE_S = 0.02  # time for espeak's thread to take the queued voice and rate before the run loop starts
FILE_TIMEOUT_S = 10.0
CHILD_TIMEOUT_S = 60.0  # generous: a loaded machine; a fork can still hang on a lock another thread held
ATTEMPTS = 5
RETRIES: list[str] = []  # lines spoken again after a cancel, for measurements


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


def voices() -> list[tuple[str, str, str]]:
    """(id, name, languages) of every voice; asked in a child, so this process keeps no engine."""
    return _in_child(_voices_here)


def _voices_here() -> list[tuple[str, str, str]]:
    engine = _init()
    return [(v.id, v.name or "", ", ".join(str(lang) for lang in (v.languages or [])))
            for v in engine.getProperty("voices")]


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


def _speak_here(text: str, voice_id: str | None, rate: int, path: str) -> bytes | None:
    """In a fresh child: one engine, one utterance, the finished file's bytes (None if none came)."""
    if multiprocessing.parent_process() is not None:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the driver prints on stdout; a child's is not the user's
    engine = _init()
    finished, cancelled = threading.Event(), threading.Event()
    engine.connect("finished-utterance",
                   lambda completed=True, **_: (finished.set(), None if completed else cancelled.set()))
    engine.runAndWait()  # a first, empty loop: the driver's start-up commands are dealt with (or cancelled) here
    if voice_id:
        engine.setProperty("voice", voice_id)  # outside a loop, these go to espeak at once
    engine.setProperty("rate", rate)
    time.sleep(SETTLE_S)  # espeak's thread takes them: the next loop finds it idle and cancels nothing
    cancelled.clear()
    finished.clear()
    engine.save_to_file(text, path)
    engine.runAndWait()
    deadline = time.monotonic() + FILE_TIMEOUT_S
    while time.monotonic() < deadline:  # runAndWait() can return before the driver has written the file
        if cancelled.is_set():
            return None  # a cancel throws espeak's queued rate away: this clip may be at another rate
        if finished.is_set() and os.path.exists(path):
            data = Path(path).read_bytes()
            if len(data) > 44 and int.from_bytes(data[4:8], "little") + 8 == len(data):
                return data
        time.sleep(0.005)
    return None


def _in_child(function: Any, *args: Any) -> Any:
    if driver_name() != "espeak":  # fork is for Linux; the system voices elsewhere speak in-process
        return function(*args)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        try:
            return pool.apply_async(function, args).get(CHILD_TIMEOUT_S)
        except multiprocessing.TimeoutError:
            return None  # a child that hangs is ended with its pool; the clip is asked for again


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
        """The engine's audio file (WAV, 22.05 kHz for espeak) for `text`."""
        handle, name = tempfile.mkstemp(prefix="cuecoach-", suffix=".wav")
        os.close(handle)
        os.unlink(name)
        try:
            for _ in range(ATTEMPTS):  # a fresh engine each time
                data = _in_child(_speak_here, text, self.voice_id, self.rate, name)
                if data is not None:
                    return data
                RETRIES.append(text)
        finally:
            Path(name).unlink(missing_ok=True)
        raise BuildError(f"the speech engine wrote no audio for: {text!r}")
