"""The command line guides: completion of what each command takes, help without typer's type names, and a
routine that is not there named as such (tests/test_bad_input.py holds the exact one-line messages)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import CUECOACH, ROOT, copy_project, run_cli

COMMANDS = ["build", "plan", "check", "verify", "voices", "say", "serve", "publish", "preview"]


def complete(words: str, cwd: Path) -> list[str]:
    """What bash completion offers for the last of `words`, through typer's protocol (as the script that
    --install-completion writes calls it)."""
    env = {**os.environ, "_CUECOACH_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    done = subprocess.run([*CUECOACH], cwd=cwd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_completion_offers_routines_weeks_exercises_and_engines() -> None:
    weeks = complete("cuecoach build we", ROOT)
    assert "week1-day1" in weeks and "week1" in weeks and "week6-day7" in weeks
    assert all(word.startswith("we") for word in weeks)
    assert complete("cuecoach verify week2-d", ROOT) == [f"week2-day{day}" for day in range(1, 8)]
    assert complete("cuecoach plan week3-day", ROOT)[0] == "week3-day1"
    assert complete("cuecoach preview cat", ROOT) == ["cat-cow"]
    assert complete("cuecoach build --engine p", ROOT) == ["pyttsx3", "piper"]


def test_completion_reads_the_routines_folder_given(tmp_path: Path) -> None:
    project = copy_project("series", tmp_path / "project")
    (project / "routines").rename(project / "elsewhere")
    assert complete("cuecoach build --routines elsewhere w", project) == ["week1", "week2", "week1-day1",
                                                                          "week1-day2", "week2-day1"]
    assert complete("cuecoach build w", project) == []  # no ./routines here


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_no_type_names(tmp_path: Path, command: str) -> None:
    text = run_cli(command, "--help", cwd=tmp_path).stdout
    assert not re.search(r"<(str|int|float|path|list\[[a-z]+\]|bool)>", text), text
    assert not re.search(r"\{[a-z_]+\}", text), text  # typer's braces around a required argument
    usage = text.splitlines()[0]
    assert usage.startswith(f"Usage: cuecoach {command} [OPTIONS]")
    assert all(word.isupper() or word.startswith("[") for word in usage.split()[4:]), usage
