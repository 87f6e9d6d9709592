"""A cold build reports each day as it is made, with its own time, on the default frames path too (it encodes
and joins the days in waves, in order: see builder/frames.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CUECOACH, ROOT, repo_sounds

BUILT = re.compile(r"^built (\S+) \(.* ([0-9.]+) s\)$")


@pytest.mark.slow
def test_a_cold_build_reports_days_as_they_finish_each_with_its_own_time(tmp_path: Path) -> None:
    """The first day's line is read while the last day is not made yet (its MP3 is not there), and the days'
    own times, which follow one another, add up to no more than the whole build took."""
    routines = tmp_path / "routines"
    routines.mkdir()
    for path in [*ROOT.glob("routines/week1-day*.yaml"), ROOT / "routines/program.yaml",
                 ROOT / "routines/exercises.yaml"]:
        shutil.copy(path, routines)
    shutil.copytree(repo_sounds(), tmp_path / "sounds", ignore=shutil.ignore_patterns("*.py"))
    began = time.perf_counter()
    process = subprocess.Popen([*CUECOACH, "build", "--all", "--jobs", "2"], cwd=tmp_path, text=True,
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert process.stderr is not None  # piped above
    seen: list[tuple[str, float, bool]] = []  # day, its own time, whether the last day existed when read
    for line in process.stderr:
        if found := BUILT.match(line.strip()):
            seen.append((found.group(1), float(found.group(2)), (tmp_path / "output/week1-day7.mp3").exists()))
    assert process.wait() == 0
    took = time.perf_counter() - began
    assert [day for day, _, _ in seen] == [f"week1-day{n}" for n in range(1, 8)]
    assert not seen[0][2], "the first day was reported only once the last one was made"
    times = [own for _, own, _ in seen]
    assert len(set(times)) > 1, times
    assert sum(times) <= took + 0.05 * len(times), (times, took)  # each rounded to 0.1 s
