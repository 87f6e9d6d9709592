"""Read a YAML file into plain values that remember the line and column they came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Where

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 50_000  # after anchors and aliases are expanded
MAX_DEPTH = 50  # a routine nests three or four levels; deeper is a mistake or a recursive alias


@dataclass(frozen=True)
class Node:
    """A YAML value and where it starts.

    ``value`` is a str, int, float, bool or None for scalars, a tuple of Node
    for sequences, and a dict of str to (key position, Node) for mappings.
    """

    value: Any
    where: Where

    @property
    def kind(self) -> str:
        if isinstance(self.value, dict):
            return "mapping"
        if isinstance(self.value, tuple):
            return "list"
        return type(self.value).__name__


def _where(path: str, mark: Any) -> Where:
    return Where(path, mark.line + 1, mark.column + 1)


def parse_text(text: str, path: str) -> Node:
    """Parse one YAML document; raise InputError with the position of the first problem."""
    if not text.strip():
        raise InputError((Where(path), "the file is empty; write a YAML mapping, as in the README's example"))
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _where(path, mark) if mark else Where(path)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{exc.problem} ({exc.context})"
        raise InputError((where, f"YAML syntax error: {problem}; check the indentation and quoting here")) from None
    except yaml.YAMLError as exc:  # e.g. a second document in the stream
        raise InputError((Where(path), f"YAML error: {exc}".splitlines()[0])) from None
    if root is None:
        raise InputError((Where(path), "the file holds no YAML value; write a mapping, as in the README's example"))
    return _convert(root, path, [0], 0)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes, faster
_constructor = yaml.SafeLoader("")


def _convert(node: yaml.Node, path: str, count: list[int], depth: int) -> Node:
    count[0] += 1
    if depth > MAX_DEPTH:
        raise InputError((_where(path, node.start_mark), f"values nest more than {MAX_DEPTH} levels deep "
                          "(a recursive alias?); flatten the document"))
    if count[0] > MAX_NODES:
        raise InputError(
            (_where(path, node.start_mark), f"the document expands to more than {MAX_NODES} values "
             "(anchors and aliases?); write it out plainly")
        )
    where = _where(path, node.start_mark)
    if isinstance(node, yaml.ScalarNode):
        try:
            value = _constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise InputError((where, f"cannot read this value: {getattr(exc, 'problem', exc)}")) from None
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = str(node.value)  # dates, binary and the like stay as written
        return Node(value, where)
    if isinstance(node, yaml.SequenceNode):
        return Node(tuple(_convert(item, path, count, depth + 1) for item in node.value), where)
    mapping: dict[str, tuple[Where, Node]] = {}
    for key_node, value_node in node.value:
        key_where = _where(path, key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            raise InputError((key_where, "a key must be a plain name, not a list or mapping"))
        key = str(key_node.value)
        if key == "<<":
            raise InputError((key_where, "merge keys (<<) are not supported; write the keys out"))
        if key in mapping:
            first = mapping[key][0]
            raise InputError((key_where, f"duplicate key '{key}' (first given at line {first.line}); keep one"))
        mapping[key] = (key_where, _convert(value_node, path, count, depth + 1))
    return Node(mapping, where)


def read_yaml(path: Path, shown_as: str | None = None) -> Node:
    """Read and parse a YAML file with size and encoding checks."""
    name = shown_as or str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError((Where(name), "no such file; check the name, or run `cuecoach check` to list routines")) from None
    except OSError as exc:
        raise InputError((Where(name), f"cannot read the file: {exc.strerror}")) from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError((Where(name), f"the file is larger than {MAX_FILE_BYTES // 1000} kB; a routine is much smaller: is it the right file?"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InputError((Where(name, line, col), "the file is not UTF-8 text; save it as UTF-8 in your editor")) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_text(text, name)
