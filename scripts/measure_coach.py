"""Measure issue 17's "done when" on built tracks, as a listener hears them: for each day, the longest
stretch without speech inside a work block of COMPANY_MIN_S or more that is not quiet (from the start tone's
onset to the first line heard, between lines, and from the last line to the stop tone or the first spoken
count word), whether a set repeats the form cues of the set before it, and the sentence said most often
(the count words, "get ready" and the lead-in aside).

    .venv/bin/python scripts/measure_coach.py [project-folder] [output-folder]

The quiet is measured on the decoded MP3 (ffmpeg): a line is heard from its first to its last 10 ms window
above -50 dBFS inside its slot of the timeline. Prints one line a day and the worst of all days; exits 1 if
a day breaks a limit. tests/test_coach_heard.py runs it on built days.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from cuecoach.config.load import Days, load_series_or_raise
from cuecoach.config.project import Project, routine_ids
from cuecoach.script.types import COMPANY_MIN_S, QUIET_MAX_MS

RATE = 44_100
WINDOW_S = 0.010  # a 10 ms window is heard or not
AUDIBLE_DB = -50.0  # the silence between lines is digital zero; speech is far above this
FIXED = ("lead-in", "countdown", "get-ready")  # the same every time by design
MAX_SAID_IN_A_DAY = 4
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def audible(mp3: Path) -> np.ndarray:
    """For each 10 ms window of the decoded track: whether anything is heard in it."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1", "-ar", str(RATE),
                          "-"], capture_output=True, check=True).stdout
    signal = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    width = int(WINDOW_S * RATE)
    n = len(signal) // width
    power = (signal[: n * width].reshape(n, width) ** 2).mean(axis=1)
    with np.errstate(divide="ignore"):
        return np.asarray(10 * np.log10(power) > AUDIBLE_DB)


def heard(loud: np.ndarray, event: dict) -> tuple[float, float]:
    """From the first to the last moment (ms) a spoken line is heard inside its slot."""
    first = int(event["at_ms"] / 1000 / WINDOW_S)
    hits = np.flatnonzero(loud[first: int((event["at_ms"] + event["slot_ms"]) / 1000 / WINDOW_S)])
    if hits.size == 0:
        raise AssertionError(f"nothing heard for {event['text']!r} at {event['at_ms']} ms")
    return (first + hits[0]) * WINDOW_S * 1000, (first + hits[-1] + 1) * WINDOW_S * 1000


def longest_quiet(loud: np.ndarray, timeline: dict, quiet: set[str]) -> tuple[float, int, str]:
    """The longest stretch without speech (ms) in a block that is kept company, its block and exercise."""
    worst = (0.0, 0, "")
    for block in timeline["blocks"]:
        if block["planned_s"] < COMPANY_MIN_S or block["exercise"] in quiet:
            continue
        spans = sorted(heard(loud, e) for e in timeline["events"]
                       if e["kind"] == "speech" and e["block"] == block["number"])
        edges = [float(block["start_ms"])] + [x for span in spans for x in span] + [float(block["end_ms"])]
        longest = max(b - a for a, b in zip(edges[::2], edges[1::2], strict=True))
        worst = max(worst, (longest, block["number"], block["exercise"]))
    return worst


def set_repeats(timeline: dict) -> list[tuple[int, str]]:
    """The form cues a set says that the set before it (same exercise and side) said: (block, cue)."""
    said: dict[tuple, set[str]] = {}
    repeats = []
    for block in timeline["blocks"]:
        cues = {e["text"] for e in timeline["events"] if e["block"] == block["number"]
                and e["role"] in ("cue", "company")}
        key = (block["exercise"], block["side"])
        if block["set"] > 1:
            repeats += [(block["number"], cue) for cue in sorted(cues & said.get((*key, block["set"] - 1), set()))]
        said[(*key, block["set"])] = cues
    return repeats


def most_said(timeline: dict) -> tuple[str, int]:
    """The sentence, but the fixed ones, said most often in a day, and how many times."""
    said = Counter(sentence for e in timeline["events"] if e["kind"] == "speech" and e["role"] not in FIXED
                   for sentence in SENTENCE_END.split(e["text"]))
    return said.most_common(1)[0]


def quiet_exercises(project: Project) -> dict[str, set[str]]:
    """For each day: the exercises it keeps quiet (the exercise's, the entry's or the day's `quiet: true`)."""
    series = load_series_or_raise(project)
    days = Days(project, series)
    quiet = {}
    for routine_id in routine_ids(project):
        routine = days.day(routine_id)
        quiet[routine_id] = {s.exercise.id for s in routine.steps if s.exercise.quiet or routine.quiet}
    return quiet


def measure(project: Project, routine_id: str, quiet: set[str]) -> dict:
    timeline = json.loads((project.output / f"{routine_id}.json").read_text())
    longest, block, exercise = longest_quiet(audible(project.output / f"{routine_id}.mp3"), timeline, quiet)
    sentence, times = most_said(timeline)
    return {"day": routine_id, "longest_quiet_ms": longest, "block": block, "exercise": exercise,
            "repeats": set_repeats(timeline), "most_said": sentence, "times": times}


def breaks(found: dict) -> bool:
    return found["longest_quiet_ms"] > QUIET_MAX_MS or bool(found["repeats"]) or found["times"] > MAX_SAID_IN_A_DAY


def main(argv: list[str]) -> int:
    base = Path(argv[0]) if argv else Path(".")
    project = Project.at(base, output=Path(argv[1]) if len(argv) > 1 else None)
    quiet = quiet_exercises(project)
    found = [measure(project, day, quiet[day]) for day in quiet if (project.output / f"{day}.mp3").exists()]
    for f in found:
        print(f"{f['day']}: longest quiet {f['longest_quiet_ms'] / 1000:.2f} s (block {f['block']}, "
              f"{f['exercise']}); set repeats {len(f['repeats'])}; most said {f['times']}x {f['most_said']!r}")
    if not found:
        print(f"no built days in {project.output}", file=sys.stderr)
        return 1
    worst = max(found, key=lambda f: f["longest_quiet_ms"])
    print(f"{len(found)} days: longest quiet {worst['longest_quiet_ms'] / 1000:.2f} s ({worst['day']}), "
          f"set repeats {sum(len(f['repeats']) for f in found)}, most said {max(f['times'] for f in found)}x")
    return 1 if any(breaks(f) for f in found) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
