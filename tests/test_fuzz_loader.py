"""Property-based fuzzing of the loader: whatever the YAML, the result is valid or an InputError.

Three kinds of input: arbitrary values dumped as YAML, arbitrary text, and the valid test
files mutated (a key renamed, a value replaced, a line deleted or duplicated). Each goes
through ``yamlsrc.parse_text`` and the schema (program, library, routine), and a mutated file
through ``load.load_routine`` on a real project folder. Any other exception is a bug; so is
a problem that is not one line at a 1-based position.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cuecoach.config.load import Loaded, load_routine, load_series_or_raise
from cuecoach.config.options import walk
from cuecoach.config.project import Project
from cuecoach.config.schema import Exercise, Program, Routine
from cuecoach.config.settings import DAY, EXERCISE, ITEM, PROGRAM
from cuecoach.config.validate import library_from_node, program_from_node, routine_from_node
from cuecoach.config.yamlsrc import Node, parse_text
from cuecoach.errors import InputError, Where

DATA = Path(__file__).resolve().parent / "data" / "project"
FILES = {name: (DATA / "routines" / name).read_text() for name in ("program.yaml", "exercises.yaml", "short.yaml")}
SERIES = load_series_or_raise(Project.at(DATA))

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- what is generated --------------------------------------------------------------------

KEYS = sorted({setting.key for table in (DAY, ITEM, EXERCISE, PROGRAM) for _, setting in walk(table)}
              | {"countdown", "mat", "block", "march", "side-reach", "squeeze", "<<"})
scalars = (st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=30) | st.sampled_from(["march", "side-reach", "mat", "{name}", "{", "---", "!!", "8"]))
keys = st.sampled_from(KEYS) | st.text(max_size=12)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
                      max_leaves=25)
yaml_scalars = st.sampled_from([
    "", "~", "null", "yes", "no", "on", "true", "0", "-5", "8", "8.55", "1e3", "1.0e+3", ".nan", ".inf", "-.inf",
    "1:30", "0x1F", "0o17", "017", "1_000", "2024-01-01", "'quoted'", '"a\\tb"', "[]", "{}", "[8]", "{work: 8}",
    "*nope", "&a x", "!!int abc", "!!float .", "!!bool maybe", "!!timestamp x", "!!binary xx", "!foo x", "!!",
    "9" * 5000, "x" * 400, "---", "\"{name}\"", "\"{a:b}\"", "\"{0}\"", "|\n  two\n  lines", "? [a]\n: b",
    "<<: {a: 1}", "\t8", "@x", "`x", "\"\\q\"", "'unclosed", "[unclosed", "{unclosed", "é", "\u2028", "\x85",
])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    """One of the valid test files with one to four small edits; returns (file name, text)."""
    name = draw(st.sampled_from(sorted(FILES)))
    lines = FILES[name].splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        indent = line[: len(line) - len(line.lstrip())]
        key, colon, rest = line.strip().partition(":")
        action = draw(st.sampled_from(["value", "key", "delete", "duplicate", "insert", "indent", "chars"]))
        if action == "value" and colon:
            rest = draw(yaml_scalars | st.text(max_size=20) | values.map(lambda v: yaml.safe_dump(v).strip()))
            lines[i] = f"{indent}{key}: {rest}"
        elif action == "key" and colon:
            lines[i] = f"{indent}{draw(keys | yaml_scalars)}:{rest}"
        elif action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, line)
        elif action == "insert":
            lines.insert(i, indent + draw(yaml_scalars | st.text(max_size=20)))
        elif action == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "    ", "\t"])) + line.lstrip()
        else:
            j = draw(st.integers(0, len(line)))
            lines[i] = line[:j] + draw(st.text(max_size=3)) + line[j:]
    return name, "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


# --- what is checked ----------------------------------------------------------------------


def assert_clean(problems: list[tuple[Where, str]]) -> None:
    """Every problem is one line at a 1-based position: a message a user can act on."""
    for where, message in problems:
        assert isinstance(where, Where) and where.line >= 1 and where.col >= 1, where
        text = f"{where}: {message}"
        assert message and "\n" not in text and "\r" not in text and len(text.splitlines()) == 1, text
        assert "Node(" not in message and "Where(" not in message, message


def parse(text: str) -> Node | None:
    try:
        node = parse_text(text, "f.yaml")
    except InputError as exc:
        assert exc.problems
        assert_clean(exc.problems)
        return None
    assert isinstance(node, Node)
    return node


def through_schema(node: Node) -> None:
    """Read a node as each of the three files: a value and no problems, or problems."""
    problems: list = []
    program = program_from_node(node, problems)  # settings with defaults (artist, rate...) may be wrong
    assert (program is not None or problems) and (program is None or isinstance(program, Program))
    assert_clean(problems)

    problems = []
    library = library_from_node(node, SERIES.program.equipment, problems)
    assert all(isinstance(e, Exercise) for e in library.values())
    assert problems or library
    assert_clean(problems)

    problems = []
    routine = routine_from_node("day", node, SERIES.library, set(SERIES.known_ids), problems)
    assert (routine is None) == bool(problems) and (routine is None or isinstance(routine, Routine))
    if routine is not None:
        assert routine.steps and all(math.isfinite(s.exercise.timing.seconds) for s in routine.steps)
    assert_clean(problems)


# --- the properties -----------------------------------------------------------------------


@FUZZ
@given(values)
def test_any_yaml_value_loads_or_gives_input_errors(value: object) -> None:
    node = parse(yaml.safe_dump(value, allow_unicode=True))
    if node is not None:
        through_schema(node)


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=8))
def test_any_mapping_of_known_keys_loads_or_gives_input_errors(value: dict) -> None:
    node = parse(yaml.safe_dump(value, allow_unicode=True))
    if node is not None:
        through_schema(node)


@FUZZ
@given(st.text(max_size=200) | st.lists(yaml_scalars | st.text(max_size=15), max_size=8).map("\n".join))
def test_any_text_loads_or_gives_input_errors(text: str) -> None:
    node = parse(text)
    if node is not None:
        through_schema(node)


@FUZZ
@given(mutated())
def test_mutated_files_load_or_give_input_errors(case: tuple[str, str]) -> None:
    node = parse(case[1])
    if node is not None:
        through_schema(node)


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "project"
    shutil.copytree(DATA, folder)
    return folder


@settings(FUZZ, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=mutated(), ref=st.sampled_from(["short", "routines/short.yaml", "short.yaml"]))
def test_load_routine_on_a_mutated_project_loads_or_gives_input_errors(fuzz_project: Path, case: tuple[str, str],
                                                                       ref: str) -> None:
    routines = fuzz_project / "routines"
    for name, text in FILES.items():
        (routines / name).write_text(case[1] if name == case[0] else text, encoding="utf-8", errors="surrogatepass")
    try:
        loaded = load_routine(Project.at(fuzz_project), str(routines / "short.yaml") if ref.startswith("routines")
                              else ref)
    except InputError as exc:
        assert exc.problems
        assert_clean(exc.problems)
    else:
        assert isinstance(loaded, Loaded) and loaded.routine.steps


@settings(FUZZ, max_examples=150)
@given(ref=st.text(max_size=30) | st.sampled_from(["..", "../evil", "/etc/passwd", "routines/../short", "Week1",
                                                   "program", "exercises.yaml", "short.yml", "", ".", "routines/"]))
def test_any_routine_name_loads_or_gives_an_input_error(ref: str) -> None:
    try:
        loaded = load_routine(Project.at(DATA), ref)
    except InputError as exc:
        assert exc.problems
        assert_clean(exc.problems)
    else:
        assert loaded.routine.id == "short"
