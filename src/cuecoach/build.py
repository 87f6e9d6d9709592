"""Build days: decide what is stale (in the main process), then synthesize, render and export it (in workers).

A day's build key hashes everything that shapes its audio: the compiled script, the keys
of its clips, the sound files, the MP3 settings and tags, and the code version. It is
stored in the day's JSON timeline; a day whose MP3 exists and whose JSON holds the same
key is current and is skipped.
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

from . import __version__, audio, loudness, system
from .compile import SOUNDS, Script, compile_routine
from .cover import cover_path
from .errors import BuildError, CueError, InputError, Where
from .export import Tags, encode_mp3, lrc, playlist, read_json, write_json, write_text_if_changed
from .schema import Program
from .load import Project, Series, load_day, load_series, load_series_or_raise, routine_ids, shown
from .render import render
from .synth import SpeechCache, VoiceSettings, ensure_clips
from .timeline import timeline_json

BUILD_FORMAT = f"{__version__}/3"  # bump when rendering or export changes what a build writes


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


@dataclass
class DayResult:
    routine: str
    status: str  # "built", "skipped" or "failed"
    message: str = ""
    synthesized: int = 0
    seconds: float = 0.0
    duration_ms: int = 0
    exit_code: int = 0


@dataclass
class Summary:
    results: list[DayResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.results), default=0)


def read_sounds(project: Project) -> dict[str, bytes]:
    sounds = {}
    for name in SOUNDS:
        path = project.sounds / f"{name}.wav"
        try:
            sounds[name] = path.read_bytes()
        except OSError:
            raise CueError(f"{path}: missing sound; run `python sounds/make_sounds.py` to make the default "
                           "sounds, or drop in a WAV of your own") from None
    return sounds


def build_key(script: Script, settings: VoiceSettings, bitrate: str, tags: Tags, sounds: dict[str, bytes]) -> str:
    blob = json.dumps({
        "format": BUILD_FORMAT,
        "script": timeline_json(script),
        "clips": [settings.key(text) for text in script.speech()],
        "sounds": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(sounds.items())},
        "bitrate": bitrate,
        "tags": asdict(tags),
    }, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def outputs(project: Project, routine_id: str) -> tuple[Path, Path]:
    return project.output / f"{routine_id}.mp3", project.output / f"{routine_id}.json"


def is_current(mp3: Path, timeline: Path, key: str) -> bool:
    """The JSON is written last, so a matching key in it means the MP3 and lyrics beside it are complete."""
    data = read_json(timeline)
    return (data is not None and data.get("build_key") == key and mp3.is_file() and mp3.stat().st_size > 0
            and mp3.with_suffix(".lrc").is_file())


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
    engine = engine or program.engine
    voice = program.voice
    if voice and voice.lower().endswith(".onnx"):  # a Piper model in the routines folder
        voice = str((project.routines / voice).resolve())
    return VoiceSettings(voice, program.rate, engine=engine, loudness=program.loudness)


def prepare(project: Project, series: Series, ref: str, sounds: dict[str, bytes], all_ids: list[str],
            engine: str | None = None) -> Job:
    """Load and compile a day and work out its key. Pure but for reading the routine file."""
    routine = load_day(project, series, ref)
    program = with_engine(series.program, engine)
    script = compile_routine(routine, program)
    settings = voice_settings(project, program)
    track = f"{all_ids.index(routine.id) + 1}/{len(all_ids)}" if routine.id in all_ids else "1"
    gear = ", ".join(script.equipment)
    cover = cover_path(project, program)
    tags = Tags(title=routine.title, album=program.title, artist=program.author, track=track,
                comment=f"Equipment: {gear}" if gear else "No equipment", genre=program.genre, year=program.year,
                cover=str(cover.resolve()))
    # the image is part of the track: a new image makes a new key
    hashed = {**sounds, "cover": cover.read_bytes()}
    mp3, timeline = outputs(project, routine.id)
    key = build_key(script, settings, program.bitrate, tags, hashed)
    return Job(script, settings, program.bitrate, tags, sounds, mp3, timeline, project.cache, key)


def make(job: Job, on_synth: Callable[[str], None] | None = None) -> DayResult:
    """Synthesize what is missing, render and export one day. Runs in a worker process."""
    began = time.perf_counter()
    synthesized: list[str] = []

    def note(text: str) -> None:
        synthesized.append(text)
        if on_synth:
            on_synth(text)

    try:
        clips = ensure_clips(job.script.speech(), job.settings, SpeechCache(job.cache), note)
    except BuildError as exc:  # name the routine and the line whose speech failed
        text = synthesized[-1] if synthesized else ""
        where = next((str(e.where) for e in job.script.events if e.text == text and e.where), "")
        raise BuildError(f"{where + ': ' if where else ''}{exc}") from None
    # every piece's level was fixed when it was made: no gain per track
    sounds = {name: loudness.prepare_tone(audio.decode(data, f"sounds/{name}.wav").raw_data, job.settings.loudness)
              for name, data in job.sound_files.items()}
    track = render(job.script, clips, sounds)
    encode_mp3(track, job.mp3, job.tags, job.script.chapters, job.bitrate, job.script.routine)
    write_text_if_changed(job.mp3.with_suffix(".lrc"), lrc(job.script, job.tags))
    write_json(job.timeline, timeline_json(job.script, build_key=job.key, bitrate=job.bitrate,
                                          voice=job.settings.voice, rate=job.settings.rate,
                                          loudness=job.settings.loudness,
                                          engine=job.settings.engine))
    return DayResult(job.script.routine, "built", synthesized=len(synthesized),
                     seconds=time.perf_counter() - began, duration_ms=job.script.duration_ms)


def _make_in_worker(job: Job) -> DayResult:
    try:
        return make(job)
    except CueError as exc:
        return DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code)


def build(project: Project, refs: list[str], *, force: bool = False, jobs: int | None = None,
          on_start: Callable[[str], None] | None = None, on_done: Callable[[DayResult], None] | None = None,
          on_synth: Callable[[str], None] | None = None, engine: str | None = None) -> Summary:
    """Build the named days (ids or paths), skipping current ones; one failing day does not stop the others."""
    series = load_series_or_raise(project)
    sounds = read_sounds(project)
    all_ids = routine_ids(project)
    summary = Summary()
    if project.output.is_dir():
        system.remove_stale_parts(project.output)

    def finish(result: DayResult) -> None:
        summary.results.append(result)
        if on_done:
            on_done(result)

    todo: list[Job] = []
    for ref in refs:
        try:
            job = prepare(project, series, ref, sounds, all_ids, engine)
        except CueError as exc:
            finish(DayResult(Path(ref).stem, "failed", str(exc), exit_code=exc.exit_code))
            continue
        if not force and is_current(job.mp3, job.timeline, job.key):
            finish(DayResult(job.script.routine, "skipped", duration_ms=job.script.duration_ms))
        else:
            todo.append(job)

    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    if workers == 1:
        for job in todo:
            if on_start:
                on_start(job.script.routine)
            try:
                finish(make(job, on_synth))
            except CueError as exc:
                finish(DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code))
        write_playlists(project)
        return summary

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
    write_playlists(project)
    return summary


def write_playlists(project: Project) -> list[Path]:
    """weekN.m3u8 for each week and program.m3u8 for all, from the days built in the output folder."""
    weeks: dict[int, list[tuple[str, int, str]]] = {}
    everything = []
    for routine_id in routine_ids(project):
        mp3, timeline = outputs(project, routine_id)
        data = read_json(timeline)
        if data is None or not mp3.is_file():
            continue
        entry = (str(data.get("title", routine_id)), int(data.get("duration_ms", 0)), mp3.name)
        everything.append(entry)
        if isinstance(data.get("week"), int) and data["week"] > 0:
            weeks.setdefault(data["week"], []).append(entry)
    written = []
    for week, entries in sorted(weeks.items()):
        written.append(project.output / f"week{week}.m3u8")
        write_text_if_changed(written[-1], playlist(entries))
    if everything:
        written.append(project.output / "program.m3u8")
        write_text_if_changed(written[-1], playlist(everything))
    return written


def check(project: Project, engine: str | None = None) -> list[tuple]:
    """Every problem in every routine file and the library, without building anything."""
    problems: list = []
    program, library, known = load_series(project, problems)
    ids = routine_ids(project)
    if not ids:
        problems.append((Where(shown(project.routines)), "no routines here; write one such as week1-day1.yaml"))
    if program is None:
        return sorted(set(problems))
    program = with_engine(program, engine)
    problems += voice_problems(project, program)
    series = Series(program, library, frozenset(known))
    for routine_id in ids:
        try:
            compile_routine(load_day(project, series, routine_id), program)
        except InputError as exc:
            problems.extend(exc.problems)
    return sorted(set(problems))
