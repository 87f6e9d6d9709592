"""The routine file formats as dataclasses, and their validation against the YAML they came from.

Every check reports into a list of (position, message) so that one run lists every
problem in a file; the caller raises them together as an InputError.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from cuecoach.config.project import ID_PATTERN
from cuecoach.config.yamlsrc import Node, describe, show
from cuecoach.errors import Where
from cuecoach.spoken import has_words

MAX_BLOCK_S = 600  # ten minutes: longer is a typo for a follow-along routine
MIN_BLOCK_S = 5  # room for the start tone and the three-two-one countdown
MAX_SETS = 20
MAX_TEXT_CHARS = 300  # one spoken line; longer is a paragraph pasted by mistake
MAX_MOVE_S = 60  # quiet time to move: longer is a typo
MAX_ROUTINE_S = 3 * 3600  # a day's timed blocks together
MIN_RATE, MAX_RATE = 80, 400  # the speaking rates program.yaml accepts, in words a minute

Problems = list[tuple[Where, str]]


@dataclass(frozen=True)
class Line:
    """A line to be spoken, as written, and where it was written."""

    text: str
    where: Where


@dataclass(frozen=True)
class Timing:
    """How an exercise is timed: one block, or one per side, repeated in sets with rests between."""

    work: float | None = None
    per_side: float | None = None
    sets: int = 1
    rest: float | None = None
    where: Where = Where("?")

    @property
    def seconds(self) -> float:
        """Length of one block."""
        return self.work if self.work is not None else self.per_side or 0.0

    @property
    def sides(self) -> int:
        return 2 if self.per_side is not None else 1


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    say: Line
    equipment: tuple[str, ...]
    setup: tuple[Line, ...]
    cues: tuple[Line, ...]
    switch: Line | None
    timing: Timing
    where: Where
    reminder: Line | None = None  # the short setup said once the exercise is known (default: the first setup line)
    sides: tuple[Line, Line] | None = None  # how to name the sides, first side first (default: the series')
    side2_cues: tuple[Line, ...] | None = None  # cues for the second side (default: a short reminder)
    switch_time: float | None = None  # quiet time to move between sides (default: gaps.switch_sides)
    setup_time: float | None = None  # quiet time to get into position (default: gaps.get_ready)


@dataclass(frozen=True)
class Gaps:
    get_ready: float
    switch_sides: float
    transition: float
    rest: float


PHRASES: dict[str, tuple[str, ...]] = {
    # name: the placeholders it may use
    "welcome": ("series", "title"),
    "length": ("length",),
    "equipment": ("equipment",),
    "safety": (),
    "begin": (),
    "announce": ("number", "count", "name", "duration"),
    "get_ready": (),
    "halfway": (),
    "ten_seconds_left": (),
    "switch_sides": (),
    "rest": ("length",),
    "next_set": ("set", "sets"),
    "next_exercise": ("name",),
    "closing": (),
}

# Phrases a program may leave out: the defaults below are used. Short forms are said once a
# runner knows them: on a week's later days (the opening) and on an exercise's later days.
OPTIONAL_PHRASES: dict[str, tuple[tuple[str, ...], str]] = {
    "welcome_short": (("series", "title", "length"), "{title}, about {length}."),
    "equipment_short": (("equipment",), "You need {equipment}."),
    "safety_short": ((), "Stop on any sharp pain."),
    "side_first": (("side",), "Start with your {side}."),
    "side_next": (("side",), "Now your {side}."),
}
DEFAULT_SIDES = ("left side", "right side")
LEAD_INS = ("count", "pips")  # before every start: the countdown words, or the pip sound
INSTRUCTIONS = ("auto", "full")  # auto: full setup the first time, a reminder later; full: always in full


@dataclass(frozen=True)
class Program:
    """Settings shared by every routine of a series (program.yaml). A setting that program.yaml may leave out
    has its default here, and only here: everything else refers to these (Program.rate...)."""

    title: str
    equipment: dict[str, str]
    gaps: Gaps
    phrases: dict[str, Line]
    countdown: tuple[Line, Line, Line]
    where: dict[str, Where] = field(default_factory=dict)  # key -> position, for later errors
    voice: str | None = None  # part of a voice's id or name; None: the engine's default voice
    rate: int = 160  # words a minute
    bitrate: str = "64k"  # a constant MP3 bit rate, for mono speech
    lead_in: str = "count"  # LEAD_INS
    instruction: str = "auto"  # INSTRUCTIONS
    sides: tuple[Line, Line] = (Line(DEFAULT_SIDES[0], Where("program.yaml")), Line(DEFAULT_SIDES[1], Where("program.yaml")))
    year: int | None = None
    genre: str = "Fitness"
    cover: str | None = None  # an image, relative to the routines folder
    author: str = "cuecoach"  # who made the series: the MP3s' artist and the podcast's author
    # LUFS every track measures: a mono podcast's target (Apple, AES); a mono file on two earbuds plays 3 dB
    # louder than stereo
    loudness: float = -19.0
    engine: str = "pyttsx3"  # speech engine: pyttsx3 or piper


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

    @property
    def equipment(self) -> tuple[str, ...]:
        """Equipment ids the day's exercises use, in order of first use."""
        seen: dict[str, None] = {}
        for step in self.steps:
            seen.update(dict.fromkeys(step.exercise.equipment))
        return tuple(seen)


