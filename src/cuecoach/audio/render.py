"""Place every clip and tone of a script in one buffer. Pure: no engine, no files.

Slots never overlap (the compiler guarantees it), so placing is a copy into a buffer of
silence: work linear in the track's length, with no whole-track copy per clip.

Where a sound starts (`start_of`): a tone on the exact sample of its planned time, since the
start and stop of a block are what a runner times herself by. A spoken line on the MP3 frame
grid: at its planned time or up to one frame (1152 samples, 26 ms) before it. A line then
falls on the same phase of the encoder's frames wherever it is used, so it is encoded once
for the whole program instead of once for each of up to 128 phases (assemble.py): about
six times less audio to encode on a cold build of the 42 days. The shift is earlier, never
later, so a line still ends within its slot, and it is far inside the compiler's least pause
between two sounds (PAUSE_MS), so it never meets the sound before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cuecoach.audio.mp3 import DELAY, SAMPLES_PER_FRAME
from cuecoach.audio.sound import FRAME_RATE, SAMPLE_WIDTH, frames
from cuecoach.errors import InputError, Where
from cuecoach.script.types import PAUSE_MS, SOUNDS, Event, Script


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


GRID_SHIFT_MAX_MS = SAMPLES_PER_FRAME * 1000 // FRAME_RATE + 1  # 27: the most a line moves
assert GRID_SHIFT_MAX_MS < PAUSE_MS, "a line moved onto the frame grid could meet the sound before it"


def start_of(event: Event) -> int:
    """The track sample a sound starts on: a tone's or a rep's count's exact time (a count keeps the tempo,
    within 20 ms); another spoken line's time moved back onto the MP3 frame grid (the sample that the
    encoder's and decoder's delay put at the start of a frame)."""
    at = frames(event.at_ms)
    if event.kind != "speech" or event.role == "rep":
        return at
    return max(0, at - (at + DELAY) % SAMPLES_PER_FRAME)


def pieces(script: Script, clips: dict[str, bytes], sounds: dict[str, bytes]) -> list[tuple[int, bytes]]:
    """Every clip and sound of the script with the sample it starts on."""
    return [(start_of(event), clips[event.text] if event.kind == "speech" else sounds[event.text])
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
