"""How the compiler speaks (compile.py lays out when): a line as it will be heard, the phrases' alternatives in
turn, sounds and counts at a time, and the talk around a session (the opening, the closing, an exercise's setup).

``Speaker`` holds what a day's script is made of as it grows (events, blocks, chapters, problems, warnings);
``compile._Compiler`` adds the timing. ``Speaker.filler`` picks the day's next line to keep a long hold company
(breathing, encouragement, a time call, in turn) and where it goes. Pure: nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass

from cuecoach.config.project import PROGRAM_FILE
from cuecoach.config.schema import Exercise, Line, Place, Problems, Program, Routine, Step
from cuecoach.errors import Where
from cuecoach.script.cues import Span, call_times, fill_at, fits_at
from cuecoach.script.types import (
    COUNT_SLOT_MS,
    COUNT_STEP_MS,
    PAUSE_MS,
    SOUND_SLOT_MS,
    TIME_CALL_LATEST,
    TIME_CALL_MIN_S,
    TIME_CALL_STEP_S,
    Block,
    Event,
)
from cuecoach.script.vary import Chooser
from cuecoach.spoken import as_said, duration_words, estimate_ms, join_words, number_words

FILLERS = ("breathing", "encouragement", "time_left")  # the company lines after the form cues, in turn


@dataclass(frozen=True)
class Words:
    """A line as it will be heard: its words spoken out, the time kept for them, where they were written."""

    text: str
    slot_ms: int
    where: Where | None = None
    said_in: Where | None = None  # the phrase's line, when `where` names a value it says (a title, a name)


def to_ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def round10(ms: float) -> int:
    return int(-(-ms // 10) * 10)


def announce_duration(exercise: Exercise) -> str:
    """How long an exercise lasts, for its announcement: "two sets of thirty seconds each side", "ten reps"."""
    t = exercise.timing
    words = duration_words(t.seconds) if t.rep_count is None else \
        f"{number_words(t.rep_count)} rep{'s' * (t.rep_count != 1)}"
    if t.sets > 1:
        words = f"{number_words(t.sets)} sets of {words}"
    if t.sides == 2:
        words += " each side"
    return words


class Speaker:
    def __init__(self, routine: Routine, program: Program, length_minutes: int, known: frozenset[str],
                 where: Place):
        self.routine = routine
        self.place = where
        self.program = program
        self.minutes = length_minutes
        self.known = known
        self.events: list[Event] = []
        self.blocks: list[Block] = []
        self.chapters: list[tuple[str, int]] = []
        self.rate_problems: list[tuple[Where, str, str]] = []  # fixed lines that do not fit: where, what, fix
        self.warnings: Problems = []
        self.chooser = Chooser(routine.id)
        self.fillers = 0  # company fillers tried so far: their kinds take turns through the day
        self.last_set: dict[tuple[int, int | None], set[str]] = {}  # (step, side): the cues its last set said

    # -- helpers ---------------------------------------------------------------------
    def estimate(self, text: str) -> int:
        return estimate_ms(text, self.program.rate, self.program.engine)

    def words(self, line: Line | str, slot_ms: int | None = None, /, **fields: object) -> Words:
        """A line as it is said, with its slot: `slot_ms` if given (a count word's), else its estimate. A field
        given as a Line (a title, a name) that says more than the phrase around it is where the line was
        written: a line too long for its slot names it, and the phrase it is said in (`said_in`)."""
        raw = line.text if isinstance(line, Line) else line
        plain = {key: value.text if isinstance(value, Line) else value for key, value in fields.items()}
        text = as_said(raw.format(**plain) if fields else raw)
        where = line.where if isinstance(line, Line) else None
        values = [value for value in fields.values() if isinstance(value, Line)]
        if values:
            longest = max(values, key=lambda value: len(as_said(value.text)))
            own = raw.format(**dict.fromkeys(plain, ""))
            if len(as_said(longest.text)) > len(as_said(own)):
                return Words(text, slot_ms if slot_ms is not None else self.estimate(text), longest.where, where)
        return Words(text, slot_ms if slot_ms is not None else self.estimate(text), where)

    def say(self, at: int, line: Words, role: str, block: int | None = None) -> int:
        """Put a spoken line at `at`; returns the end of its slot."""
        self.events.append(Event(at, line.slot_ms, "speech", line.text, role, line.where, block, line.said_in))
        return at + line.slot_ms

    def choose(self, key: str) -> Line:
        """The phrase's next alternative (vary.py): the same day always says the same words."""
        return self.chooser.pick(key, self.program.phrases[key])

    def phrase(self, at: int, key: str, block: int | None = None, /, **fields: object) -> int:
        return self.say(at, self.words(self.choose(key), **fields), key.replace("_", "-"), block)

    def sound(self, at: int, name: str, block: int | None = None, role: str = "") -> int:
        self.events.append(Event(at, SOUND_SLOT_MS[name], "sound", name, role or name, None, block))
        return at + SOUND_SLOT_MS[name]

    def count(self, at: int, role: str, block: int | None = None) -> int:
        """The three count words (or, for a lead-in with pips, three pips) one second apart; returns the end."""
        style = self.program.lead_in if role == "lead-in" else self.program.count_out
        for i, word in enumerate(self.program.countdown):
            if style == "pips":
                self.sound(at + i * COUNT_STEP_MS, "pip", block)
            elif style == "count":
                self.say(at + i * COUNT_STEP_MS, self.words(word, COUNT_SLOT_MS), role, block)
        return at + len(self.program.countdown) * COUNT_STEP_MS

    def sides(self, ex: Exercise) -> tuple[Line, Line]:
        return ex.sides or self.program.sides

    # -- the session -----------------------------------------------------------------

    def where_fields(self) -> dict[str, str]:
        """The runner's place in the series, for the phrases that may say it: day {day} of {days}, week {week}."""
        place, routine = self.place, self.routine
        number = place.number or routine.day or 1
        return {"day": number_words(number), "days": number_words(place.total or number),
                "week": number_words(place.week or routine.week or 1)}

    def closing(self, t: int) -> int:
        """The day's own closing, else the series' last day's, a week's last day's, or any day's."""
        if self.routine.closing is not None:
            return self.say(t, self.words(self.routine.closing, **self.where_fields()), "closing")
        key = "closing_series" if self.place.last else "closing_week" if self.place.last_of_week else "closing"
        return self.say(t, self.words(self.choose(key), **self.where_fields()), "closing")

    def opening(self, t: int) -> int:
        """Welcome, length, equipment and safety: in full on a week's first day, short on the others
        (the short welcome, which may say the length, the intro, the short equipment and safety lines)."""
        program, routine = self.program, self.routine
        full = program.instruction == "full" or routine.day <= 1
        suffix = "" if full else "_short"
        length = duration_words(60 * self.minutes)
        welcome = "welcome_first" if self.place.first else "welcome" + suffix
        t = self.say(t, self.words(self.choose(welcome), series=self.series_title(), title=self.title(),
                                   **self.where_fields(), **({} if full else {"length": length})),
                     welcome.replace("_", "-")) + PAUSE_MS
        if routine.intro is not None:
            t = self.say(t, self.words(routine.intro), "intro") + PAUSE_MS
        if full:  # the short welcome says the length itself
            t = self.phrase(t, "length", length=length) + PAUSE_MS
        if routine.equipment:
            gear = join_words([program.equipment[item] for item in routine.equipment])
            t = self.phrase(t, "equipment" + suffix, equipment=gear) + PAUSE_MS
        t = self.phrase(t, "safety" + suffix) + PAUSE_MS
        if full:
            t = self.phrase(t, "begin") + PAUSE_MS
        return t

    def series_title(self) -> Line:
        return Line(self.program.title, self.program.where.get("title") or Where(PROGRAM_FILE))

    def title(self) -> Line:
        return Line(self.routine.title, self.routine.title_where or self.routine.where)

    def setup_lines(self, step: Step) -> tuple[Line, ...]:
        """The full setup the first time an exercise comes up in the series; then its reminder."""
        ex = step.exercise
        if self.program.instruction == "full" or step.full or ex.id not in self.known:
            return ex.setup
        reminder = ex.reminder or (ex.setup[0] if ex.setup else None)
        return (reminder,) if reminder is not None else ()

    def filler(self, stretch: Span, block: Block, busy: list[Span], free: Span) -> tuple[int | None, Words]:
        """The day's next filler that fits the stretch (breathing, encouragement, time call in turn), and where."""
        calls = self.program.phrases["time_left"]
        line = Words("", 0)
        for _ in FILLERS:
            kind = FILLERS[self.fillers % len(FILLERS)]
            self.fillers += 1
            if kind != "time_left":
                line = self.words(self.choose(kind))
                at = fill_at(stretch, line.slot_ms, busy, free)
                if at is not None:
                    return at, line
                continue
            latest = int(block.seconds * TIME_CALL_LATEST)
            for left in call_times(stretch, block.end_ms, TIME_CALL_STEP_S, TIME_CALL_MIN_S, latest):
                line = self.words(self.chooser.peek(kind, calls), left=duration_words(left))
                if fits_at(block.end_ms - left * 1000, line.slot_ms, busy, free):
                    self.chooser.pick(kind, calls)
                    return block.end_ms - left * 1000, line
        return None, line
