"""`--watch`: a saved edit rebuilds exactly the days it changes, a running server serves them, and the open
page in a real headless Chromium plays the new track without a reload; a broken edit is located, and the
last good days stay served. Real engine, real ffmpeg, real file events (watchfiles)."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from conftest import CHROMIUM_FLAGS, CUECOACH, chromium_path, interrupt, run_cli, serving
from playwright.sync_api import Browser, Page
from test_web_player import PHONE

REBUILD_WAIT_S = 120  # a guard: a one-cue rebuild of two days takes about 2 s on an idle machine
CUE, NEW_CUE = "Lift your knees.", "Knees up high."  # march's cue: in week1-day1 and week1-day2, not week2-day1
CUE_AT_S = 25.1  # where week1-day1 says it (its plan)
LISTENING_FROM_S = 20.0  # where the runner is when the coach saves: past the page's resume threshold (5 s)


class Lines:
    """What a running command prints on a stream, read as it comes, waited for with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, pattern: str, after: int = 0, timeout: float = REBUILD_WAIT_S) -> int:
        """The index of the first line from `after` on that matches `pattern` (a regex), once it is printed."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for index in range(after, len(self.lines)):
                    if re.search(pattern, self.lines[index]):
                        return index
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line matching {pattern!r} in {timeout} s:\n" + "\n".join(self.lines))
                self.changed.wait(left)


def tracks(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {mp3.stem: (mp3.stat().st_mtime_ns, mp3.read_bytes()) for mp3 in sorted(folder.glob("*.mp3"))}


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture
def page() -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        opened = context.new_page()
        errors: list[str] = []
        opened.on("pageerror", lambda error: errors.append(str(error)))
        yield opened
        browser.close()
        assert not errors, errors


def test_serve_watch_rebuilds_the_days_an_edit_changes_and_the_page_plays_the_new_track(
        own_series: Path, page: Page) -> None:
    output, library = own_series / "output", own_series / "routines" / "exercises.yaml"
    before = tracks(output)
    with serving(own_series, "--watch") as served:
        assert served.process.stderr is not None
        said = Lines(served.process.stderr)
        said.wait_for(r"^watching routines and sounds")
        page.goto(f"{served.url}#week1-day1")
        page.wait_for_selector("#offline-status.saved", timeout=30_000)  # the service worker holds the old track
        page.evaluate(f"const a = document.getElementById('audio'); a.currentTime = {LISTENING_FROM_S}; a.play()")
        page.wait_for_function(f"document.getElementById('audio').currentTime > {LISTENING_FROM_S + 0.5}")
        old_src = page.evaluate("document.getElementById('audio').src")

        edit(library, CUE, NEW_CUE)
        changed = said.wait_for(r"^changed: routines/exercises\.yaml$")
        said.wait_for(r"^2 built, 1 skipped \(current\), 0 failed", after=changed)
        said.wait_for(r"^the output changed: site updated$", after=changed)
        after = tracks(output)
        assert after["week2-day1"] == before["week2-day1"]  # not touched: same bytes, same mtime
        assert all(after[day][1] != before[day][1] for day in ("week1-day1", "week1-day2"))
        site = json.loads(fetch(f"{served.url}site.json"))
        new_src = f"{served.url}{site['days'][0]['audio']}"
        assert site["watch"] is True and new_src != old_src
        assert fetch(new_src) == after["week1-day1"][1]

        # the page took the new track by itself, resumed where the runner was (a restart could not be past
        # 20 s within the wait), plays on, and shows the new cue when the voice says it
        page.wait_for_function(f"(() => {{ const a = document.getElementById('audio');"
                               f" return a !== null && a.src === {json.dumps(new_src)} && !a.paused"
                               f" && a.currentTime > {LISTENING_FROM_S}; }})()", timeout=15_000)
        page.wait_for_function(f"document.getElementById('now-line').textContent === {json.dumps(NEW_CUE)}",
                               timeout=(CUE_AT_S - LISTENING_FROM_S + 15) * 1000)  # null while it loads

        # a broken edit: located, and the last good days are still served
        written = len(said.lines)  # the page's poll may try the site before the watcher says "changed": either order
        library.write_text(library.read_text() + "broken:\n  name: [unclosed\n")
        broke = said.wait_for(r"^changed: routines/exercises\.yaml$", after=written)
        said.wait_for(r"^routines/exercises\.yaml:\d+:\d+: YAML syntax error: .*; ", after=broke)
        said.wait_for(r"^the site was not updated \(it serves the last good days\): routines/exercises\.yaml:\d+:\d+:",
                      after=written)
        assert tracks(output) == after
        assert fetch(f"{served.url}audio/week1-day1.mp3") == after["week1-day1"][1]
        assert json.loads(fetch(f"{served.url}site.json")) == site
        assert not page.evaluate("document.getElementById('audio').paused")

        interrupt(served.process)  # Ctrl-C
        said.wait_for(r"^stopped$", timeout=5)
        assert served.process.returncode == 0
        assert not any("Traceback" in line for line in said.lines), said.lines


def test_build_watch_rebuilds_only_the_day_an_edit_changes(own_series: Path) -> None:
    output, library = own_series / "output", own_series / "routines" / "exercises.yaml"
    before = tracks(output)
    process = subprocess.Popen([*CUECOACH, "build", "--all", "--watch"], cwd=own_series, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    try:
        said = Lines(process.stderr)
        said.wait_for(r"^0 built, 3 skipped \(current\), 0 failed")
        said.wait_for(r"^watching routines and sounds")
        edit(library, "timing: {sets: 2, work: 5, rest: 9}", "timing: {sets: 2, work: 6, rest: 9}")  # squeeze: day 2
        changed = said.wait_for(r"^changed: routines/exercises\.yaml$")
        said.wait_for(r"^built week1-day2 ", after=changed)
        said.wait_for(r"^1 built, 2 skipped \(current\), 0 failed", after=changed)
        after = tracks(output)
        assert {day for day in after if after[day] != before[day]} == {"week1-day2"}
        timeline = json.loads((output / "week1-day2.json").read_text())
        assert [b["end_ms"] - b["start_ms"] for b in timeline["blocks"]][:2] == [6000, 6000]
        run_cli("verify", "week1-day2", cwd=own_series)  # decoded: its tones where the new timeline says
    finally:
        interrupt(process)
    said.wait_for(r"^stopped$", timeout=5)
    assert process.returncode == 0
