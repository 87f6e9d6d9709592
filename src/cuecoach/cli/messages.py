"""Lines printed in more than one place: by both doors of the command line, the fast path (`entry.py`) and the
full one (`app.py`), or by more than one command (serve and publish).

Kept here, light (no typer, no rich), so that each prints them word for word alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cuecoach.config.project import shown

if TYPE_CHECKING:  # for annotations only: the fast path loads no site
    from cuecoach.site.pages import Site

INTERRUPTED = "interrupted; finished files are kept, and no file was left half-written"


def summary_line(built: int, skipped: int, failed: int, output: Path) -> str:
    """The line every build ends with, whichever door answered it."""
    return f"{built} built, {skipped} skipped (current), {failed} failed; output in {shown(output)}"


def site_summary(site: Site) -> str:
    """What `serve` and `publish` say of the days in the site."""
    waiting = len(site.days) - len(site.built)
    return (f"{len(site.built)} of {len(site.days)} days in the feed"
            + (f" ({waiting} not built yet: cuecoach build --all)" if waiting else ""))