# --- field readers: each returns a value or None, reporting what is wrong ---------------


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _mapping(node: Node, what: str, problems: Problems, example: str = "key: value") -> dict[str, tuple[Where, Node]] | None:
    if not isinstance(node.value, dict):
        problems.append((node.where, f"{what} must be a mapping of keys to values, not {describe(node)}; "
                                     f"write it as '{example}' lines"))
        return None
    return node.value


def _keys(mapping: dict[str, tuple[Where, Node]], allowed: tuple[str, ...], required: tuple[str, ...],
          what: str, at: Where, problems: Problems) -> None:
    for key, (where, _) in mapping.items():
        if key not in allowed:
            hint = _suggest(key, allowed) or "allowed: " + ", ".join(allowed)
            problems.append((where, f"unknown key {show(key)} in {what}; {hint}"))
    for key in required:
        if key not in mapping:
            problems.append((at, f"{what} is missing '{key}'; add it"))


def _text(node: Node, what: str, problems: Problems) -> str | None:
    """Text as written: a number stays as typed (``1.50``), white space is folded."""
    value = node.value
    if isinstance(value, (dict, tuple)):
        problems.append((node.where, f"{what} must be text, not {describe(node)}; write it on one line"))
        return None
    if isinstance(value, bool):
        problems.append((node.where, f"{what} must be text, not {describe(node)}; put it in quotes"))
        return None
    raw = str(node.text if node.text is not None and not isinstance(value, str) else value)
    text = " ".join(raw[: MAX_TEXT_CHARS * 10].split())
    if value is None or not text:
        problems.append((node.where, f"{what} is empty; write the text"))
        return None
    if len(text) > MAX_TEXT_CHARS:
        problems.append((node.where, f"{what} is {len(' '.join(raw.split()))} characters long; keep it under {MAX_TEXT_CHARS} "
                                     "(split it into shorter lines)"))
        return None
    return text


def _line(node: Node, what: str, problems: Problems) -> Line | None:
    text = _text(node, what, problems)
    if text is None:
        return None
    if not has_words(text):
        problems.append((node.where, f"{what} is {show(text)}, which leaves nothing to say once spoken out; "
                                     "write words"))
        return None
    return Line(text, node.where)


def _lines(node: Node, what: str, problems: Problems) -> tuple[Line, ...] | None:
    if isinstance(node.value, str):
        node = Node((node,), node.where)
    if not isinstance(node.value, tuple):
        fix = "list lines, or remove the key" if node.value is None else "write [First line., Second line.]"
        problems.append((node.where, f"{what} must be a list of lines, not {describe(node)}; {fix}"))
        return None
    lines = [_line(item, what, problems) for item in node.value]
    if any(line is None for line in lines):
        return None
    return tuple(line for line in lines if line is not None)


