"""Compile a routine into a script: every spoken line and tone at its exact time. Pure and deterministic.

Timing contract
---------------
* A timed block of N seconds runs from the onset of its start tone to the onset of its
  stop tone: exactly N seconds, whatever is said inside it.
* Every sound has a slot: speech gets the estimated time to say it (``spoken.estimate_ms``),
  tones a fixed slot (``SOUND_SLOT_MS``). Slots never overlap, and at least ``PAUSE_MS``
  separates two of them. The build checks that each real clip fits its slot.
* Inside a block, the fixed cues keep their times: the start tone at 0, "halfway" at N/2
  and "ten seconds left" at N-10 (blocks of 30 s or more), "three, two, one" at N-3, N-2
  and N-1, the stop tone at N. Form cues are aimed at evenly spaced times between the end
  of the start tone and the countdown, in their written order; a cue whose aim would
  overlap a cue already placed moves later, to the first moment it fits. A cue that cannot
  fit before the countdown is an error (shorten it, or drop a cue for that day).
* Between the sides of a per-side exercise, "switch sides" sits in its own gap
  (``gaps.switch_sides``, stop tone to start tone); it never comes out of a side's time.
  Likewise the rest between sets (stop tone to start tone).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError, Where
from .schema import Exercise, Line, Problems, Program, Routine, Step
from .spoken import duration_words, estimate_ms, join_words, number_words, spoken

PAUSE_MS = 300  # the least silence between two sounds
LEAD_IN_MS = 500  # silence before the first word, so no player clips it
TAIL_MS = 1000  # silence after the finish sound
SOUND_SLOT_MS = {"start": 1000, "stop": 1000, "finish": 3000}  # the longest each sound file may be
SOUNDS = tuple(SOUND_SLOT_MS)


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

    @property
    def end_ms(self) -> int:
        return self.at_ms + self.slot_ms


@dataclass(frozen=True)
class Block:
    """A timed block: from the onset of its start tone to the onset of its stop tone."""

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

    def speech(self) -> list[str]:
        """Distinct texts to synthesize, in order of first use."""
        return list(dict.fromkeys(e.text for e in self.events if e.kind == "speech"))


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _round10(ms: float) -> int:
    return int(-(-ms // 10) * 10)


def announce_duration(exercise: Exercise) -> str:
    t = exercise.timing
    words = duration_words(t.seconds)
    if t.sets > 1:
        words = f"{number_words(t.sets)} sets of {words}"
    if t.per_side is not None:
        words += " each side"
    return words[0].upper() + words[1:]


class _Compiler:
    def __init__(self, routine: Routine, program: Program, length_minutes: int):
        self.routine = routine
        self.program = program
        self.minutes = length_minutes
        self.events: list[Event] = []
        self.blocks: list[Block] = []
        self.chapters: list[tuple[str, int]] = []
        self.problems: Problems = []

    # -- helpers ---------------------------------------------------------------------
    def estimate(self, text: str) -> int:
        return estimate_ms(text, self.program.rate, self.program.engine)

    def say(self, at: int, line: Line | str, role: str, block: int | None = None, /, **fields: object) -> int:
        """Put a spoken line at `at`; returns when the next sound may start."""
        where = line.where if isinstance(line, Line) else None
        raw = line.text if isinstance(line, Line) else line
        text = spoken(raw.format(**fields) if fields else raw)
        slot = self.estimate(text)
        self.events.append(Event(at, slot, "speech", text, role, where, block))
        return at + slot + PAUSE_MS

    def phrase(self, at: int, key: str, block: int | None = None, /, **fields: object) -> int:
        return self.say(at, self.program.phrases[key], key.replace("_", "-"), block, **fields)

    def sound(self, at: int, name: str, block: int | None = None) -> int:
        self.events.append(Event(at, SOUND_SLOT_MS[name], "sound", name, name, None, block))
        return at + SOUND_SLOT_MS[name] + PAUSE_MS

    def gap_problem(self, key: str, needed_ms: int, what: str) -> None:
        where = self.program.where.get(f"gaps.{key}", Where("program.yaml"))
        self.problems.append((where, f"gap '{key}' is too short for {what}: it needs at least "
                                     f"{needed_ms / 1000:.1f} s; lengthen it or shorten the phrase"))

    # -- the session -----------------------------------------------------------------
    def run(self) -> None:
        program, routine = self.program, self.routine
        t = LEAD_IN_MS
        t = self.phrase(t, "welcome", series=program.title, title=routine.title)
        if routine.intro is not None:
            t = self.say(t, routine.intro, "intro")
        t = self.phrase(t, "length", length=duration_words(60 * self.minutes))
        if routine.equipment:
            gear = join_words([program.equipment[item] for item in routine.equipment])
            t = self.phrase(t, "equipment", equipment=gear)
        t = self.phrase(t, "safety")
        t = self.phrase(t, "begin")
        last_stop = None
        for step in routine.steps:
            if last_stop is not None:
                t = self.phrase(last_stop + SOUND_SLOT_MS["stop"] + PAUSE_MS, "next_exercise",
                                name=step.exercise.say.text)
                t = max(t, last_stop + _ms(program.gaps.transition))
            last_stop = self.exercise(t, step)
        assert last_stop is not None
        closing = last_stop + SOUND_SLOT_MS["stop"] + PAUSE_MS
        self.chapters.append(("Close", closing))
        t = self.sound(self.phrase(closing, "closing"), "finish")
        self.duration = t - PAUSE_MS + TAIL_MS

    def exercise(self, t: int, step: Step) -> int:
        """Announce, set up and time one exercise starting at `t`; returns its last stop tone's onset."""
        ex, timing = step.exercise, step.exercise.timing
        self.chapters.append((ex.name, t))
        t = self.phrase(t, "announce", number=number_words(step.number),
                        count=number_words(len(self.routine.steps)), name=ex.say.text,
                        duration=announce_duration(ex))
        for line in ex.setup:
            t = self.say(t, line, "setup")
        ready = t
        t = self.phrase(t, "get_ready")
        start = ready + _ms(self.program.gaps.get_ready)
        if t > start:
            self.gap_problem("get_ready", t - ready, "the 'get ready' phrase")
            start = t
        rest = _ms(timing.rest if timing.rest is not None else self.program.gaps.rest)
        for set_number in range(1, timing.sets + 1):
            for side in range(1, timing.sides + 1):
                stop = self.block(start, step, side if timing.sides == 2 else None, set_number)
                if side < timing.sides:
                    start = self.between(stop, _ms(self.program.gaps.switch_sides), ex, "switch")
            if set_number < timing.sets:
                start = self.between(stop, rest, ex, "rest", set_number + 1)
        return stop

    def between(self, stop: int, gap_ms: int, ex: Exercise, kind: str, next_set: int = 0) -> int:
        """Fill the gap after a stop tone: 'switch sides', or a rest and the next set's call."""
        start = stop + gap_ms
        t = stop + SOUND_SLOT_MS["stop"] + PAUSE_MS
        if kind == "switch":
            t = self.say(t, ex.switch or self.program.phrases["switch_sides"], "switch")
            if t > start:
                self.gap_problem("switch_sides", t - stop, "the stop tone and the 'switch sides' phrase")
            return max(t, start)
        t = self.phrase(t, "rest", length=duration_words(gap_ms / 1000))
        call = self.program.phrases["next_set"].text.format(set=number_words(next_set),
                                                           sets=number_words(ex.timing.sets))
        at = start - 1000 - self.estimate(spoken(call))
        if at < t:
            where = ex.timing.where
            self.problems.append((where, f"the rest of {gap_ms / 1000:g} s in '{ex.id}' is too short for the stop "
                                         f"tone and the rest and next-set phrases; make it at least "
                                         f"{-(-(t - at + gap_ms) // 1000)} s"))
            at = t
        t = self.phrase(at, "next_set", set=number_words(next_set), sets=number_words(ex.timing.sets))
        return max(t, start)

    def block(self, start: int, step: Step, side: int | None, set_number: int) -> int:
        """Lay out one timed block starting at `start`; returns the stop tone's onset."""
        ex = step.exercise
        n = _ms(ex.timing.seconds)
        number = len(self.blocks) + 1
        stop = start + n
        self.blocks.append(Block(number, step.number, ex.id, ex.name, side, set_number, ex.timing.sets,
                                 ex.timing.seconds, start, stop))
        self.sound(start, "start", number)
        taken: list[tuple[int, int]] = [(start, start + SOUND_SLOT_MS["start"])]
        fixed: list[tuple[int, str]] = []
        if n >= 30_000:
            fixed += [(start + _round10(n / 2), "halfway"), (stop - 10_000, "ten_seconds_left")]
        countdown_at = stop - 1000 * len(self.program.countdown)
        for at, name in fixed:
            end = self.phrase(at, name, number)
            taken.append((at, end - PAUSE_MS))
        for i, word in enumerate(self.program.countdown):
            at = countdown_at + 1000 * i
            end = self.say(at, word, "countdown", number)
            if end - PAUSE_MS > at + 900:
                self.problems.append((word.where, f"countdown word '{word.text}' takes longer than one second "
                                                  "to say; use a single short word"))
        self.sound(stop, "stop", number)
        self.place_cues(ex, number, start + SOUND_SLOT_MS["start"] + PAUSE_MS, countdown_at - PAUSE_MS, taken)
        return stop

    def place_cues(self, ex: Exercise, number: int, free_from: int, free_until: int,
                   taken: list[tuple[int, int]]) -> None:
        """Form cues: aimed at evenly spaced times, moved later past anything already placed."""
        if not ex.cues:
            return
        spacing = (free_until - free_from) / len(ex.cues)
        earliest = free_from
        for i, cue in enumerate(ex.cues):
            length = self.estimate(spoken(cue.text))
            at = max(earliest, free_from + _round10(i * spacing))
            moved = True
            while moved:
                moved = False
                for busy_from, busy_until in taken:
                    if at < busy_until + PAUSE_MS and busy_from < at + length + PAUSE_MS:
                        at, moved = busy_until + PAUSE_MS, True
            if at + length > free_until:
                self.problems.append((cue.where, f"cue does not fit in the {ex.timing.seconds:g} s block of "
                                                 f"'{ex.id}' in {self.routine.id} (it needs {length / 1000:.1f} s "
                                                 "with the fixed cues in place); shorten it or give that day fewer cues"))
                continue
            self.say(at, cue, "cue", number)
            taken.append((at, at + length))
            earliest = at + length + PAUSE_MS


