"""The `cuecoach` command: build, plan, check, verify, voices, say, preview, serve, publish. A thin layer over
the wings below it; messages go to stderr, what a command was asked for (a plan, a feed's address) to stdout.
`build --watch` and `serve --watch` keep running: their loops are in `watch.py`.

`entry.py` runs it, after answering a build with nothing to do itself (without importing this)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from cuecoach import __version__, system
from cuecoach.builder.check import check as check_all
from cuecoach.builder.job import Summary, with_engine
from cuecoach.builder.run import build as build_days
from cuecoach.cli.guide import PlainCommand, complete_engines, complete_routines
from cuecoach.cli.messages import INTERRUPTED, site_summary, summary_line
from cuecoach.cli.preview import preview
from cuecoach.cli.progress import BuildProgress
from cuecoach.config.load import load_routine
from cuecoach.config.project import Project, chosen, routine_ids, routine_path, shown
from cuecoach.errors import CueError, InputError
from cuecoach.script.compile import compile_routine
from cuecoach.script.timeline import format_plan

if TYPE_CHECKING:  # for annotations only: the site's modules load for serve and publish alone
    from cuecoach.site.pages import Site

app = typer.Typer(
    help="Compile follow-along exercise routines written in YAML into voice-guided MP3s.",
    no_args_is_help=True, pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: defaults shown, no <bool> placeholders beside flags
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_debug = False

class Encoding(StrEnum):
    frames = "frames"
    whole = "whole"


class MusicChoice(StrEnum):
    none = "none"
    default = "default"


RoutinesOpt = Annotated[Path | None, typer.Option("--routines", metavar="DIR",
                                                  help="Folder of routine YAML files [default: ./routines].")]
SoundsOpt = Annotated[Path | None, typer.Option("--sounds", metavar="DIR",
                                                help="Folder of start/stop/finish WAVs [default: ./sounds].")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", metavar="DIR",
                                                help="Folder for MP3s and timelines [default: ./output].")]
CacheOpt = Annotated[Path | None, typer.Option("--cache", metavar="DIR",
                                               help="Speech cache folder [default: ./.cache/cuecoach].")]
WatchOpt = Annotated[bool, typer.Option("--watch", help="Then watch the routines and sounds folders, and rebuild "
                                                       "the days a saved edit changes (Ctrl-C stops).")]
EngineOpt = Annotated[str | None, typer.Option("--engine", metavar="ENGINE", autocompletion=complete_engines,
                                              help="Speech engine: pyttsx3 or piper "
                                                   "[default: 'engine' in program.yaml].")]


def _project(routines: Path | None = None, sounds: Path | None = None, output: Path | None = None,
             cache: Path | None = None) -> Project:
    return Project.at(Path.cwd(), routines, sounds, output, cache)


def _chosen(project: Project, named: list[str] | None, all_: bool, command: str) -> list[str]:
    """The routines a command was given (`project.chosen`); none is an error."""
    refs = chosen(project, named, all_)
    if not refs:
        err.print(f"error: name a routine (cuecoach {command} week1-day1) or use --all")
        raise typer.Exit(2)
    return refs


def _fail(exc: CueError) -> NoReturn:
    _print_error(exc)
    raise typer.Exit(exc.exit_code)


def _print_error(exc: CueError) -> None:
    for line in str(exc).splitlines():
        err.print(f"[red]error:[/red] {line}" if not isinstance(exc, InputError) else line, markup=True)


def _version(value: bool) -> None:
    if value:
        print(f"cuecoach {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback when something fails.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Compile follow-along exercise routines written in YAML into voice-guided MP3s."""
    global _debug
    _debug = debug


@app.command(cls=PlainCommand)
def build(
    routines_: Annotated[list[str] | None, typer.Argument(
        metavar="ROUTINE", autocompletion=complete_routines,
        help="Routine ids (week1-day1), weeks (week2) or paths to their YAML.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Build every routine in the routines folder.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even days whose output is current.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also name each day that was current.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, metavar="N",
                                             help="Days built at once [default: CPUs].")] = None,
    routines: RoutinesOpt = None, sounds: SoundsOpt = None, output: OutputOpt = None, cache: CacheOpt = None,
    encode: Annotated[Encoding, typer.Option("--encode", help="frames: join each track from cached encoded "
                                             "frames; whole: encode every track whole (the reference).")
                      ] = Encoding.frames,
    engine: EngineOpt = None,
    music: Annotated[MusicChoice | None, typer.Option("--music", help="Music under the voice of every day: "
                                                      "default (cuecoach's bed) or none [default: 'music' in "
                                                      "program.yaml and the days].")] = None,
    watch: WatchOpt = False,
) -> None:
    """Build MP3s (and their JSON timelines) in the output folder; skip days that are current."""
    _check_engine(engine)
    project = _project(routines, sounds, output, cache)
    _chosen(project, routines_, all_, "build")
    run = partial(build_days, jobs=jobs, engine=engine, encode=encode.value, music=music.value if music else None)
    code = _build_once(project, routines_, all_, verbose, partial(run, force=force))
    if watch:
        from cuecoach.cli.watch import watch_builds

        try:  # --force is for the first build: after it, what an edit changes is what is stale
            watch_builds(project, lambda: _build_once(project, routines_, all_, verbose, run), err)
        except KeyboardInterrupt:
            err.print("stopped", markup=False)
    raise typer.Exit(code)