def _number(node: Node, what: str, low: float, high: float, problems: Problems,
            integer: bool = False, example: float = 30) -> float | None:
    value = node.value
    unit = "" if integer else " s"
    example = f"a whole number such as {example:g}" if integer else f"a number of seconds such as {example:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if value is None:
            problems.append((node.where, f"{what} is empty; write {example}"))
        elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?[\d.]+\s*(s|sec|secs|seconds?)\s*", value):
            problems.append((node.where, f"{what} must be a plain number, not {describe(node)}; "
                                         "leave out the unit: it is always seconds"))
        elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?[\d.]+[eE][-+]?\d+\s*", value):
            problems.append((node.where, f"{what} must be a plain number, not {describe(node)}; write it in digits"))
        else:
            problems.append((node.where, f"{what} must be {'a whole number' if integer else 'a number of seconds'}, "
                                         f"not {describe(node)}; write {example}"))
        return None
    if value != value or value in (float("inf"), float("-inf")):
        problems.append((node.where, f"{what} is {show(node)}, not a finite number; write {example}"))
        return None
    if integer and value != int(value):
        problems.append((node.where, f"{what} must be a whole number, not {show(node)}; write {example}"))
        return None
    if not low <= value <= high:
        problems.append((node.where, f"{what} is {show(node)[1:-1]}{unit}; give it a value from {low:g} "
                                     f"to {high:g}{unit}"))
        return None
    if not integer and round(value * 10) != value * 10:
        problems.append((node.where, f"{what} is {show(node)[1:-1]}{unit}; give it to a tenth of a second at most, "
                                     f"such as {round(value, 1):g}"))
        return None
    return int(value) if integer else float(value)


def _choice(node: Node, what: str, choices: tuple[str, ...], problems: Problems) -> str | None:
    if not isinstance(node.value, str) or node.value not in choices:
        hint = _suggest(node.value, choices) if isinstance(node.value, str) else ""
        problems.append((node.where, f"{what} is {show(node)}; {hint + ' ' if hint else ''}choose one of: "
                                     f"{', '.join(choices)}"))
        return None
    return node.value


def _sides(node: Node, what: str, problems: Problems) -> tuple[Line, Line] | None:
    """Two names for the sides, the first side first: [left leg, right leg]."""
    lines = _lines(node, what, problems)
    if lines is not None and len(lines) != 2:
        problems.append((node.where, f"{what} names {len(lines)} side{'s' * (len(lines) != 1)}; give two, the "
                                     "first side first, like [left leg, right leg]"))
        return None
    return None if lines is None else (lines[0], lines[1])


def _seconds(node: Node, what: str, problems: Problems) -> float | None:
    """A quiet time to move, in seconds."""
    return _number(node, what, 0, MAX_MOVE_S, problems, example=8)


def _read_fields(mapping: dict[str, tuple[Where, Node]], readers: dict[str, Callable[[Node], Any]]) -> dict[str, Any]:
    return {key: readers[key](node) for key, (_, node) in mapping.items() if key in readers}


# --- timing ------------------------------------------------------------------------------

TIMING_KEYS = ("work", "per_side", "sets", "rest")


def _timing_fields(mapping: dict[str, tuple[Where, Node]], what: str, problems: Problems) -> dict[str, Any]:
    block = lambda key: lambda node: _number(node, f"{what} '{key}'", MIN_BLOCK_S, MAX_BLOCK_S, problems)
    return _read_fields(mapping, {
        "work": block("work"),
        "per_side": block("per_side"),
        "sets": lambda node: _number(node, f"{what} 'sets'", 1, MAX_SETS, problems, integer=True, example=3),
        "rest": lambda node: _number(node, f"{what} 'rest'", 1, MAX_BLOCK_S, problems, example=15),
    })


def merge_timing(base: Timing | None, fields: dict[str, Any], where: Where, problems: Problems) -> Timing | None:
    """Apply timing fields over a base: `work` replaces `per_side` and the other way round."""
    values = {"work": None, "per_side": None, "sets": 1, "rest": None}
    if base is not None:
        values.update(work=base.work, per_side=base.per_side, sets=base.sets, rest=base.rest)
    if "work" in fields and "per_side" in fields:
        problems.append((where, "both 'work' and 'per_side' are given; keep 'work' (one block) "
                                "or 'per_side' (one block each side)"))
        return None
    if "work" in fields:
        values["per_side"] = None
    if "per_side" in fields:
        values["work"] = None
    values.update({key: value for key, value in fields.items() if value is not None})
    if any(value is None for key, value in fields.items()):
        return None  # already reported
    if values["work"] is None and values["per_side"] is None:
        problems.append((where, "no timing: add 'work: SECONDS' or 'per_side: SECONDS'"))
        return None
    return Timing(values["work"], values["per_side"], values["sets"], values["rest"], where)


