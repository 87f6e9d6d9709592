"""Build days: decide what is stale (in the main process), then synthesize, render and export it (in workers).

A day's build key hashes everything that shapes its audio: the compiled script, the keys
of its clips, the sound files, the MP3 settings and tags, the encoding and the code
version. It is stored in the day's JSON timeline with the MP3's size and the hash of its
ends; a day whose JSON holds the same key and whose MP3 still matches is current and is
skipped. Before any of that, `current.py` answers for days whose files are unchanged.

Days are made by joining encoded frames (`assembly_build.py`, the default) or, with
`encode="whole"`, by encoding each rendered day whole in worker processes (`make`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from typing import TYPE_CHECKING

from . import __version__, system
from .compile import SOUNDS, Script, compile_routine
from .cover import cover_path
from .current import Glance, glance, with_files
from .errors import BuildError, CueError, InputError, Where
from .export import Tags, lrc, write_json, write_playlists, write_text_if_changed
from .load import Days, Project, Series, load_series, load_series_or_raise
from .project import misnamed_files, outputs, routine_ids, shown, track_number
from .schema import Program
from .timeline import timeline_json

if TYPE_CHECKING:
    from .synth import VoiceSettings
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


def read_sounds(project: Project, lead_in: str) -> dict[str, bytes]:
    """The sound files a build uses: the pip only for a series whose lead-in is pips."""
    sounds = {}
    for name in (s for s in SOUNDS if s != "pip" or lead_in == "pips"):
        path = project.sounds / f"{name}.wav"
        try:
            sounds[name] = path.read_bytes()
        except OSError:
            raise CueError(f"{path}: missing sound; run `python sounds/make_sounds.py` to make the default "
                           "sounds, or drop in a WAV of your own") from None
    return sounds


def build_key(script: Script, settings: VoiceSettings, bitrate: str, tags: Tags, sounds: dict[str, bytes],
              encode: str = "frames") -> str:
    blob = json.dumps({
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
    from .current import outputs_whole

    return timeline.get("build_key") == job.key and outputs_whole(job.mp3, timeline)


def with_engine(program: Program, engine: str | None) -> Program:
    """The program, speaking with `engine` if one was given on the command line: another engine than
    program.yaml's speaks with its own default voice (a voice belongs to its engine)."""
    if not engine or engine == program.engine:
        return program
    return dataclasses.replace(program, engine=engine, voice=None)


def voice_problems(project: Project, program: Program) -> list[tuple]:
    """A voice or engine that does not exist, located in program.yaml (for `check`, before any build)."""
    where = program.where.get("voice") or program.where.get("engine") or Where(shown(project.routines / "program.yaml"))
    try:
        settings = voice_settings(project, program)
        if settings.engine == "piper":
            from .synth import piper_engine

            path = piper_engine.model_path(settings.voice)
            if not path.is_file():
                return [(where, f"'voice' names {program.voice}, which is not a file; give the path of a Piper .onnx "
                                "model relative to the routines folder, or en_US-joe-medium")]
            piper_engine.load(str(path))
        elif program.voice:
            from .synth import pyttsx3_engine

            if pyttsx3_engine.pick_voice(pyttsx3_engine.voices(), program.voice) is None:
                return [(where, f"no {settings.engine} voice matches {program.voice!r}; run `cuecoach voices` to "
                                "list them, or set voice: null for the system default")]
    except CueError as exc:
        return [(program.where.get("engine") or where, str(exc))]
    return []


def voice_settings(project: Project, program, engine: str | None = None) -> VoiceSettings:
    """The program's voice, rate, engine (or the one given on the command line) and loudness."""
    from .synth import VoiceSettings

    engine = engine or program.engine
    voice = program.voice
    if voice and voice.lower().endswith(".onnx"):  # a Piper model in the routines folder
        voice = str((project.routines / voice).resolve())
    return VoiceSettings(voice, program.rate, engine=engine, loudness=program.loudness)


