"""`check`: every problem and warning in the routines, the library, the voice and the music, without building
(a coach's music files are decoded, once each, into the cache).

Problems and warnings are (Where, message) pairs, sorted, each said once; nothing is written.
"""

from __future__ import annotations

from cuecoach.builder.job import foreign_voice, voice_settings, with_engine
from cuecoach.builder.music import problems as music_problems
from cuecoach.config.load import Days, Series, load_series
from cuecoach.config.project import Project, misnamed_files, routine_ids, shown
from cuecoach.config.schema import Program
from cuecoach.errors import CueError, InputError, Where
from cuecoach.script.compile import compile_routine


def voice_problems(project: Project, program: Program) -> list[tuple]:
    """A voice or engine that does not exist, located in program.yaml (for `check`, before any build)."""
    where = program.where.get("voice") or program.where.get("engine") or Where(shown(project.routines / "program.yaml"))
    try:
        settings = voice_settings(project, program)
        if settings.engine == "piper":
            from cuecoach.synth import piper_engine

            path = piper_engine.model_path(settings.voice)
            if not path.is_file():
                return [(where, f"'voice' names {program.voice}, which is not a file; give the path of a Piper .onnx "
                                "model relative to the routines folder, or en_US-joe-medium")]
            piper_engine.load(str(path))
        elif program.voice:
            from cuecoach.synth import pyttsx3_engine

            if pyttsx3_engine.pick_voice(pyttsx3_engine.voices(), program.voice) is None:
                return [(where, f"no {settings.engine} voice matches {program.voice!r}; run `cuecoach voices` to "
                                "list them, or set voice: null for the system default")]
    except CueError as exc:
        return [(program.where.get("engine") or where, str(exc))]
    return []


def check(project: Project, engine: str | None = None) -> tuple[list[tuple], list[tuple]]:
    """Every problem, and every warning (a cue left out), in every routine file and the library, without building."""
    problems: list = []
    warnings: list = []
    program, library, known = load_series(project, problems)
    ids = routine_ids(project)
    problems += [(Where(shown(path)), f"routine files end in .yaml; rename it to {path.stem}.yaml")
                 for path in misnamed_files(project)]
    if not ids:
        problems.append((Where(shown(project.routines)), "no routines here; write one such as week1-day1.yaml"))
    if program is None:
        return sorted(set(problems)), []
    program = with_engine(program, engine)
    problems += voice_problems(project, program)
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
