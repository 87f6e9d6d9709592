"""Read a key's value from its YAML node by the kind its declaration gives it, and say what is wrong in one line.

Each reader returns the value, or None after adding (position, message) to ``problems``: one run lists every
problem in a file. ``read_fields`` reads the keys of a mapping that a table declares, ``read_group`` a mapping
of declared keys (gaps, phrases, timing); the kinds with code of their own (``Structured``) are validate.py's.
"""

from __future__ import annotations

import difflib
import re
import string
import unicodedata
from typing import Any

from cuecoach.config.options import (
    MAX_TEXT_CHARS,
    Choice,
    Flag,
    Group,
    Lufs,
    Number,
    Phrase,
    Setting,
    Spoken,
    SpokenLines,
    Structured,
    Text,
    keys,
    required,
)
from cuecoach.config.schema import Line, Problems
from cuecoach.config.yamlsrc import Node, describe, show
from cuecoach.errors import Where
from cuecoach.spoken import has_words

Mapping = dict[str, tuple[Where, Node]]  # a YAML mapping as yamlsrc reads it: key -> (key's position, value)


def suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def mapping(node: Node, what: str, problems: Problems, example: str = "key: value") -> Mapping | None:
    if not isinstance(node.value, dict):
        problems.append((node.where, f"{what} must be a mapping of keys to values, not {describe(node)}; "
                                     f"write it as '{example}' lines"))
        return None
    return node.value


def check_keys(given: Mapping, table: tuple[Setting, ...], what: str, at: Where, problems: Problems) -> None:
    """Every key given is declared in the table, and every key the table requires is given."""
    allowed = keys(table)
    for key, (where, _) in given.items():
        if key not in allowed:
            hint = suggest(key, allowed) or "allowed: " + ", ".join(allowed)
            problems.append((where, f"unknown key {show(key)} in {what}; {hint}"))
    for key in required(table):
        if key not in given:
            problems.append((at, f"{what} is missing '{key}'; add it"))


def _control(folded: str) -> str | None:
    """The first control or format character left in text once its white space is folded, named: 'U+001B'."""
    found = next((ch for ch in folded if unicodedata.category(ch) in ("Cc", "Cs")), None)
    return None if found is None else f"U+{ord(found):04X}"


def text(node: Node, what: str, problems: Problems) -> str | None:
    """Text as written: a number stays as typed (``1.50``), white space is folded."""
    value = node.value
    if isinstance(value, (dict, tuple)):
        problems.append((node.where, f"{what} must be text, not {describe(node)}; write it on one line"))
        return None
    if isinstance(value, bool):
        problems.append((node.where, f"{what} must be text, not {describe(node)}; put it in quotes"))
        return None
    raw = str(node.text if node.text is not None and not isinstance(value, str) else value)
    folded = " ".join(raw[: MAX_TEXT_CHARS * 10].split())
    if (control := _control(folded)) is not None:  # a NUL or an ANSI escape would land raw in the .lrc and .vtt
        problems.append((node.where, f"{what} holds a control character ({control}); remove it"))
        return None
    if value is None or not folded:
        problems.append((node.where, f"{what} is empty; write the text"))
        return None
    if len(folded) > MAX_TEXT_CHARS:
        problems.append((node.where, f"{what} is {len(' '.join(raw.split()))} characters long; keep it under "
                                     f"{MAX_TEXT_CHARS} (split it into shorter lines)"))
        return None
    return folded


def line(node: Node, what: str, problems: Problems) -> Line | None:
    said = text(node, what, problems)
    if said is None:
        return None
    if not has_words(said):
        problems.append((node.where, f"{what} is {show(said)}, which leaves nothing to say once spoken out; "
                                     "write words"))
        return None
    return Line(said, node.where)


