"""The commands that keep running: `serve` (the site, remade when the output changes) and `--watch`.

`watch_builds` waits, until Ctrl-C, for files in the routines and sounds folders to change (watchfiles,
which asks the system to tell it: inotify, FSEvents, ReadDirectoryChangesW) and settle, names them, and
runs the caller's build, which decides on its own which days are stale (builder/run.py) and prints what
`build` prints, located errors included. Editors' swap and backup files, and the output and cache
folders, are not watched.

`serve_site` serves the site until interrupted. Without --watch it serves on this thread, and a
phone's load of the page or the feed remakes a stale site. With --watch the server runs on a thread of
its own and the build on this one; after each build the site is remade (a broken edit leaves it as it
was: the last good days stay served), and site.json says "watch", so the open page polls it and
reloads a day whose track changed (site/pages.py, web/player.js).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from watchfiles import Change, DefaultFilter, watch

from cuecoach.cli.messages import site_summary
from cuecoach.config.project import Project, shown
from cuecoach.errors import CueError

if TYPE_CHECKING:  # for annotations only: the console is the caller's, the server serve's
    from rich.console import Console

    from cuecoach.site.pages import Site
    from cuecoach.site.serve import SiteServer

SETTLE_MS = 300  # a file quiet this long is taken as saved: an editor's save (write, rename, touch) ends within it
WAKE_MS = 1000  # without changes, the watch wakes this often (and says it watches the first time)
GROUP_MS = 3000  # files that keep changing (a checkout, a copy of many) are built together after at most this long


def watched(project: Project) -> list[Path]:
    """The folders an edit to which may change a day: the routines and the sounds (those that exist)."""
    return [folder for folder in dict.fromkeys((project.routines, project.sounds)) if folder.is_dir()]


def watch_builds(project: Project, rebuild: Callable[[], object], err: Console) -> None:
    """Until Ctrl-C (KeyboardInterrupt, raised): when files in the watched folders change and settle, name
    them and `rebuild`."""
    folders = watched(project)
    ignore = DefaultFilter(ignore_paths=[project.output.resolve(), project.cache.resolve()])
    ready = False
    # an empty set each WAKE_MS without changes: the first says the system watches (an edit from then on is seen)
    for changes in watch(*folders, watch_filter=ignore, step=SETTLE_MS, debounce=GROUP_MS, rust_timeout=WAKE_MS,
                         yield_on_timeout=True):
        if not ready:
            ready = True
            err.print(f"watching {' and '.join(shown(folder) for folder in folders)}: a saved edit rebuilds the "
                      "days it changes", markup=False)
        if not changes:
            continue
        err.print(f"changed: {', '.join(changed_names(changes)) or 'a temporary file'}", markup=False)
        rebuild()


def changed_names(changes: set[tuple[Change, str]]) -> list[str]:
    """The files that changed, as the user knows them: not an editor's temporary file, made and gone meanwhile."""
    made = {path for change, path in changes if change == Change.added}
    gone = {path for change, path in changes if change == Change.deleted}
    return sorted({shown(Path(path)) for _, path in changes if path not in made & gone or Path(path).exists()})


def site_refresher(project: Project, url: str, err: Console, watch: bool) -> Callable[[Path], None]:
    """What remakes the site in a folder when what it is made from (the output, the routines) changed since
    this was called."""
    from cuecoach.site.pages import sources_state, write_site

    made_from = sources_state(project)

    def refresh(folder: Path) -> None:
        nonlocal made_from
        now = sources_state(project)
        if now == made_from:
            return
        made_from = now
        try:
            write_site(project, folder, url, watch=watch)
            err.print("the output changed: site updated", markup=False)
        except CueError as exc:
            err.print(f"the site was not updated (it serves the last good days): {exc}", markup=False)
        except OSError as exc:  # a file removed meanwhile, say: serve what is there
            err.print(f"the site was not updated: {exc.filename}: {exc.strerror}", markup=False)

    return refresh


def _rebuild_while_serving(server: SiteServer, rebuild: Callable[[], object]) -> None:
    """Rebuild, then remake the site (requests meanwhile serve it as it was)."""
    server.building.set()
    try:
        rebuild()
    finally:
        server.building.clear()
    server.refresh_now()


def serve_site(server: SiteServer, project: Project, url: str, make_site: Callable[[], Site], err: Console,
               rebuild: Callable[[], object] | None = None) -> None:
    """Make the site (`make_site`), say where it is, and serve it until interrupted (KeyboardInterrupt, raised);
    with `rebuild`, watch the routines and sounds and rebuild on every saved edit meanwhile."""
    from cuecoach.site.serve import terminal_qr

    refresh = site_refresher(project, url, err, watch=rebuild is not None)  # what the site is made from, first
    site = make_site()
    server.refresh = partial(refresh, site.folder)
    print(f"Open on your phone:  {url}", flush=True)
    print(f"Podcast feed:        {site.feed_url}", flush=True)
    print(terminal_qr(url), flush=True)
    err.print(f"{site_summary(site)}; serving {shown(site.folder)}; Ctrl-C stops", markup=False)
    if rebuild is None:
        server.serve_forever()
        return
    serving = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    serving.start()
    try:
        watch_builds(project, partial(_rebuild_while_serving, server, rebuild), err)
    finally:
        server.shutdown()  # the serving thread ends its loop; the caller closes the socket