# --- program.yaml ------------------------------------------------------------------------

PROGRAM_KEYS = ("title", "author", "artist", "year", "genre", "cover", "voice", "rate", "bitrate", "equipment", "gaps",
                "phrases", "loudness", "engine", "lead_in", "instruction", "sides")
ENGINES = ("pyttsx3", "piper")
GAP_KEYS = ("get_ready", "switch_sides", "transition", "rest")
BITRATE = re.compile(r"^(32|40|48|56|64|80|96|112|128|160|192|224|256|320)k$")


def _phrase(node: Node, name: str, problems: Problems) -> Line | None:
    line = _line(node, f"phrase '{name}'", problems)
    if line is None:
        return None
    try:
        used = [(field_name, spec, conversion) for _, field_name, spec, conversion
                in string.Formatter().parse(line.text) if field_name is not None]
    except ValueError as exc:
        problems.append((node.where, f"phrase '{name}' has a stray brace ({exc}); write placeholders as "
                                     "{name}, and a brace meant as text as {{ or }}"))
        return None
    placeholders = PHRASES[name] if name in PHRASES else OPTIONAL_PHRASES[name][0]
    allowed = ", ".join("{%s}" % p for p in placeholders) or "none"
    for placeholder, spec, conversion in used:
        if placeholder not in placeholders:
            problems.append((node.where, f"phrase '{name}' uses unknown placeholder {show('{' + placeholder + '}')}; "
                                         f"allowed: {allowed}"))
            return None
        if spec or conversion:
            problems.append((node.where, f"phrase '{name}' formats its placeholder {{{placeholder}}}; write "
                                         f"it plain, as {{{placeholder}}}"))
            return None
    return line


