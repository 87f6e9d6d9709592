"""Issue 17's "done when", measured on decoded MP3s by scripts/measure_coach.py: real days of the shipped
program built with the real engine and ffmpeg, then the longest stretch without speech in a long hold, the
sets that repeat the set before, and the sentence said most often in a day, as a listener hears them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_cli

from cuecoach.script.types import QUIET_MAX_MS

SCRIPT = ROOT / "scripts" / "measure_coach.py"
DAYS = ("week1-day1", "week3-day1", "week6-day5")  # the seed's day, long holds in sets, the 04:19 silence


def measure_coach():
    spec = importlib.util.spec_from_file_location("measure_coach", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_longest_quiet_is_found_between_lines_and_to_the_stop_tone() -> None:
    """On a made-up track: heard from 1.0 to 2.0 s and 20.0 to 21.0 s in a block of 0 to 40 s."""
    tool = measure_coach()
    loud = np.zeros(int(40 / tool.WINDOW_S), dtype=bool)
    loud[100:200] = loud[2000:2100] = True
    timeline = {"blocks": [{"number": 1, "exercise": "x", "planned_s": 40, "start_ms": 0, "end_ms": 40_000}],
                "events": [{"kind": "speech", "block": 1, "at_ms": at, "slot_ms": 3000, "text": "a", "role": "cue"}
                           for at in (500, 19_500)]}
    longest, block, exercise = tool.longest_quiet(loud, timeline, set())
    assert (round(longest), block, exercise) == (19_000, 1, "x")  # 21.0 s to the stop tone at 40 s
    assert tool.longest_quiet(loud, timeline, {"x"})[0] == 0  # a quiet exercise is not measured


@pytest.mark.slow
def test_built_days_keep_long_holds_company_and_vary_their_words(tmp_path: Path) -> None:
    run_cli("build", *DAYS, "--output", str(tmp_path), "--cache", str(tmp_path / "cache"), cwd=ROOT)
    done = subprocess.run([sys.executable, str(SCRIPT), str(ROOT), str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == list(DAYS)
    tool = measure_coach()
    quiet = tool.quiet_exercises(tool.Project.at(ROOT))
    for day in DAYS:
        found = tool.measure(tool.Project.at(ROOT, output=tmp_path), day, quiet[day])
        assert found["longest_quiet_ms"] <= QUIET_MAX_MS and found["repeats"] == [] and found["times"] <= 4, found
