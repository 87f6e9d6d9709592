"""The site: what a phone needs to play the series, made from what `build` left in the output folder.

    feed.xml                 the podcast feed (absolute URLs under the base URL)
    index.html, player.*     the web player (package data: plain HTML, CSS and JS), coach.js, sw.js
    manifest.webmanifest     the installed web app, named by the series' title
    site.json                the series for the player: every day, built or not, in order; a built day's
                             track as audio/<day>.mp3?v=<version>, the version from its build key (a track
                             made anew has a new address: no cache holds the old bytes for it);
                             "watch": true while `serve --watch` runs, and the open page then polls this
                             file and reloads a day whose version changed
    cover.jpg                the series' cover
    audio/<day>.mp3          the tracks (hard links to output/<day>.mp3 where possible)
    chapters/<day>.json      Podcasting 2.0 JSON chapters
    transcripts/<day>.vtt    WebVTT, one cue per spoken line
    days/<day>.json          the player's timeline of a day: lines, blocks, chapters

All links inside the site are relative, so the same files work at any address; only the feed
needs the base URL. Days that are not built yet are listed by the page but left out of the feed.
"""

from __future__ import annotations

import html
import io
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin

from cuecoach import system
from cuecoach.builder.cover import cover_path, cover_problems
from cuecoach.builder.export import one_line, read_json, write_text_if_changed
from cuecoach.config.load import Days, load_series_or_raise
from cuecoach.config.project import Project, routine_ids, shown
from cuecoach.config.schema import Program
from cuecoach.errors import BuildError, InputError, Where
from cuecoach.script.compile import compile_routine
from cuecoach.script.timeline import Timeline, read_timeline
from cuecoach.site.feed import Episode, Show, feed_xml

STATIC = ("index.html", "player.css", "coach.js", "player.js", "sw.js")
MANIFEST = "manifest.webmanifest"  # package data too, named for the series when written
SHORT_NAME_MAX = 15  # characters: a home screen shows about this many under the icon
DAY_FOLDERS = ("audio", "chapters", "transcripts", "days")
GUID_PREFIX = "cuecoach"
COVER_NAME = "cover.jpg"  # the page, the manifest and the feed all name this file
VERSION_CHARS = 12  # of a track's hash in its address: 48 bits, enough to tell one build of a day from another
MARKER = ".cuecoach-site"  # marks a folder as ours: only then are files in it replaced or removed


@dataclass(frozen=True)
class Day:
    """One day as the site shows it: from its routine, and from its built timeline when there is one."""

    id: str
    title: str
    week: int
    day: int
    focus: str
    equipment: tuple[str, ...]
    exercises: tuple[str, ...]
    duration_ms: int
    mp3: Path | None
    timeline: Timeline | None
    version: str = ""  # what changes when the track does: the start of its build key (builder/job.py)


@dataclass(frozen=True)
class Site:
    folder: Path
    days: tuple[Day, ...]
    feed_url: str
    page_url: str
    warnings: tuple[str, ...] = ()

    @property
    def built(self) -> list[Day]:
        return [day for day in self.days if day.mp3 is not None]


def _bare(item: str) -> str:
    """'a foam roller' -> 'foam roller': equipment as a list shows it."""
    for article in ("a ", "an ", "the "):
        if item.lower().startswith(article):
            return item[len(article):]
    return item


def collect_days(project: Project) -> tuple[Program, list[Day]]:
    """Every day of the series in order; compiling is pure and quick, so unbuilt days are listed too."""
    loaded = Days(project, load_series_or_raise(project))  # a day's length depends on the exercises met before it
    days = []
    for routine_id in routine_ids(project):
        routine = loaded.day(routine_id)
        script = compile_routine(routine, loaded.series.program, loaded.known(routine),
                                 loaded.place(routine))
        mp3, data = project.output / f"{routine_id}.mp3", read_json(project.output / f"{routine_id}.json")
        timeline = read_timeline(data) if data is not None and mp3.is_file() else None
        exercises = tuple(dict.fromkeys(step.exercise.name for step in routine.steps))
        days.append(Day(routine_id, routine.title, routine.week, routine.day,
                        routine.intro.text if routine.intro else "", tuple(_bare(e) for e in script.equipment),
                        exercises, timeline.duration_ms if timeline else script.duration_ms,
                        mp3 if timeline else None, timeline, _version(data) if timeline else ""))
    return loaded.series.program, days


def _version(data: dict | None) -> str:
    """The track's version: the start of the build key its JSON recorded (what it was made from: a track is made
    anew only when its key changes, or its file was damaged and it is made again the same)."""
    return str((data or {}).get("build_key", ""))[:VERSION_CHARS]


def minutes(ms: int) -> str:
    return f"{max(1, round(ms / 60_000))} min"


