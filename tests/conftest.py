"""Shared fixtures. End-to-end fixtures build real MP3s with the real speech engine and ffmpeg."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CUECOACH = [sys.executable, "-m", "cuecoach"]
STOP_TIMEOUT_S = 60  # a guard: Ctrl-C to exit took 0.1 s idle, up to 3.8 s at a load of 12 to 15 on 2 CPUs

# A suite run as a background job of a script (`make test &`) inherits SIGINT ignored, and so does every
# `cuecoach serve` it starts, which then never hears the tests' Ctrl-C (their wait timed out). Ctrl-C is
# pressed in a terminal, where SIGINT is not ignored: run as there (exec resets a handled signal).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@functools.cache
def repo_sounds() -> Path:
    """The repo's sounds folder, its default sounds made (or old defaults brought up to date) once a session,
    when a test first needs them: `make` makes them, but a bare `pytest` on a fresh clone must work too, and
    making them costs about 0.5 s that a test without sounds should not pay."""
    subprocess.run([sys.executable, str(ROOT / "sounds" / "make_sounds.py")], check=True, capture_output=True)
    return ROOT / "sounds"


def run_cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `cuecoach` command as a user would, capturing stdout and stderr."""
    done = subprocess.run([*CUECOACH, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    if check and done.returncode != 0:
        raise AssertionError(f"cuecoach {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def copy_project(name: str, folder: Path) -> Path:
    """A copy of the test project `name` (tests/data/NAME) in `folder`, with the repo's sounds."""
    shutil.copytree(DATA / name, folder)
    shutil.copytree(repo_sounds(), folder / "sounds", ignore=shutil.ignore_patterns("*.py"))
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the small test project (short routine, repo sounds) to build in."""
    return copy_project("project", tmp_path / "project")


@pytest.fixture(scope="session")
def built_short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The short test routine, built once for the session: returns its project folder."""
    folder = copy_project("project", tmp_path_factory.mktemp("built") / "project")
    run_cli("build", "short", cwd=folder)
    return folder


@pytest.fixture(scope="session", autouse=True)
def _release_speech_engine():
    """Drop an engine that an in-process test started while the interpreter is whole: pyttsx3's
    finalizer fails (harmlessly, but noisily) if it only runs at interpreter shutdown."""
    yield
    import gc

    from cuecoach.synth import clips as synth

    synth._engines.clear()
    gc.collect()


@pytest.fixture(scope="session")
def built_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A series of three short days in two weeks, built once with the real engine: its project folder."""
    folder = copy_project("series", tmp_path_factory.mktemp("series") / "project")
    run_cli("build", "--all", cwd=folder)
    return folder


class Served:
    """A running `cuecoach serve`: its URL, its process, and what it printed."""

    def __init__(self, process: subprocess.Popen[str], url: str, feed: str, printed: list[str]) -> None:
        self.process, self.url, self.feed, self.printed = process, url, feed, printed

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as a user would; returns the exit code and what went to stderr."""
        interrupt(self.process)
        return self.process.returncode, self.process.stderr.read() if self.process.stderr else ""


def interrupt(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, unless the process has ended, and wait for its end; one that does not end is killed, and
    TimeoutExpired raised."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@contextmanager
def serving(cwd: Path, *args: str) -> Iterator[Served]:
    """Start `cuecoach serve` on 127.0.0.1 and a free port; stop it with Ctrl-C afterwards."""
    process = subprocess.Popen([*CUECOACH, "serve", "--host", "127.0.0.1", "--port", "0", *args], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "COLUMNS": "200"})
    assert process.stdout is not None and process.stderr is not None  # both piped
    printed: list[str] = []
    try:
        while len(printed) < 2:
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"cuecoach serve stopped early:\n{''.join(printed)}{process.stderr.read()}")
            if line.strip():
                printed.append(line.rstrip("\n"))
        url, feed = (line.split()[-1] for line in printed[:2])
        yield Served(process, url, feed, printed)
    finally:
        try:
            interrupt(process)
        except subprocess.TimeoutExpired:
            pass  # killed: a test that needs a clean stop asks for it (Served.stop)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


@pytest.fixture
def own_series(built_series: Path, tmp_path: Path) -> Path:
    """A copy of the built series, for a test that starts a server of its own: a server writes its own
    address into the site it serves (output/site), so two servers on one folder would rewrite each other's
    feed (the session's server then served another port's links to the tests that ran after)."""
    return Path(shutil.copytree(built_series, tmp_path / "series", ignore=shutil.ignore_patterns(".cache", "site")))


@pytest.fixture(scope="session")
def served_series(built_series: Path) -> Iterator[Served]:
    with serving(built_series) as served:
        yield served


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str:
    """The system's Chromium (playwright cannot download a browser here)."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is not installed: `make test` installs it (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Chromium for a module's pages (each test opens its own context)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()