def _loudness(node: Node, problems: Problems) -> float | None:
    """'loudness': the LUFS every track measures, -30 to -10 (-19 for mono podcasts, -16 for stereo-minded players)."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        problems.append((node.where, f"'loudness' must be a number of LUFS, not {describe(node)}; write "
                                     f"{Program.loudness:g} (the mono podcast target) or -16"))
        return None
    if not -30 <= value <= -10:
        problems.append((node.where, f"'loudness' is {value:g} LUFS; give a value from -30 to -10, such as "
                                     f"{Program.loudness:g}"))
        return None
    return float(value)


def _engine(node: Node, problems: Problems) -> str | None:
    value = node.value
    if value not in ENGINES:
        problems.append((node.where, f"'engine' is {show(node) if isinstance(value, str) else describe(node)}; "
                                     f"use one of: {', '.join(ENGINES)}"))
        return None
    return value


def program_from_node(root: Node, problems: Problems) -> Program | None:
    top = _mapping(root, "program.yaml", problems, "title: My Series")
    if top is None:
        return None
    _keys(top, PROGRAM_KEYS, ("title", "equipment", "gaps", "phrases"), "program.yaml", root.where, problems)
    fields = _read_fields(top, {
        "title": lambda n: _text(n, "'title'", problems),
        "artist": lambda n: _text(n, "'artist'", problems),
        "author": lambda n: _text(n, "'author'", problems),
        "voice": lambda n: None if n.value in (None, "") else _text(n, "'voice'", problems),
        "rate": lambda n: _number(n, "'rate'", MIN_RATE, MAX_RATE, problems, integer=True, example=Program.rate),
        "bitrate": lambda n: _text(n, "'bitrate'", problems),
        "year": lambda n: _number(n, "'year'", 1900, 2200, problems, integer=True, example=2026),
        "genre": lambda n: _text(n, "'genre'", problems),
        "cover": lambda n: None if n.value in (None, "") else _text(n, "'cover'", problems),
        "loudness": lambda n: _loudness(n, problems),
        "engine": lambda n: _engine(n, problems),
        "lead_in": lambda n: _choice(n, "'lead_in'", LEAD_INS, problems),
        "instruction": lambda n: _choice(n, "'instruction'", INSTRUCTIONS, problems),
        "sides": lambda n: _sides(n, "'sides'", problems),
    })
    if fields.get("cover") and not fields["cover"].lower().endswith((".jpg", ".jpeg", ".png")):
        problems.append((top["cover"][1].where, f"'cover' is {show(fields['cover'])}; give a .jpg or .png image, "
                                                "relative to the routines folder"))
    if "bitrate" in top and fields.get("bitrate") and not BITRATE.match(fields["bitrate"]):
        problems.append((top["bitrate"][1].where, f"'bitrate' is {show(fields['bitrate'])}; use a constant MP3 "
                                                  "rate such as 64k or 96k"))

    equipment: dict[str, str] = {}
    if "equipment" in top and (items := _mapping(top["equipment"][1], "'equipment'", problems,
                                                  "mat: a mat")) is not None:
        for key, (where, node) in items.items():
            if not ID_PATTERN.match(key):
                problems.append((where, f"equipment id {show(key)} must be lowercase letters, digits and hyphens; "
                                        "rename it, like foam-roller"))
            elif (line := _line(node, f"equipment '{key}'", problems)) is not None:
                equipment[key] = line.text
        if not items:
            problems.append((top["equipment"][1].where, "'equipment' lists nothing; name at least one item, "
                                                        "like 'mat: a mat'"))

    gaps: dict[str, float] = {}
    if "gaps" in top and (items := _mapping(top["gaps"][1], "'gaps'", problems, "get_ready: 5")) is not None:
        _keys(items, GAP_KEYS, GAP_KEYS, "'gaps'", top["gaps"][1].where, problems)
        for key, (where, node) in items.items():
            if key in GAP_KEYS and (value := _number(node, f"gap '{key}'", 1, 120, problems, example=5)) is not None:
                gaps[key] = value

    phrases: dict[str, Line] = {}
    countdown: tuple[Line, ...] = ()
    names = tuple(PHRASES) + ("countdown",)
    if "phrases" in top and (items := _mapping(top["phrases"][1], "'phrases'", problems,
                                                "begin: Let's begin.")) is not None:
        _keys(items, names + tuple(OPTIONAL_PHRASES), names, "'phrases'", top["phrases"][1].where, problems)
        for key, (where, node) in items.items():
            if key in OPTIONAL_PHRASES and (line := _phrase(node, key, problems)) is not None:
                phrases[key] = line
            elif key == "countdown":
                lines = _lines(node, "phrase 'countdown'", problems)
                if lines is not None and len(lines) != 3:
                    problems.append((node.where, f"phrase 'countdown' has {len(lines)} line"
                                                 f"{'s' * (len(lines) != 1)}; give three (for 3, 2, 1), "
                                                 "like [Three., Two., One.]"))
                elif lines is not None:
                    countdown = lines
            elif key in PHRASES and (line := _phrase(node, key, problems)) is not None:
                phrases[key] = line

    for key, (_, default) in OPTIONAL_PHRASES.items():
        phrases.setdefault(key, Line(default, top["phrases"][1].where if "phrases" in top else root.where))
    if (any(key not in phrases for key in PHRASES) or len(countdown) != 3 or len(gaps) < len(GAP_KEYS)
            or not fields.get("title") or not equipment):
        return None
    settings = {key: value for key, value in fields.items() if value is not None and key != "artist"}
    if "author" not in settings and fields.get("artist"):
        settings["author"] = fields["artist"]  # the older name of 'author', still read
    return Program(
        **settings, equipment=equipment, gaps=Gaps(**gaps), phrases=phrases, countdown=countdown,  # type: ignore[arg-type]
        where={key: node.where for key, (_, node) in top.items()}
        | {f"gaps.{k}": n.where for k, (_, n) in top["gaps"][1].value.items()}
        | {f"phrases.{k}": n.where for k, (_, n) in top["phrases"][1].value.items()},
    )


# --- exercises.yaml ----------------------------------------------------------------------

EXERCISE_KEYS = ("name", "say", "equipment", "setup", "reminder", "cues", "sides", "side2_cues", "switch",
                 "switch_time", "setup_time", "timing")
# Fields a library entry and a day's entry read alike (a day's value replaces the library's).
SPOKEN_FIELDS = ("setup", "reminder", "cues", "sides", "side2_cues", "switch", "switch_time", "setup_time")


def _spoken_fields(mapping: dict[str, tuple[Where, Node]], what: str, problems: Problems) -> dict[str, Any]:
    return _read_fields(mapping, {
        "setup": lambda n: _lines(n, f"{what} 'setup'", problems),
        "reminder": lambda n: _line(n, f"{what} 'reminder'", problems),
        "cues": lambda n: _lines(n, f"{what} 'cues'", problems),
        "sides": lambda n: _sides(n, f"{what} 'sides'", problems),
        "side2_cues": lambda n: _lines(n, f"{what} 'side2_cues'", problems),
        "switch": lambda n: _line(n, f"{what} 'switch'", problems),
        "switch_time": lambda n: _seconds(n, f"{what} 'switch_time'", problems),
        "setup_time": lambda n: _seconds(n, f"{what} 'setup_time'", problems),
    })


def exercise_from_node(ex_id: str, id_where: Where, node: Node, equipment: dict[str, str],
                       problems: Problems) -> Exercise | None:
    what = f"exercise '{ex_id}'"
    if not ID_PATTERN.match(ex_id):
        problems.append((id_where, f"exercise id {show(ex_id)} must be lowercase letters, digits and hyphens; "
                                   "rename it, like side-plank"))
        return None
    mapping = _mapping(node, what, problems, "name: Side Plank")
    if mapping is None:
        return None
    before = len(problems)
    _keys(mapping, EXERCISE_KEYS, ("name", "timing"), what, node.where, problems)
    fields = _read_fields(mapping, {
        "name": lambda n: _line(n, f"{what} 'name'", problems),
        "say": lambda n: _line(n, f"{what} 'say'", problems),
    }) | _spoken_fields(mapping, what, problems)
    gear: list[str] = []
    if "equipment" in mapping:
        eq_node = mapping["equipment"][1]
        items = (eq_node,) if isinstance(eq_node.value, str) else eq_node.value
        if not isinstance(items, tuple):
            problems.append((eq_node.where, f"{what} 'equipment' must be a list of equipment ids, not "
                                            f"{describe(eq_node)}; write it like [mat, block]"))
        else:
            for item in items:
                if not isinstance(item.value, str) or item.value not in equipment:
                    hint = (_suggest(item.value, equipment) if isinstance(item.value, str) else "") \
                        or "known: " + ", ".join(sorted(equipment))
                    problems.append((item.where, f"unknown equipment {show(item)} in {what}; {hint} "
                                                 "(equipment is listed in program.yaml)"))
                elif item.value not in gear:
                    gear.append(item.value)
    timing = None
    if "timing" in mapping:
        t_node = mapping["timing"][1]
        if (t_map := _mapping(t_node, f"{what} 'timing'", problems, "work: 30")) is not None:
            _keys(t_map, TIMING_KEYS, (), f"{what} 'timing'", t_node.where, problems)
            timing = merge_timing(None, _timing_fields(t_map, f"{what} timing", problems), t_node.where, problems)
    if len(problems) > before or timing is None or "name" not in fields:
        return None
    name: Line = fields["name"]
    return Exercise(
        id=ex_id, name=name.text, say=fields.get("say") or name, equipment=tuple(gear),
        setup=fields.get("setup") or (), cues=fields.get("cues") or (), switch=fields.get("switch"),
        timing=timing, where=id_where, reminder=fields.get("reminder"), sides=fields.get("sides"),
        side2_cues=fields.get("side2_cues"), switch_time=fields.get("switch_time"),
        setup_time=fields.get("setup_time"),
    )


def library_from_node(root: Node, equipment: dict[str, str], problems: Problems) -> dict[str, Exercise]:
    top = _mapping(root, "exercises.yaml", problems, "exercise-id: {name: ..., timing: ...}")
    library: dict[str, Exercise] = {}
    for ex_id, (where, node) in (top or {}).items():
        exercise = exercise_from_node(ex_id, where, node, equipment, problems)
        if exercise is not None:
            library[ex_id] = exercise
    if top is not None and not top:
        problems.append((root.where, "exercises.yaml defines no exercises; add one, as in the README's example"))
    return library


# --- a day's routine ---------------------------------------------------------------------

ROUTINE_KEYS = ("title", "week", "day", "intro", "exercises")
ITEM_KEYS = ("id",) + TIMING_KEYS + SPOKEN_FIELDS + ("instruction",)


def _step(number: int, item: Node, library: dict[str, Exercise], known_ids: set[str],
          problems: Problems) -> Step | None:
    """One entry of a routine's 'exercises': an id, or a mapping with 'id' and the day's overrides.

    An id that names a broken entry of the library gives no step and no problem here: the
    library reports it. With no library at all (``known_ids`` empty: it failed to load),
    no id is checked.
    """
    fields: dict[str, Any] = {}
    what = f"exercise {number}"
    if isinstance(item.value, str):
        ex_id, id_where, mapping = item.value, item.where, {}
    elif isinstance(item.value, dict):
        mapping = item.value
        _keys(mapping, ITEM_KEYS, ("id",), what, item.where, problems)
        if "id" not in mapping:
            return None
        id_node = mapping["id"][1]
        if isinstance(id_node.value, (dict, tuple, bool)) or id_node.value is None:
            problems.append((id_node.where, f"{what} 'id' must be an exercise id, not {describe(id_node)}; "
                                            "write one such as side-plank"))
            return None
        ex_id, id_where = str(id_node.text if id_node.text is not None else id_node.value), id_node.where
        fields = _spoken_fields(mapping, what, problems)
        if "instruction" in mapping:
            fields["instruction"] = _choice(mapping["instruction"][1], f"{what} 'instruction'", ("full",), problems)
    else:
        problems.append((item.where, f"{what} must be an exercise id, or a mapping with 'id', not "
                                     f"{describe(item)}; write an id from exercises.yaml, such as side-plank"))
        return None
    if ex_id not in library:
        if known_ids and ex_id not in known_ids:
            hint = _suggest(ex_id, known_ids) or "see exercises.yaml for the ids"
            problems.append((id_where, f"unknown exercise {show(ex_id)}; {hint}"))
        return None
    exercise = library[ex_id]
    timing_fields = _timing_fields(mapping, f"{what} ('{ex_id}')", problems)
    if timing_fields:
        timing = merge_timing(exercise.timing, timing_fields, item.where, problems)
        if timing is None:
            return None
        exercise = replace(exercise, timing=timing)
    if any(value is None for value in fields.values()):
        return None
    full = fields.pop("instruction", None) == "full" or "setup" in fields  # a day's own setup is said in full
    exercise = replace(exercise, **{key: value for key, value in fields.items()})
    return Step(number, exercise, item.where, full)


def timed_seconds(timing: Timing, rest: float = 0.0) -> float:
    """How long an exercise's blocks and the rests between its sets last, without the talk around them."""
    between = timing.rest if timing.rest is not None else rest
    return timing.seconds * timing.sides * timing.sets + between * (timing.sets - 1)


