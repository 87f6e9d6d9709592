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
* A block of reps (``reps`` or ``reps_per_side`` at a ``tempo``) lasts the reps times the tempo: each rep but
  the last ends with its count ("one", "two"...) or a pip (``rep_count``), the last with the stop tone. A rep
  shorter than the sound that opens it (the start tone, the count before) and ``PAUSE_MS`` is an error at
  its tempo. It hears no "halfway" or "ten seconds left" (the counts say where the runner is); the count out
  only if it fits after the last count; its cues go in the gaps the counts leave, ``LINE_GAP_MS`` from them.
* Inside a block, the fixed cues keep their times: the start tone at 0, "halfway" at N/2
  and "ten seconds left" at N-10 (blocks of ``CALLS_MIN_S`` or more), "three, two, one"
  at N-3, N-2 and N-1, the stop tone at N. Two lines inside a block are at least
  ``LINE_GAP_MS`` apart. Form cues are aimed at evenly spaced times between the start
  tone and the countdown, in their written order, and move later past a line already
  placed, or into an earlier gap; a cue that no gap of its block holds at the series'
  rate is left out with a warning (placement: ``cues.py``).
* The count into a start (``lead_in``) and the count out of a block (``count_out``) are
  the countdown words, pips, or nothing, at the same times.
