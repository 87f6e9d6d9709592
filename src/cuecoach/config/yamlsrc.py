"""Read a YAML file into plain values that remember the line and column they came from.

Anything wrong with the file itself (not UTF-8, too big, bad syntax, a document that
anchors and aliases blow up) is an InputError at its position. Problems that leave the
document readable (a key given twice, a merge key) are collected, so that one run can
report them together with what the schema finds in the rest of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cuecoach.errors import InputError, Where

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 50_000  # after anchors and aliases are expanded
MAX_CHARS = 2 * MAX_FILE_BYTES  # of text in scalars, after anchors and aliases are expanded
MAX_DEPTH = 50  # a routine nests three or four levels; deeper is a mistake or a recursive alias
SHOWN_CHARS = 40  # the most of a user's value a message quotes

# What YAML 1.1 accepts in a stream (the same set PyYAML's reader checks).
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@dataclass(frozen=True)
class Node:
    """A YAML value and where it starts.

    ``value`` is a str, int, float, bool or None for scalars, a tuple of Node
    for sequences, and a dict of str to (key position, Node) for mappings.
    ``text`` is a scalar as written (``1.50`` stays ``1.50``), None for others.
    """

    value: Any
    where: Where
    text: str | None = None

    @property
    def kind(self) -> str:
        """What the value is, for a message: 'a list', 'a number', 'nothing'..."""
        return kind_of(self.value)


def kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, tuple):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a yes/no value"
    if isinstance(value, (int, float)):
        return "a number"
    return "text"


def describe(node: Node) -> str:
    """A node's kind and, for a scalar, its text as written: "text 'eight'", "a list", "nothing"."""
    kind = kind_of(node.value)
    if isinstance(node.value, (dict, tuple)) or node.value is None:
        return kind
    if isinstance(node.value, str):
        return f"text {show(node)}"
    return f"{kind} ({show(node)[1:-1]})"


def show(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A user's value quoted for a one-line message: control characters escaped, long text cut."""
    if isinstance(value, Node):
        value = value.text if value.text is not None else value.value
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, tuple):
        return "a list"
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    escaped = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return f"'{escaped}'"


