"""What a build reads besides the YAML (the voice, the cover, the sounds) judged before anything is made.

`check` reports these problems, and `build` refuses the same ones the same way (exit 2, before it writes
anything): each at its own line, `file:line:col: what is wrong; how to fix it`. A sound file's line is
its first (`sounds/start.wav:1:1`). Reads files and, for the voice, asks the speech engine; writes nothing.
"""

from __future__ import annotations

from cuecoach.builder.cover import cover_problems
from cuecoach.builder.job import needed_sounds, voice_settings
from cuecoach.config.project import PROGRAM_FILE, Project, shown
from cuecoach.config.schema import Problems, Program
from cuecoach.errors import BuildError, CueError, Where
from cuecoach.script.types import SOUND_SLOT_MS

MAX_SOUND_BYTES = 10_000_000  # the longest slot is 3 s: even 192 kHz stereo float is under 5 MB
MAKE_SOUNDS = "run `python sounds/make_sounds.py` for the default sounds, or drop in a WAV of your own"


def voice_problems(project: Project, program: Program, machine: bool = True) -> Problems:
    """A voice or engine that does not exist, or a Piper model that does not load, located in program.yaml.
    `machine`: also a speech engine this machine lacks (check says so; a build fails each day, exit 1)."""
    where = program.where.get("voice") or program.where.get("engine") or Where(shown(project.routines /
                                                                                     PROGRAM_FILE))
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

            try:
                found = pyttsx3_engine.voices()
            except BuildError:  # no engine on this machine: not the voice's fault
                if machine:
                    raise
                return []
            if pyttsx3_engine.pick_voice(found, program.voice) is None:
                return [(where, f"no {settings.engine} voice matches {program.voice!r}; run `cuecoach voices` to "
                                "list them, or set voice: null for the system default")]
    except CueError as exc:
        return [(program.where.get("engine") or where, str(exc))]
    return []


def sound_problems(project: Project, program: Program) -> Problems:
    """Each sound the build uses that is missing, empty, not audio, or longer than its slot (SOUND_SLOT_MS)."""
    problems = []
    for name in needed_sounds(program):
        path = project.sounds / f"{name}.wav"
        where = Where(shown(path))
        try:
            size = path.stat().st_size
            wrong = "" if 0 < size <= MAX_SOUND_BYTES else "is empty" if size == 0 else \
                f"is over {MAX_SOUND_BYTES // 1_000_000} MB, far more than a {SOUND_SLOT_MS[name] / 1000:g} s sound"
            wrong = wrong or _sound_wrong(name, path.read_bytes())
        except OSError:
            wrong = "is missing"
        if wrong:
            problems.append((where, f"the {name} sound {wrong}" + ("" if ";" in wrong else f"; {MAKE_SOUNDS}")))
    return problems


def _sound_wrong(name: str, data: bytes) -> str:
    """What is wrong with a sound file's audio ("" if nothing): not audio, silent of length, or too long."""
    from cuecoach.audio import sound

    try:
        pcm = sound.decode(data, f"sounds/{name}.wav").raw_data
    except CueError:
        return "is not audio that ffmpeg reads"
    length = len(pcm) // sound.SAMPLE_WIDTH
    if length == 0:
        return "holds no audio"
    if length > sound.frames(SOUND_SLOT_MS[name]):
        return (f"lasts {length / sound.FRAME_RATE:.2f} s, longer than the {SOUND_SLOT_MS[name] / 1000:g} s "
                f"it is given; shorten it to {SOUND_SLOT_MS[name] / 1000:g} s or less")
    return ""


def source_problems(project: Project, program: Program, machine: bool = True) -> tuple[Problems, Problems]:
    """(problems, warnings) of the voice, the cover and the sounds of a program (with its engine as built);
    `machine` as for voice_problems."""
    covers, warnings = cover_problems(project, program)
    return voice_problems(project, program, machine) + covers + sound_problems(project, program), warnings