def _build_once(project: Project, named: list[str] | None, all_: bool, verbose: bool,
                run: Callable[..., Summary] = build_days) -> int:
    """Build the routines named (or all: a day added meanwhile too) with `run` (`build_days` with a command
    line's options), as `build` shows it; its exit code, a located error printed."""
    refs = chosen(project, named, all_)
    with BuildProgress(err, len(refs), verbose) as shown:
        try:
            summary = run(project, refs, on_start=shown.on_start, on_done=shown.on_done, on_synth=shown.on_synth)
        except CueError as exc:
            if _debug:
                raise
            _print_error(exc)
            return exc.exit_code
    built, skipped, failed = summary.count("built"), summary.count("skipped"), summary.count("failed")
    err.print(summary_line(built, skipped, failed, project.output), markup=False)
    return summary.exit_code


@app.command(cls=PlainCommand)
def plan(
    routine: Annotated[str, typer.Argument(metavar="ROUTINE", autocompletion=complete_routines,
                                                help="Routine id (week1-day1) or path to its YAML.")],
    routines: RoutinesOpt = None, engine: EngineOpt = None,
) -> None:
    """Print a routine's timeline (mm:ss.s, what is heard) without synthesizing anything."""
    _check_engine(engine)
    try:
        loaded = load_routine(_project(routines), routine)
        script = compile_routine(loaded.routine, with_engine(loaded.program, engine), loaded.known, loaded.place)
    except CueError as exc:
        if _debug:
            raise
        _fail(exc)
    for where, message in script.warnings:
        print(f"{where}: {message}", file=sys.stderr)
    sys.stdout.write(format_plan(script))


@app.command(cls=PlainCommand)
def check(routines: RoutinesOpt = None, engine: EngineOpt = None) -> None:
    """Check every routine, the exercise library, the voice, the cover and the sounds; list every problem as
    file:line:col."""
    _check_engine(engine)
    project = _project(routines)
    problems, warnings = check_all(project, engine)
    for where, message in sorted(problems + warnings):
        print(f"{where}: {message}", file=sys.stderr)
    count = len(routine_ids(project))
    if problems:
        err.print(f"{len(problems)} problem{'s' * (len(problems) != 1)} found", markup=False)
        raise typer.Exit(2)
    noted = f" ({len(warnings)} warning{'s' * (len(warnings) != 1)})" if warnings else ""
    err.print(f"ok: {count} routine{'s' * (count != 1)} and the exercise library{noted}", markup=False)


@app.command(cls=PlainCommand)
def verify(
    routines_: Annotated[list[str] | None, typer.Argument(
        metavar="ROUTINE", autocompletion=complete_routines, help="Routine ids or weeks (week2) to verify.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Verify every routine in the routines folder.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, metavar="N",
                                             help="Days checked at once [default: CPUs].")] = None,
    routines: RoutinesOpt = None, sounds: SoundsOpt = None, output: OutputOpt = None,
) -> None:
    """Decode built MP3s and hold each against its timeline: length, tones, loudness, chapters."""
    from concurrent.futures import ThreadPoolExecutor

    from cuecoach.builder.verify import verify_day

    project = _project(routines, sounds, output)
    ids = _chosen(project, routines_, all_, "verify")
    try:
        ids = [routine_path(project, ref)[0] for ref in ids]
    except CueError as exc:
        _fail(exc)
    failed = 0
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        for report in pool.map(lambda r: verify_day(project, r), ids):
            print(report.line())
            failed += not report.ok
    err.print(f"{len(ids) - failed} ok, {failed} with problems", markup=False)
    raise typer.Exit(1 if failed else 0)


@app.command(cls=PlainCommand)
def voices() -> None:
    """List every installed engine's voices: engine, id, name, languages (use the engine as 'engine' and the
    id, or part of it, as 'voice' in program.yaml)."""
    from cuecoach.synth.clips import ENGINES, list_voices

    found = list_voices()
    for engine, voice_id, name, languages in found:
        print(f"{engine}\t{voice_id}\t{name}\t{languages}")
    missing = sorted(set(ENGINES) - {row[0] for row in found})
    for engine in missing:
        err.print(f"{engine}: not installed (see the README: Voices)", markup=False)


