"""The command line as typer users expect it: completion, help with defaults, quiet no-op builds, weeks, a plan
that starts without the audio libraries."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CUECOACH, ROOT, copy_project, run_cli

AUDIO = {"numpy", "soxr", "pydub", "pyttsx3", "piper", "onnxruntime", "mutagen", "PIL"}  # what plan never needs


def test_shell_completion_is_offered(tmp_path: Path) -> None:
    """--install-completion is offered, and the completion protocol it installs works: the bash script comes
    out, and a partial command completes. (The protocol's variables are set here, because --show-completion
    guesses the shell from the parent processes, which differ between a terminal, CI and a background job.)"""
    assert "--install-completion" in run_cli("--help", cwd=tmp_path).stdout
    env = {"_CUECOACH_COMPLETE": "source_bash"}
    script = subprocess.run([*CUECOACH], cwd=tmp_path, capture_output=True, text=True, env={**os.environ, **env}).stdout
    assert "_CUECOACH_COMPLETE=complete_bash" in script and "complete " in script
    env = {"_CUECOACH_COMPLETE": "complete_bash", "COMP_WORDS": "cuecoach bu", "COMP_CWORD": "1"}
    done = subprocess.run([*CUECOACH], cwd=tmp_path, capture_output=True, text=True, env={**os.environ, **env})
    assert done.stdout.split() == ["build"]


def test_plan_imports_no_audio_library() -> None:
    """`plan` only loads and compiles: it hears, speaks and encodes nothing, so it imports none of the audio
    libraries (numpy alone takes 0.12 to 0.33 s to import). -X importtime lists every module the real
    command imports, lazily imported ones included."""
    done = subprocess.run([sys.executable, "-X", "importtime", *CUECOACH[1:], "plan", "week1-day1"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "== Introduction ==" in done.stdout, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0]
                for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"cuecoach", "yaml", "typer"} <= imported  # the listing is whole: the command and its loader
    assert not imported & AUDIO, sorted(imported & AUDIO)


@pytest.mark.parametrize("command", ["build", "plan", "check", "verify", "voices", "serve", "publish"])
def test_help_shows_defaults_and_no_type_placeholders_for_flags(tmp_path: Path, command: str) -> None:
    text = run_cli(command, "--help", cwd=tmp_path).stdout
    assert "<bool>" not in text and "--help" in text
    assert not re.search(r"\s\.\n", text)  # a default swallowed as markup used to leave "once ."
    if command == "serve":
        assert "[default: 8000" in text and "[default: 0.0.0.0]" in text
    if command == "build":
        assert "[default: CPUs]" in text and "[default: ./routines]" in text


def test_a_build_with_nothing_to_do_prints_one_line(built_series: Path) -> None:
    quiet = run_cli("build", "--all", cwd=built_series)
    assert quiet.stderr.splitlines() == ["0 built, 3 skipped (current), 0 failed; output in output"]
    verbose = run_cli("build", "--all", "--verbose", cwd=built_series).stderr.splitlines()
    assert verbose[:-1] == [f"skipped {day} (current)" for day in ("week1-day1", "week1-day2", "week2-day1")]


def test_a_week_names_its_days(built_series: Path) -> None:
    done = run_cli("build", "week1", "--verbose", cwd=built_series)
    assert [line.split()[1] for line in done.stderr.splitlines()[:-1]] == ["week1-day1", "week1-day2"]
    missing = run_cli("build", "week9", cwd=built_series, check=False)
    assert missing.returncode == 2 and missing.stderr.splitlines()[0] == (
        "routines:1:1: no week 9 in routines; it holds weeks 1 to 2, 3 days from week1-day1 to week2-day1")


def test_a_build_in_a_terminal_counts_the_new_lines_as_they_are_spoken(tmp_path: Path) -> None:
    """In a terminal the progress bar names the lines spoken so far, one by one as they come (the bar
    redraws on each event, with no thread of its own: a thread would keep the build from forking its
    speech engines)."""
    project = copy_project("series", tmp_path / "project")
    leader, follower = pty.openpty()
    process = subprocess.Popen([*CUECOACH, "build", "--all", "--jobs", "2"], cwd=project, stdin=follower,
                               stdout=follower, stderr=follower, env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the build ended and closed its side
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, seen.decode(errors="replace")
    text = seen.decode(errors="replace")
    counts = [int(n) for n in re.findall(r"speaking new lines: (\d+)", text)]
    made = sum(int(n) for n in re.findall(r"(\d+) lines synthesized", text))
    assert made > 10 and counts == sorted(counts) and counts[0] == 1 and counts[-1] == made, (counts, made)