def prepare(days: Days, ref: str, sounds: dict[str, bytes], encode: str = "frames", source: str = "",
            engine: str | None = None) -> Job:
    """Load and compile a day and work out its key. Pure but for reading the routine file.

    `days`: the series' days, each read once for the build: a day's talk depends on what came
    before it, and its track number on its place in the series, never on other files.
    """
    project, routine = days.project, days.day(ref)
    program = with_engine(days.series.program, engine)
    script = compile_routine(routine, program, days.known(routine))
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
    key = build_key(script, settings, program.bitrate, tags, hashed, encode)
    # a coach's image outside the routines folder's top level is part of the source too (a made one is
    # drawn from the title and author, in program.yaml)
    also = (str(cover.resolve()),) if program.cover and cover.parent != project.routines else ()
    return Job(script, settings, program.bitrate, tags, sounds, mp3, timeline, project.cache, key, encode,
               with_files(source, also), also)


def tones(sound_files: dict[str, bytes], target_lufs: float) -> dict[str, bytes]:
    """The start, stop and finish sounds at their fixed level for the program's loudness target, as PCM."""
    from . import audio, loudness

    return {name: loudness.prepare_tone(audio.decode(data, f"sounds/{name}.wav").raw_data, target_lufs)
            for name, data in sound_files.items()}


def leveled_clips(job: Job, on_synth: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """Every clip of the day, synthesized if missing, at the level it has in every track."""
    from .synth import SpeechCache, ensure_clips

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
    """A line's speech failed: the message, after where the line was written (file:line:col)."""
    where = next((str(e.where) for e in script.events if e.text == text and e.where), "")
    return BuildError(f"{where + ': ' if where else ''}{message}")


def finish_day(job: Job) -> None:
    """The lyrics, then the JSON (last: it vouches for the MP3, by its size and the hash of its ends)."""
    from .current import mp3_seal

    write_text_if_changed(job.mp3.with_suffix(".lrc"), lrc(job.script, job.tags))
    write_json(job.timeline, timeline_json(job.script, build_key=job.key, bitrate=job.bitrate,
                                          voice=job.settings.voice, rate=job.settings.rate,
                                          loudness=job.settings.loudness, engine=job.settings.engine, encode=job.encode,
                                          source_key=job.source, source_files=list(job.source_files),
                                          mp3=mp3_seal(job.mp3)))


def make(job: Job, on_synth: Callable[[str], None] | None = None) -> DayResult:
    """Synthesize what is missing, render and encode one whole day (`--encode whole`). Runs in a worker."""
    from .export import encode_mp3
    from .render import render

    began = time.perf_counter()
    synthesized: list[str] = []
    clips = leveled_clips(job, lambda text: (synthesized.append(text), on_synth and on_synth(text)))
    track = render(job.script, clips, tones(job.sound_files, job.settings.loudness))
    encode_mp3(track, job.mp3, job.tags, job.script.chapters, job.bitrate, job.script.routine)
    finish_day(job)
    return DayResult(job.script.routine, "built", synthesized=len(synthesized),
                     seconds=time.perf_counter() - began, duration_ms=job.script.duration_ms,
                     warnings=warning_lines(job.script))


def warning_lines(script: Script) -> list[str]:
    return [f"{where}: {message}" for where, message in script.warnings]


def _make_in_worker(job: Job) -> DayResult:
    try:
        return make(job)
    except CueError as exc:
        return DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code)


def build(project: Project, refs: list[str], *, force: bool = False, jobs: int | None = None,
          on_start: Callable[[str], None] | None = None, on_done: Callable[[DayResult], None] | None = None,
          on_synth: Callable[[str], None] | None = None, encode: str = "frames", engine: str | None = None) -> Summary:
    """Build the named days (ids or paths), skipping current ones; one failing day does not stop the others."""
    summary = Summary()

    def finish(result: DayResult) -> None:
        summary.results.append(result)
        if on_done:
            on_done(result)

    # the cheap check first: days whose files are unchanged and whose MP3 is whole need nothing loaded
    seen = glance(project, refs, force=force, encode=encode, engine=engine)
    for routine_id, _, data in seen.current:
        finish(DayResult(routine_id, "skipped", duration_ms=int(data.get("duration_ms", 0))))
    kept = {timeline: data for _, timeline, data in seen.current}  # timelines read in this build, as they are now
    if seen.rest:
        todo = stale(project, seen, finish, kept, encode=encode, engine=engine)
        make_all(todo, jobs or os.cpu_count() or 1, encode, on_start, finish, on_synth)
    write_playlists(project, kept)
    return summary