def description(day: Day) -> str:
    """The episode's notes: focus, length, equipment, and the exercises in order."""
    gear = ", ".join(day.equipment) or "nothing"
    parts = [day.focus] if day.focus else []
    parts += [f"{minutes(day.duration_ms)}. Equipment: {gear}.",
              "Exercises: " + "; ".join(f"{n}. {name}" for n, name in enumerate(day.exercises, 1)) + ".",
              "Stop if you feel sharp pain."]
    return "\n".join(parts)


def chapters_json(timeline: Timeline) -> dict:
    """Podcasting 2.0 JSON chapters (version 1.2.0): start times in seconds."""
    return {"version": "1.2.0",
            "chapters": [{"startTime": c.start_ms / 1000, "endTime": c.end_ms / 1000, "title": c.title}
                         for c in timeline.chapters]}


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes_, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes_:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def webvtt(timeline: Timeline) -> str:
    """A WebVTT transcript: each spoken line from its start until the next begins (or its slot ends).
    A line's text is one line (a blank one would end its cue), with &, < and > escaped (WebVTT reads tags and
    entities in a cue, and "-->" as a cue's timing)."""
    cues = ["WEBVTT", ""]
    for number, line in enumerate(timeline.lines, 1):
        text = html.escape(one_line(line.text), quote=False)
        cues += [str(number), f"{_vtt_time(line.at_ms)} --> {_vtt_time(max(line.end_ms, line.at_ms + 1))}", text, ""]
    return "\n".join(cues)


