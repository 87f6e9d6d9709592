"""What `cuecoach build` shows as it goes, on stderr: a progress bar, each day's outcome, each warning once.

The bar is drawn on a terminal, for more than one day, and refreshed only when something happens:
rich's auto-refresh runs a thread, and a process with threads may not fork its speech engines. A day
is named as it starts when there is no bar; each day built (or, with --verbose, current) gets a line.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from cuecoach.script.timeline import clock

if TYPE_CHECKING:  # for annotations only: the console is the caller's, the results the build's
    from rich.console import Console

    from cuecoach.builder.job import DayResult


class BuildProgress:
    """What a build shows as it goes: a progress bar (on a terminal, for more than one day), each day's
    outcome, and each warning once (a library line left out on many days is reported once)."""

    def __init__(self, err: Console, days: int, verbose: bool):
        # imported here: the other commands draw no progress bar (about 9 ms of their start)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.err, self.days, self.verbose = err, days, verbose
        # no auto-refresh: its thread would keep the build from forking its speech engines (a worker would)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err, transient=True, auto_refresh=False,
                                 disable=days == 1 or not err.is_terminal)
        self.in_work: list[str] = []
        self.spoken: list[str] = []
        self.warned: set[str] = set()

    def __enter__(self) -> BuildProgress:
        self.progress.__enter__()
        self.task = self.progress.add_task("building", total=self.days)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.progress.__exit__(kind, exc, traceback)

    def on_synth(self, text: str) -> None:
        self.spoken.append(text)
        self.progress.update(self.task, description=f"speaking new lines: {len(self.spoken)}", refresh=True)

    def on_start(self, routine: str) -> None:
        self.in_work.append(routine)
        self.progress.update(self.task, description=f"building {', '.join(self.in_work)}", refresh=True)
        if self.days == 1 or not self.err.is_terminal:
            self.err.print(f"{routine}: building…")

    def on_done(self, result: DayResult) -> None:
        if result.routine in self.in_work:
            self.in_work.remove(result.routine)
        self.progress.update(self.task, advance=1, refresh=True,
                             description=f"building {', '.join(self.in_work)}" if self.in_work else "done")
        for line in result.warnings if result.status != "skipped" else ():  # check lists them all
            if line not in self.warned:
                self.warned.add(line)
                self.progress.console.print(line, markup=False)
        if result.status == "failed":
            for line in result.message.splitlines():
                self.progress.console.print(line if result.exit_code == 2 else f"error: {result.routine}: {line}",
                                            markup=False)
        elif result.status != "skipped" or self.verbose:
            detail = (f"{clock(result.duration_ms)} long, {result.synthesized} lines synthesized, "
                      f"{result.seconds:.1f} s" if result.status == "built" else "current")
            self.progress.console.print(f"{result.status} {result.routine} ({detail})", markup=False)
