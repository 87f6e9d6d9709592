"""Place every clip and tone of a script at its exact frame in one buffer. Pure: no engine, no files.

Slots never overlap (the compiler guarantees it), so placing is a copy into a buffer of
silence: work linear in the track's length, with no whole-track copy per clip.
"""

from __future__ import annotations

from dataclasses import dataclass

from .audio import FRAME_RATE, SAMPLE_WIDTH, frames
from .compile import SOUNDS, Script
from .errors import InputError, Where


@dataclass(frozen=True)
class Overrun:
    text: str
    where: Where | None
    needed_ms: int
    slot_ms: int


def overruns(script: Script, clips: dict[str, bytes], sounds: dict[str, bytes]) -> list[Overrun]:
    """Every clip or sound longer than the slot the plan gave it."""
    return overruns_by_length({text: len(data) for text, data in clips.items()},
                              {name: len(data) for name, data in sounds.items()}, script)


def overruns_by_length(clips: dict[str, int], sounds: dict[str, int], script: Script) -> list[Overrun]:
    """The same, from the clips' and sounds' lengths in bytes."""
    found = []
    for event in script.events:
        size = clips[event.text] if event.kind == "speech" else sounds[event.text]
        if size // SAMPLE_WIDTH > frames(event.slot_ms):
            found.append(Overrun(event.text, event.where, size // SAMPLE_WIDTH * 1000 // FRAME_RATE, event.slot_ms))
    return found


def overrun_error(script: Script, found: list[Overrun]) -> InputError:
    problems = []
    for item in found:
        where = item.where or Where(f"sounds/{item.text}.wav" if item.text in SOUNDS
                                    else "routines/program.yaml")
        problems.append((where, f"'{item.text}' lasts {item.needed_ms / 1000:.2f} s but {script.routine} gives it "
                                f"{item.slot_ms / 1000:.2f} s; shorten it, or raise the rate in program.yaml"))
    return InputError(list(dict.fromkeys(problems)))


def pieces(script: Script, clips: dict[str, bytes], sounds: dict[str, bytes]) -> list[tuple[int, bytes]]:
    """Every clip and sound of the script with the frame it starts on."""
    return [(frames(event.at_ms), clips[event.text] if event.kind == "speech" else sounds[event.text])
            for event in script.events]


def render(script: Script, clips: dict[str, bytes], sounds: dict[str, bytes]) -> bytearray:
    """The whole track as 16-bit mono PCM. Raises InputError if a clip overruns its slot."""
    found = overruns(script, clips, sounds)
    if found:
        raise overrun_error(script, found)
    track = bytearray(frames(script.duration_ms) * SAMPLE_WIDTH)
    for offset, data in pieces(script, clips, sounds):
        track[offset * SAMPLE_WIDTH:offset * SAMPLE_WIDTH + len(data)] = data
    return track
