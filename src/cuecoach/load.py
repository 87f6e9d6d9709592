"""Find a project's folders and load its routines: program.yaml, exercises.yaml and one day's file."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import InputError, Where
from .schema import ID_PATTERN, Exercise, Problems, Program, Routine, library_from_node, program_from_node, routine_from_node
from .yamlsrc import read_yaml, show

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
    known: frozenset[str] = frozenset()  # exercises met on earlier days of the series


def shown(path: Path) -> str:
    """A path as the user should see it in a message: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def _natural(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


SERIES_DAY = re.compile(r"^week([1-9][0-9]*)-day([1-9][0-9]*)$")


def series_day(routine_id: str) -> tuple[int, int] | None:
    """(week, day) for a day of the series, named weekW-dayD; None for any other routine (a coach's extra)."""
    match = SERIES_DAY.match(routine_id)
    return (int(match.group(1)), int(match.group(2))) if match else None


def routine_ids(project: Project) -> list[str]:
    """Every routine in the routines folder: the series' days in week and day order, then the others by name."""
    if not project.routines.is_dir():
        return []
    names = [p.stem for p in project.routines.glob("*.yaml") if p.name not in NOT_ROUTINES]
    return sorted(names, key=lambda name: (series_day(name) is None, series_day(name) or (0, 0), _natural(name)))


def series_ids(project: Project) -> list[str]:
    """The days of the series, track 1 to N of N: the weekW-dayD.yaml files in week and day order, or, in a
    folder without such names, every routine by name."""
    ids = routine_ids(project)
    return [name for name in ids if series_day(name) is not None] or ids


def track_number(project: Project, routine_id: str) -> str:
    """'3/42' for a day of the series; '' for a routine outside it, which has no place in the series."""
    days = series_ids(project)
    return f"{days.index(routine_id) + 1}/{len(days)}" if routine_id in days else ""


def misnamed_files(project: Project) -> list[Path]:
    """Routine files that cuecoach does not read (.yml): reported by check and build --all, never skipped silently."""
    if not project.routines.is_dir():
        return []
    return sorted(project.routines.glob("*.yml"), key=lambda p: _natural(p.name))


def history(project: Project, series: "Series") -> dict[tuple[int, int], frozenset[str]]:
    """The exercises of each day of the series that loads, by (week, day): what a runner has met before a day."""
    done: dict[tuple[int, int], frozenset[str]] = {}
    for routine_id in series_ids(project):
        try:
            routine = load_day(project, series, routine_id)
        except InputError:
            continue  # check reports it; a broken day teaches nothing
        when = series_day(routine_id) or (routine.week, routine.day)
        if when[0]:  # a day without a week has no place in the order
            done[when] = done.get(when, frozenset()) | {step.exercise.id for step in routine.steps}
    return done


def known_before(days: dict[tuple[int, int], frozenset[str]], routine: Routine) -> frozenset[str]:
    """The exercises a runner has met on the series' days before this one (none for a routine without a week)."""
    when = series_day(routine.id) or (routine.week, routine.day)
    if when[0] == 0:
        return frozenset()
    return frozenset().union(*(ids for day, ids in days.items() if day < when))


def routine_path(project: Project, ref: str) -> tuple[str, Path]:
    """Turn a routine id, or a path to its YAML, into (id, path).

    A routine is always a file directly in the routines folder, named by its id: its id
    names the output files, and its exercises come from that folder's library. So a path
    must lead into that folder (``routines/week1-day1.yaml``); one that leads elsewhere
    (``../evil``, ``/tmp/x.yaml``) is refused rather than read, and no id can hold a
    path separator or ``..``.
    """
    looks_like_path = ref.endswith((".yaml", ".yml")) or os.sep in ref or "/" in ref
    if looks_like_path and (os.sep in ref or "/" in ref):
        given = Path(ref)
        if not _same_folder(given.parent, project.routines):
            raise InputError((Where(_printable(ref)), f"this is not a file in the routines folder "
                                                      f"({shown(project.routines)}); put the routine there and "
                                                      "name it by its id, like week1-day1"))
        path = project.routines / given.name
    else:  # an id, or a bare file name: both name a file in the routines folder
        path = project.routines / (ref if looks_like_path else f"{ref}.yaml")
    if path.suffix == ".yml":
        raise InputError((Where(_printable(shown(path))), "routine files end in .yaml; rename it to "
                                                          f"{_printable(path.stem)}.yaml"))
    routine_id = path.stem if path.suffix == ".yaml" else path.name
    if not ID_PATTERN.match(routine_id):
        raise InputError((Where(_printable(shown(path))), f"{show(routine_id)} is not a valid routine id; name the "
                                                          "file with lowercase letters, digits and hyphens, like "
                                                          "week1-day1.yaml"))
    if path.name in NOT_ROUTINES:
        raise InputError((Where(shown(path)), f"{path.name} holds settings, not a day; name a routine such as week1-day1"))
    if not path.is_file():
        known = routine_ids(project)
        hint = f"known routines: {', '.join(known[:6])}{' …' if len(known) > 6 else ''}" if known else \
            f"no routines found in {shown(project.routines)}; run cuecoach from your project folder or pass --routines"
        raise InputError((Where(shown(path)), f"no routine '{routine_id}' here; {hint}"))
    return routine_id, path


def _printable(text: str) -> str:
    """A path or name as typed, with control characters escaped so that a message stays one line."""
    return show(text, 300)[1:-1]


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte...
        return False


def load_series(project: Project, problems: Problems) -> tuple[Program | None, dict[str, Exercise], set[str]]:
    """Load program.yaml and exercises.yaml, reporting problems; returns the library and every id it names."""
    program = library_root = None
    library: dict[str, Exercise] = {}
    known: set[str] = set()
    for name in (PROGRAM_FILE, LIBRARY_FILE):
        path = project.routines / name
        try:
            root = read_yaml(path, shown(path), problems)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if name == PROGRAM_FILE:
            program = program_from_node(root, problems)
            if program is not None and program.cover and not (project.routines / program.cover).is_file():
                problems.append((program.where["cover"], f"no cover image at {shown(project.routines / program.cover)}; "
                                                         "put it there, or remove 'cover'"))
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
        raise InputError(list(dict.fromkeys(problems))
                         or [(Where(shown(project.routines / PROGRAM_FILE)), "could not load the program")])
    return Series(program, library, frozenset(known))


def load_day(project: Project, series: Series, ref: str) -> Routine:
    """Load one day against an already loaded series; raise InputError listing its problems.

    With a series whose library has problems (as `cuecoach check` loads it), the InputError
    may list no problem: the day's only fault is an exercise the library reports.
    """
    routine_id, path = routine_path(project, ref)
    problems: Problems = []
    root = read_yaml(path, shown(path), problems)
    routine = routine_from_node(routine_id, root, series.library, set(series.known_ids), problems)
    named = series_day(routine_id)
    if routine is not None and named is not None and (routine.week not in (0, named[0])
                                                      or routine.day not in (0, named[1])):
        problems.append((routine.where, f"this file is week {named[0]}, day {named[1]} by its name, but it says "
                                        f"week {routine.week}, day {routine.day}; make them agree (or rename "
                                        "the file)"))
    if problems:
        raise InputError(list(dict.fromkeys(problems)))  # an alias used twice repeats its problems
    if routine is None:
        # Only a library with broken entries leaves a day without steps and without problems of its
        # own; load_series reports those entries, so this adds nothing to `cuecoach check`'s list.
        broken = set(series.known_ids) - set(series.library) or not series.known_ids
        raise InputError([] if broken else [(Where(shown(path)), "this day could not be loaded; run "
                                                                 "`cuecoach check` to see why")])
    return replace(routine, week=named[0], day=named[1]) if named else routine


def load_routine(project: Project, ref: str) -> Loaded:
    """Load one day with its series; raise InputError listing every problem found."""
    routine_path(project, ref)  # a bad name is reported before anything else
    series = load_series_or_raise(project)
    routine = load_day(project, series, ref)
    return Loaded(series.program, series.library, routine, known_before(history(project, series), routine))
