"""`cuecoach preview EXERCISE`: one exercise of the library as a day would give it (announcement, setup, get
ready, lead-in, each side and set with its cues, the switch and the rests), with no opening or closing.

The exercise comes from the library, with a day's changes if given (``with_``: what a day's entry may say,
as a YAML flow mapping's body, ``work: 30, sets: 2``), read and checked exactly as a day's entry is. It
is compiled alone (``compile_routine(..., alone=True)``), its lines come from the speech cache (or are
spoken and cached), and it is rendered to 16-bit mono PCM. An unknown id is an error at the library,
with the nearest id.
"""

from __future__ import annotations

import difflib

from cuecoach.builder.job import read_sounds, tones, voice_settings, with_engine
from cuecoach.config.load import load_series_or_raise
from cuecoach.config.project import LIBRARY_FILE, Project, shown
from cuecoach.config.schema import Problems, Program
from cuecoach.config.validate import routine_from_node
from cuecoach.config.yamlsrc import parse_text
from cuecoach.errors import InputError, Where
from cuecoach.script.compile import compile_routine
from cuecoach.script.types import Script

WITH = "--with"  # where a day's changes given on the command line are reported


def preview_script(project: Project, exercise_id: str, with_: str = "", engine: str | None = None
                   ) -> tuple[Script, Program]:
    """The exercise's script, alone, with a day's changes (`with_`) applied, and the program (with `engine`)
    it was compiled for. Raises InputError."""
    series = load_series_or_raise(project)
    if exercise_id not in series.library:
        nearest = difflib.get_close_matches(exercise_id, list(series.library), n=1)
        hint = f"did you mean '{nearest[0]}'?" if nearest else "cuecoach check lists the library's problems"
        raise InputError((Where(shown(project.routines / LIBRARY_FILE)),
                          f"no exercise '{exercise_id}' in the library; {hint}"))
    problems: Problems = []
    entry = f"  - {{id: {exercise_id}, "
    text = f"title: Preview\nexercises:\n{entry}{with_}}}\n" if with_.strip() else \
        f"title: Preview\nexercises:\n  - {exercise_id}\n"
    routine = routine_from_node(f"preview-{exercise_id}", parse_text(text, WITH, problems), series.library,
                                set(series.known_ids), problems)
    try:
        if problems or routine is None:
            raise InputError(list(dict.fromkeys(problems)) or [(Where(WITH), "the changes could not be read; "
                                                                             "write them as in a day's entry, "
                                                                             "like work: 30")])
        program = with_engine(series.program, engine)
        return compile_routine(routine, program, alone=True), program
    except InputError as exc:  # told at the column of the --with text they are about (line 1)
        raise InputError([(Where(WITH, 1, max(1, where.col - len(entry))) if where.path == WITH else where, message)
                          for where, message in exc.problems]) from None


def preview_audio(project: Project, script: Script, program: Program) -> bytes:
    """The script rendered: every line from the speech cache (spoken and cached if missing), every tone."""
    from cuecoach.audio.render import render
    from cuecoach.synth.clips import SpeechCache, ensure_clips

    settings = voice_settings(project, program)
    clips = ensure_clips(script.speech(), settings, SpeechCache(project.cache))
    return bytes(render(script, clips, tones(read_sounds(project, program), program.loudness)))
