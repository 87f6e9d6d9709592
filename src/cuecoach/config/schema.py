"""The shapes a routine's files are read into: immutable dataclasses, from ``Line`` (a line to be spoken and
where it was written) to ``Program`` (program.yaml) and ``Routine`` (a day, its exercises with the day's changes).

``validate.py`` makes them from the YAML; a default of ``Program`` is its key's declared default
(``settings.py``), and nothing else holds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cuecoach.config.options import defaults
from cuecoach.config.project import PROGRAM_FILE
from cuecoach.config.settings import PROGRAM
from cuecoach.errors import Where

Problems = list[tuple[Where, str]]  # what is wrong, and where: each check adds to one list for a whole file
_DEFAULT: dict[str, Any] = defaults(PROGRAM)


@dataclass(frozen=True)
class Line:
    """A line to be spoken, as written, and where it was written."""

    text: str
    where: Where


@dataclass(frozen=True)
class Timing:
    """How an exercise is timed: one block, or one per side, of seconds or of repetitions at a tempo, repeated in
    sets with rests between (its keys and their defaults: settings.TIMING)."""

    work: float | None
    per_side: float | None
    sets: int
    rest: float | None
    where: Where
    reps: int | None = None
    reps_per_side: int | None = None
    tempo: str | None = None  # as written: "4", "3-1-1"
    tempo_where: Where | None = None  # where the tempo is written

    @property
    def rep_count(self) -> int | None:
        """Repetitions in one block, or None for a block of seconds."""
        return self.reps if self.reps is not None else self.reps_per_side

    @property
    def rep_seconds(self) -> float:
        """One rep's length: the tempo's phases added up (0 without a tempo)."""
        return sum(float(phase) for phase in self.tempo.split("-")) if self.tempo else 0.0

    @property
    def seconds(self) -> float:
        """Length of one block."""
        if self.rep_count is not None:
            return round(self.rep_count * self.rep_seconds, 1)  # tenths added up: no float dust
        return self.work if self.work is not None else self.per_side or 0.0

    @property
    def sides(self) -> int:
        return 2 if self.per_side is not None or self.reps_per_side is not None else 1


@dataclass(frozen=True)
class Exercise:
    """An entry of the library, or of a day with the day's changes. Its spoken fields, from setup to setup_time,
    are declared in settings.SPOKEN: None there means the fallback declared with it (gaps.get_ready...)."""

    id: str
    name: str
    say: Line
    equipment: tuple[str, ...]
    setup: tuple[Line, ...]
    cues: tuple[Line, ...]
    switch: Line | None
    timing: Timing
    where: Where
    reminder: Line | None
    sides: tuple[Line, Line] | None
    side2_cues: tuple[Line, ...] | None
    switch_time: float | None
    setup_time: float | None
    set_cues: tuple[Line, ...] | None = None
    quiet: bool = False


@dataclass(frozen=True)
class Gaps:
    get_ready: float
    switch_sides: float
    transition: float
    rest: float


@dataclass(frozen=True)
class Program:
    """Settings shared by every routine of a series (program.yaml). A key program.yaml may leave out takes its
    declared default (settings.PROGRAM), through these fields: other wings refer to them (Program.rate...)."""

    title: str
    equipment: dict[str, str]
    gaps: Gaps
    phrases: dict[str, tuple[Line, ...]]  # each phrase's alternatives (one, for a phrase written as a line)
    countdown: tuple[Line, Line, Line]
    where: dict[str, Where] = field(default_factory=dict)  # key -> position, for later errors
    voice: str | None = _DEFAULT["voice"]  # None: the engine's default voice
    rate: int = _DEFAULT["rate"]  # words a minute
    bitrate: str = _DEFAULT["bitrate"]
    lead_in: str = _DEFAULT["lead_in"]
    count_out: str = _DEFAULT["count_out"]
    rep_count: str = _DEFAULT["rep_count"]
    instruction: str = _DEFAULT["instruction"]
    sides: tuple[Line, Line] = (Line(_DEFAULT["sides"][0], Where(PROGRAM_FILE)),
                                Line(_DEFAULT["sides"][1], Where(PROGRAM_FILE)))
    year: int | None = _DEFAULT["year"]
    genre: str = _DEFAULT["genre"]
    cover: str | None = _DEFAULT["cover"]  # an image, relative to the routines folder
    author: str = _DEFAULT["author"]
    loudness: float = _DEFAULT["loudness"]  # LUFS
    engine: str = _DEFAULT["engine"]
    music: str | tuple[str, ...] = _DEFAULT["music"]  # "none", "default", or files relative to the routines folder
    music_level: int = _DEFAULT["music_level"]  # LU under the speech, between lines
    music_duck: int = _DEFAULT["music_duck"]  # LU under the speech, under a line or tone


@dataclass(frozen=True)
class Place:
    """Where a day is in its series: day `number` of `total` (1-based), and whether it ends a week or the series."""

    number: int = 0  # 0: a day outside the series (a routine without a week)
    total: int = 0
    week: int = 0
    last_of_week: bool = False

    @property
    def first(self) -> bool:
        return self.number == 1

    @property
    def last(self) -> bool:
        return self.number > 0 and self.number == self.total


@dataclass(frozen=True)
class Step:
    """One exercise of a routine, with the day's overrides applied."""

    number: int
    exercise: Exercise
    where: Where
    full: bool = False  # the day asks for the full setup even if the exercise is known


@dataclass(frozen=True)
class Routine:
    id: str
    title: str
    week: int
    day: int
    intro: Line | None
    steps: tuple[Step, ...]
    where: Where
    closing: Line | None = None  # the day's own last words
    quiet: bool = False  # no company lines in long holds
    music: str | tuple[str, ...] | None = None  # the day's own (as Program.music); None: program.yaml's
    music_where: Where | None = None  # where the day's own music is written
    title_where: Where | None = None  # where the title is written (a phrase that says it names its line)

    @property
    def equipment(self) -> tuple[str, ...]:
        """Equipment ids the day's exercises use, in order of first use."""
        seen: dict[str, None] = {}
        for step in self.steps:
            seen.update(dict.fromkeys(step.exercise.equipment))
        return tuple(seen)
