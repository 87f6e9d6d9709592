"""One day's job: what a build makes it from, its key, and the steps every encoding path shares.

A day's build key hashes everything that shapes its audio: the compiled script, the keys
of its clips, the sound files, the MP3 settings and tags, the encoding and the code
version. It is stored in the day's JSON timeline with the MP3's size and the hash of its
ends; a day whose JSON holds the same key and whose MP3 still matches is current and is
skipped. Before any of that, `current.py` answers for days whose files are unchanged.

A `Job` is picklable: the encoding paths (`frames.py`, `whole.py`) may make it in a worker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cuecoach import __version__
from cuecoach.builder.cover import cover_path
from cuecoach.builder.current import with_files
from cuecoach.builder.export import Tags, lrc, write_json, write_text_if_changed
from cuecoach.builder.music import Music, resolve
from cuecoach.config.load import Days
from cuecoach.config.project import Project, outputs, track_number
from cuecoach.config.schema import Program
from cuecoach.errors import BuildError, CueError
from cuecoach.script.compile import compile_routine
from cuecoach.script.timeline import timeline_json
from cuecoach.script.types import SOUNDS, Script

FRAME_RATE = 44_100  # the track's samples a second (audio.sound's, which this module must not load early)

if TYPE_CHECKING:
    from cuecoach.synth.clips import VoiceSettings
# numpy, pydub, the speech engine and the assembler are imported where they are used, so that a
# build with nothing to do (the common case) never loads them: see the fast check in `current.py`

BUILD_FORMAT = f"{__version__}/5"  # bump when rendering or export changes what a build writes



@dataclass(frozen=True)
class Job:
    """Everything a worker needs to make one day's files; picklable."""

    script: Script
    settings: VoiceSettings
    bitrate: str
    tags: Tags
    sound_files: dict[str, bytes]
    mp3: Path
    timeline: Path
    cache: Path
    key: str
    encode: str = "frames"
    source: str = ""  # the fingerprint of the files it was made from (see current.py)
    source_files: tuple[str, ...] = ()  # the files beside the routines folder's that it adds
    music: Music | None = None  # the music under the voice; None: voice only
    routines: Path | None = None  # where a coach's music files are


@dataclass
class DayResult:
    routine: str
    status: str  # "built", "skipped" or "failed"
    message: str = ""
    synthesized: int = 0
    seconds: float = 0.0
    duration_ms: int = 0
    exit_code: int = 0
    warnings: list[str] = field(default_factory=list)  # file:line:col: warning: ... (cues left out)


@dataclass
class Summary:
    results: list[DayResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.results), default=0)


def needed_sounds(program: Program) -> tuple[str, ...]:
    """The sounds a build uses: the pip only for a series that counts in, out or reps with pips."""
    pips = "pips" in (program.lead_in, program.count_out, program.rep_count)
    return tuple(name for name in SOUNDS if name != "pip" or pips)


def read_sounds(project: Project, program: Program) -> dict[str, bytes]:
    """The sound files a build uses (needed_sounds)."""
    sounds = {}
    for name in needed_sounds(program):
        path = project.sounds / f"{name}.wav"
        try:
            sounds[name] = path.read_bytes()
        except OSError:
            raise CueError(f"{path}: missing sound; run `python sounds/make_sounds.py` to make the default "
                           "sounds, or drop in a WAV of your own") from None
    return sounds


def build_key(script: Script, settings: VoiceSettings, bitrate: str, tags: Tags, sounds: dict[str, bytes],
              encode: str = "frames", music: Music | None = None) -> str:
    with_music = {}  # voice only: as before
    if music is not None:  # and a day with music is made again when the code that mixes it changes
        from cuecoach.audio.mixdown import code_key

        with_music = {"music": asdict(music) | {"where": None, "mixed_by": code_key()}}
    blob = json.dumps({
        **with_music,
        "encode": encode,
        "format": BUILD_FORMAT,
        "script": timeline_json(script),
        "clips": [settings.key(text) for text in script.speech()],
        "sounds": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(sounds.items())},
        "bitrate": bitrate,
        "tags": {**asdict(tags), "cover": None},  # the image by its bytes (in `sounds`), not by where it is
    }, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def is_current(job: Job, timeline: dict) -> bool:
    """Whether the day's JSON (`timeline`, as this build read it) holds the job's build key: the JSON is
    written last, and records the MP3's size and the hash of its ends, so a matching key and an MP3 that
    still matches them mean the files beside it are complete and untouched."""
    from cuecoach.builder.current import outputs_whole

    return timeline.get("build_key") == job.key and outputs_whole(job.mp3, timeline)


def foreign_voice(program: Program, engine: str | None = None) -> bool:
    """Whether program.yaml's voice is another engine's (en-us, espeak's, with engine: piper): that engine
    then speaks with its default voice, and `check` warns at the voice's line."""
    from cuecoach.synth import piper_engine

    return (engine or program.engine) == piper_engine.NAME and bool(program.voice) \
        and not piper_engine.names_voice(program.voice or "")


def with_engine(program: Program, engine: str | None) -> Program:
    """The program, speaking with `engine` if one was given on the command line: another engine than
    program.yaml's speaks with its own default voice (a voice belongs to its engine)."""
    if not engine or engine == program.engine:
        return program
    return dataclasses.replace(program, engine=engine, voice=None)


