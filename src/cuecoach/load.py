"""Load a project's routines: program.yaml, exercises.yaml and one day's file (where they are: project.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import InputError, Where
# Project and routine_ids are also imported from here by code that loads days (site.py, the tests)
from .project import (LIBRARY_FILE, PROGRAM_FILE, Project, routine_ids, routine_path,  # noqa: F401
                      series_day, series_ids, shown)
from .schema import Exercise, Problems, Program, Routine, library_from_node, program_from_node, routine_from_node
from .yamlsrc import read_yaml


@dataclass(frozen=True)
class Loaded:
    program: Program
    library: dict[str, Exercise]
    routine: Routine
    known: frozenset[str] = frozenset()  # exercises met on earlier days of the series


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