def routine_from_node(routine_id: str, root: Node, library: dict[str, Exercise], known_ids: set[str],
                      problems: Problems) -> Routine | None:
    top = _mapping(root, "a routine", problems, "title: Day One")
    if top is None:
        return None
    before = len(problems)
    _keys(top, ROUTINE_KEYS, ("title", "exercises"), "the routine", root.where, problems)
    fields = _read_fields(top, {
        "title": lambda n: _line(n, "'title'", problems),
        "week": lambda n: _number(n, "'week'", 1, 52, problems, integer=True, example=1),
        "day": lambda n: _number(n, "'day'", 1, 7, problems, integer=True, example=1),
        "intro": lambda n: _line(n, "'intro'", problems),
    })
    steps: list[Step] = []
    if "exercises" in top:
        ex_node = top["exercises"][1]
        if ex_node.value is None or ex_node.value == ():
            problems.append((ex_node.where, "'exercises' is empty; list at least one exercise id"))
        elif not isinstance(ex_node.value, tuple):
            problems.append((ex_node.where, f"'exercises' must be a list of exercise ids, not {describe(ex_node)}; "
                                            "write one '- id' line for each"))
        else:
            for number, item in enumerate(ex_node.value, start=1):
                step = _step(number, item, library, known_ids, problems)
                if step is not None:
                    steps.append(step)
            total = sum(timed_seconds(step.exercise.timing) for step in steps)
            if total > MAX_ROUTINE_S:
                problems.append((ex_node.where, f"the timed blocks of this day add up to {total / 60:.0f} minutes; "
                                                f"keep a day under {MAX_ROUTINE_S // 60} (fewer sets, shorter "
                                                "blocks, or split the day)"))
    if len(problems) > before or not steps:
        return None
    return Routine(
        id=routine_id, title=fields["title"].text, week=fields.get("week") or 0, day=fields.get("day") or 0,
        intro=fields.get("intro"), steps=tuple(steps), where=root.where,
    )