def _where(path: str, mark: Any) -> Where:
    return Where(path, mark.line + 1, mark.column + 1)


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index, counting line breaks as YAML does."""
    breaks = list(_LINE_BREAK.finditer(text, 0, index))
    line_start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, index - line_start + 1


def _syntax_hint(problem: str, text: str, where: Where) -> str:
    """How to fix a YAML syntax error, guessed from the problem and the character at fault."""
    lines = text.splitlines()
    char = ""
    if 0 < where.line <= len(lines) and 0 < where.col <= len(lines[where.line - 1]):
        char = lines[where.line - 1][where.col - 1]
    if char == "\t" or "tab" in problem:
        return "indent with spaces, not tabs"
    if "cannot start any token" in problem:
        return f"'{char or '?'}' cannot begin a value in YAML: put the text in quotes"
    if "alias" in problem or "anchor" in problem:
        return "'*' and '&' mark YAML aliases and anchors: put text that begins with them in quotes"
    if "tag" in problem:
        return "'!' marks a YAML tag: put text that begins with it in quotes"
    if "escape" in problem:
        return r"in double quotes write a backslash as \\, or use single quotes"
    if "mapping values are not allowed" in problem:
        return "put text that holds ': ' in quotes, or check the indentation"
    if "another document" in problem or "document start" in problem:
        return "keep one document in the file: remove the '---' line and what follows, or fix the line"
    if "end of stream" in problem:
        return "close the quote"
    if "expected ','" in problem:
        return "close the bracket, and separate items with commas"
    return "check the indentation and quoting here"


def parse_text(text: str, path: str, problems: list[tuple[Where, str]] | None = None) -> Node:
    """Parse one YAML document; raise InputError with the position of the first problem.

    With a ``problems`` list, problems that leave the rest readable (duplicate and merge
    keys, keys that are lists) are added to it and the rest is returned; without one they
    are raised too.
    """
    if not text.strip():
        raise InputError((Where(path), "the file is empty; write a YAML mapping, as in the README's example"))
    if bad := _NOT_PRINTABLE.search(text):
        line, col = _position(text, bad.start())
        raise InputError((Where(path, line, col), f"the file holds a control character (U+{ord(bad.group()):04X}) "
                                                  "that YAML does not allow; delete it"))
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _where(path, mark) if mark else Where(path)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{exc.problem} ({exc.context}"
            if (exc.context.startswith("while") and exc.context_mark and exc.problem_mark
                    and exc.context_mark.line != exc.problem_mark.line):
                problem += f" that starts at line {exc.context_mark.line + 1}"
            problem += ")"
        problem = show(problem, 200)[1:-1]  # one line, whatever the parser put in it
        raise InputError((where, f"YAML syntax error: {problem}; {_syntax_hint(problem, text, where)}")) from None
    except yaml.reader.ReaderError as exc:  # the check above finds these first; kept as a safety net
        raise InputError((Where(path), f"the file holds a character YAML does not allow ({exc.reason}); "
                                       "delete it")) from None
    except yaml.YAMLError as exc:
        raise InputError((Where(path), f"YAML error: {show(str(exc).splitlines()[0], 200)[1:-1]}; "
                                       "check the file")) from None
    except (RecursionError, MemoryError):  # the pure-Python parser, on absurd nesting
        raise InputError((Where(path), "values nest too deeply to read; flatten the document")) from None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
        raise InputError((Where(path), "the file holds no YAML value; write a mapping, as in the README's example"))
    soft: list[tuple[Where, str]] = []
    node = _convert(root, _Walk(path, soft), 0, None)
    soft = list(dict.fromkeys(soft))  # an aliased mapping repeats its problems
    if soft and problems is None:
        raise InputError(soft)
    if problems is not None:
        problems.extend(soft)
    return node


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same nodes, faster
_constructor = yaml.SafeLoader("")


def _scalar(node: yaml.ScalarNode, where: Where) -> Node:
    try:
        value = _constructor.construct_object(node, deep=True)
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise InputError((where, "this number has thousands of digits; write a sensible number")) from None
        raise InputError((where, f"cannot read {show(node.value)} as the type its tag names; "
                                 "remove the '!!' tag or fix the value")) from None
    except (yaml.YAMLError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        reason = getattr(exc, "problem", None) or "its tag does not fit the value"
        raise InputError((where, f"cannot read this value ({show(reason, 80)[1:-1]}); "
                                 "remove the '!' tag, or put the text in quotes")) from None
    finally:
        _constructor.constructed_objects.clear()
        _constructor.recursive_objects.clear()
    if not isinstance(value, (str, int, float, bool, type(None))):
        value = str(node.value)  # dates, binary and the like stay as written
    return Node(value, where, node.value)


class _Walk:
    """State of one conversion: values made so far, nodes seen (a node met again is an alias), problems."""

    def __init__(self, path: str, soft: list[tuple[Where, str]]):
        self.path = path
        self.count = 0
        self.chars = 0
        self.seen: set[int] = set()
        self.soft = soft


def _convert(node: yaml.Node, walk: _Walk, depth: int, blame: Where | None) -> Node:
    """Turn a composed node into a Node, expanding aliases within limits.

    A node met a second time is an alias. Its own position is its anchor's, maybe far
    away and harmless, so an expansion that grows too big or too deep is reported at
    ``blame`` instead: where the alias is used (its key, or the list holding it).
    """
    where = _where(walk.path, node.start_mark)
    alias = id(node) in walk.seen
    walk.seen.add(id(node))
    at = blame if alias and blame is not None else where
    walk.count += 1
    if depth > MAX_DEPTH:
        raise InputError((at, f"values nest more than {MAX_DEPTH} levels deep (a recursive alias?); "
                              "flatten the document"))
    if walk.count > MAX_NODES:
        raise InputError((at, f"the document expands to more than {MAX_NODES} values (anchors and aliases?); "
                              "write it out plainly"))
    if isinstance(node, yaml.ScalarNode):
        walk.chars += len(node.value)
        if walk.chars > MAX_CHARS:
            raise InputError((at, f"the document expands to more than {MAX_CHARS // 1_000_000} million characters "
                                  "(anchors and aliases?); write it out plainly"))
        return _scalar(node, where)
    if isinstance(node, yaml.SequenceNode):
        return Node(tuple(_convert(item, walk, depth + 1, at) for item in node.value), where)
    mapping: dict[str, tuple[Where, Node]] = {}
    for key_node, value_node in node.value:
        key_where = _where(walk.path, key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            walk.soft.append((key_where, "a key must be a plain name, not a list or mapping; "
                                         "write a name before the ':'"))
            continue
        key = str(key_node.value)
        if key == "<<" and key_node.tag.endswith(":merge"):
            walk.soft.append((key_where, "merge keys (<<) are not supported; write the keys out"))
            continue
        if key in mapping:
            first = mapping[key][0]
            walk.soft.append((key_where, f"duplicate key {show(key)} (first given at line {first.line}); "
                                         "keep one of the two"))
            continue
        mapping[key] = (key_where, _convert(value_node, walk, depth + 1, at if alias else key_where))
    return Node(mapping, where)


def read_yaml(path: Path, shown_as: str | None = None, problems: list[tuple[Where, str]] | None = None) -> Node:
    """Read and parse a YAML file with size and encoding checks (``problems``: as for parse_text)."""
    name = shown_as or str(path)
    if path.exists() and not path.is_file():
        raise InputError((Where(name), "this is not a regular file (a folder?); give the path of a YAML file"))
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError((Where(name), "no such file; run cuecoach from your project folder, or pass --routines "
                                       "with the folder that holds it")) from None
    except OSError as exc:
        raise InputError((Where(name), f"cannot read the file ({exc.strerror}); check that it exists "
                                       "and that you may read it")) from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError((Where(name), f"the file is larger than {MAX_FILE_BYTES // 1000} kB; "
                                       "a routine is much smaller: is it the right file?"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", errors="replace")) + 1
        raise InputError((Where(name, line, col), "the file is not UTF-8 text; save it as UTF-8 in your "
                                                  "editor")) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return parse_text(text, name, problems)
