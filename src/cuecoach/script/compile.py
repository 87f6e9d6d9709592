"""Compile a routine into a script: every spoken line and tone at its exact time. Pure and deterministic.

Timing contract
---------------
* A timed block of N seconds runs from the onset of its start tone to the onset of its
  stop tone: exactly N seconds, whatever is said inside it.
* Every sound has a slot: speech gets the estimated time to say it (``spoken.estimate_ms``),
  a count word and tones a fixed slot (``COUNT_SLOT_MS``, ``SOUND_SLOT_MS``). Slots never
  overlap, and at least ``PAUSE_MS`` separates two of them. The build checks that each real
  clip fits its slot.
* Time to move: before every first side, and between sides, the runner gets a quiet time
  after the last spoken word (``setup_time`` / ``switch_time``, by default the series'
  ``gaps.get_ready`` / ``gaps.switch_sides``), then the lead-in: the countdown words (or
  pips) one second apart, the last one second before the start tone. The words before it
  never eat the quiet time: the gap grows with them.
* Inside a block, the fixed cues keep their times: the start tone at 0, "halfway" at N/2
  and "ten seconds left" at N-10 (blocks of ``CALLS_MIN_S`` or more), "three, two, one"
  at N-3, N-2 and N-1, the stop tone at N. Two lines inside a block are at least
  ``LINE_GAP_MS`` apart. Form cues are aimed at evenly spaced times between the start
  tone and the countdown, in their written order, and move later past a line already
  placed; a cue that cannot fit at the series' rate is left out with a warning.
* Sides are named: "Start with your left side." before the first, "Now your right side."
  after the switch line. The second side hears its own cues, or only the first cue.
* A fixed line that cannot fit (a rest too short for its calls, a countdown word longer
  than a second) is an error at its line, naming the slowest rate at which it fits.
* Talk fades: an exercise met on an earlier day of the series gets its reminder instead
  of its full setup; the opening is short on all but a week's first day.

The script's types and these timing constants are in ``types.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

from cuecoach.config.schema import Exercise, Line, Problems, Program, Routine, Step
from cuecoach.config.settings import MAX_RATE, MAX_ROUTINE_S
from cuecoach.errors import InputError, Where
from cuecoach.script.types import (
    CALLS_MIN_S,
    COUNT_SLOT_MS,
    COUNT_STEP_MS,
    COUNT_WORD_MAX_MS,
    LINE_GAP_MS,
    OPENING_SILENCE_MS,
    PAUSE_MS,
    SOUND_SLOT_MS,
    TAIL_MS,
    Block,
    Chapter,
    Event,
    Script,
)
from cuecoach.spoken import CALIBRATION_RATE, duration_words, estimate_ms, join_words, number_words, spoken


@dataclass(frozen=True)
class Words:
    """A line as it will be heard: its words spoken out, the time kept for them, where they were written."""

    text: str
    slot_ms: int
    where: Where | None = None


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
    def __init__(self, routine: Routine, program: Program, length_minutes: int, known: frozenset[str]):
        self.routine = routine
        self.program = program
        self.minutes = length_minutes
        self.known = known
        self.events: list[Event] = []
        self.blocks: list[Block] = []
        self.chapters: list[tuple[str, int]] = []
        self.rate_problems: list[tuple[Where, str, str]] = []  # fixed lines that do not fit: where, what, fix
        self.warnings: Problems = []

    # -- helpers ---------------------------------------------------------------------
    def estimate(self, text: str) -> int:
        return estimate_ms(text, self.program.rate, self.program.engine)

    def words(self, line: Line | str, slot_ms: int | None = None, /, **fields: object) -> Words:
        """A line as it is said, with its slot: `slot_ms` if given (a count word's), else its estimate."""
        raw = line.text if isinstance(line, Line) else line
        text = spoken(raw.format(**fields) if fields else raw)
        text = text[:1].upper() + text[1:]  # a phrase may begin with a placeholder: "{number} of {count}"
        return Words(text, slot_ms if slot_ms is not None else self.estimate(text),
                     line.where if isinstance(line, Line) else None)

    def say(self, at: int, line: Words, role: str, block: int | None = None) -> int:
        """Put a spoken line at `at`; returns the end of its slot."""
        self.events.append(Event(at, line.slot_ms, "speech", line.text, role, line.where, block))
        return at + line.slot_ms

    def phrase(self, at: int, key: str, block: int | None = None, /, **fields: object) -> int:
        return self.say(at, self.words(self.program.phrases[key], **fields), key.replace("_", "-"), block)

    def sound(self, at: int, name: str, block: int | None = None) -> int:
        self.events.append(Event(at, SOUND_SLOT_MS[name], "sound", name, name, None, block))
        return at + SOUND_SLOT_MS[name]

    def count(self, at: int, role: str, block: int | None = None) -> int:
        """The three count words (or, for a lead-in with pips, three pips) one second apart; returns the end."""
        for i, word in enumerate(self.program.countdown):
            if role == "lead-in" and self.program.lead_in == "pips":
                self.sound(at + i * COUNT_STEP_MS, "pip", block)
            else:
                self.say(at + i * COUNT_STEP_MS, self.words(word, COUNT_SLOT_MS), role, block)
        return at + len(self.program.countdown) * COUNT_STEP_MS

    def sides(self, ex: Exercise) -> tuple[Line, Line]:
        return ex.sides or self.program.sides

    # -- the session -----------------------------------------------------------------
    def run(self) -> None:
        program, routine = self.program, self.routine
        t = self.opening(OPENING_SILENCE_MS)
        last_stop = None
        for step in routine.steps:
            if last_stop is not None:
                t = self.phrase(last_stop + SOUND_SLOT_MS["stop"] + PAUSE_MS, "next_exercise",
                                name=step.exercise.say.text) + PAUSE_MS
                t = max(t, last_stop + _ms(program.gaps.transition))
            last_stop = self.exercise(t, step)
        assert last_stop is not None
        closing = last_stop + SOUND_SLOT_MS["stop"] + PAUSE_MS
        self.chapters.append(("Close", closing))
        t = self.sound(self.phrase(closing, "closing") + PAUSE_MS, "finish")
        self.duration = t + TAIL_MS

    def opening(self, t: int) -> int:
        """Welcome, length, equipment and safety: in full on a week's first day, short on the others
        (the short welcome, which may say the length, the intro, the short equipment and safety lines)."""
        program, routine = self.program, self.routine
        full = program.instruction == "full" or routine.day <= 1
        suffix = "" if full else "_short"
        length = duration_words(60 * self.minutes)
        t = self.phrase(t, "welcome" + suffix, series=program.title, title=routine.title,
                        **({} if full else {"length": length})) + PAUSE_MS
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

    def setup_lines(self, step: Step) -> tuple[Line, ...]:
        """The full setup the first time an exercise comes up in the series; then its reminder."""
        ex = step.exercise
        if self.program.instruction == "full" or step.full or ex.id not in self.known:
            return ex.setup
        reminder = ex.reminder or (ex.setup[0] if ex.setup else None)
        return (reminder,) if reminder is not None else ()

    def exercise(self, t: int, step: Step) -> int:
        """Announce, set up and time one exercise starting at `t`; returns its last stop tone's onset."""
        ex, timing = step.exercise, step.exercise.timing
        self.chapters.append((ex.name, t))
        t = self.phrase(t, "announce", number=number_words(step.number),
                        count=number_words(len(self.routine.steps)), name=ex.say.text,
                        duration=announce_duration(ex)) + PAUSE_MS
        for line in self.setup_lines(step):
            t = self.say(t, self.words(line), "setup") + PAUSE_MS
        sides = self.sides(ex)
        if timing.sides == 2:
            t = self.phrase(t, "side_first", side=sides[0].text) + PAUSE_MS
        end = self.phrase(t, "get_ready")
        quiet = ex.setup_time if ex.setup_time is not None else self.program.gaps.get_ready
        start = self.count(end + _ms(quiet), "lead-in")
        rest = _ms(timing.rest if timing.rest is not None else self.program.gaps.rest)
        for set_number in range(1, timing.sets + 1):
            for side in range(1, timing.sides + 1):
                stop = self.block(start, step, side if timing.sides == 2 else None, set_number)
                if side < timing.sides:
                    start = self.switch(stop, ex)
            if set_number < timing.sets:
                start = self.rest(stop, rest, ex, set_number + 1)
        return stop

    def switch(self, stop: int, ex: Exercise) -> int:
        """Between sides: the switch line, the side's name, quiet time to move, the lead-in. Returns the start."""
        t = stop + SOUND_SLOT_MS["stop"] + PAUSE_MS
        t = self.say(t, self.words(ex.switch or self.program.phrases["switch_sides"]), "switch") + PAUSE_MS
        end = self.phrase(t, "side_next", side=self.sides(ex)[1].text)
        quiet = ex.switch_time if ex.switch_time is not None else self.program.gaps.switch_sides
        return self.count(end + _ms(quiet), "lead-in")

    def rest(self, stop: int, rest_ms: int, ex: Exercise, next_set: int) -> int:
        """A rest between sets (stop tone to start tone): the rest, the first side's name, the next set's call."""
        start = stop + rest_ms
        t = stop + SOUND_SLOT_MS["stop"] + PAUSE_MS
        t = self.phrase(t, "rest", length=duration_words(rest_ms / 1000)) + PAUSE_MS
        if ex.timing.sides == 2:
            t = self.phrase(t, "side_first", side=self.sides(ex)[0].text) + PAUSE_MS
        lead_at = start - len(self.program.countdown) * COUNT_STEP_MS
        call = self.words(self.program.phrases["next_set"], set=number_words(next_set),
                          sets=number_words(ex.timing.sets))
        at = lead_at - PAUSE_MS - call.slot_ms
        if at < t:
            self.rate_problems.append((ex.timing.where,
                                       f"the rest of {rest_ms / 1000:g} s in '{ex.id}' is too short for the stop "
                                       "tone, the rest and next-set calls and the lead-in",
                                       "make the rest longer, or raise 'rate' in program.yaml"))
            at = t
        self.say(at, call, "next-set")
        return self.count(max(lead_at, at), "lead-in")

    def block(self, start: int, step: Step, side: int | None, set_number: int) -> int:
        """Lay out one timed block starting at `start`; returns the stop tone's onset."""
        ex = step.exercise
        n = _ms(ex.timing.seconds)
        number = len(self.blocks) + 1
        stop = start + n
        side_name = self.sides(ex)[side - 1].text if side else None
        self.blocks.append(Block(number, step.number, ex.id, ex.name, side, set_number, ex.timing.sets,
                                 ex.timing.seconds, start, stop, side_name))
        taken = [(start, self.sound(start, "start", number))]
        countdown_at = stop - COUNT_STEP_MS * len(self.program.countdown)
        if ex.timing.seconds >= CALLS_MIN_S:
            for at, name in ((start + _round10(n / 2), "halfway"), (stop - 10_000, "ten_seconds_left")):
                end = self.phrase(at, name, number)
                if at < taken[-1][1] + (LINE_GAP_MS if len(taken) > 1 else PAUSE_MS) or \
                        end + LINE_GAP_MS > countdown_at:
                    self.rate_problems.append((self.program.phrases[name].where,
                                               f"phrase '{name}' does not fit in the {ex.timing.seconds:g} s block "
                                               f"of '{ex.id}' with {LINE_GAP_MS / 1000:g} s of quiet around it",
                                               "shorten the phrase, or raise 'rate' in program.yaml"))
                taken.append((at, end))
        self.count(countdown_at, "countdown", number)
        self.sound(stop, "stop", number)
        cues = ex.cues if side != 2 else (ex.side2_cues if ex.side2_cues is not None else ex.cues[:1])
        self.place_cues(ex, cues, number, start + SOUND_SLOT_MS["start"] + PAUSE_MS, countdown_at - LINE_GAP_MS,
                        taken)
        return stop

    def place_cues(self, ex: Exercise, cues: tuple[Line, ...], number: int, free_from: int, free_until: int,
                   taken: list[tuple[int, int]]) -> None:
        """Form cues: aimed at evenly spaced times, moved later past anything already placed, or left out."""
        if not cues:
            return
        spacing = (free_until - free_from) / len(cues)
        earliest = free_from
        busy = [(a, b) for a, b in taken[1:]]  # the start tone is not a line: the cue may follow it closely
        for i, cue in enumerate(cues):
            said = self.words(cue)
            length = said.slot_ms
            aimed = max(earliest, free_from + _round10(i * spacing))
            # where it is aimed if it fits there, else the first free moment after the cue before it
            at = _first_free(aimed, length, busy)
            if at + length > free_until:
                at = _first_free(earliest, length, busy)
            if at + length > free_until:
                self.warnings.append((cue.where, f"warning: cue left out of the {ex.timing.seconds:g} s block of "
                                                 f"'{ex.id}' at {self.program.rate} words a minute (it needs "
                                                 f"{length / 1000:.1f} s with {LINE_GAP_MS / 1000:g} s of quiet around "
                                                 "it); shorten it, give that day fewer cues, or raise the rate"))
                continue
            end = self.say(at, said, "cue", number)
            busy.append((at, end))
            earliest = end + LINE_GAP_MS


def _first_free(at: int, length: int, busy: list[tuple[int, int]]) -> int:
    """The first moment from `at` where a line of `length` keeps LINE_GAP_MS from every busy line."""
    moved = True
    while moved:
        moved = False
        for busy_from, busy_until in busy:
            if at < busy_until + LINE_GAP_MS and busy_from < at + length + LINE_GAP_MS:
                at, moved = busy_until + LINE_GAP_MS, True
    return at


def _compile(routine: Routine, program: Program, known: frozenset[str]) -> _Compiler:
    minutes = 10
    for _ in range(4):  # the spoken length changes the length a little: settle it
        compiler = _Compiler(routine, program, minutes, known)
        compiler.run()
        settled = max(1, round(compiler.duration / 60_000))
        if settled == minutes or compiler.rate_problems:
            break
        minutes = settled
    return compiler


def _length_problems(routine: Routine, duration_ms: int) -> Problems:
    """A day longer than MAX_ROUTINE_S, all told: the one limit for its blocks, rests, quiet times and talk."""
    if duration_ms <= MAX_ROUTINE_S * 1000:
        return []
    return [(routine.where, f"{routine.id} lasts {duration_ms / 60_000:.0f} minutes with its rests, quiet times "
                            f"(setup_time, switch_time) and talk; keep a day under {MAX_ROUTINE_S // 60} minutes "
                            "(shorter quiet times, fewer sets, or split the day)")]


def _count_word_problems(program: Program) -> Problems:
    return [(word.where, f"countdown word '{word.text}' takes longer than one second to say; use a single "
                         "short word") for word in program.countdown
            if estimate_ms(spoken(word.text), CALIBRATION_RATE) > COUNT_WORD_MAX_MS]


def slowest_rate(routine: Routine, program: Program, known: frozenset[str], where: Where) -> int | None:
    """The slowest rate at which nothing fixed at `where` is too long, or None if none up to the fastest."""
    def fits(rate: int) -> bool:
        return all(w != where for w, _, _ in _compile(routine, replace(program, rate=rate), known).rate_problems)

    low, high = program.rate, MAX_RATE  # the fastest rate program.yaml accepts
    if not fits(high):
        return None
    while high - low > 1:  # speech only grows as the rate slows
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


def compile_routine(routine: Routine, program: Program, known: frozenset[str] = frozenset()) -> Script:
    """Routine to script. `known`: the exercises met on earlier days of the series (they get their reminder).

    Raises InputError when something cannot be laid out.
    """
    compiler = _compile(routine, program, known)
    problems = _count_word_problems(program) + _length_problems(routine, compiler.duration)
    for where, message, fix in dict.fromkeys(compiler.rate_problems):
        rate = slowest_rate(routine, program, known, where)
        fits = f"it fits at {rate} words a minute or faster" if rate else "it does not fit at any rate"
        problems.append((where, f"{message} at {program.rate} words a minute ({fits}); {fix}"))
    events = tuple(sorted(compiler.events, key=lambda e: (e.at_ms, e.kind)))
    for before, after in pairwise(events):
        if after.at_ms < before.end_ms and not problems:
            where = before.where or after.where or Where("program.yaml")
            problems.append((where, f"'{before.text}' and '{after.text}' overlap in {routine.id} at "
                                    f"{before.at_ms / 1000:.1f} s; shorten one of them"))
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    starts = compiler.chapters
    chapters = [Chapter("Introduction", 0, starts[0][1])]
    for (title, begin), (_, end) in zip(starts, starts[1:] + [("", compiler.duration)], strict=True):
        chapters.append(Chapter(title, begin, end))
    return Script(
        routine=routine.id, title=routine.title, series=program.title, week=routine.week, day=routine.day,
        equipment=tuple(program.equipment[item] for item in routine.equipment), events=events,
        blocks=tuple(compiler.blocks), chapters=tuple(chapters), duration_ms=compiler.duration,
        warnings=tuple(dict.fromkeys(compiler.warnings)),
    )