@app.command(cls=PlainCommand)
def say(
    text: Annotated[str, typer.Argument(help="The line to speak.")],
    out: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the clip to this WAV file "
                                                "[default: play it, and keep it in a temp file].")] = None,
    engine: EngineOpt = None, routines: RoutinesOpt = None,
) -> None:
    """Speak one line with the program's voice, rate and loudness, exactly as a build would say it (numbers and
    symbols spelled out, the same length check), to hear wording or a voice in a second."""
    import shutil
    import subprocess
    import tempfile

    from cuecoach.audio import sound
    from cuecoach.builder.job import voice_settings
    from cuecoach.config.load import load_series_or_raise
    from cuecoach.spoken import as_said, has_words
    from cuecoach.synth.clips import synthesize

    _check_engine(engine)
    if not has_words(text):  # nothing a voice could say: an empty clip would fail its length check
        err.print(f"error: say: {text!r} has no words to speak; give the line in quotes, such as "
                  "cuecoach say \"Hold 45 seconds.\"", markup=False)
        raise typer.Exit(2)
    project = _project(routines)
    try:
        program = with_engine(load_series_or_raise(project).program, engine)
        pcm = synthesize(as_said(text), voice_settings(project, program))  # the words as a build says them
        target = out or Path(tempfile.mkdtemp(prefix="cuecoach-say-")) / "say.wav"
        system.write_atomic(target, sound.wav_bytes(pcm))
    except CueError as exc:
        if _debug:
            raise
        _fail(exc)
    err.print(f"wrote {target} ({len(pcm) // sound.SAMPLE_WIDTH / sound.FRAME_RATE:.2f} s)", markup=False)
    player = next((p for p in ("paplay", "aplay", "afplay") if shutil.which(p)), None)
    if out is None and player and sys.stdin.isatty():
        subprocess.run([player, str(target)], check=False, capture_output=True)


app.command(cls=PlainCommand)(preview)


def _check_engine(engine: str | None) -> None:
    from cuecoach.config.settings import (
        ENGINES,  # the names alone: the speech engines (and numpy) load only when speaking
    )

    if engine is not None and engine not in ENGINES:
        err.print(f"error: --engine {engine}: use one of: {', '.join(ENGINES)}", markup=False)
        raise typer.Exit(2)


SITE_FOLDER = "site"  # inside the output folder: what `serve` serves and `publish` writes by default


def _site(project: Project, folder: Path, base_url: str, chosen: bool = False, watch: bool = False) -> Site:
    from cuecoach.site.pages import write_site

    try:
        site = write_site(project, folder, base_url, chosen, watch)
        for warning in site.warnings:
            err.print(warning, markup=False)
        return site
    except CueError as exc:
        if _debug:
            raise
        _fail(exc)


@app.command(cls=PlainCommand)
def serve(
    host: Annotated[str, typer.Option("--host", metavar="HOST",
                                      help="Address to listen on; 0.0.0.0 lets phones on this network in.")
                    ] = "0.0.0.0",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, metavar="PORT",
                                      help="Port to listen on (0: any free port).")] = 8000,
    routines: RoutinesOpt = None, output: OutputOpt = None, cache: CacheOpt = None, watch: WatchOpt = False,
    sounds: SoundsOpt = None,
) -> None:
    """Serve the web player, the podcast feed and the tracks to phones on this network (Ctrl-C stops)."""
    from cuecoach.cli.watch import serve_site
    from cuecoach.site.serve import make_server, public_host

    project = _project(routines, sounds, output, cache)
    folder = project.output / SITE_FOLDER
    try:
        server = make_server(folder, host, port)
    except OSError as exc:
        err.print(f"error: cannot listen on {host}:{port}: {exc.strerror}; choose another with --port", markup=False)
        raise typer.Exit(1) from None
    signal.signal(signal.SIGTERM, _stop)  # a service manager's stop is as clean as Ctrl-C
    url = f"http://{public_host(host)}:{server.server_address[1]}/"
    rebuild = (lambda: _build_once(project, None, True, False)) if watch else None  # the staleness check decides
    with server:
        try:
            serve_site(server, project, url, lambda: _site(project, folder, url, watch=watch), err, rebuild)
        except KeyboardInterrupt:
            pass
    err.print("stopped", markup=False)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _base_url(value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise typer.BadParameter(f"{value!r} is not a web address; give where the site will be, "
                                 "like https://example.org/back/")
    return value if value.endswith("/") else value + "/"


@app.command(cls=PlainCommand)
def publish(
    base_url: Annotated[str, typer.Option("--base-url", metavar="URL", callback=_base_url, show_default=False,
                                          help="The address the site will have, like https://example.org/back/.")],
    to: Annotated[Path | None, typer.Option("--to", metavar="DIR", help="Folder to write the site to "
                                                            "[default: OUTPUT/site].")] = None,
    routines: RoutinesOpt = None, output: OutputOpt = None, cache: CacheOpt = None,
) -> None:
    """Write the site (web player, podcast feed, tracks, cover, chapters, transcripts) as static files."""
    project = _project(routines, None, output, cache)
    folder = to or project.output / SITE_FOLDER
    site = _site(project, folder, base_url, chosen=to is not None)
    print(f"Feed: {site.feed_url}")
    err.print(f"{site_summary(site)}; copy {shown(folder)} to {base_url}", markup=False)


def main() -> None:
    try:
        app(prog_name="cuecoach")  # the same name in help and completion, however it was started
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug: one line, and --debug for the traceback
        if _debug or os.environ.get("CUECOACH_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        sys.exit(1)
