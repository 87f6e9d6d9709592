"""The errors cuecoach reports to a user: each is one line, ``file:line:col: message``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Where:
    """A position in a source file, 1-based, as editors count."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


class CueError(Exception):
    """An error meant for the user: its text is the whole message, no traceback."""

    exit_code = 1


class InputError(CueError):
    """Something wrong in the user's files; carries one or more located problems."""

    exit_code = 2

    def __init__(self, problems: list[tuple[Where, str]] | tuple[Where, str]):
        if isinstance(problems, tuple):
            problems = [problems]
        self.problems = sorted(problems)
        super().__init__("\n".join(f"{where}: {message}" for where, message in self.problems))


class BuildError(CueError):
    """An outside part (speech engine, ffmpeg, the disk) failed while building."""

    exit_code = 1
