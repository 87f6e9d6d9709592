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
        known = routine_ids(project)
        hint = f"known routines: {', '.join(known[:6])}{' …' if len(known) > 6 else ''}" if known else \
            f"no routines found in {shown(project.routines)}; run cuecoach from your project folder or pass --routines"
        raise InputError((Where(shown(path)), f"no routine '{routine_id}' here; {hint}"))
    return routine_id, path


def _printable(text: str) -> str:
    """A path or name as typed, with control characters escaped so that a message stays one line."""
    from cuecoach.config.yamlsrc import show  # here: only a message needs it, and yamlsrc loads PyYAML

    return show(text, 300)[1:-1]


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte...
        return False
