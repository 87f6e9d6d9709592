"""`check`: every problem and warning in the routines, the library, the voice, the cover, the sounds and the
music, without building (a coach's music files are decoded, once each, into the cache). Whatever `build`
would refuse for the input's sake, `check` reports first, at the same line (the voice, the cover and the
sounds: `sources.py`, which `build` asks too).

Problems and warnings are (Where, message) pairs, sorted, each said once; nothing is written.
"""

from __future__ import annotations

from cuecoach.builder.job import foreign_voice, with_engine
from cuecoach.builder.music import problems as music_problems
from cuecoach.builder.sources import source_problems
from cuecoach.config.load import Days, Series, load_series
from cuecoach.config.project import Project, misnamed_files, routine_ids, shown
from cuecoach.errors import InputError, Where
from cuecoach.script.compile import compile_routine


def check(project: Project, engine: str | None = None) -> tuple[list[tuple], list[tuple]]:
    """Every problem, and every warning (a cue left out), in every routine file and the library, without building."""
    problems: list = []
    program, library, known = load_series(project, problems)
    ids = routine_ids(project)
    problems += [(Where(shown(path)), f"routine files end in .yaml; rename it to {path.stem}.yaml")
                 for path in misnamed_files(project)]
    if not ids:
        problems.append((Where(shown(project.routines)), "no routines here; write one such as week1-day1.yaml"))
    if program is None:
        return sorted(set(problems)), []
    program = with_engine(program, engine)
    found, warnings = source_problems(project, program)
    problems += found
    if foreign_voice(program) and "voice" in program.where:
        warnings.append((program.where["voice"], f"warning: 'voice' {program.voice} is not a Piper voice; piper "
                                                 "speaks with its default, en_US-joe-medium (give the path of a "
                                                 "Piper .onnx model to choose another)"))
    days = Days(project, Series(program, library, frozenset(known)))
    for routine_id in ids:
        try:
            routine = days.day(routine_id)
            problems += music_problems(project, program, routine, project.cache)
            warnings.extend(compile_routine(routine, program, days.known(routine), days.place(routine)).warnings)
        except InputError as exc:
            problems.extend(exc.problems)
    return sorted(set(problems)), sorted(set(warnings))
