"""Shared fixtures. End-to-end fixtures build real MP3s with the real speech engine and ffmpeg."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CUECOACH = [sys.executable, "-m", "cuecoach"]

if not all((ROOT / "sounds" / f"{name}.wav").exists() for name in ("start", "stop", "finish")):
    # `make` makes the default sounds; a bare `pytest` in a fresh clone makes them here
    subprocess.run([sys.executable, str(ROOT / "sounds" / "make_sounds.py")], check=True, capture_output=True)


def run_cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `cuecoach` command as a user would, capturing stdout and stderr."""
    done = subprocess.run([*CUECOACH, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    if check and done.returncode != 0:
        raise AssertionError(f"cuecoach {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the small test project (short routine, repo sounds) to build in."""
    shutil.copytree(DATA / "project", tmp_path / "project")
    shutil.copytree(ROOT / "sounds", tmp_path / "project" / "sounds", ignore=shutil.ignore_patterns("*.py"))
    return tmp_path / "project"


@pytest.fixture(scope="session")
def built_short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The short test routine, built once for the session: returns its project folder."""
    folder = tmp_path_factory.mktemp("built") / "project"
    shutil.copytree(DATA / "project", folder)
    shutil.copytree(ROOT / "sounds", folder / "sounds", ignore=shutil.ignore_patterns("*.py"))
    run_cli("build", "short", cwd=folder)
    return folder


@pytest.fixture(scope="session", autouse=True)
def _release_speech_engine():
    """Drop an engine that an in-process test started while the interpreter is whole: pyttsx3's
    finalizer fails (harmlessly, but noisily) if it only runs at interpreter shutdown."""
    yield
    import gc

    from cuecoach import synth

    synth._engine = None
    gc.collect()
