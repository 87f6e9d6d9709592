"""Where a program's files are: its folders, its days' ids and YAML files, and each day's outputs.

Nothing here reads YAML: a build with nothing to do answers from these paths and from
`current.py` without loading PyYAML, the schema or numpy (see `cli/entry.py`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from cuecoach.errors import InputError, Where

PROGRAM_FILE = "program.yaml"
LIBRARY_FILE = "exercises.yaml"
NOT_ROUTINES = {PROGRAM_FILE, LIBRARY_FILE}
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # a routine's or an exercise's id
WEEK = re.compile(r"^week\d+$")
LIBRARY_KEY = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*):\s*(?:#.*)?$")  # an entry's first line in exercises.yaml


@dataclass(frozen=True)
class Project:
    """Where a program's files live. By default all four are found from the current folder."""

    routines: Path
    sounds: Path
    output: Path
    cache: Path

    @classmethod
    def at(cls, base: Path, routines: Path | None = None, sounds: Path | None = None,
           output: Path | None = None, cache: Path | None = None) -> Project:
        return cls(
            routines=Path(routines or base / "routines"),
            sounds=Path(sounds or base / "sounds"),
            output=Path(output or base / "output"),
            cache=Path(cache or base / ".cache" / "cuecoach"),
        )


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


def track_number(days: list[str], routine_id: str) -> str:
    """'3/42' for a day of the series (`days`: its ids, from series_ids, found once for a build); '' for a
    routine outside it, which has no place in the series."""
    return f"{days.index(routine_id) + 1}/{len(days)}" if routine_id in days else ""


def outputs(project: Project, routine_id: str) -> tuple[Path, Path]:
    """A day's MP3 and its JSON timeline (its lyrics are the MP3's name with .lrc)."""
    return project.output / f"{routine_id}.mp3", project.output / f"{routine_id}.json"


def chosen(project: Project, named: list[str] | None, all_: bool) -> list[str]:
    """The routines a command was given, then, with `all_`, every other one in the routines folder.
    A week (week2) stands for its days, unless a routine has that id."""
    refs = []
    for ref in named or []:
        days = [r for r in routine_ids(project) if r.startswith(f"{ref}-")] \
            if WEEK.match(ref) and not (project.routines / f"{ref}.yaml").is_file() else []
        refs += days or [ref]
    if all_:
        refs += [r for r in routine_ids(project) if r not in refs]
        refs += [shown(path) for path in misnamed_files(project)]  # reported, never skipped silently
    return refs


def misnamed_files(project: Project) -> list[Path]:
    """Routine files that cuecoach does not read (.yml): reported by check and build --all, never skipped silently."""
    if not project.routines.is_dir():
        return []
    return sorted(project.routines.glob("*.yml"), key=lambda p: _natural(p.name))


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
        from cuecoach.config.yamlsrc import show  # here: only a message needs it, and yamlsrc loads PyYAML

        raise InputError((Where(_printable(shown(path))), f"{show(routine_id)} is not a valid routine id; name the "
                                                          "file with lowercase letters, digits and hyphens, like "
                                                          "week1-day1.yaml"))
    if path.name in NOT_ROUTINES:
        raise InputError((Where(shown(path)), f"{path.name} holds settings, not a day; name a routine such as "
                                              "week1-day1"))
    if not path.is_file():
        raise not_found(project, routine_id)
    return routine_id, path


def not_found(project: Project, routine_id: str) -> InputError:
    """A routine that is not there: an exercise of the library is pointed to `preview`, at its entry; anything
    else names the routines folder, with the nearest id or what the folder holds."""
    import difflib

    entry = exercise_line(project, routine_id)
    if entry is not None:
        return InputError((Where(shown(project.routines / LIBRARY_FILE), entry), f"'{routine_id}' is an exercise, "
                           f"not a routine; hear it with: cuecoach preview {routine_id}"))
    known = routine_ids(project)
    folder = Where(shown(project.routines))
    if not known:
        return InputError((folder, f"no routine '{routine_id}': no routines found in {shown(project.routines)}; "
                                   "run cuecoach from your project folder or pass --routines"))
    nearest = difflib.get_close_matches(routine_id, known, n=1)
    if nearest and not WEEK.match(routine_id):
        return InputError((folder, f"no routine '{routine_id}' in {shown(project.routines)}; did you mean "
                                   f"'{nearest[0]}'? (it holds {holdings(known)})"))
    what = f"no week {routine_id[4:]}" if WEEK.match(routine_id) else f"no routine '{routine_id}'"
    return InputError((folder, f"{what} in {shown(project.routines)}; it holds {holdings(known)}"))


def holdings(known: list[str]) -> str:
    """What a routines folder holds, in a few words: its weeks and their days, then its other routines."""
    days = [day for day in map(series_day, known) if day is not None]
    others = [name for name in known if series_day(name) is None]
    parts = []
    if days:
        weeks = sorted({week for week, _ in days})
        span = f"week {weeks[0]}" if len(weeks) == 1 else f"weeks {weeks[0]} to {weeks[-1]}"
        parts.append(f"{span}, {len(days)} day{'s' * (len(days) != 1)} from {known[0]} to {known[len(days) - 1]}")
    if others:
        parts.append(", ".join(others[:6]) + (" …" if len(others) > 6 else ""))
    return "; ".join(parts)


def exercise_ids(project: Project) -> list[tuple[str, int]]:
    """The library's exercise ids and their lines, read as text (a library entry is a top-level key): for
    completion and messages, without loading PyYAML."""
    try:
        text = (project.routines / LIBRARY_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [(match.group(1), number) for number, line in enumerate(text.splitlines(), 1)
            if (match := LIBRARY_KEY.match(line))]


def exercise_line(project: Project, exercise_id: str) -> int | None:
    """The line of the library where `exercise_id` is defined, or None if it is not an exercise."""
    return next((line for found, line in exercise_ids(project) if found == exercise_id), None)


def _printable(text: str) -> str:
    """A path or name as typed, with control characters escaped so that a message stays one line."""
    from cuecoach.config.yamlsrc import show  # here: only a message needs it, and yamlsrc loads PyYAML

    return show(text, 300)[1:-1]


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte...
        return False
