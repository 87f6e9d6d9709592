"""Build days: decide what is stale (in the main process), then synthesize, render and export it (in workers).

A day's build key hashes everything that shapes its audio: the compiled script, the keys
of its clips, the sound files, the MP3 settings and tags, and the code version. It is
stored in the day's JSON timeline; a day whose MP3 exists and whose JSON holds the same
key is current and is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
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
from .load import (Project, Series, history, known_before, load_day, load_series, load_series_or_raise,
                   misnamed_files, routine_ids, series_ids, shown, track_number)
from .render import pieces, render
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
    warnings: list[str] = field(default_factory=list)  # file:line:col: warning: ... (cues left out)


@dataclass
class Summary:
    results: list[DayResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.results), default=0)


def read_sounds(project: Project, lead_in: str = "count") -> dict[str, bytes]:
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


def prepare(project: Project, series: Series, ref: str, sounds: dict[str, bytes],
            days: dict[tuple[int, int], frozenset[str]]) -> Job:
    """Load and compile a day and work out its key. Pure but for reading the routine file.

    `days`: the series' exercises by (week, day), from `load.history`: a day's talk depends on
    what came before it, and its track number on its week and day, never on other files.
    """
    routine = load_day(project, series, ref)
    program = series.program
    script = compile_routine(routine, program, known_before(days, routine))
    settings = VoiceSettings(program.voice, program.rate)
    track = track_number(project, routine.id)
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
    sounds = {name: loudness.prepare_tone(audio.decode(data, f"sounds/{name}.wav").raw_data)
              for name, data in job.sound_files.items()}
    leveled = loudness.level_track(pieces(job.script, clips, sounds), audio.frames(job.script.duration_ms),
                                   fixed=set(sounds.values()))
    track = render(job.script, {text: leveled.get(pcm, pcm) for text, pcm in clips.items()},
                   {name: leveled.get(pcm, pcm) for name, pcm in sounds.items()})
    encode_mp3(track, job.mp3, job.tags, job.script.chapters, job.bitrate, job.script.routine)
    write_text_if_changed(job.mp3.with_suffix(".lrc"), lrc(job.script, job.tags))
    write_json(job.timeline, timeline_json(job.script, build_key=job.key, bitrate=job.bitrate,
                                          voice=job.settings.voice, rate=job.settings.rate,
                                          engine=job.settings.engine))
    return DayResult(job.script.routine, "built", synthesized=len(synthesized),
                     seconds=time.perf_counter() - began, duration_ms=job.script.duration_ms,
                     warnings=warning_lines(job.script))


def warning_lines(script: Script) -> list[str]:
    return [f"{where}: {message}" for where, message in script.warnings]


def _make_in_worker(job: Job) -> DayResult:
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # a worker's stdout is the user's terminal
            return make(job)
    except CueError as exc:
        return DayResult(job.script.routine, "failed", str(exc), exit_code=exc.exit_code)


def build(project: Project, refs: list[str], *, force: bool = False, jobs: int | None = None,
          on_start: Callable[[str], None] | None = None, on_done: Callable[[DayResult], None] | None = None,
          on_synth: Callable[[str], None] | None = None) -> Summary:
    """Build the named days (ids or paths), skipping current ones; one failing day does not stop the others."""
    series = load_series_or_raise(project)
    sounds = read_sounds(project, series.program.lead_in)
    days = history(project, series)
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
            job = prepare(project, series, ref, sounds, days)
        except CueError as exc:
            finish(DayResult(Path(ref).stem, "failed", str(exc), exit_code=exc.exit_code))
            continue
        if not force and is_current(job.mp3, job.timeline, job.key):
            finish(DayResult(job.script.routine, "skipped", duration_ms=job.script.duration_ms,
                             warnings=warning_lines(job.script)))
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
    for routine_id in series_ids(project):  # a coach's extra day is not part of the series' playlists
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


def check(project: Project) -> tuple[list[tuple], list[tuple]]:
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
    series = Series(program, library, frozenset(known))
    days = history(project, series)
    for routine_id in ids:
        try:
            routine = load_day(project, series, routine_id)
            warnings.extend(compile_routine(routine, program, known_before(days, routine)).warnings)
        except InputError as exc:
            problems.extend(exc.problems)
    return sorted(set(problems)), sorted(set(warnings))
