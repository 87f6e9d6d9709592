"""The documents a reader follows, checked against the files they point at: every relative link in the
README, the guides and CHANGES.md leads to a file that exists (and an anchor to a heading in it), the
README's Quick start is two `make` commands of the Makefile (the ones CI runs), and the README's table
names every command the command line has."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

DOCUMENTS = ["README.md", "CHANGES.md", "docs/user-guide.md", "docs/developer-guide.md", "routines/README.md"]
# Written by another branch of issue 16 (generated from the settings' declarations), linked to from here
# before it lands: a link to it counts as whole while it is missing. Remove the entry once it has landed.
PENDING: set[str] = set()  # a linked document another branch is still writing (none now)
README_MAX_LINES = 200  # issue 16: a README a runner reads in two minutes, about 150 lines

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"`[^`]*`")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # https:, mailto: ... (not checked: no network in the tests)
MAKE_TARGET = re.compile(r"^([A-Za-z0-9_.-]+)\s*:(?!=)")
COMMAND_ROW = re.compile(r"^\|\s*`cuecoach ([a-z][a-z-]*)")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the lines outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[*`]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file, a repeated one with -1, -2... as GitHub numbers them."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            found.add(f"{base}-{seen[base]}" if base in seen else base)
            seen[base] = seen.get(base, 0) + 1
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every link and image in a Markdown file, code left out."""
    found = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        line = CODE_SPAN.sub("``", line)  # a link written as code is an example, not a link
        found += [(number, target) for target in INLINE_LINK.findall(line)]
        reference = REFERENCE_LINK.match(line)
        if reference:
            found.append((number, reference.group(1)))
    return found


def broken_links(document: Path, root: Path, pending: Collection[str] = ()) -> list[str]:
    """`file:line: target` for each relative link whose file, or whose anchor in a Markdown file, is missing."""
    broken = []
    for number, target in links(document):
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (document.parent / file_part).resolve() if file_part else document.resolve()
        where = f"{document.relative_to(root)}:{number}: {target}"
        try:
            inside = resolved.relative_to(root.resolve()).as_posix()
        except ValueError:
            broken.append(f"{where} (outside the repository)")
            continue
        if not resolved.exists():
            if inside not in pending:
                broken.append(f"{where} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{where} (no such heading)")
    return broken


def quick_start(readme: str) -> list[str]:
    """The commands of the README's Quick start: its first code block, comments and blank lines left out."""
    section = re.search(r"^## Quick start[ \t]*\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert section, "the README has no Quick start"
    block = re.search(r"^```[a-z]*\n(.*?)^```", section.group(1), re.S | re.M)
    assert block, "the Quick start has no code block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [command for command in commands if command]


def make_targets(makefile: str) -> tuple[str, set[str]]:
    """The Makefile's default goal (its first target not starting with a dot) and all its targets."""
    targets = [match.group(1) for line in makefile.splitlines() if (match := MAKE_TARGET.match(line))]
    return next(target for target in targets if not target.startswith(".")), set(targets)


def quick_start_problems(readme: str, makefile: str) -> list[str]:
    commands = quick_start(readme)
    problems = [] if len(commands) == 2 else [f"the Quick start has {len(commands)} commands, not 2: {commands}"]
    default, targets = make_targets(makefile)
    for command in commands:
        words = command.split()
        if words[0] != "make":
            problems.append(f"{command!r} is not a make command")
            continue
        problems += [f"{command!r}: the Makefile has no target {goal!r}"
                     for goal in words[1:] or [default] if goal not in targets]
    return problems


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(name: str) -> None:
    assert (ROOT / name).is_file(), f"{name} is missing"
    assert broken_links(ROOT / name, ROOT, PENDING) == []


def test_the_link_check_finds_a_missing_file_a_missing_heading_and_a_way_out(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\n## Voices\n\n## Voices\n\n## The `lead_in` key: *pips*\n")
    (tmp_path / "README.md").write_text(
        "# Top\n\n[ok](docs/guide.md#voices) [ok too](docs/guide.md#voices-1) [here](#top)\n"
        "[code](docs/guide.md#the-lead_in-key-pips) [gone](docs/missing.md) and ![gone](docs/gone.png)\n"
        "[no heading](docs/guide.md#sounds) [no heading here](#bottom)\n"
        "[out](../elsewhere.md) [web](https://example.org/x.md) [later](docs/reference.md)\n"
        "```\n[in code](docs/nothing.md)\n```\n`[in a span](docs/nothing.md)`\n"
        "[ref]: docs/also-missing.md\n")
    found = broken_links(tmp_path / "README.md", tmp_path, {"docs/reference.md"})
    assert [line.split(": ", 1)[1].split(" (")[0] for line in found] == [
        "docs/missing.md", "docs/gone.png", "docs/guide.md#sounds", "#bottom", "../elsewhere.md",
        "docs/also-missing.md"], found


def test_the_quick_start_is_two_make_commands_of_the_makefile_the_ones_ci_runs() -> None:
    readme, makefile = (ROOT / "README.md").read_text(), (ROOT / "Makefile").read_text()
    assert quick_start_problems(readme, makefile) == []
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip().split(" ")[0] == "make"]
    assert ci == quick_start(readme), "CI runs the README's Quick start (.ci/run says so)"


def test_the_quick_start_check_refuses_a_third_command_or_a_missing_target() -> None:
    makefile = "all: setup\n\tbuild\nsetup:\n\ttrue\nX := 1\ntest: setup\n"
    good = "## Quick start\n\n```sh\nmake        # builds\nmake test   # tests\n```\n\n## Next\n"
    assert quick_start_problems(good, makefile) == []
    assert quick_start_problems(good.replace("make test", "make tests"), makefile) == [
        "'make tests': the Makefile has no target 'tests'"]
    assert quick_start_problems(good.replace("make test", "make test\npip install ."), makefile)[:2] == [
        "the Quick start has 3 commands, not 2: ['make', 'make test', 'pip install .']",
        "'pip install .' is not a make command"]


def test_the_readme_table_names_every_command_and_no_other() -> None:
    help_text = run_cli("--help", cwd=ROOT).stdout
    listed = help_text.split("Commands:", 1)[1]
    commands = {line.split()[0] for line in listed.splitlines() if line.startswith("  ") and line.strip()}
    assert {"build", "plan", "check"} <= commands, help_text
    table = {match.group(1) for line in (ROOT / "README.md").read_text().splitlines()
             if (match := COMMAND_ROW.match(line))}
    assert table == commands


def test_the_readme_stays_short() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= README_MAX_LINES
