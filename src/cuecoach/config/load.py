"""Load a project's routines: program.yaml, exercises.yaml and its days, each file parsed once (where they are:
project.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from cuecoach.config.options import Number, find
from cuecoach.config.project import LIBRARY_FILE, PROGRAM_FILE, Project, routine_path, series_day, series_ids, shown
from cuecoach.config.schema import Exercise, Place, Problems, Program, Routine
from cuecoach.config.settings import DAY
from cuecoach.config.validate import library_from_node, program_from_node, routine_from_node
from cuecoach.config.yamlsrc import read_yaml
from cuecoach.errors import InputError, Where


@dataclass(frozen=True)
class Loaded:
    program: Program
    library: dict[str, Exercise]
    routine: Routine
    known: frozenset[str] = frozenset()  # exercises met on earlier days of the series
    place: Place = Place()  # where the day is in the series


def _cover_place(project: Project, program: Program | None) -> Problems:
    """A cover that is not a file in the routines folder (or below it): what it holds is cover.py's to judge."""
    if program is None or not program.cover:
        return []
    path = project.routines / program.cover
    if not path.resolve().is_relative_to(project.routines.resolve()):
        return [(program.where["cover"], f"'cover' names {program.cover}, outside the routines folder; put the "
                                         "image in the routines folder and give its name, like cover.jpg")]
    if not path.is_file():
        return [(program.where["cover"], f"no cover image at {shown(path)}; put it there, or remove 'cover'")]
    return []


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
            problems += _cover_place(project, program)
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


def _name_problems(named: tuple[int, int] | None, where: Where) -> Problems:
    """A file named as a series day (weekW-dayD) is held to the limits of the week: and day: it stands for."""
    found = []
    for key, value in zip(("week", "day"), named or (), strict=False):
        kind = find(DAY, key).kind
        if isinstance(kind, Number) and not kind.low <= value <= kind.high:
            found.append((where, f"this file is {key} {value} by its name, but a series has {key}s {kind.low} to "
                                 f"{kind.high}; rename the file (weekW-dayD.yaml) within them"))
    return found


def _read_day(series: Series, routine_id: str, path: Path) -> Routine:
    """Load one day's file against an already loaded series; raise InputError listing its problems.

    With a series whose library has problems (as `cuecoach check` loads it), the InputError
    may list no problem: the day's only fault is an exercise the library reports.
    """
    problems: Problems = []
    root = read_yaml(path, shown(path), problems)
    routine = routine_from_node(routine_id, root, series.library, set(series.known_ids), problems)
    named = series_day(routine_id)
    problems += _name_problems(named, routine.where if routine is not None else Where(shown(path), 1, 1))
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


class Days:
    """A series' days as one build, check, plan or publish reads them: each day's YAML is parsed once, when
    it is first needed, and kept, since a day's talk depends on the days before it (an exercise met before
    gets its reminder) and so each day is read for the days after it too."""

    def __init__(self, project: Project, series: Series):
        self.project = project
        self.series = series
        self.order = series_ids(project)  # the series' days, track 1 to N
        self._where: dict[str, tuple[str, Path]] = {}  # a ref's id and file
        self._loaded: dict[Path, Routine | InputError] = {}

    def day(self, ref: str) -> Routine:
        """One day, by id or path, read on first use; a day that does not load raises its InputError each time."""
        if ref not in self._where:
            self._where[ref] = routine_path(self.project, ref)  # a bad name raises here, and is not kept
        routine_id, path = self._where[ref]
        if path not in self._loaded:
            try:
                self._loaded[path] = _read_day(self.series, routine_id, path)
            except InputError as exc:
                self._loaded[path] = exc
        found = self._loaded[path]
        if isinstance(found, InputError):
            raise found
        return found

    def known(self, routine: Routine) -> frozenset[str]:
        """The exercises a runner has met on the series' days before this one (none for a routine without a
        week). A day named weekW-dayD is placed by its name, so one named after this day is not even read."""
        when = (routine.week, routine.day)  # a day's name has set them (_read_day)
        met: set[str] = set()
        for routine_id in self.order if when[0] else ():
            named = series_day(routine_id)
            if named is not None and named >= when:
                continue
            try:
                earlier = self.day(routine_id)
            except InputError:
                continue  # check reports it; a broken day teaches nothing
            if 0 < earlier.week and (earlier.week, earlier.day) < when:  # a day without a week has no place
                met |= {step.exercise.id for step in earlier.steps}
        return frozenset(met)


    def place(self, routine: Routine) -> Place:
        """Where a day is in the series, by the names of its days: day N of all, and whether it is the last
        of its week (no day of the same week comes after it). A routine without a week has no place."""
        named = [day for routine_id in self.order if (day := series_day(routine_id)) is not None]
        when = (routine.week, routine.day)
        if not routine.week or when not in named:
            return Place()
        last_of_week = not any(week == routine.week and day > routine.day for week, day in named)
        return Place(named.index(when) + 1, len(named), routine.week, last_of_week)


def load_routine(project: Project, ref: str) -> Loaded:
    """Load one day with its series; raise InputError listing every problem found."""
    routine_path(project, ref)  # a bad name is reported before anything else
    days = Days(project, load_series_or_raise(project))
    routine = days.day(ref)
    return Loaded(days.series.program, days.series.library, routine, days.known(routine), days.place(routine))
