"""Is a day's MP3 current? Answered cheaply, without YAML, numpy or the speech engine.

A build with nothing to do is the common case, so it must cost almost nothing. Each day's
JSON records two things when its MP3 is written:

* `source_key`: a hash of the files the day is made from (every file in the routines
  folder, since a day's talk depends on the days before it; the WAVs in the sounds folder;
  the list of days; a cover image elsewhere, named in the JSON's `source_files`), of
  cuecoach's own code (its version and build format with it), of the speech engine's and
  ffmpeg's versions, and of the command line's encoding and engine. Unchanged files give
  an unchanged key, so the day is current without being loaded or compiled. When the key
  differs, the build loads and compiles the day and compares its build key (builder/job.py),
  the final word.
* `mp3`: the MP3's size and a hash of its start, of the first 2 kB after its ID3 tag (the
  Info frame, which holds the CRC of the whole audio, its frame and byte counts), and of
  its last 16 kB. A truncated, emptied or replaced MP3 no longer matches and is built
  again. Hashing whole files cost 0.4 s for 42 days (measured); this costs about 2 ms.

`glance` runs this check for a build's days; `run.build` starts with it, and `cli/entry.py`
answers a build whose days are all current with it before the command line is loaded.
Everything imported here is light (no typer, rich, YAML, schema or numpy): keep it so.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cuecoach.builder.export import read_json
from cuecoach.config.project import Project, outputs, routine_ids, routine_path
from cuecoach.errors import CueError

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
            handle.seek(10 + sum(b << shift for b, shift in zip(head[6:10], (21, 14, 7, 0), strict=True)))
            audio = handle.read(AUDIO_HEAD)
        handle.seek(max(size - TAIL, 0))
        tail = handle.read(TAIL)
    return {"size": size, "ends": hashlib.blake2b(head + audio + tail, digest_size=16).hexdigest()}


def outputs_whole(mp3: Path, timeline: dict) -> bool:
    """Whether the MP3 is the one this JSON sealed (its size and ends), and its lyrics are beside it."""
    try:
        return timeline.get("mp3") == mp3_seal(mp3) and mp3.with_suffix(".lrc").is_file()
    except OSError:
        return False


def _package_code() -> bytes:
    here = Path(__file__).resolve().parent.parent  # the whole package, every wing
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


def common_key(routines: Path, sounds: Path, day_ids: list[str], extra: str) -> str:
    """The part of every day's source key that all days share."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(json.dumps([extra, day_ids, _tools()]).encode())
    digest.update(_package_code())
    # every file, the days included: what a day says depends on the days before it (an exercise met
    # before gets a short reminder), so an edited day makes every day look again (and compile)
    for path in sorted(routines.iterdir()) if routines.is_dir() else []:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    # every WAV, used or not (the pip is used only with pips): the list of names lives in script/types.py,
    # which this check must not import; a WAV added or removed changes the key too
    for path in sorted(sounds.glob("*.wav")) if sounds.is_dir() else []:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fast_check_common(project: Project, all_ids: list[str], encode: str, engine: str | None,
                      music: str | None = None) -> str:
    """What every day's fingerprint for the fast no-op check shares: the series' files, the sounds, the code,
    and the command line's choices that shape a track."""
    music_given = f"|music={music}" if music else ""  # without --music, the key is as it always was
    return common_key(project.routines, project.sounds, all_ids, f"{encode}|{engine or ''}{music_given}")


def source_key(common: str, routine_file: Path) -> str:
    try:
        data = routine_file.read_bytes()
    except OSError:
        return ""
    return hashlib.blake2b(common.encode() + data, digest_size=16).hexdigest()


def with_files(source: str, files: list[str] | tuple[str, ...]) -> str:
    """A day's source key with other files it is made from (a cover image outside the routines folder's
    top level, which `common_key` does not read); "" (never current) if one cannot be read."""
    if not files or not source:
        return source
    digest = hashlib.blake2b(source.encode(), digest_size=16)
    for name in files:
        try:
            digest.update(name.encode() + b"\0" + Path(name).read_bytes())
        except OSError:
            return ""
    return digest.hexdigest()


def unchanged(mp3: Path, timeline: dict | None, source: str) -> bool:
    """True if the day was built from exactly these files and its MP3 (and lyrics) are whole.
    `source`: the day's `source_key`, before the files its JSON names in `source_files` are added."""
    if not source or timeline is None:
        return False
    files = timeline.get("source_files", [])
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        return False
    return timeline.get("source_key") == with_files(source, files) and outputs_whole(mp3, timeline)


@dataclass
class Glance:
    """What the cheap check found, ref by ref, in the order given."""

    current: list[tuple[str, Path, dict]] = field(default_factory=list)  # (id, its JSON's path, its timeline)
    rest: list[str] = field(default_factory=list)  # refs to load and compile: changed, forced, missing or misnamed
    sources: dict[str, str] = field(default_factory=dict)  # each found ref's source key, to record when built
    read: dict[str, dict] = field(default_factory=dict)  # a ref of the rest's timeline, if it had one (not forced)


def glance(project: Project, refs: list[str], *, force: bool = False, encode: str = "frames",
           engine: str | None = None, music: str | None = None) -> Glance:
    """Which of these days are current at a glance (unchanged files, a whole MP3), without loading anything.
    Each day's JSON is read here once for the whole build (`Glance.current`, `Glance.read`)."""
    common = fast_check_common(project, routine_ids(project), encode, engine, music)
    found = Glance()
    for ref in refs:
        try:
            routine_id, path = routine_path(project, ref)
        except CueError:  # the build reports it, with the other days
            found.rest.append(ref)
            continue
        found.sources[ref] = source_key(common, path)
        mp3, timeline = outputs(project, routine_id)
        data = None if force else read_json(timeline)
        if data is not None and unchanged(mp3, data, found.sources[ref]):
            found.current.append((routine_id, timeline, data))
            continue
        found.rest.append(ref)
        if data is not None:  # build.is_current and finish_unchanged take it from here
            found.read[ref] = data
    return found
