"""The run over many days: decide what is stale (in the main process), then make it.

The cheap check (`current.glance`) answers first for days whose files are unchanged; for the rest,
the voice, the cover and the sounds are judged as `check` judges them (a problem refuses the whole
build, exit 2, before anything is written), then the days are loaded and compiled, and those whose
build key says so are made by joining encoded frames (`frames.py`, the default) or, with
`encode="whole"`, by encoding each rendered day whole (`whole.py`). One failing day does not stop
the others; the playlists are written last.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cuecoach import system
from cuecoach.builder.current import Glance, glance
from cuecoach.builder.export import write_playlists
from cuecoach.builder.job import (
    DayResult,
    Job,
    Summary,
    finish_unchanged,
    is_current,
    prepare,
    read_sounds,
    warning_lines,
    with_engine,
)
from cuecoach.builder.sources import source_problems
from cuecoach.builder.whole import make, make_in_pool
from cuecoach.config.load import Days, load_series_or_raise
from cuecoach.config.project import Project
from cuecoach.errors import CueError, InputError


def build(project: Project, refs: list[str], *, force: bool = False, jobs: int | None = None,
          on_start: Callable[[str], None] | None = None, on_done: Callable[[DayResult], None] | None = None,
          on_synth: Callable[[str], None] | None = None, encode: str = "frames", engine: str | None = None,
          music: str | None = None) -> Summary:
    """Build the named days (ids or paths), skipping current ones; one failing day does not stop the others.
    `music`: none or default for every day, whatever the routines say (None: as they say)."""
    summary = Summary()

    def finish(result: DayResult) -> None:
        summary.results.append(result)
        if on_done:
            on_done(result)

    # the cheap check first: days whose files are unchanged and whose MP3 is whole need nothing loaded
    seen = glance(project, refs, force=force, encode=encode, engine=engine, music=music)
    for routine_id, _, data in seen.current:
        finish(DayResult(routine_id, "skipped", duration_ms=int(data.get("duration_ms", 0))))
    kept = {timeline: data for _, timeline, data in seen.current}  # timelines read in this build, as they are now
    if seen.rest:
        todo = stale(project, seen, finish, kept, encode=encode, engine=engine, music=music)
        make_all(todo, jobs or os.cpu_count() or 1, encode, on_start, finish, on_synth)
    write_playlists(project, kept)
    return summary


def stale(project: Project, seen: Glance, finish: Callable[[DayResult], None], kept: dict[Path, dict], *,
          encode: str, engine: str | None, music: str | None = None) -> list[Job]:
    """The days the cheap check left, loaded and compiled: those whose build key says they must be made.
    Those whose key says they are current are finished here, and their timelines added to `kept`."""
    days = Days(project, load_series_or_raise(project))
    # check's problems, the same way; a speech engine missing from the machine fails each day, as an outside part
    problems, _ = source_problems(project, with_engine(days.series.program, engine), machine=False)
    if problems:
        raise InputError(problems)
    sounds = read_sounds(project, days.series.program)
    if project.output.is_dir():
        system.remove_stale_parts(project.output)
    if project.cache.is_dir():  # a killed build's cache entries and scratch files (the stock's encode)
        system.remove_stale_parts(project.cache, recursive=True)
    todo: list[Job] = []
    for ref in seen.rest:
        try:
            job = prepare(days, ref, sounds, encode, seen.sources.get(ref, ""), engine, music)
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
    """Make the stale days: joined from encoded frames (the default), or each encoded whole, in workers. A day
    with music is joined from encoded stretches of its mixed track: it is never silent, so joins in silence
    do not apply (stretched.py)."""
    if encode == "frames":
        from cuecoach.builder.frames import make_assembled
        from cuecoach.builder.stretched import make_with_music

        if voiced := [job for job in todo if job.music is None]:
            make_assembled(voiced, jobs, on_start, finish, on_synth)
        if scored := [job for job in todo if job.music is not None]:
            make_with_music(scored, jobs, on_start, finish, on_synth)
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
