"""Each routine key declared once (config/settings.py): the declarations drive the reading, the checks, the
defaults and docs/reference.md.

A declaration's limit refuses a value outside it in the words every other message uses; a key left out takes
its declared default; the library's entries and a day's entries read their spoken fields from one declaration;
and the reference lists every declared key and is the file in the repository.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from cuecoach.config.options import REQUIRED, Choice, Number, Phrase, Setting, Text, walk
from cuecoach.config.readers import check_keys, read, read_fields
from cuecoach.config.reference import COMMAND, SECTIONS, render
from cuecoach.config.schema import Problems, Program
from cuecoach.config.settings import DAY, EXERCISE, GAPS, ITEM, PHRASES, PROGRAM, SPOKEN, TIMING
from cuecoach.config.validate import exercise_from_node, program_from_node
from cuecoach.config.yamlsrc import Node, parse_text
from cuecoach.errors import Where

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"
AT = Where("f.yaml", 3, 7)
TABLES = {"program.yaml": PROGRAM, "exercises.yaml": EXERCISE, "a day": DAY, "a day's entry": ITEM}


def scalar(value: object) -> Node:
    """A value as yamlsrc reads it, with its text as written."""
    return Node(value, AT, str(value))


def minimal_program() -> str:
    """program.yaml with the keys it requires and nothing else, written from the declarations."""
    phrases = {s.key: " ".join(["Say"] + [f"{{{name}}}" for name in s.kind.placeholders])
               for s in PHRASES if s.required and isinstance(s.kind, Phrase)}
    return yaml.safe_dump({
        "title": "Series", "equipment": {"mat": "a mat"}, "gaps": {s.key: 5 for s in GAPS},
        "phrases": phrases | {"countdown": ["Three.", "Two.", "One."]},
    })


# --- a declared limit -------------------------------------------------------------------------


def test_a_declared_limit_refuses_a_value_outside_it_in_the_house_style() -> None:
    reps = Setting("reps", Number(1, 10, integer=True, example=5), "how many")
    problems: Problems = []
    assert read(reps, scalar(10), "'reps'", problems) == 10 and problems == []
    assert read(reps, scalar(11), "'reps'", problems) is None
    assert read(reps, scalar("ten"), "'reps'", problems) is None
    assert problems == [(AT, "'reps' is 11; give it a value from 1 to 10"),
                        (AT, "'reps' must be a whole number, not text 'ten'; write a whole number such as 5")]


@pytest.mark.parametrize("name,setting", [(f"{file}: {name}", setting) for file, table in TABLES.items()
                                          for name, setting in walk(table) if isinstance(setting.kind, Number)])
def test_every_declared_number_is_read_within_its_limits(name: str, setting: Setting) -> None:
    kind = setting.kind
    assert isinstance(kind, Number)
    unit = "" if kind.integer else " s"
    problems: Problems = []
    assert read(setting, scalar(kind.high), "'x'", problems) == kind.high
    assert read(setting, scalar(kind.low), "'x'", problems) == kind.low
    assert problems == []
    for outside in (kind.low - 1, kind.high + 1):
        assert read(setting, scalar(outside), "'x'", problems) is None
        assert problems.pop() == (AT, f"'x' is {outside:g}{unit}; give it a value from {kind.low:g} to "
                                      f"{kind.high:g}{unit}")


def test_a_declared_choice_and_pattern_are_what_reading_holds_to() -> None:
    problems: Problems = []
    lead_in = next(s for s in PROGRAM if s.key == "lead_in")
    assert isinstance(lead_in.kind, Choice)
    assert read(lead_in, scalar(lead_in.kind.choices[-1]), "'lead_in'", problems) == lead_in.kind.choices[-1]
    assert read(lead_in, scalar("pip"), "'lead_in'", problems) is None
    bitrate = next(s for s in PROGRAM if s.key == "bitrate")
    assert isinstance(bitrate.kind, Text)
    assert read(bitrate, scalar("65k"), "'bitrate'", problems) == "65k"  # reported, and kept
    assert problems == [(AT, "'lead_in' is 'pip'; did you mean 'pips'? choose one of: count, pips, none"),
                        (AT, "'bitrate' is '65k'; use a constant MP3 rate such as 64k or 96k")]


def test_the_keys_a_table_declares_are_the_keys_a_mapping_may_hold() -> None:
    table = (Setting("reps", Number(1, 10, integer=True, example=3), "how many", REQUIRED),
             Setting("hold", Number(1, 60, example=8), "how long"))
    given = parse_text("rpes: 3\nzzz: 1\nhold: 2\n", "f.yaml").value
    problems: Problems = []
    check_keys(given, table, "'thing'", AT, problems)
    assert read_fields(given, table, "thing ", problems) == {"hold": 2.0}
    assert problems == [(Where("f.yaml", 1, 1), "unknown key 'rpes' in 'thing'; did you mean 'reps'?"),
                        (Where("f.yaml", 2, 1), "unknown key 'zzz' in 'thing'; allowed: reps, hold"),
                        (AT, "'thing' is missing 'reps'; add it")]


def test_a_number_declared_without_an_example_for_its_messages_is_refused() -> None:
    with pytest.raises(ValueError, match="reps: a number without a default needs an example"):
        Setting("reps", Number(1, 10, integer=True), "how many", REQUIRED)


# --- defaults -----------------------------------------------------------------------------------


def test_a_key_left_out_of_program_yaml_takes_its_declared_default() -> None:
    problems: Problems = []
    program = program_from_node(parse_text(minimal_program(), "program.yaml"), problems)
    assert problems == [] and program is not None
    left_out = [s for s in PROGRAM if not s.required and not s.alias_of]
    assert len(left_out) >= 10
    for setting in left_out:
        value = getattr(program, setting.key)
        if setting.key == "sides":
            value = tuple(line.text for line in value)
        assert value == setting.default, setting.key
    for setting in PHRASES:
        if not setting.required:
            default = (setting.default,) if isinstance(setting.default, str) else setting.default
            assert tuple(line.text for line in program.phrases[setting.key]) == default


def test_program_holds_the_declared_keys_and_no_default_of_its_own() -> None:
    """Program's fields are program.yaml's keys (an older name aside), and a default there is the declared one."""
    declared = {s.key: s for s in PROGRAM if not s.alias_of}
    own = {f.name: f for f in fields(Program)}
    assert set(own) - {"countdown", "where"} == set(declared)
    for name, field in own.items():
        if name in declared and not declared[name].required and name != "sides":
            assert field.default == declared[name].default, name


def test_an_exercise_left_without_its_spoken_fields_takes_their_declared_defaults() -> None:
    node = parse_text("name: Plank\ntiming: {work: 30}\n", "exercises.yaml")
    problems: Problems = []
    exercise = exercise_from_node("plank", Where("exercises.yaml"), node, {}, problems)
    assert problems == [] and exercise is not None
    for setting in SPOKEN:
        assert getattr(exercise, setting.key) == setting.default, setting.key
    for setting in TIMING:
        if setting.key != "work":
            assert getattr(exercise.timing, setting.key) == setting.default, setting.key


def test_the_library_and_a_day_share_one_declaration_of_the_spoken_fields_and_the_timing() -> None:
    for setting in SPOKEN:
        assert any(s is setting for s in EXERCISE) and any(s is setting for s in ITEM), setting.key
    for setting in TIMING:
        assert any(s is setting for s in ITEM), setting.key


# --- the reference ------------------------------------------------------------------------------


def test_the_reference_lists_every_declared_key_with_its_type_default_limits_and_doc() -> None:
    text = render()
    for section in SECTIONS:
        assert f"## {section.title}" in text
        for name, setting in walk(section.table):
            row = next(line for line in text.split(f"## {section.title}")[1].splitlines()
                       if line.startswith(f"| `{name}` |"))
            assert setting.kind.type_name in row and setting.kind.limits() in row and setting.doc in row, row
            assert (row.split(" | ")[2] == "required") == setting.required, row


def test_docs_reference_md_is_the_reference_the_declarations_write() -> None:
    assert REFERENCE.is_file(), f"docs/reference.md is missing: run `{COMMAND}`"
    assert REFERENCE.read_text(encoding="utf-8") == render(), \
        f"docs/reference.md is out of date with src/cuecoach/config/settings.py: run `{COMMAND}`"


def test_the_reference_command_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "reference.md"
    done = subprocess.run([sys.executable, "-m", "cuecoach.config.reference", str(target)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert target.read_text(encoding="utf-8") == render()