def player_day(timeline: Timeline) -> dict:
    """What the day's page draws and follows: chapters, timed blocks (with sides) and spoken lines."""
    return {
        "id": timeline.routine, "title": timeline.title, "duration_ms": timeline.duration_ms,
        "chapters": [{"title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms} for c in timeline.chapters],
        "blocks": [{"name": b.title, "side": b.side, "start_ms": b.start_ms, "end_ms": b.end_ms}
                   for b in timeline.blocks],
        "lines": [{"at_ms": line.at_ms, "end_ms": line.end_ms, "text": line.text} for line in timeline.lines],
    }


def site_json(program: Program, days: list[Day], cover_name: str, watch: bool = False) -> dict:
    """The series for the player; `watch`: a server rebuilds days as their files change (the page polls)."""
    return {
        "title": program.title, "author": program.author, "cover": cover_name, "feed": "feed.xml", "watch": watch,
        "days": [{"id": d.id, "title": d.title, "week": d.week, "day": d.day, "focus": d.focus,
                  "duration_ms": d.duration_ms, "equipment": list(d.equipment), "exercises": list(d.exercises),
                  "audio": f"audio/{d.id}.mp3" + (f"?v={d.version}" if d.version else "") if d.mp3 else None,
                  "bytes": d.mp3.stat().st_size if d.mp3 else None} for d in days],
    }


def web_manifest(program: Program) -> dict:
    """The web app's manifest: the package's, with the series' title for its name (and as many of the
    title's first words as fit under a home-screen icon for its short name)."""
    data = json.loads(resources.files("cuecoach.site").joinpath("web", MANIFEST).read_text())
    words = program.title.split()
    short = words[0] if words else data["short_name"]
    for word in words[1:]:
        if len(short) + 1 + len(word) > SHORT_NAME_MAX:
            break
        short += " " + word
    return {**data, "name": program.title or data["name"], "short_name": short}


def place(source: Path, target: Path) -> None:
    """Put a copy of a (large) file at `target`: a hard link when the file system allows, else a copy.
    A target that already holds the same bytes is left alone."""
    if target.exists():
        if os.path.samefile(source, target):
            return
        here, there = source.stat(), target.stat()
        if here.st_size == there.st_size and there.st_mtime >= here.st_mtime:
            return
    with system.atomic_path(target) as temp:
        temp.unlink()
        try:
            os.link(source, temp)
        except OSError:  # another file system, or one without links
            shutil.copyfile(source, temp)


def _write(target: Path, data: str | bytes) -> None:
    if isinstance(data, str):
        write_text_if_changed(target, data)
    elif not target.is_file() or target.read_bytes() != data:
        system.write_atomic(target, data)


def _json(data: dict) -> str:
    # ASCII, every other character escaped: a lone surrogate from a YAML escape is valid JSON then, and encodes
    return json.dumps(data, indent=1, ensure_ascii=True) + "\n"


def sources_state(project: Project) -> list[tuple[str, int, int]]:
    """What the site is made from, as (file, mtime, size): when this changes, the site is stale."""
    found = []
    for folder, pattern in ((project.output, "*.mp3"), (project.output, "*.json"), (project.routines, "*.yaml")):
        for path in folder.glob(pattern) if folder.is_dir() else ():
            try:
                stat = path.stat()
            except OSError:  # removed while we looked
                continue
            found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return sorted(found)


def _claim(folder: Path, checked: bool) -> None:
    """Refuse a folder given by the user that holds files of someone else's: publishing replaces and
    removes files. (The output folder's own site folder is ours whatever it holds.)"""
    if checked and folder.is_dir() and not (folder / MARKER).is_file() and any(folder.iterdir()):
        raise InputError((Where(shown(folder)), "this folder is not empty, and it is not a site cuecoach made; "
                                                "publish to a new or empty folder"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # read-only, or a file where a folder should be
        raise BuildError(f"{shown(folder)}: cannot make the site's folder here: {exc.strerror}; "
                         "choose a folder you can write to") from None
    _write(folder / MARKER, "A site made by `cuecoach publish` or `cuecoach serve`: its files are replaced "
                            "each time.\n")


def _site_cover(cover: Path, target: Path) -> None:
    """The site's cover.jpg (the page, the manifest and the feed name it): the image itself when it is a
    JPEG, else a JPEG of it. The image was judged first (cover.cover_problems)."""
    from PIL import Image

    with Image.open(cover) as image:
        if image.format == "JPEG":
            place(cover, target)
        else:
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=90)
            _write(target, out.getvalue())


def _write_day(folder: Path, day: Day) -> set[Path]:
    """A built day's files: its track, chapters, transcript and the player's timeline."""
    assert day.mp3 is not None and day.timeline is not None
    files = {f"audio/{day.id}.mp3": None, f"chapters/{day.id}.json": _json(chapters_json(day.timeline)),
             f"transcripts/{day.id}.vtt": webvtt(day.timeline), f"days/{day.id}.json": _json(player_day(day.timeline))}
    for relative, text in files.items():
        if text is None:
            place(day.mp3, folder / relative)
        else:
            _write(folder / relative, text)
    return {folder / relative for relative in files}


def _episode(day: Day, program: Program, base: str, track: Path) -> Episode:
    return Episode(
        # the series and the day name an episode, never the build: a rebuilt day stays the same episode
        guid=f"{GUID_PREFIX}:{program.title}:{day.id}", title=day.title, season=day.week, number=day.day,
        description=description(day), audio_url=urljoin(base, f"audio/{day.id}.mp3"),
        audio_bytes=track.stat().st_size, duration_ms=day.duration_ms,
        chapters_url=urljoin(base, f"chapters/{day.id}.json"),
        transcript_url=urljoin(base, f"transcripts/{day.id}.vtt"), link=urljoin(base, f"#{day.id}"))


def _show(program: Program, days: list[Day], base: str, cover_name: str) -> Show:
    newest = max((d.mp3.stat().st_mtime for d in days if d.mp3), default=0)
    return Show(title=program.title, author=program.author,
                description=f"{program.title}: a follow-along program, one guided session a day, "
                            f"{len(days)} days. Press play, put the phone down, and follow the voice.",
                link=base, feed_url=urljoin(base, "feed.xml"), cover_url=urljoin(base, cover_name),
                year=program.year, updated=datetime.fromtimestamp(newest, UTC))


def write_site(project: Project, folder: Path, base_url: str, chosen: bool = False, watch: bool = False) -> Site:
    """Write (or refresh) the whole site in `folder`, with the feed's links under `base_url`.
    A folder the user `chosen` must be empty, or a site made before; `watch`: tell the page to poll."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    program, days = collect_days(project)
    problems, warned = cover_problems(project, program)  # as check and build judge it: nothing written
    if problems:
        raise InputError(problems)
    _claim(folder, checked=chosen)
    _site_cover(cover_path(project, program), folder / COVER_NAME)
    warnings = [f"{where}: {message}" for where, message in warned]
    for name in STATIC:
        _write(folder / name, resources.files("cuecoach.site").joinpath("web", name).read_bytes())
    keep: set[Path] = set()
    episodes = []
    for day in days:
        if day.mp3 is not None and day.timeline is not None:
            keep |= _write_day(folder, day)
            episodes.append(_episode(day, program, base, folder / "audio" / f"{day.id}.mp3"))
    for sub in DAY_FOLDERS:  # days removed or no longer built leave no files behind
        for stale in (folder / sub).glob("*") if (folder / sub).is_dir() else ():
            if stale.is_file() and stale not in keep:
                stale.unlink()
    _write(folder / "site.json", _json(site_json(program, days, COVER_NAME, watch)))
    _write(folder / MANIFEST, _json(web_manifest(program)))
    _write(folder / "feed.xml", feed_xml(_show(program, days, base, COVER_NAME), episodes))
    return Site(folder, tuple(days), urljoin(base, "feed.xml"), base, tuple(warnings))
