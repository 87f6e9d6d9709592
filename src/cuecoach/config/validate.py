"""Make a Program, the exercise library and a day's Routine from their YAML, checking each key against its
declaration (settings.py) and the file as a whole (what is required, what goes together).

Every check reports into a list of (position, message) so that one run lists every problem in a file; the
caller raises them together as an InputError. A value that is wrong is reported and left out (the key's
default stands in while the rest is checked); a part that cannot stand without it gives None.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from cuecoach.config.options import Group, Phrase, Setting, defaults, find, required
from cuecoach.config.project import ID_PATTERN, PROGRAM_FILE
from cuecoach.config.readers import Mapping, check_keys, line, mapping, read_fields, read_group, suggest
from cuecoach.config.schema import Exercise, Gaps, Line, Problems, Program, Routine, Step, Timing
from cuecoach.config.settings import (
    DAY,
    EXERCISE,
    ITEM,
    MAX_BLOCK_S,
    MAX_ROUTINE_S,
    MIN_BLOCK_S,
    PROGRAM,
    SPOKEN,
    TEMPO,
    TIMING,
)
from cuecoach.config.yamlsrc import Node, describe, show
from cuecoach.errors import Where

PROGRAM_DEFAULTS = defaults(PROGRAM)
_DAY_OWN = tuple(setting for setting in ITEM if setting not in TIMING)  # a day's timing is read once its id is known


def _given(values: dict[str, Any]) -> dict[str, Any]:
    """The values read without a problem."""
    return {key: value for key, value in values.items() if value is not None}


def music(node: Node, what: str, problems: Problems) -> str | tuple[str, ...] | None:
    """A `music` value: none, default, or one or more audio files, relative to the routines folder."""
    value = node.value
    if value in ("none", "default"):
        return str(value)
    items = value if isinstance(value, tuple) else (node,)
    names = []
    for item in items:
        name = item.value if isinstance(item, Node) else item
        where = item.where if isinstance(item, Node) else node.where
        if not isinstance(name, str) or not name.strip() or name in ("none", "default"):
            problems.append((where, f"{what} must be none, default, or audio files in the routines folder, not "
                                    f"{describe(item) if isinstance(item, Node) else show(name)}; write "
                                    "music: default, or music: [calm.ogg]"))
            return None
        path = PurePosixPath(name.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts:
            problems.append((where, f"{what} names {show(name)}, outside the routines folder; put the file in "
                                    "the routines folder and give its name, like calm.ogg"))
            return None
        names.append(name)
    if not names:
        problems.append((node.where, f"{what} lists no file; write music: none, or name a file, like [calm.ogg]"))
        return None
    return tuple(names)


def _music_values(top: Mapping, values: dict[str, Any], problems: Problems) -> None:
    """program.yaml's music, and its depth under the speech: never shallower than the bed between lines."""
    if "music" in top and (found := music(top["music"][1], "'music'", problems)) is not None:
        values["music"] = found
    level, duck = values.get("music_level", PROGRAM_DEFAULTS["music_level"]), values.get("music_duck")
    if duck is not None and duck < level:
        problems.append((top["music_duck"][1].where, f"'music_duck' is {duck:g} LU, less than music_level "
                                                     f"({level:g}); give at least {level:g}, such as "
                                                     f"{PROGRAM_DEFAULTS['music_duck']:g}"))
        values.pop("music_duck")


# --- program.yaml ----------------------------------------------------------------------------------------


def _equipment(top: Mapping, problems: Problems) -> dict[str, str]:
    equipment: dict[str, str] = {}
    if "equipment" in top and (items := mapping(top["equipment"][1], "'equipment'", problems,
                                                 "mat: a mat")) is not None:
        for key, (where, node) in items.items():
            if not ID_PATTERN.match(key):
                problems.append((where, f"equipment id {show(key)} must be lowercase letters, digits and hyphens; "
                                        "rename it, like foam-roller"))
            elif (said := line(node, f"equipment '{key}'", problems)) is not None:
                equipment[key] = said.text
        if not items:
            problems.append((top["equipment"][1].where, "'equipment' lists nothing; name at least one item, "
                                                        "like 'mat: a mat'"))
    return equipment


def _default_phrase(default: str | tuple[str, ...], at: Where) -> tuple[Line, ...]:
    """A phrase left out: its declared text, or its declared alternatives, placed at its group."""
    return tuple(Line(text, at) for text in ((default,) if isinstance(default, str) else default))


