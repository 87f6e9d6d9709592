"""A build with nothing to do: answered by `entry.py` before the command line is loaded, exactly as `build` would.

The answer must be the full command's, line for line, and it must never call a day current
that `build` would build: a changed file, a damaged MP3, --force, another engine or ffmpeg.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli

from cuecoach.builder.current import glance
from cuecoach.cli import entry
from cuecoach.config.project import Project

DAYS = ["week1-day1", "week1-day2", "week2-day1"]
HEAVY = ["typer", "click", "rich", "pydantic", "numpy", "yaml", "pydub", "pyttsx3", "mutagen",
         "cuecoach.cli.app", "cuecoach.builder.run", "cuecoach.config.schema", "cuecoach.script.compile",
         "cuecoach.synth.clips", "cuecoach.audio.sound"]


@pytest.fixture
def series(built_series: Path, tmp_path: Path) -> Path:
    """A copy of the built series of three days, to change."""
    return Path(shutil.copytree(built_series, tmp_path / "series", ignore=shutil.ignore_patterns(".cache")))


def full_command(folder: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """The typer command line itself, in this process (it never takes the short way)."""
    from typer.testing import CliRunner

    from cuecoach.cli.app import app

    monkeypatch.chdir(folder)
    done = CliRunner().invoke(app, args)
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    return done.exit_code, done.stdout, done.stderr


@pytest.mark.parametrize("args", [
    ["build", "--all"],
    ["build", "--all", "-v"],
    ["build", "week1", "--verbose"],
    ["build", "week2-day1", "week1-day1", "-o", "output", "--jobs", "2", "--encode=frames"],
    ["build", "routines/week1-day2.yaml", "week1-day2", "--routines", "routines", "--sounds", "sounds", "-j", "1"],
])
def test_the_short_answer_is_the_full_commands_answer(series: Path, args: list[str], monkeypatch) -> None:
    playlist = series / "output" / "week1.m3u8"
    playlist.unlink()  # a no-op build writes the playlists again
    short = run_cli(*args, cwd=series)
    assert (playlist.is_file(), short.stdout) == (True, "")
    assert (0, "", short.stderr) == full_command(series, args, monkeypatch)
    assert short.stderr.splitlines()[-1].startswith("0 built,")


def test_the_short_answer_loads_no_command_line_yaml_numpy_or_engine(series: Path) -> None:
    code = ("import sys\nsys.argv = ['cuecoach', 'build', '--all', '-v']\nfrom cuecoach.cli import entry\n"
            f"try:\n    entry.main()\nexcept SystemExit as done:\n"
            f"    print(done.code, sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=series, capture_output=True, text=True)
    assert done.stdout.split(None, 1) == ["0", "[]\n"], done.stdout + done.stderr
    assert done.stderr.splitlines()[:3] == [f"skipped {day} (current)" for day in DAYS]


def not_current(folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> list[str]:
    """The days the short way does not call current (then it leaves the build to the command line)."""
    monkeypatch.chdir(folder)
    options = entry.plain_build(["build", "--all", *args])
    assert options is not None
    answered = entry.answer(options)
    rest = glance(Project.at(folder), DAYS, encode=str(options.get("encode", "frames")),
                  engine=options.get("engine")).rest
    assert (answered == 0) == (not rest)
    return rest


def test_a_changed_file_a_damaged_mp3_or_other_tools_are_not_current(series: Path, monkeypatch) -> None:
    assert not_current(series, monkeypatch) == []
    mp3 = series / "output" / "week1-day2.mp3"
    whole = mp3.read_bytes()
    mp3.write_bytes(whole[:-1000])  # truncated
    assert not_current(series, monkeypatch) == ["week1-day2"]
    mp3.write_bytes(whole[:-1000] + bytes(1000))  # the same size, another ending
    assert not_current(series, monkeypatch) == ["week1-day2"]
    mp3.write_bytes(whole)
    (series / "output" / "week2-day1.lrc").unlink()
    assert not_current(series, monkeypatch) == ["week2-day1"]
    shutil.copy(series / "output" / "week1-day1.lrc", series / "output" / "week2-day1.lrc")
    assert not_current(series, monkeypatch) == []
    # another engine or encoding than the one the days were built with
    assert not_current(series, monkeypatch, "--engine", "piper") == DAYS
    assert not_current(series, monkeypatch, "--encode", "whole") == DAYS
    # another ffmpeg binary (an upgrade), found first on the PATH
    bin_dir = series / "bin"
    bin_dir.mkdir()
    (bin_dir / "ffmpeg").write_text(f"#!/bin/sh\nexec {shutil.which('ffmpeg')} \"$@\"\n")
    (bin_dir / "ffmpeg").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert not_current(series, monkeypatch) == DAYS
    monkeypatch.undo()
    # a comment in a day's file: every day looks again (what a day says depends on the days before it)
    day = series / "routines" / "week1-day2.yaml"
    day.write_text(day.read_text() + "# a note\n")
    assert not_current(series, monkeypatch) == DAYS


def test_a_changed_or_added_sound_is_not_current(series: Path, monkeypatch) -> None:
    stop = series / "sounds" / "stop.wav"
    before = stop.read_bytes()
    stop.write_bytes(before[:-2] + bytes([before[-2] ^ 1, before[-1]]))  # one sample, one bit
    assert not_current(series, monkeypatch) == DAYS
    stop.write_bytes(before)
    assert not_current(series, monkeypatch) == []
    shutil.copy(stop, series / "sounds" / "pip.wav")  # a series may switch to pips: a WAV the days did not use
    assert not_current(series, monkeypatch) == DAYS


def test_force_is_never_answered(series: Path) -> None:
    assert entry.plain_build(["build", "--all", "--force"]) is None
    assert glance(Project.at(series), DAYS, force=True).rest == DAYS


@pytest.mark.parametrize("argv, answered", [
    (["build", "--all"], {"names": [], "all": True}),
    (["build", "week1", "-v", "--jobs=3", "-o", "out"], {"names": ["week1"], "verbose": True, "jobs": "3",
                                                          "output": "out"}),
    (["build", "--engine", "piper", "--cache", "c", "--encode", "whole", "x"],
     {"names": ["x"], "engine": "piper", "cache": "c", "encode": "whole"}),
    (["build", "--all", "--force"], None),
    (["build", "--help"], None),
    (["--debug", "build", "--all"], None),
    (["plan", "week1-day1"], None),
    (["build", "--all", "--jobs", "0"], None),  # typer refuses it
    (["build", "--all", "-j", "+2"], None),
    (["build", "--all", "--encode", "Frames"], None),
    (["build", "--all", "-o", ""], None),
    (["build", "--all", "-o", "--verbose"], None),  # typer would take it as the folder
    (["build", "--all", "-o", "a", "-o", "b"], None),
    (["build", "--all", "-o"], None),
    (["build", "-vj2", "--all"], None),
    (["build", "--all=yes"], None),
    (["build", "--", "week1"], None),
])
def test_only_a_plain_build_is_read(argv: list[str], answered: dict | None) -> None:
    assert entry.plain_build(argv) == answered


@pytest.mark.slow
def test_a_cover_outside_the_routines_folders_top_level_is_part_of_the_source(project: Path) -> None:
    from PIL import Image

    art = project / "routines" / "art"
    art.mkdir()
    Image.new("RGB", (1400, 1400), (10, 20, 30)).save(art / "cover.png")
    program = project / "routines" / "program.yaml"
    program.write_text(program.read_text() + "cover: art/cover.png\n")
    run_cli("build", "short", cwd=project)
    assert "0 built, 1 skipped" in run_cli("build", "short", cwd=project).stderr
    Image.new("RGB", (1400, 1400), (200, 20, 30)).save(art / "cover.png")
    assert "1 built, 0 skipped" in run_cli("build", "short", cwd=project).stderr
    assert "0 built, 1 skipped" in run_cli("build", "short", cwd=project).stderr


def test_a_moved_project_is_current_even_when_its_days_are_compiled_again(series: Path) -> None:
    """`series` is a copy of a built project in another folder, without its cache. A comment added to the
    program makes the build compile every day (its files changed) and compare build keys: where the
    project or its cover image lies is not part of a track, so nothing is rebuilt."""
    before = {day: (series / "output" / f"{day}.mp3").read_bytes() for day in DAYS}
    program = series / "routines" / "program.yaml"
    program.write_text(program.read_text() + "\n# moved to another folder\n")
    done = run_cli("build", "--all", cwd=series)
    summary = f"0 built, {len(DAYS)} skipped (current), 0 failed; output in output"
    assert done.stderr.strip().endswith(summary), done.stderr
    assert {day: (series / "output" / f"{day}.mp3").read_bytes() for day in DAYS} == before