def stale(project: Project, seen: Glance, finish: Callable[[DayResult], None], kept: dict[Path, dict], *,
          encode: str, engine: str | None) -> list[Job]:
    """The days the cheap check left, loaded and compiled: those whose build key says they must be made.
    Those whose key says they are current are finished here, and their timelines added to `kept`."""
    days = Days(project, load_series_or_raise(project))
    sounds = read_sounds(project, days.series.program.lead_in)
    if project.output.is_dir():
        system.remove_stale_parts(project.output)
    todo: list[Job] = []
    for ref in seen.rest:
        try:
            job = prepare(days, ref, sounds, encode, seen.sources.get(ref, ""), engine)
        except CueError as exc:
            finish(DayResult(Path(ref).stem, "failed", str(exc), exit_code=exc.exit_code))
            continue
        timeline = seen.read.get(ref)  # as the cheap check read it (not with --force); nothing wrote it since
        if timeline is not None and is_current(job, timeline):
            kept[job.timeline] = finish_unchanged(job, timeline)
            finish(DayResult(job.script.routine, "skipped", duration_ms=job.script.duration_ms,
                             warnings=warning_lines(job.script)))
        else:
            todo.append(job)
    return todo


def make_all(todo: list[Job], jobs: int, encode: str, on_start: Callable[[str], None] | None,
             finish: Callable[[DayResult], None], on_synth: Callable[[str], None] | None) -> None:
    """Make the stale days: joined from encoded frames (the default), or each encoded whole, in workers."""
    if todo and encode == "frames":
        from .assembly_build import make_assembled

        make_assembled(todo, jobs, on_start, finish, on_synth)
        return
    workers = max(1, min(jobs, len(todo)))
    if workers > 1:
        make_in_pool(todo, workers, on_start, finish)
        return
    for job in todo:
        if on_start:
            on_start(job.script.routine)
        try:
            finish(make(job, on_synth))
        except CueError as exc:
            finish(DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code))


def make_in_pool(todo: list[Job], workers: int, on_start: Callable[[str], None] | None,
                 finish: Callable[[DayResult], None]) -> None:
    """`--encode whole` with more than one worker: each day made whole in a worker process."""
    # spawn, not fork: each worker starts its own speech engine (pyttsx3 keeps one per process)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < workers:
                job = queue.pop(0)
                if on_start:
                    on_start(job.script.routine)
                pending[pool.submit(_make_in_worker, job)] = job
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    finish(future.result())
                except Exception as exc:  # noqa: BLE001 - a crashed worker fails its day, not the batch
                    finish(DayResult(job.script.routine, "failed", f"worker crashed: {exc}", exit_code=1))


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


def check(project: Project, engine: str | None = None) -> tuple[list[tuple], list[tuple]]:
    """Every problem, and every warning (a cue left out), in every routine file and the library, without building."""
    problems: list = []
    warnings: list = []
    program, library, known = load_series(project, problems)
    ids = routine_ids(project)
    problems += [(Where(shown(path)), f"routine files end in .yaml; rename it to {path.stem}.yaml")
                 for path in misnamed_files(project)]
    if not ids:
        problems.append((Where(shown(project.routines)), "no routines here; write one such as week1-day1.yaml"))
    if program is None:
        return sorted(set(problems)), []
    program = with_engine(program, engine)
    problems += voice_problems(project, program)
    days = Days(project, Series(program, library, frozenset(known)))
    for routine_id in ids:
        try:
            routine = days.day(routine_id)
            warnings.extend(compile_routine(routine, program, days.known(routine)).warnings)
        except InputError as exc:
            problems.extend(exc.problems)
    return sorted(set(problems)), sorted(set(warnings))
