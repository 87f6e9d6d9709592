"""Where lines go inside a timed block: form cues aimed at evenly spaced times, and company in long holds.

Contract
--------
* Two lines inside a block keep ``LINE_GAP_MS`` of quiet between their slots (``first_free``).
* A cue goes where it is aimed if it fits there, else at the first free moment after the cue before it, else
  in the first gap of its block that holds it (``place``); it is left out only when no gap of its block
  holds it.
* ``quiet_stretch``: the longest stretch of a block without speech, from the start tone to the first line,
  between lines, and from the last line to the end of the block (the first spoken count word, or the stop
  tone when the count out is not spoken). ``fill_at``: where a company line goes in such a stretch, near
  its middle, or None if it does not fit there. ``call_times``: the round times left at which a time call
  ("twenty seconds to go") may be said in such a stretch, nearest its middle first; ``fits_at`` whether a
  line can be said exactly then.
Pure functions of times in ms; the compiler (compile.py) decides what is said.
"""

from __future__ import annotations

from cuecoach.script.types import LINE_GAP_MS

Span = tuple[int, int]  # a line's slot: from, until (ms)


def first_free(at: int, length: int, busy: list[Span]) -> int:
    """The first moment from `at` where a line of `length` keeps LINE_GAP_MS from every busy line."""
    moved = True
    while moved:
        moved = False
        for busy_from, busy_until in busy:
            if at < busy_until + LINE_GAP_MS and busy_from < at + length + LINE_GAP_MS:
                at, moved = busy_until + LINE_GAP_MS, True
    return at


def place(aimed: int, earliest: int, length: int, busy: list[Span], free: Span) -> int | None:
    """Where a cue of `length` goes in the block's free time: at `aimed`, else from `earliest` (after the cue
    before it), else in the first gap from the start of the free time that holds it; None if none does."""
    for start in (aimed, earliest, free[0]):
        at = first_free(max(start, free[0]), length, busy)
        if at + length <= free[1]:
            return at
    return None


def quiet_stretch(spoken: list[Span], begin: int, end: int) -> Span:
    """The longest stretch between `begin` and `end` in which no line is said."""
    longest, said_until = (begin, begin), begin
    for line_from, line_until in sorted(spoken):
        if line_from - said_until > longest[1] - longest[0]:
            longest = (said_until, line_from)
        said_until = max(said_until, line_until)
    if end - said_until > longest[1] - longest[0]:
        longest = (said_until, end)
    return longest


def fill_at(stretch: Span, length: int, busy: list[Span], free: Span) -> int | None:
    """Where a company line of `length` goes in a quiet `stretch`: centred in it, or as near as the lines
    around it allow; None if it does not fit in the stretch."""
    centred = (stretch[0] + stretch[1] - length) // 2 // 10 * 10
    for start in (centred, stretch[0]):
        at = first_free(max(start, free[0]), length, busy)
        if at + length <= free[1] and at < stretch[1]:  # it fits, and breaks the stretch
            return at
    return None


def fits_at(at: int, length: int, busy: list[Span], free: Span) -> bool:
    """Whether a line of `length` can be said exactly at `at`: in the free time, LINE_GAP_MS from every line."""
    return free[0] <= at and at + length <= free[1] and first_free(at, length, busy) == at


def call_times(stretch: Span, stop: int, step_s: int, lowest_s: int, highest_s: int) -> list[int]:
    """The seconds left before `stop`, multiples of `step_s` from `lowest_s` to `highest_s`, that fall inside
    `stretch`: when a time call may be said so that it is true, nearest the stretch's middle first."""
    middle = (stretch[0] + stretch[1]) / 2
    lefts = [left for left in range(lowest_s, highest_s + 1, step_s)
             if stretch[0] < stop - left * 1000 < stretch[1]]
    return sorted(lefts, key=lambda left: abs(stop - left * 1000 - middle))