def _group(top: Mapping, setting: Setting, problems: Problems) -> dict[str, Any] | None:
    """A group of program.yaml (gaps, phrases) with its members' defaults; None when it or a member it
    requires is missing or wrong."""
    members = setting.kind.members if isinstance(setting.kind, Group) else ()
    if setting.key not in top or (values := read_group(setting, top[setting.key][1], "", problems)) is None:
        return None  # reported
    values = _given(values)
    at = top[setting.key][1].where  # a phrase left out is said as declared, and placed at its group
    for member in members:
        if not member.required:
            values.setdefault(member.key, _default_phrase(member.default, at) if isinstance(member.kind, Phrase)
                              else member.default)
    return None if any(key not in values for key in required(members)) else values


def _program_values(top: Mapping, problems: Problems) -> dict[str, Any]:
    """The values of program.yaml's keys, an older name's under the newer; a group (gaps, phrases) is None when
    it, or a member it requires, is missing or wrong."""
    values = _given(read_fields(top, PROGRAM, "", problems))
    for setting in PROGRAM:
        if setting.alias_of and setting.key in values:  # an older name: read when the newer one is not given
            values.setdefault(setting.alias_of, values.pop(setting.key))
    values["equipment"] = _equipment(top, problems)
    _music_values(top, values, problems)
    for setting in PROGRAM:
        if isinstance(setting.kind, Group):
            values[setting.key] = _group(top, setting, problems)
    return values


def program_from_node(root: Node, problems: Problems) -> Program | None:
    top = mapping(root, PROGRAM_FILE, problems, "title: My Series")
    if top is None:
        return None
    check_keys(top, PROGRAM, PROGRAM_FILE, root.where, problems)
    values = _program_values(top, problems)
    if any(not values.get(key) for key in required(PROGRAM)):
        return None
    where = {key: node.where for key, (_, node) in top.items()}
    for setting in PROGRAM:
        if isinstance(setting.kind, Group):
            where |= {f"{setting.key}.{key}": node.where for key, (_, node) in top[setting.key][1].value.items()}
    phrases = values.pop("phrases")
    values["gaps"] = Gaps(**values["gaps"])
    return Program(**values, countdown=phrases.pop("countdown"), phrases=phrases, where=where)


# --- exercises.yaml ----------------------------------------------------------------------------------------


AMOUNTS = ("work", "per_side", "reps", "reps_per_side")  # how much work a block holds: an exercise gives one
_AMOUNT_FIX = "keep 'work' (one block), 'per_side' (one block each side), 'reps' or 'reps_per_side' (with a tempo)"


def _tempo_problem(values: dict[str, Any], fields: dict[str, Any]) -> str:
    """What is wrong between the repetitions and the tempo, once merged; empty when nothing is."""
    counted = values["reps"] is not None or values["reps_per_side"] is not None
    if "tempo" in fields and not counted:
        return "'tempo' goes with reps: add 'reps: N' or 'reps_per_side: N', or leave the tempo out"
    if counted and values["tempo"] is None:
        return "reps need a tempo: add 'tempo: 3-1-1' (down, hold and up, in seconds) or 'tempo: 4' (seconds a rep)"
    return ""


def merge_timing(base: Timing | None, fields: dict[str, Any], where: Where, problems: Problems,
                 tempo_at: Where | None = None) -> Timing | None:
    """Apply timing fields over a base: one amount (`work`, `per_side`, `reps`, `reps_per_side`) replaces the
    base's; a block of seconds drops the base's tempo. `tempo_at`: where a tempo given here is written."""
    values = defaults(TIMING) if base is None else {setting.key: getattr(base, setting.key) for setting in TIMING}
    amounts = [key for key in AMOUNTS if key in fields]
    if len(amounts) > 1:
        problems.append((where, f"both '{amounts[0]}' and '{amounts[1]}' are given; {_AMOUNT_FIX}"))
        return None
    for key in AMOUNTS if amounts else ():
        values[key] = None
    if amounts and amounts[0] in ("work", "per_side"):
        values["tempo"] = None
    values.update(_given(fields))
    if any(value is None for value in fields.values()) or not TEMPO.fullmatch(values["tempo"] or "0"):
        return None  # already reported
    if all(values[key] is None for key in AMOUNTS):
        problems.append((where, "no timing: add 'work: SECONDS' or 'per_side: SECONDS', or 'reps: N' with a tempo"))
        return None
    if problem := _tempo_problem(values, fields):
        problems.append((tempo_at if "tempo" in fields and tempo_at else where, problem))
        return None
    tempo_where = (tempo_at or where) if "tempo" in fields else base.tempo_where if base else None
    timing = Timing(**values, where=where, tempo_where=tempo_where if values["tempo"] else None)
    if timing.rep_count is not None and not MIN_BLOCK_S <= timing.seconds <= MAX_BLOCK_S:
        problems.append((timing.tempo_where or where,
                         f"{timing.rep_count} reps at {timing.tempo} make a block of {timing.seconds:g} s; keep it "
                         f"from {MIN_BLOCK_S} to {MAX_BLOCK_S} s (fewer or more reps, or another tempo)"))
        return None
    return timing