def lines(node: Node, what: str, problems: Problems) -> tuple[Line, ...] | None:
    if isinstance(node.value, str):
        node = Node((node,), node.where)
    if not isinstance(node.value, tuple):
        fix = "list lines, or remove the key" if node.value is None else "write [First line., Second line.]"
        problems.append((node.where, f"{what} must be a list of lines, not {describe(node)}; {fix}"))
        return None
    said = [line(item, what, problems) for item in node.value]
    if any(item is None for item in said):
        return None
    return tuple(item for item in said if item is not None)


def number(node: Node, what: str, low: float, high: float, problems: Problems,
           integer: bool = False, example: float = 30) -> float | None:
    value = node.value
    unit = "" if integer else " s"
    write = f"a whole number such as {example:g}" if integer else f"a number of seconds such as {example:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if value is None:
            problems.append((node.where, f"{what} is empty; write {write}"))
        elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?[\d.]+\s*(s|sec|secs|seconds?)\s*", value):
            problems.append((node.where, f"{what} must be a plain number, not {describe(node)}; "
                                         "leave out the unit: it is always seconds"))
        elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?[\d.]+[eE][-+]?\d+\s*", value):
            problems.append((node.where, f"{what} must be a plain number, not {describe(node)}; write it in digits"))
        else:
            problems.append((node.where, f"{what} must be {'a whole number' if integer else 'a number of seconds'}, "
                                         f"not {describe(node)}; write {write}"))
        return None
    if value != value or value in (float("inf"), float("-inf")):
        problems.append((node.where, f"{what} is {show(node)}, not a finite number; write {write}"))
        return None
    if integer and value != int(value):
        problems.append((node.where, f"{what} must be a whole number, not {show(node)}; write {write}"))
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


def flag(node: Node, what: str, problems: Problems) -> bool | None:
    if not isinstance(node.value, bool):
        problems.append((node.where, f"{what} is {show(node) if node.value is not None else 'empty'}; write "
                                     "true or false"))
        return None
    return node.value


def choice(node: Node, what: str, choices: tuple[str, ...], problems: Problems) -> str | None:
    if not isinstance(node.value, str) or node.value not in choices:
        hint = suggest(node.value, choices) if isinstance(node.value, str) else ""
        problems.append((node.where, f"{what} is {show(node)}; {hint + ' ' if hint else ''}choose one of: "
                                     f"{', '.join(choices)}"))
        return None
    return node.value


# --- a value by its declared kind -----------------------------------------------------------------------


def _text(kind: Text, node: Node, what: str, problems: Problems) -> str | None:
    if kind.blank and node.value in (None, ""):
        return None  # left empty: the default
    said = text(node, what, problems)
    if said and kind.pattern is not None and not kind.pattern.fullmatch(said):
        # Reported, and kept: later checks still see it (a cover's file is looked for all the same).
        problems.append((node.where, f"{what} is {show(said)}; {kind.fix}"))
    return said


def _spoken_lines(kind: SpokenLines, node: Node, what: str, problems: Problems) -> tuple[Line, ...] | None:
    said = lines(node, what, problems)
    if said is not None and kind.count and len(said) != kind.count:
        problems.append((node.where, f"{what} {kind.verb} {len(said)} {kind.noun}{'s' * (len(said) != 1)}; "
                                     f"{kind.fix}"))
        return None
    return said


def _lufs(kind: Lufs, default: float, node: Node, what: str, problems: Problems) -> float | None:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        problems.append((node.where, f"{what} must be a number of LUFS, not {describe(node)}; write "
                                     f"{default:g} (the mono podcast target) or {kind.other:g}"))
        return None
    if not kind.low <= value <= kind.high:
        problems.append((node.where, f"{what} is {value:g} LUFS; give a value from {kind.low:g} to {kind.high:g}, "
                                     f"such as {default:g}"))
        return None
    return float(value)


def _choice(kind: Choice, node: Node, what: str, problems: Problems) -> str | None:
    if kind.suggest:
        return choice(node, what, kind.choices, problems)
    if node.value not in kind.choices:
        problems.append((node.where, f"{what} is {show(node) if isinstance(node.value, str) else describe(node)}; "
                                     f"use one of: {', '.join(kind.choices)}"))
        return None
    return str(node.value)


