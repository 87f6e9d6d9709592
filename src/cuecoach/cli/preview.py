"""`cuecoach preview EXERCISE`: print one exercise's plan, write its audio, and play it at a terminal.

Registered on the app by ``app.py`` (which is full); the work is ``builder.preview``. Like ``say``, the audio is
a WAV in a temp folder unless ``--output`` names one, and it is played only when a player exists and the
command runs at a terminal.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from cuecoach import system
from cuecoach.cli.guide import complete_exercises
from cuecoach.config.project import Project
from cuecoach.config.settings import ENGINES
from cuecoach.errors import CueError, InputError

PLAYERS = ("paplay", "aplay", "afplay")  # the first found plays the preview (as `say` does)


def preview(
    exercise: Annotated[str, typer.Argument(metavar="EXERCISE", autocompletion=complete_exercises,
                                            help="An exercise id from exercises.yaml (cat-cow).")],
    with_: Annotated[str, typer.Option("--with", metavar="CHANGES", help="A day's changes to the exercise, as in "
                                       "a day's entry, such as 'work: 30, sets: 2' or 'per_side: 20'.")] = "",
    out: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write the audio to this WAV "
                                             "file [default: play it, and keep it in a temp file].")] = None,
    routines: Annotated[Path | None, typer.Option("--routines", metavar="DIR",
                                                  help="Folder of routine YAML files [default: ./routines].")] = None,
    sounds: Annotated[Path | None, typer.Option("--sounds", metavar="DIR",
                                                help="Folder of start/stop/finish WAVs [default: ./sounds].")] = None,
    cache: Annotated[Path | None, typer.Option("--cache", metavar="DIR",
                                               help="Speech cache folder [default: ./.cache/cuecoach].")] = None,
    engine: Annotated[str | None, typer.Option("--engine", metavar="ENGINE", help="Speech engine: pyttsx3 or "
                                               "piper [default: 'engine' in program.yaml].")] = None,
) -> None:
    """Hear one exercise as a day would give it: print its plan, write its audio, and play it."""
    from cuecoach.audio import sound
    from cuecoach.builder.preview import preview_audio, preview_script
    from cuecoach.script.timeline import format_plan

    if engine is not None and engine not in ENGINES:
        print(f"error: --engine {engine}: use one of: {', '.join(ENGINES)}", file=sys.stderr)
        raise typer.Exit(2)
    project = Project.at(Path.cwd(), routines, sounds, None, cache)
    try:
        script, program = preview_script(project, exercise, with_, engine)
        for where, message in script.warnings:
            print(f"{where}: {message}", file=sys.stderr)
        sys.stdout.write(format_plan(script))
        sys.stdout.flush()
        pcm = preview_audio(project, script, program)
    except CueError as exc:
        for line in str(exc).splitlines():
            print(line if isinstance(exc, InputError) else f"error: {line}", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from None
    target = out or Path(tempfile.mkdtemp(prefix="cuecoach-preview-")) / f"{exercise}.wav"
    system.write_atomic(target, sound.wav_bytes(pcm))
    print(f"wrote {target} ({len(pcm) // sound.SAMPLE_WIDTH / sound.FRAME_RATE:.1f} s)", file=sys.stderr)
    player = next((p for p in PLAYERS if shutil.which(p)), None)
    if out is None and player and sys.stdin.isatty():
        subprocess.run([player, str(target)], check=False, capture_output=True)
