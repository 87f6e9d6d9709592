"""What a compiled routine is: the script (every sound heard, at its time, the timed blocks and the
chapters), and the timing constants the compiler lays it out with (their contract is compile.py's).

Plain frozen data, with no I/O: the compiler makes a ``Script``; the timeline, the renderer, the
build and the exports read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cuecoach.errors import Where

PAUSE_MS = 300  # the least silence between two sounds
LINE_GAP_MS = 1500  # the least silence between two lines inside a timed block
OPENING_SILENCE_MS = 500  # silence before the first word, so no player clips it
TAIL_MS = 1000  # silence after the finish sound
SOUND_SLOT_MS = {"start": 1000, "stop": 1000, "finish": 3000, "pip": 300}  # the longest each sound file may be
SOUNDS = tuple(SOUND_SLOT_MS)
COUNT_STEP_MS = 1000  # countdown and lead-in: one word (or pip) a second
COUNT_SLOT_MS = 900  # a count word's slot: one short word; the build checks the real clip against it
COUNT_WORD_MAX_MS = 1000  # a count word longer than this at the calibration rate is not one short word
CALLS_MIN_S = 40  # blocks this long or longer hear "halfway" and "ten seconds left"
COMPANY_MIN_S = 20  # blocks this long or longer are kept company: no quiet stretch over QUIET_MAX_MS
QUIET_MAX_MS = 15_000  # the longest a runner holds without a word, in a block of COMPANY_MIN_S or more
# A line's slot is generous (spoken.estimate_ms: real speech came to 0.43 to 0.95 of it), so the quiet heard
# is longer than the plan's: the plan keeps its stretches this much shorter.
SLOT_MARGIN_MS = 3_000
TIME_CALL_STEP_S = 5  # a time call names a round time left: "twenty-five seconds to go", said when it is so
TIME_CALL_MIN_S = 15  # no time call below this: "ten seconds left" is the fixed call's, and the count is near
TIME_CALL_LATEST = 2 / 3  # at most this share of a block left: "fifty seconds to go" ten seconds in is no help
MAX_COMPANY_LINES = 8  # company lines a block may get: a bound on the search, never reached at 120 words a minute


@dataclass(frozen=True)
class Event:
    """Something heard: a spoken line or a sound, at a time, with the time reserved for it."""

    at_ms: int
    slot_ms: int
    kind: str  # "speech" or "sound"
    text: str  # the words to say, or the sound's name
    role: str  # what it is for: "cue", "halfway", "start", ...
    where: Where | None = None  # where the words were written
    block: int | None = None  # the timed block it belongs to, 1-based
    said_in: Where | None = None  # the phrase's line, when `where` is a value it says (a title, a name)

    @property
    def end_ms(self) -> int:
        return self.at_ms + self.slot_ms


@dataclass(frozen=True)
class Block:
    """A timed block, of seconds or of reps: from the onset of its start tone to the onset of its stop tone."""

    number: int
    step: int
    exercise: str
    name: str
    side: int | None
    set: int
    sets: int
    seconds: float
    start_ms: int
    end_ms: int
    side_name: str | None = None
    reps: int | None = None  # a block of repetitions: how many, at what tempo ("3-1-1")
    tempo: str | None = None


@dataclass(frozen=True)
class Chapter:
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Script:
    routine: str
    title: str
    series: str
    week: int
    day: int
    equipment: tuple[str, ...]
    events: tuple[Event, ...]
    blocks: tuple[Block, ...]
    chapters: tuple[Chapter, ...]
    duration_ms: int
    warnings: tuple[tuple[Where, str], ...] = ()  # cues left out: file:line:col warnings

    def speech(self) -> list[str]:
        """Distinct texts to synthesize, in order of first use."""
        return list(dict.fromkeys(e.text for e in self.events if e.kind == "speech"))
