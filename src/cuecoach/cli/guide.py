"""How the command line guides: help that reads like a person wrote it, and shell completion of what a
command takes.

* Help: typer prints an argument with its Python type (``routine <str>``, ``ROUTINE <list[str]>``) and a
  required one in braces in the usage (``{routine}``). ``PlainCommand`` (each command's class, given as
  ``cls=``) prints the name alone, in capitals, and the usage as click writes it (``ROUTINE``,
  ``[ROUTINE]...``). Options keep their own metavars; every option that takes a value declares one.
* Completion: routine ids and weeks (``week1``) from the routines folder, exercise ids from the
  library, engine names. Each reads names only (no YAML, no engines), from ``--routines`` when it was
  typed before the word being completed, else ``./routines``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from typer.core import TyperCommand

from cuecoach.config.project import Project, exercise_ids, routine_ids, series_day
from cuecoach.config.settings import ENGINES

if TYPE_CHECKING:  # the types of the hooks: typer 0.29 carries its own click, not the click package
    from typer._click import Context, HelpFormatter, Parameter


class PlainCommand(TyperCommand):
    """A command whose help names its arguments without typer's type labels."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _name(param)
                pieces.append(name if param.required else f"[{name}]")
                if param.nargs != 1:
                    pieces[-1] += "..."
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((_name(param), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _name(param: Parameter) -> str:
    return (param.metavar or param.name or "").upper()


def _project(ctx: typer.Context) -> Project:
    folder = ctx.params.get("routines")
    return Project.at(Path.cwd(), Path(folder) if folder else None)


def complete_routines(ctx: typer.Context, incomplete: str) -> list[str]:
    """Routine ids and the weeks they make up, those starting with what was typed."""
    ids = routine_ids(_project(ctx))
    weeks = [f"week{week}" for week in dict.fromkeys(day[0] for day in map(series_day, ids) if day)]
    return [name for name in [*weeks, *ids] if name.startswith(incomplete)]


def complete_exercises(ctx: typer.Context, incomplete: str) -> list[str]:
    """The library's exercise ids, those starting with what was typed."""
    return [name for name, _ in exercise_ids(_project(ctx)) if name.startswith(incomplete)]


def complete_engines(incomplete: str) -> list[str]:
    return [name for name in ENGINES if name.startswith(incomplete)]