def voice_settings(project: Project, program, engine: str | None = None) -> VoiceSettings:
    """The program's voice, rate, engine (or the one given on the command line) and loudness."""
    from cuecoach.synth.clips import VoiceSettings

    engine = engine or program.engine
    voice = None if foreign_voice(program, engine) else program.voice  # the engine's own default
    if voice and voice.lower().endswith(".onnx"):  # a Piper model in the routines folder
        voice = str((project.routines / voice).resolve())
    return VoiceSettings(voice, program.rate, engine=engine, loudness=program.loudness)


def prepare(days: Days, ref: str, sounds: dict[str, bytes], encode: str = "frames", source: str = "",
            engine: str | None = None, music_override: str | None = None) -> Job:
    """Load and compile a day and work out its key. Pure but for reading the routine file.

    `days`: the series' days, each read once for the build: a day's talk depends on what came
    before it, and its track number on its place in the series, never on other files.
    """
    project, routine = days.project, days.day(ref)
    program = with_engine(days.series.program, engine)
    script = compile_routine(routine, program, days.known(routine), days.place(routine))
    settings = voice_settings(project, program)
    track = track_number(days.order, routine.id)
    gear = ", ".join(script.equipment)
    cover = cover_path(project, program)
    tags = Tags(title=routine.title, album=program.title, artist=program.author, track=track,
                comment=f"Equipment: {gear}" if gear else "No equipment", genre=program.genre, year=program.year,
                cover=str(cover.resolve()))
    # the image is part of the track: a new image makes a new key
    hashed = {**sounds, "cover": cover.read_bytes()}
    mp3, timeline = outputs(project, routine.id)
    music = resolve(project, program, routine, music_override)
    key = build_key(script, settings, program.bitrate, tags, hashed, encode, music)
    # a coach's image or music outside the routines folder's top level is part of the source too (a made
    # cover is drawn from the title and author, in program.yaml)
    also: tuple[str, ...] = (str(cover.resolve()),) if program.cover and cover.parent != project.routines else ()
    also += tuple(str((project.routines / name).resolve()) for name, _ in (music.sources if music else ())
                  if (project.routines / name).parent.resolve() != project.routines.resolve())
    return Job(script, settings, program.bitrate, tags, sounds, mp3, timeline, project.cache, key, encode,
               with_files(source, also), also, music, project.routines)


def tones(sound_files: dict[str, bytes], target_lufs: float) -> dict[str, bytes]:
    """The start, stop and finish sounds at their fixed level for the program's loudness target, as PCM."""
    from cuecoach.audio import loudness, sound

    return {name: loudness.prepare_tone(sound.decode(data, f"sounds/{name}.wav").raw_data, target_lufs)
            for name, data in sound_files.items()}


def leveled_clips(job: Job, on_synth: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """Every clip of the day, synthesized if missing, at the level it has in every track."""
    from cuecoach.synth.clips import SpeechCache, ensure_clips

    synthesized: list[str] = []

    def note(text: str) -> None:
        synthesized.append(text)
        if on_synth:
            on_synth(text)

    try:
        clips = ensure_clips(job.script.speech(), job.settings, SpeechCache(job.cache), note)
    except BuildError as exc:  # name the routine and the line whose speech failed
        raise speech_error(job.script, synthesized[-1] if synthesized else "", str(exc)) from None
    return clips  # every piece's level was fixed when it was made: no gain per track


def speech_error(script: Script, text: str, message: str) -> BuildError:
    """A line's speech failed: the message, after where the line was written (file:line:col); for a value a
    phrase says (a title, a name), the value's line, and the phrase's."""
    event = next((e for e in script.events if e.text == text and e.where), None)
    if event is None:
        return BuildError(message)
    phrase = f" (said in phrase '{event.role.replace('-', '_')}', {event.said_in})" if event.said_in else ""
    return BuildError(f"{event.where}: {message}{phrase}")


def finish_day(job: Job, music_spans: list[tuple[int, int]] | None = None) -> None:
    """The lyrics, then the JSON (last: it vouches for the MP3, by its size and the hash of its ends)."""
    from cuecoach.builder.current import mp3_seal

    write_text_if_changed(job.mp3.with_suffix(".lrc"), lrc(job.script, job.tags))
    # a day with music records it, and where the bed is ducked (ms), for `verify`; a voice-only day as before
    heard = {"music": {"sources": [name for name, _ in job.music.sources], "level": job.music.level,
                       "duck": job.music.duck, "ducked_ms": [[s * 1000 // FRAME_RATE, e * 1000 // FRAME_RATE]
                                                             for s, e in music_spans or []]}} if job.music else {}
    write_json(job.timeline, timeline_json(job.script, **heard, build_key=job.key, bitrate=job.bitrate,
                                          voice=job.settings.voice, rate=job.settings.rate,
                                          loudness=job.settings.loudness, engine=job.settings.engine, encode=job.encode,
                                          source_key=job.source, source_files=list(job.source_files),
                                          mp3=mp3_seal(job.mp3)))


def warning_lines(script: Script) -> list[str]:
    return [f"{where}: {message}" for where, message in script.warnings]


def finish_unchanged(job: Job, timeline: dict) -> dict:
    """A current day whose files changed in ways that do not change it (a comment, the code): record the
    new source key, so that the next build knows it at a glance. Returns its timeline as it now is."""
    recorded = {"source_key": job.source, "source_files": list(job.source_files)}
    if not job.source or all(timeline.get(name, []) == value for name, value in recorded.items()):
        return timeline
    updated = {**timeline, **recorded}
    # no fsync: if this is lost, the next build merely compiles the day again to know it is current
    write_json(job.timeline, updated, sync=False)
    return updated