def compile_routine(routine: Routine, program: Program) -> Script:
    """Routine to script. Raises InputError when something cannot be laid out."""
    minutes = 10
    for _ in range(4):  # the spoken length changes the length a little: settle it
        compiler = _Compiler(routine, program, minutes)
        compiler.run()
        settled = max(1, round(compiler.duration / 60_000))
        if settled == minutes or compiler.problems:
            break
        minutes = settled
    events = tuple(sorted(compiler.events, key=lambda e: (e.at_ms, e.kind)))
    for before, after in zip(events, events[1:]):
        if after.at_ms < before.end_ms and not compiler.problems:
            where = before.where or after.where or Where("program.yaml")
            compiler.problems.append((where, f"'{before.text}' and '{after.text}' overlap in {routine.id} at "
                                             f"{before.at_ms / 1000:.1f} s; shorten one of them"))
    if compiler.problems:
        raise InputError(list(dict.fromkeys(compiler.problems)))
    starts = compiler.chapters
    chapters = [Chapter("Introduction", 0, starts[0][1])]
    for (title, begin), (_, end) in zip(starts, starts[1:] + [("", compiler.duration)]):
        chapters.append(Chapter(title, begin, end))
    return Script(
        routine=routine.id, title=routine.title, series=program.title, week=routine.week, day=routine.day,
        equipment=tuple(program.equipment[item] for item in routine.equipment), events=events,
        blocks=tuple(compiler.blocks), chapters=tuple(chapters), duration_ms=compiler.duration,
    )