* Company in long holds: in a block of ``COMPANY_MIN_S`` or more, unless the exercise or
  the day is ``quiet``, no stretch of more than ``QUIET_MAX_MS`` passes without a line
  (planned ``SLOT_MARGIN_MS`` shorter): the exercise's cues not yet said, then breathing
  reminders, encouragement and time calls in turn through the day, near the middle of the
  longest quiet stretch. A time call ("twenty seconds to go") is said exactly when that
  much is left, a multiple of ``TIME_CALL_STEP_S`` from ``TIME_CALL_MIN_S`` (below it the
  count is near, and "ten seconds left" is the fixed call's) to ``TIME_CALL_LATEST`` of the
  block; where none fits, the next filler is tried.
* Variety: a phrase's alternatives are taken in turn (``vary.py``); a later set does not
  repeat the form cues of the set before it (it hears ``set_cues`` on even sets, or the
  cues the set before did not say); an exercise's own switch alternates with the series'.
* Place: the welcome and closing may name the day, the week and the series' length; the
  series' first day opens with ``welcome_first``, a week's last day closes with
  ``closing_week``, the series' last with ``closing_series``, a day's ``closing`` over all.
* Sides are named: "Start with your left side." before the first, "Now your right side."
  after the switch line. The second side hears its own cues, or only the first cue.
* A fixed line that cannot fit (a rest too short for its calls, a countdown word longer
  than a second) is an error at its line, naming the slowest rate at which it fits.
* Talk fades: an exercise met on an earlier day of the series gets its reminder instead
  of its full setup; the opening is short on all but a week's first day.

The script's types and these timing constants are in ``types.py``; how a line is said, and the talk
around a session, in ``talk.py``.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from cuecoach.config.schema import Exercise, Line, Place, Problems, Program, Routine, Step
from cuecoach.config.settings import MAX_RATE, MAX_ROUTINE_S
from cuecoach.errors import InputError, Where
from cuecoach.script.cues import Span, fill_at, place, quiet_stretch
from cuecoach.script.talk import Speaker, announce_duration, round10, to_ms
from cuecoach.script.types import (
    CALLS_MIN_S,
    COMPANY_MIN_S,
    COUNT_STEP_MS,
    COUNT_WORD_MAX_MS,
    LINE_GAP_MS,
    MAX_COMPANY_LINES,
    OPENING_SILENCE_MS,
    PAUSE_MS,
    QUIET_MAX_MS,
    SLOT_MARGIN_MS,
    SOUND_SLOT_MS,
    TAIL_MS,
    Block,
    Chapter,
    Script,
)
from cuecoach.spoken import CALIBRATION_RATE, duration_words, estimate_ms, number_words, spoken


class _Compiler(Speaker):
    def run(self) -> None:
        program, routine = self.program, self.routine
        t = self.opening(OPENING_SILENCE_MS)
        last_stop = None
        for step in routine.steps:
            if last_stop is not None:
                t = self.phrase(last_stop + SOUND_SLOT_MS["stop"] + PAUSE_MS, "next_exercise",
                                name=step.exercise.say) + PAUSE_MS
                t = max(t, last_stop + to_ms(program.gaps.transition))
            last_stop = self.exercise(t, step)
        assert last_stop is not None
        closing = last_stop + SOUND_SLOT_MS["stop"] + PAUSE_MS
        self.chapters.append(("Close", closing))
        t = self.sound(self.closing(closing) + PAUSE_MS, "finish")
        self.duration = t + TAIL_MS

    def run_one(self) -> None:
        """One exercise alone, as a day would give it (its announcement to its last stop tone): a preview."""
        last_stop = self.exercise(OPENING_SILENCE_MS, self.routine.steps[0])
        self.duration = last_stop + SOUND_SLOT_MS["stop"] + TAIL_MS

    def exercise(self, t: int, step: Step) -> int:
        """Announce, set up and time one exercise starting at `t`; returns its last stop tone's onset."""
        ex, timing = step.exercise, step.exercise.timing
        self.chapters.append((ex.name, t))
        t = self.phrase(t, "announce", number=number_words(step.number),
                        count=number_words(len(self.routine.steps)), name=ex.say,
                        duration=announce_duration(ex)) + PAUSE_MS
        for line in self.setup_lines(step):
            t = self.say(t, self.words(line), "setup") + PAUSE_MS
        sides = self.sides(ex)
        if timing.sides == 2:
            t = self.phrase(t, "side_first", side=sides[0]) + PAUSE_MS
        end = self.phrase(t, "get_ready")
        quiet = ex.setup_time if ex.setup_time is not None else self.program.gaps.get_ready
        start = self.count(end + to_ms(quiet), "lead-in")
        rest = to_ms(timing.rest if timing.rest is not None else self.program.gaps.rest)
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
        t = self.say(t, self.words(self.switch_line(ex)), "switch") + PAUSE_MS
        end = self.phrase(t, "side_next", side=self.sides(ex)[1])
        quiet = ex.switch_time if ex.switch_time is not None else self.program.gaps.switch_sides
        return self.count(end + to_ms(quiet), "lead-in")

    def switch_line(self, ex: Exercise) -> Line:
        """An exercise's own switch ("Switch legs.") every other time it comes up in a day, the series'
        switch_sides in turn between: several exercises share an own switch, and a day would repeat it."""
        if ex.switch is not None and self.chooser.pick("switch:" + ex.switch.text, (True, False)):
            return ex.switch
        return self.choose("switch_sides")

    def rest(self, stop: int, rest_ms: int, ex: Exercise, next_set: int) -> int:
        """A rest between sets (stop tone to start tone): the rest, the first side's name, the next set's call."""
        start = stop + rest_ms
        t = stop + SOUND_SLOT_MS["stop"] + PAUSE_MS
        t = self.phrase(t, "rest", length=duration_words(rest_ms / 1000)) + PAUSE_MS
        if ex.timing.sides == 2:
            t = self.phrase(t, "side_first", side=self.sides(ex)[0]) + PAUSE_MS
        lead_at = start - len(self.program.countdown) * COUNT_STEP_MS
        call = self.words(self.choose("next_set"), set=number_words(next_set),
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
        ex, timing = step.exercise, step.exercise.timing
        number = len(self.blocks) + 1
        stop = start + to_ms(timing.seconds)
        side_name = self.sides(ex)[side - 1].text if side else None
        self.blocks.append(Block(number, step.number, ex.id, ex.name, side, set_number, timing.sets,
                                 timing.seconds, start, stop, side_name, timing.rep_count, timing.tempo))
        self.sound(start, "start", number)
        countdown_at = stop - COUNT_STEP_MS * len(self.program.countdown)
        out = True  # the count out to the stop tone: always in a block of seconds, in one of reps if it fits
        if timing.rep_count is not None:
            busy = self.rep_counts(start, ex, number)
            out = not busy or busy[-1][1] + PAUSE_MS <= countdown_at
        else:
            busy = self.calls(start, stop, countdown_at, ex, number) if timing.seconds >= CALLS_MIN_S else []
        if out:
            self.count(countdown_at, "countdown", number)
        self.sound(stop, "stop", number)
        free = (start + SOUND_SLOT_MS["start"] + PAUSE_MS, (countdown_at if out else stop) - LINE_GAP_MS)
        cued = self.place_cues(ex, self.block_cues(ex, side, set_number), number, free, busy)
        if timing.seconds >= COMPANY_MIN_S and not (ex.quiet or self.routine.quiet):
            end = countdown_at if out and self.program.count_out == "count" else stop
            cued |= self.company(step, side, number, (start, end), free, busy, cued)
        self.last_set[(step.number, side)] = cued
        return stop

    def calls(self, start: int, stop: int, countdown_at: int, ex: Exercise, number: int) -> list[Span]:
        """"Halfway" and "ten seconds left" in a long block of seconds, at their fixed times; returns their
        slots. A call that does not fit with LINE_GAP_MS around it is a problem at its phrase."""
        taken = [(start, start + SOUND_SLOT_MS["start"])]
        for at, name in ((start + round10((stop - start) / 2), "halfway"), (stop - 10_000, "ten_seconds_left")):
            said = self.choose(name)
            end = self.say(at, self.words(said), name.replace("_", "-"), number)
            if at < taken[-1][1] + (LINE_GAP_MS if len(taken) > 1 else PAUSE_MS) or \
                    end + LINE_GAP_MS > countdown_at:
                self.rate_problems.append((said.where,
                                           f"phrase '{name}' does not fit in the {ex.timing.seconds:g} s block "
                                           f"of '{ex.id}' with {LINE_GAP_MS / 1000:g} s of quiet around it",
                                           "shorten the phrase, or raise 'rate' in program.yaml"))
            taken.append((at, end))
        return taken[1:]

    def rep_counts(self, start: int, ex: Exercise, number: int) -> list[Span]:
        """The count ("one", "two"... or a pip, rep_count) as each rep but the last ends, the last ending at the
        stop tone; returns their slots. A rep too short for the sound that opens it and PAUSE_MS of quiet is a
        problem at the tempo (reported once)."""
        timing, pips = ex.timing, self.program.rep_count == "pips"
        rep, reps = to_ms(timing.rep_seconds), timing.rep_count or 1
        spans: list[Span] = []
        before, what = (start, start + SOUND_SLOT_MS["start"]), "the start tone"
        for i in range(1, reps + 1):
            at = start + i * rep  # the end of rep i: its count, or the stop tone
            if at < before[1] + PAUSE_MS:
                self.rate_problems.append((timing.tempo_where or timing.where,
                                           f"a rep at tempo {timing.tempo} in '{ex.id}' lasts {rep / 1000:g} s, too "
                                           f"short for {what} ({(before[1] - before[0]) / 1000:.1f} s) and "
                                           f"{PAUSE_MS / 1000:g} s of quiet after it", "slow the tempo (like "
                                           "3-1-1)" + (", or raise 'rate' in program.yaml" if i > 1 and not pips
                                                       else "")))
                break
            if i == reps:
                break
            said = "a pip" if pips else f"the count '{number_words(i)}'"
            end = self.sound(at, "pip", number, "rep") if pips else self.say(at, self.words(number_words(i)),
                                                                             "rep", number)
            before, what = (at, end), said
            spans.append(before)
        return spans

    def block_cues(self, ex: Exercise, side: int | None, set_number: int) -> tuple[Line, ...]:
        """A block's form cues: the side's, or on a later set its set_cues (even sets) or the cues the set
        before did not say, so that no set repeats the one before it word for word."""
        cues = ex.cues if side != 2 else (ex.side2_cues if ex.side2_cues is not None else ex.cues[:1])
        if set_number > 1 and ex.set_cues is not None and set_number % 2 == 0:
            cues = ex.set_cues
        before = self.last_set.get((self.step_number(ex), side), set()) if set_number > 1 else set()
        return tuple(cue for cue in cues if self.words(cue).text not in before)

    def step_number(self, ex: Exercise) -> int:
        return next(step.number for step in self.routine.steps if step.exercise is ex)

    def place_cues(self, ex: Exercise, cues: tuple[Line, ...], number: int, free: Span,
                   busy: list[Span]) -> set[str]:
        """Form cues: aimed at evenly spaced times, moved past anything already placed, or left out when no
        gap of the block holds them (cues.place). Returns the texts said."""
        said_texts: set[str] = set()
        spacing = (free[1] - free[0]) / max(1, len(cues))
        earliest = free[0]
        for i, cue in enumerate(cues):
            said = self.words(cue)
            at = place(max(earliest, free[0] + round10(i * spacing)), earliest, said.slot_ms, busy, free)
            if at is None:
                self.warnings.append((cue.where, f"warning: cue left out of the {ex.timing.seconds:g} s block of "
                                                 f"'{ex.id}' at {self.program.rate} words a minute (it needs "
                                                 f"{said.slot_ms / 1000:.1f} s with {LINE_GAP_MS / 1000:g} s of quiet "
                                                 "around it); shorten it, give that day fewer cues, or raise the rate"))
                continue
            end = self.say(at, said, "cue", number)
            busy.append((at, end))
            said_texts.add(said.text)
            earliest = max(earliest, end + LINE_GAP_MS)
        return said_texts

    def company(self, step: Step, side: int | None, number: int, block: Span, free: Span, busy: list[Span],
                said: set[str]) -> set[str]:
        """Lines that keep a long hold company: no quiet stretch of the block over QUIET_MAX_MS (planned
        SLOT_MARGIN_MS shorter). The exercise's cues the block and the set before have not said come first,
        then fillers (breathing, encouragement, time calls) in turn. Returns the form cues it said."""
        ex = step.exercise
        before = self.last_set.get((step.number, side), set())
        own = [w for cue in dict.fromkeys(ex.cues + (ex.side2_cues or ()) + (ex.set_cues or ()))
               if (w := self.words(cue)).text not in said | before]
        added: set[str] = set()
        for _ in range(MAX_COMPANY_LINES):
            stretch = quiet_stretch(busy, *block)
            if stretch[1] - stretch[0] <= QUIET_MAX_MS - SLOT_MARGIN_MS:
                break
            form = bool(own)
            if form:
                line = own.pop(0)
                at = fill_at(stretch, line.slot_ms, busy, free)
            else:
                at, line = self.filler(stretch, self.blocks[number - 1], busy, free)
            if at is None:
                continue  # too long for this stretch: the next line may be shorter
            busy.append((at, self.say(at, line, "company", number)))
            if form:
                added.add(line.text)
        return added


def _compile(routine: Routine, program: Program, known: frozenset[str], where: Place,
             alone: bool = False) -> _Compiler:
    minutes = 10
    for _ in range(4):  # the spoken length changes the length a little: settle it
        compiler = _Compiler(routine, program, minutes, known, where)
        if alone:
            compiler.run_one()
            return compiler
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


def slowest_rate(routine: Routine, program: Program, known: frozenset[str], where: Where,
                 place_: Place) -> int | None:
    """The slowest rate at which nothing fixed at `where` is too long, or None if none up to the fastest."""
    def fits(rate: int) -> bool:
        compiled = _compile(routine, replace(program, rate=rate), known, place_)
        return all(w != where for w, _, _ in compiled.rate_problems)

    low, high = program.rate, MAX_RATE  # the fastest rate program.yaml accepts
    if not fits(high):
        return None
    while high - low > 1:  # speech only grows as the rate slows
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


def compile_routine(routine: Routine, program: Program, known: frozenset[str] = frozenset(),
                    place_: Place | None = None, alone: bool = False) -> Script:
    """Routine to script. `known`: the exercises met on earlier days of the series (they get their reminder);
    `place_`: where the day is in the series (none: a day on its own); `alone`: the routine's first exercise
    alone, without the day's opening and closing (a preview).

    Raises InputError when something cannot be laid out.
    """
    place_ = place_ or Place()
    compiler = _compile(routine, program, known, place_, alone)
    problems = _count_word_problems(program) + _length_problems(routine, compiler.duration)
    for where, message, fix in dict.fromkeys(compiler.rate_problems):
        rate = slowest_rate(routine, program, known, where, place_)
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
    chapters = [Chapter("Introduction", 0, starts[0][1])] if not alone else []
    for (title, begin), (_, end) in zip(starts, starts[1:] + [("", compiler.duration)], strict=True):
        chapters.append(Chapter(title, begin, end))
    return Script(
        routine=routine.id, title=routine.title, series=program.title, week=routine.week, day=routine.day,
        equipment=tuple(program.equipment[item] for item in routine.equipment), events=events,
        blocks=tuple(compiler.blocks), chapters=tuple(chapters), duration_ms=compiler.duration,
        warnings=tuple(dict.fromkeys(compiler.warnings)),
    )
