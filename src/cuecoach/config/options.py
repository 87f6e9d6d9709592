"""The kinds of value a routine key holds, with their limits, and ``Setting``: one key's declaration.

A kind says what a user must write (``type_name``) and within what (``limits``), for the reference; the
values it allows are read and checked by ``readers.py`` (a kind that holds other keys, by ``validate.py``).
In the manner of mkdocs's ``config/config_options.py``; the declarations themselves are in ``settings.py``.
Pure data: nothing here reads a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_TEXT_CHARS = 300  # one spoken line; longer is a paragraph pasted by mistake


class Required:
    """The default of a key that must be given."""

    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = Required()


# --- the kinds of value ---------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Text as written (a number stays as typed); ``pattern``: what it must look like, ``fix`` says how."""

    pattern: re.Pattern[str] | None = None
    fix: str = ""  # the message's advice when the pattern does not match
    shape: str = ""  # the pattern in words, for the reference
    blank: bool = False  # empty or null means the default

    type_name = "text"

    def limits(self) -> str:
        return self.shape or f"one line, at most {MAX_TEXT_CHARS} characters"


@dataclass(frozen=True)
class Spoken:
    """A line to be spoken: text with words in it."""

    type_name = "spoken line"

    def limits(self) -> str:
        return f"at most {MAX_TEXT_CHARS} characters, with words"


@dataclass(frozen=True)
class SpokenLines:
    """A list of spoken lines (one line alone is a list of one); ``count``: exactly that many."""

    count: int = 0
    noun: str = "line"  # what the message counts: "names 1 side", "has 2 lines"
    verb: str = "has"
    fix: str = ""  # the message's advice when the count is wrong

    type_name = "list of spoken lines"

    def limits(self) -> str:
        return f"exactly {self.count}" if self.count else "any number"


@dataclass(frozen=True)
class Flag:
    """Yes or no: true or false."""

    type_name = "true or false"

    def limits(self) -> str:
        return "true, false"


@dataclass(frozen=True)
class Number:
    """A number within limits: seconds, to a tenth, or a whole number."""

    low: int
    high: int
    integer: bool = False
    example: float | None = None  # what a message suggests writing; None: the setting's default

    @property
    def type_name(self) -> str:
        return "whole number" if self.integer else "seconds"

    def limits(self) -> str:
        unit = "" if self.integer else " s, to a tenth"
        return f"{self.low:g} to {self.high:g}{unit}"


@dataclass(frozen=True)
class Lufs:
    """A loudness, in LUFS, within limits; ``other``: a second target a message suggests."""

    low: int
    high: int
    other: int

    type_name = "LUFS"

    def limits(self) -> str:
        return f"{self.low:g} to {self.high:g}"


@dataclass(frozen=True)
class Choice:
    """One of a few words; ``suggest``: a message names the closest (the engine's message does not)."""

    choices: tuple[str, ...]
    suggest: bool = True

    type_name = "one of"

    def limits(self) -> str:
        return ", ".join(self.choices)


@dataclass(frozen=True)
class Phrase:
    """A spoken line that may use these {placeholders}, filled in when it is said; or a list of such lines, the
    alternatives a build takes in turn (script/vary.py)."""

    placeholders: tuple[str, ...] = ()

    type_name = "phrase, or a list of alternatives"

    def limits(self) -> str:
        return ", ".join(f"{{{name}}}" for name in self.placeholders) or "no placeholders"


@dataclass(frozen=True)
class Group:
    """A mapping of declared keys (``members``), each read by its own kind; ``label`` names one in a message
    ("gap 'rest'"), ``example`` shows how to write one."""

    members: tuple[Setting, ...]
    label: str
    example: str

    type_name = "mapping"

    def limits(self) -> str:
        return "the keys below"


@dataclass(frozen=True)
class Structured:
    """A value validate.py reads with code of its own (the equipment, a day's list of exercises...)."""

    type_name: str
    shape: str

    def limits(self) -> str:
        return self.shape


Kind = Text | Spoken | SpokenLines | Flag | Number | Lufs | Choice | Phrase | Group | Structured


@dataclass(frozen=True)
class Setting:
    """One key: the kind of value it holds, its default, and one line of doc."""

    key: str
    kind: Kind
    doc: str
    default: Any = None  # when the key is left out; REQUIRED: it must be given
    fallback: str = ""  # when the key is left out, where its value comes from instead (for the reference)
    alias_of: str = ""  # an older name of that key, still read

    def __post_init__(self) -> None:
        if isinstance(self.kind, Number) and self.kind.example is None and not isinstance(self.default, (int, float)):
            raise ValueError(f"{self.key}: a number without a default needs an example for its messages")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def keys(table: tuple[Setting, ...]) -> tuple[str, ...]:
    return tuple(setting.key for setting in table)


def required(table: tuple[Setting, ...]) -> tuple[str, ...]:
    return tuple(setting.key for setting in table if setting.required)


def defaults(table: tuple[Setting, ...]) -> dict[str, Any]:
    """Each key's declared default, for a key that has one."""
    return {setting.key: setting.default for setting in table if not setting.required}


def walk(table: tuple[Setting, ...], prefix: str = "") -> Iterator[tuple[str, Setting]]:
    """Every setting of a table and of its groups, by dotted name (gaps.rest), in the table's order."""
    for setting in table:
        yield prefix + setting.key, setting
        if isinstance(setting.kind, Group):
            yield from walk(setting.kind.members, f"{prefix}{setting.key}.")


def find(table: tuple[Setting, ...], key: str) -> Setting:
    """A table's setting by key: the one declaration its readers and its dataclass take from."""
    return next(setting for setting in table if setting.key == key)
