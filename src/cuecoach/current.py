"""Is a day's MP3 current? Answered cheaply, without YAML, numpy or the speech engine.

A build with nothing to do is the common case, so it must cost almost nothing. Each day's
JSON records two things when its MP3 is written:

* `source_key`: a hash of the files the day is made from (every file in the routines
  folder, since a day's talk depends on the days before it; the sounds; the list of days), of cuecoach's own code, of the speech engine's and
  ffmpeg's versions, and of the encoding. Unchanged files give an unchanged key, so the
  day is current without being loaded or compiled. When the key differs, the build loads
  and compiles the day and compares its build key (build.py), the final word.
* `mp3`: the MP3's size and a hash of its start, of the first 2 kB after its ID3 tag (the
  Info frame, which holds the CRC of the whole audio, its frame and byte counts), and of
  its last 16 kB. A truncated, emptied or replaced MP3 no longer matches and is built
  again. Hashing whole files cost 0.4 s for 42 days (measured); this costs about 2 ms.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

HEAD = 1024
AUDIO_HEAD = 2048
TAIL = 16 * 1024


def mp3_seal(path: Path) -> dict[str, object]:
    """What tells this MP3 whole and untouched: its size and the hash of its start, its first audio
    (the Info frame) and its end."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(HEAD)
        audio = b""
        if head[:3] == b"ID3" and len(head) >= 10:
            handle.seek(10 + sum(b << shift for b, shift in zip(head[6:10], (21, 14, 7, 0))))
            audio = handle.read(AUDIO_HEAD)
        handle.seek(max(size - TAIL, 0))
        tail = handle.read(TAIL)
    return {"size": size, "ends": hashlib.blake2b(head + audio + tail, digest_size=16).hexdigest()}


def mp3_is_whole(path: Path, timeline: dict) -> bool:
    try:
        return timeline.get("mp3") == mp3_seal(path)
    except OSError:
        return False


def _package_code() -> bytes:
    here = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=16)
    for source in sorted(here.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.digest()


def _tools() -> str:
    """The versions of what else shapes a track: the speech engine's package and ffmpeg's binary."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        engine = version("pyttsx3")
    except PackageNotFoundError:
        engine = "none"
    ffmpeg = shutil.which("ffmpeg") or ""
    stamp = ""
    if ffmpeg:
        stat = os.stat(ffmpeg)
        stamp = f"{stat.st_size}-{stat.st_mtime_ns}"
    return f"{engine}|{sys.platform}|{ffmpeg}|{stamp}"


def common_key(routines: Path, sounds: Path, sound_names: tuple[str, ...], day_ids: list[str], extra: str) -> str:
    """The part of every day's source key that all days share."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(json.dumps([extra, day_ids, _tools()]).encode())
    digest.update(_package_code())
    # every file, the days included: what a day says depends on the days before it (an exercise met
    # before gets a short reminder), so an edited day makes every day look again (and compile)
    for path in sorted(routines.iterdir()) if routines.is_dir() else []:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in sound_names:
        try:
            digest.update((sounds / f"{name}.wav").read_bytes())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


def source_key(common: str, routine_file: Path) -> str:
    try:
        data = routine_file.read_bytes()
    except OSError:
        return ""
    return hashlib.blake2b(common.encode() + data, digest_size=16).hexdigest()


def unchanged(mp3: Path, timeline: dict | None, source: str) -> bool:
    """True if the day was built from exactly these files and its MP3 (and lyrics) are whole."""
    return (bool(source) and timeline is not None and timeline.get("source_key") == source
            and mp3_is_whole(mp3, timeline) and mp3.with_suffix(".lrc").is_file())
