"""Find a project's folders and load its routines: program.yaml, exercises.yaml and one day's file."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, Where
from .schema import ID_PATTERN, Exercise, Problems, Program, Routine, library_from_node, program_from_node, routine_from_node
from .yamlsrc import read_yaml

PROGRAM_FILE = "program.yaml"
LIBRARY_FILE = "exercises.yaml"
NOT_ROUTINES = {PROGRAM_FILE, LIBRARY_FILE}


@dataclass(frozen=True)
class Project:
    """Where a program's files live. By default all four are found from the current folder."""

    routines: Path
    sounds: Path
    output: Path
    cache: Path

    @classmethod
    def at(cls, base: Path, routines: Path | None = None, sounds: Path | None = None,
           output: Path | None = None, cache: Path | None = None) -> "Project":
        return cls(
            routines=Path(routines or base / "routines"),
            sounds=Path(sounds or base / "sounds"),
            output=Path(output or base / "output"),
            cache=Path(cache or base / ".cache" / "cuecoach"),
        )


@dataclass(frozen=True)
class Loaded:
    program: Program
    library: dict[str, Exercise]
    routine: Routine


def shown(path: Path) -> str:
    """A path as the user should see it in a message: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def routine_ids(project: Project) -> list[str]:
    """Every day in the routines folder, in natural order (week1-day2 before week1-day10)."""
    if not project.routines.is_dir():
        return []
    names = [p.stem for p in project.routines.glob("*.yaml") if p.name not in NOT_ROUTINES]
    return sorted(names, key=_natural)


def routine_path(project: Project, ref: str) -> tuple[str, Path]:
    """Turn a routine id or a path to its YAML into (id, path)."""
    looks_like_path = ref.endswith((".yaml", ".yml")) or os.sep in ref or "/" in ref
    path = Path(ref) if looks_like_path else project.routines / f"{ref}.yaml"
    routine_id = path.stem
    if not ID_PATTERN.match(routine_id):
        raise InputError((Where(ref), f"'{routine_id}' is not a valid routine id: use lowercase letters, digits "
                          "and hyphens, like week1-day1"))
    if path.name in NOT_ROUTINES:
        raise InputError((Where(ref), f"{path.name} holds settings, not a day; name a routine such as week1-day1"))
    if not path.is_file():
        known = routine_ids(project)
        hint = f"known routines: {', '.join(known[:6])}{' …' if len(known) > 6 else ''}" if known else \
            f"no routines found in {shown(project.routines)}; run cuecoach from your project folder or pass --routines"
        raise InputError((Where(shown(path)), f"no routine '{routine_id}' here; {hint}"))
    return routine_id, path


def load_series(project: Project, problems: Problems) -> tuple[Program | None, dict[str, Exercise], set[str]]:
    """Load program.yaml and exercises.yaml, reporting problems; returns the library and every id it names."""
    program = library_root = None
    library: dict[str, Exercise] = {}
    known: set[str] = set()
    for name in (PROGRAM_FILE, LIBRARY_FILE):
        path = project.routines / name
        try:
            root = read_yaml(path, shown(path))
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if name == PROGRAM_FILE:
            program = program_from_node(root, problems)
        else:
            library_root = root
    if program is not None and library_root is not None:
        known = set(library_root.value) if isinstance(library_root.value, dict) else set()
        library = library_from_node(library_root, program.equipment, problems)
    return program, library, known


@dataclass(frozen=True)
class Series:
    """A program's settings and exercise library, loaded once for any number of days."""

    program: Program
    library: dict[str, Exercise]
    known_ids: frozenset[str]


def load_series_or_raise(project: Project) -> Series:
    problems: Problems = []
    program, library, known = load_series(project, problems)
    if problems or program is None:
        raise InputError(problems or [(Where(shown(project.routines / PROGRAM_FILE)), "could not load the program")])
    return Series(program, library, frozenset(known))


def load_day(project: Project, series: Series, ref: str) -> Routine:
    """Load one day against an already loaded series; raise InputError listing its problems."""
    routine_id, path = routine_path(project, ref)
    problems: Problems = []
    root = read_yaml(path, shown(path))
    routine = routine_from_node(routine_id, root, series.library, set(series.known_ids), problems)
    if problems or routine is None:
        raise InputError(problems or [(Where(shown(path)), "could not load this routine")])
    return routine


def load_routine(project: Project, ref: str) -> Loaded:
    """Load one day with its series; raise InputError listing every problem found."""
    routine_path(project, ref)  # a bad name is reported before anything else
    series = load_series_or_raise(project)
    return Loaded(series.program, series.library, load_day(project, series, ref))
