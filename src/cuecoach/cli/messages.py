"""Lines that both doors of the command line print: the fast path (`entry.py`) and the full one (`app.py`).

Kept here, light (no typer, no rich), so that each door prints them word for word alike.
"""

from __future__ import annotations

from pathlib import Path

from cuecoach.config.project import shown

INTERRUPTED = "interrupted; finished files are kept, and no file was left half-written"


def summary_line(built: int, skipped: int, failed: int, output: Path) -> str:
    """The line every build ends with, whichever door answered it."""
    return f"{built} built, {skipped} skipped (current), {failed} failed; output in {shown(output)}"