def _where_of(given: Any, key: str) -> Where | None:
    """Where a key's value is written in a mapping as read (None when it is not given, or not a mapping)."""
    return given[key][1].where if isinstance(given, dict) and key in given else None


SIDED = ("sides", "side2_cues", "switch", "switch_time")  # the keys that shape the two sides (per_side, reps_per_side)


def _sides_unused(given: Mapping, timing: Timing, what: str, problems: Problems) -> bool:
    """Whether `given` holds a key of the two sides (SIDED) where the timing has none (plain work): each is
    reported at its line, as it would be left out without a word."""
    unused = [key for key in SIDED if key in given] if timing.sides == 1 else []
    problems += [(given[key][0], f"'{key}' has no effect on {what}, timed as plain work ('work') with no sides; "
                                 f"time it with 'per_side', or remove '{key}'") for key in unused]
    return bool(unused)


def _gear(given: Mapping, what: str, equipment: dict[str, str], problems: Problems) -> tuple[str, ...]:
    """An entry's equipment: ids that program.yaml names."""
    gear: list[str] = []
    if "equipment" not in given:
        return ()
    eq_node = given["equipment"][1]
    items = (eq_node,) if isinstance(eq_node.value, str) else eq_node.value
    if not isinstance(items, tuple):
        problems.append((eq_node.where, f"{what} 'equipment' must be a list of equipment ids, not "
                                        f"{describe(eq_node)}; write it like [mat, block]"))
        return ()
    for item in items:
        if not isinstance(item.value, str) or item.value not in equipment:
            hint = (suggest(item.value, equipment) if isinstance(item.value, str) else "") \
                or "known: " + ", ".join(sorted(equipment))
            problems.append((item.where, f"unknown equipment {show(item)} in {what}; {hint} "
                                         "(equipment is listed in program.yaml)"))
        elif item.value not in gear:
            gear.append(item.value)
    return tuple(gear)


def exercise_from_node(ex_id: str, id_where: Where, node: Node, equipment: dict[str, str],
                       problems: Problems) -> Exercise | None:
    what = f"exercise '{ex_id}'"
    if not ID_PATTERN.match(ex_id):
        problems.append((id_where, f"exercise id {show(ex_id)} must be lowercase letters, digits and hyphens; "
                                   "rename it, like side-plank"))
        return None
    given = mapping(node, what, problems, "name: Side Plank")
    if given is None:
        return None
    before = len(problems)
    check_keys(given, EXERCISE, what, node.where, problems)
    fields = read_fields(given, EXERCISE, f"{what} ", problems)
    gear = _gear(given, what, equipment, problems)
    timing = None
    if "timing" in given:
        t_node = given["timing"][1]
        if (t_fields := read_group(find(EXERCISE, "timing"), t_node, f"{what} ", problems)) is not None:
            timing = merge_timing(None, t_fields, t_node.where, problems, _where_of(t_node.value, "tempo"))
    if timing is not None:
        _sides_unused(given, timing, what, problems)
    if len(problems) > before or timing is None or "name" not in fields:
        return None
    name: Line = fields["name"]
    return Exercise(id=ex_id, name=name.text, say=fields.get("say") or name, equipment=gear, timing=timing,
                    where=id_where, **{setting.key: fields.get(setting.key, setting.default) for setting in SPOKEN})


def library_from_node(root: Node, equipment: dict[str, str], problems: Problems) -> dict[str, Exercise]:
    top = mapping(root, "exercises.yaml", problems, "exercise-id: {name: ..., timing: ...}")
    library: dict[str, Exercise] = {}
    for ex_id, (where, node) in (top or {}).items():
        exercise = exercise_from_node(ex_id, where, node, equipment, problems)
        if exercise is not None:
            library[ex_id] = exercise
    if top is not None and not top:
        problems.append((root.where, "exercises.yaml defines no exercises; add one, as in the README's example"))
    return library


# --- a day's routine ---------------------------------------------------------------------------------------


