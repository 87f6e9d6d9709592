"""The `cuecoach` command's entry (and `python -m cuecoach`'s): a build with nothing to do is answered here.

Rebuilding a program whose files have not changed is the common case, and the command line
(typer, with pydantic and click, and rich) takes longer to import than the check itself
(about 0.2 s against 0.03 s, measured). So before loading it, `main` reads the arguments: a
plain `build` (day names, weeks or --all, with -v, -j, -o, --routines, --sounds, --cache,
--encode, --engine or --music) whose days are all current at a glance (`current.glance`, the check
`build` itself starts with) is answered here, with the same lines and exit status, and the
same playlists written. Anything else, or any doubt, goes to the full command line
(`app.py`): another option or command, a value typer would refuse or read otherwise, a day
to build, an error, a line that rich would print differently. This path can only ever say
"current" where `build` would say it too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from cuecoach.builder.current import glance
from cuecoach.builder.export import write_playlists
from cuecoach.cli.messages import INTERRUPTED, summary_line
from cuecoach.config.project import Project, chosen

FLAGS = {"--all": "all", "--verbose": "verbose", "-v": "verbose"}
VALUED = {"--jobs": "jobs", "-j": "jobs", "--routines": "routines", "--sounds": "sounds", "--output": "output",
          "-o": "output", "--cache": "cache", "--encode": "encode", "--engine": "engine",
          "--music": "music"}
ENCODINGS = ("frames", "whole")  # cli.Encoding's values; any other is refused there
MUSIC = ("none", "default")  # what --music accepts; any other is refused by the full command line
JOBS = re.compile(r"^[1-9][0-9]*$")  # what --jobs (an int, at least 1) accepts, written plainly


def plain_build(argv: list[str]) -> dict[str, object] | None:
    """The options of a `build` as typer reads them, or None for anything this path does not answer.
    Each option may appear once; a value is never empty and never starts with '-' (typer would take it
    as the value, or refuse it: either way, the full command line decides)."""
    if not argv or argv[0] != "build":
        return None
    names: list[str] = []  # the days, weeks or files named
    found: dict[str, object] = {"names": names}
    words = iter(argv[1:])
    for word in words:
        name, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        key = FLAGS.get(word) or VALUED.get(name)
        if key is None:
            if word.startswith("-"):  # --force, --help, -vj2, --: left to typer
                return None
            names.append(word)
            continue
        if key in found:
            return None
        if word in FLAGS:
            found[key] = True
            continue
        found[key] = value if equals else next(words, "")
        if not found[key] or str(found[key]).startswith("-"):
            return None
    if found.get("encode", "frames") not in ENCODINGS or not JOBS.match(str(found.get("jobs", "1"))) \
            or found.get("music", "none") not in MUSIC:
        return None
    # --engine is not checked against the engines: a day is current only if a build with this same
    # engine recorded it, and a build refuses an unknown engine before it writes anything
    return found


def answer(options: dict[str, object]) -> int | None:
    """Exit status 0 after printing what `build` prints when every day is current; None otherwise."""
    folders = [Path(str(options[name])) if name in options else None
               for name in ("routines", "sounds", "output", "cache")]
    project = Project.at(Path.cwd(), *folders)
    refs = chosen(project, options["names"], bool(options.get("all")))  # type: ignore[arg-type]  # plain_build's list
    if not refs:
        return None
    seen = glance(project, refs, encode=str(options.get("encode", "frames")),
                  engine=str(options["engine"]) if "engine" in options else None,
                  music=str(options["music"]) if "music" in options else None)
    if seen.rest:
        return None
    lines = [f"skipped {routine_id} (current)" for routine_id, _, _ in seen.current] if options.get("verbose") else []
    lines.append(summary_line(0, len(seen.current), 0, project.output))
    # rich, which prints the full command's lines, turns :name: into an emoji and expands tabs
    if any(":" in line or not line.isprintable() for line in lines):
        return None
    write_playlists(project, {timeline: data for _, timeline, data in seen.current})
    sys.stderr.write("".join(line + "\n" for line in lines))
    return 0


def main() -> None:
    try:
        options = plain_build(sys.argv[1:])
        status = answer(options) if options is not None else None
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        sys.exit(130)
    except Exception:  # noqa: BLE001 - any doubt goes to the full command line, which reports what is wrong
        status = None
    if status is not None:
        sys.exit(status)
    from cuecoach.cli.app import main as full_command_line

    full_command_line()