def _phrases(placeholders: tuple[str, ...], node: Node, what: str, problems: Problems) -> tuple[Line, ...] | None:
    """A phrase, or a list of alternatives: each one read as a phrase."""
    if not isinstance(node.value, tuple):
        said = _phrase(placeholders, node, what, problems)
        return None if said is None else (said,)
    if not node.value:
        problems.append((node.where, f"{what} is an empty list; write the phrase, or a list of alternatives"))
        return None
    alternatives = [_phrase(placeholders, item, what, problems) for item in node.value]
    return None if None in alternatives else tuple(item for item in alternatives if item is not None)


def _phrase(placeholders: tuple[str, ...], node: Node, what: str, problems: Problems) -> Line | None:
    said = line(node, what, problems)
    if said is None:
        return None
    try:
        used = [(name, spec, conversion) for _, name, spec, conversion
                in string.Formatter().parse(said.text) if name is not None]
    except ValueError as exc:
        problems.append((node.where, f"{what} has a stray brace ({exc}); write placeholders as "
                                     "{name}, and a brace meant as text as {{ or }}"))
        return None
    allowed = ", ".join(f"{{{name}}}" for name in placeholders) or "none"
    for placeholder, spec, conversion in used:
        if placeholder not in placeholders:
            problems.append((node.where, f"{what} uses unknown placeholder {show('{' + placeholder + '}')}; "
                                         f"allowed: {allowed}"))
            return None
        if spec or conversion:
            problems.append((node.where, f"{what} formats its placeholder {{{placeholder}}}; write "
                                         f"it plain, as {{{placeholder}}}"))
            return None
    return said


def read(setting: Setting, node: Node, what: str, problems: Problems) -> Any:
    """One value by its declared kind; None when it is wrong (reported) or left blank."""
    kind = setting.kind
    if isinstance(kind, Text):
        return _text(kind, node, what, problems)
    if isinstance(kind, Spoken):
        return line(node, what, problems)
    if isinstance(kind, SpokenLines):
        return _spoken_lines(kind, node, what, problems)
    if isinstance(kind, Flag):
        return flag(node, what, problems)
    if isinstance(kind, Number):
        example = kind.example if kind.example is not None else setting.default
        return number(node, what, kind.low, kind.high, problems, kind.integer, example)
    if isinstance(kind, Lufs):
        return _lufs(kind, setting.default, node, what, problems)
    if isinstance(kind, Choice):
        return _choice(kind, node, what, problems)
    if isinstance(kind, Phrase):
        return _phrases(kind.placeholders, node, what, problems)
    raise TypeError(f"{setting.key}: a {type(kind).__name__} is read by validate.py")


def read_fields(given: Mapping, table: tuple[Setting, ...], prefix: str, problems: Problems) -> dict[str, Any]:
    """The values of the keys given that the table declares, each read by its kind and called
    ``{prefix}'{key}'`` in a message; keys of a Group or Structured kind are left to the caller."""
    declared = {setting.key: setting for setting in table if not isinstance(setting.kind, (Group, Structured))}
    return {key: read(declared[key], node, f"{prefix}'{key}'", problems)
            for key, (_, node) in given.items() if key in declared}


def read_group(setting: Setting, node: Node, prefix: str, problems: Problems) -> dict[str, Any] | None:
    """A Group's mapping: its keys checked against its members and each read (None: not a mapping)."""
    kind = setting.kind
    if not isinstance(kind, Group):
        raise TypeError(f"{setting.key} is not a group")
    what = f"{prefix}'{setting.key}'"
    given = mapping(node, what, problems, kind.example)
    if given is None:
        return None
    check_keys(given, kind.members, what, node.where, problems)
    return read_fields(given, kind.members, f"{prefix}{kind.label} ", problems)