def _item(number: int, item: Node, problems: Problems) -> tuple[str, Where, Mapping, dict[str, Any]] | None:
    """An entry of a day's 'exercises' as written: its exercise id, where that is, its mapping (empty for a
    plain id) and the day's spoken changes."""
    what = f"exercise {number}"
    if isinstance(item.value, str):
        return item.value, item.where, {}, {}
    if not isinstance(item.value, dict):
        problems.append((item.where, f"{what} must be an exercise id, or a mapping with 'id', not "
                                     f"{describe(item)}; write an id from exercises.yaml, such as side-plank"))
        return None
    given = item.value
    check_keys(given, ITEM, what, item.where, problems)
    if "id" not in given:
        return None
    id_node = given["id"][1]
    if isinstance(id_node.value, (dict, tuple, bool)) or id_node.value is None:
        problems.append((id_node.where, f"{what} 'id' must be an exercise id, not {describe(id_node)}; "
                                        "write one such as side-plank"))
        return None
    ex_id = str(id_node.text if id_node.text is not None else id_node.value)
    return ex_id, id_node.where, given, read_fields(given, _DAY_OWN, f"{what} ", problems)


def _step(number: int, item: Node, library: dict[str, Exercise], known_ids: set[str],
          problems: Problems) -> Step | None:
    """One entry of a routine's 'exercises': an id, or a mapping with 'id' and the day's overrides.

    An id that names a broken entry of the library gives no step and no problem here: the
    library reports it. With no library at all (``known_ids`` empty: it failed to load),
    no id is checked.
    """
    if (written := _item(number, item, problems)) is None:
        return None
    ex_id, id_where, given, fields = written
    if ex_id not in library:
        if known_ids and ex_id not in known_ids:
            hint = suggest(ex_id, known_ids) or "see exercises.yaml for the ids"
            problems.append((id_where, f"unknown exercise {show(ex_id)}; {hint}"))
        return None
    exercise = library[ex_id]
    timing_fields = read_fields(given, TIMING, f"exercise {number} ('{ex_id}') ", problems)
    if timing_fields:
        timing = merge_timing(exercise.timing, timing_fields, item.where, problems, _where_of(given, "tempo"))
        if timing is None:
            return None
        exercise = replace(exercise, timing=timing)
    if _sides_unused(given, exercise.timing, f"exercise {number} ('{ex_id}')", problems):
        return None
    if any(value is None for value in fields.values()):
        return None
    full = fields.pop("instruction", None) == "full" or "setup" in fields  # a day's own setup is said in full
    exercise = replace(exercise, **fields)
    return Step(number, exercise, item.where, full)


def timed_seconds(timing: Timing, rest: float = 0.0) -> float:
    """How long an exercise's blocks and the rests between its sets last, without the talk around them."""
    between = timing.rest if timing.rest is not None else rest
    return timing.seconds * timing.sides * timing.sets + between * (timing.sets - 1)


def _steps(ex_node: Node, library: dict[str, Exercise], known_ids: set[str], problems: Problems) -> list[Step]:
    if ex_node.value is None or ex_node.value == ():
        problems.append((ex_node.where, "'exercises' is empty; list at least one exercise id"))
        return []
    if not isinstance(ex_node.value, tuple):
        problems.append((ex_node.where, f"'exercises' must be a list of exercise ids, not {describe(ex_node)}; "
                                        "write one '- id' line for each"))
        return []
    steps = [step for number, item in enumerate(ex_node.value, start=1)
             if (step := _step(number, item, library, known_ids, problems)) is not None]
    total = sum(timed_seconds(step.exercise.timing) for step in steps)
    if total > MAX_ROUTINE_S:
        problems.append((ex_node.where, f"the timed blocks of this day add up to {total / 60:.0f} minutes; "
                                        f"keep a day under {MAX_ROUTINE_S // 60} (fewer sets, shorter "
                                        "blocks, or split the day)"))
    return steps


def routine_from_node(routine_id: str, root: Node, library: dict[str, Exercise], known_ids: set[str],
                      problems: Problems) -> Routine | None:
    top = mapping(root, "a routine", problems, "title: Day One")
    if top is None:
        return None
    before = len(problems)
    check_keys(top, DAY, "the routine", root.where, problems)
    fields = read_fields(top, DAY, "", problems)
    own_music = music(top["music"][1], "'music'", problems) if "music" in top else None
    steps = _steps(top["exercises"][1], library, known_ids, problems) if "exercises" in top else []
    if len(problems) > before or not steps:
        return None
    left_out = defaults(DAY)
    return Routine(
        id=routine_id, title=fields["title"].text, week=fields.get("week") or left_out["week"],
        day=fields.get("day") or left_out["day"], intro=fields.get("intro"), steps=tuple(steps), where=root.where,
        closing=fields.get("closing"), quiet=bool(fields.get("quiet", left_out["quiet"])),
        music=own_music, music_where=top["music"][1].where if own_music is not None else None,
        title_where=fields["title"].where,
    )
