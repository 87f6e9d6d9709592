"""The reference of every routine key, written from the declarations (settings.py) as Markdown: docs/reference.md.

``render()`` is pure: the same declarations give the same text, which a test compares with the file.
``python -m cuecoach.config.reference docs/reference.md`` (``make reference``) writes it; without a path it prints.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cuecoach import system
from cuecoach.config.options import Setting, walk
from cuecoach.config.settings import DAY, EXERCISE, ITEM, PROGRAM, SPOKEN, TIMING

COMMAND = "make reference"  # what brings docs/reference.md up to date (python -m cuecoach.config.reference PATH)
HEADER = ("Key", "Type", "Default", "Limits", "What it does")


@dataclass(frozen=True)
class Section:
    title: str
    about: str
    table: tuple[Setting, ...]
    inherited: tuple[Setting, ...] = ()  # keys whose default is the exercise's own value (a day's changes)


SECTIONS = (
    Section("program.yaml", "The settings of the whole series, shared by every day.", PROGRAM),
    Section("exercises.yaml", "The exercise library. Each entry sits under its id (lowercase letters, digits and "
            "hyphens, like `side-plank`) and holds these keys.", EXERCISE),
    Section("A day: weekW-dayD.yaml", "One day of the series. The days are the files named `weekW-dayD.yaml`, "
            "in week and day order; any other routine file builds too, outside the series.", DAY),
    Section("An entry of a day's exercises", "An exercise id alone, or a mapping with `id` and that day's "
            "changes. The timing and the spoken fields are declared once for both files: a key left out keeps the "
            "exercise's value from exercises.yaml. Giving one of `work`, `per_side`, `reps` or `reps_per_side` "
            "replaces the exercise's (a block of seconds drops its `tempo`).",
            ITEM, inherited=TIMING + SPOKEN),
)


def _code(value: Any) -> str:
    if isinstance(value, tuple):
        return "`[" + ", ".join(str(item) for item in value) + "]`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def _default(setting: Setting, inherited: tuple[Setting, ...]) -> str:
    if setting.required:
        return "required"
    if setting in inherited:
        return "the exercise's"
    if setting.fallback:
        return setting.fallback
    if setting.default is None or setting.default == ():
        return "none"
    return _code(setting.default)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _rows(section: Section) -> list[str]:
    rows = []
    for name, setting in walk(section.table):
        cells = (f"`{name}`", setting.kind.type_name, _default(setting, section.inherited), setting.kind.limits(),
                 setting.doc)
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return rows


def render() -> str:
    """docs/reference.md: one table a file, one row a key, groups' keys dotted (gaps.rest)."""
    out = [
        "# Routine keys",
        "",
        f"<!-- Generated from src/cuecoach/config/settings.py by `{COMMAND}`: edit the declarations, not this. -->",
        "",
        "Every key cuecoach reads in a routines folder, file by file: the kind of value it takes, its default "
        "(*required*: it must be given), its limits, and what it does. `cuecoach check` holds a folder to them.",
    ]
    for section in SECTIONS:
        out += ["", f"## {section.title}", "", section.about, "",
                "| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER), *_rows(section)]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if not argv:
        sys.stdout.write(render())
    else:
        system.write_atomic(Path(argv[0]), render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
