"""Bad input gives clean errors: one line per problem, `file:line:col: what is wrong; how to fix it`, exit 2.

Each row of the table is a small edit to a copy of the valid test project (tests/data/project),
run through the real command line. Every row checks that stderr holds exactly the expected
lines (and, for `check`, its count line), that nothing went to stdout, and that nothing was
written anywhere: no output folder, no cache, no file outside the project.

Paths: no value in a routine's YAML ever becomes a path (ids name files only after they match
[a-z0-9-]), so the only way in is the command line. There a routine is an id, or a path to a
file directly in the routines folder; any other path (`../evil`, an absolute path elsewhere)
is refused before it is read, so a build reads only the project's folders and writes only
output/<id>.mp3 and .json.
"""

from __future__ import annotations

import io
import math
import shutil
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_cli

Edit = Callable[[Path], None]


# --- edits to the copied project ----------------------------------------------------------


def sub(name: str, old: str, new: str) -> Edit:
    """Replace `old`, which must occur exactly once, in routines/<name>."""
    def edit(project: Path) -> None:
        path = project / "routines" / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {name}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return edit


def write(name: str, content: str | bytes) -> Edit:
    def edit(project: Path) -> None:
        path = project / "routines" / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return edit


def append(name: str, text: str) -> Edit:
    def edit(project: Path) -> None:
        with open(project / "routines" / name, "a", encoding="utf-8") as handle:
            handle.write(text)
    return edit


def rename(old: str, new: str) -> Edit:
    def edit(project: Path) -> None:
        (project / "routines" / old).rename(project / "routines" / new)
    return edit


def remove(name: str) -> Edit:
    def edit(project: Path) -> None:
        (project / "routines" / name).unlink()
    return edit


def sound(name: str, content: bytes) -> Edit:
    """Replace sounds/<name>.wav."""
    def edit(project: Path) -> None:
        (project / "sounds" / f"{name}.wav").write_bytes(content)
    return edit


def tone(seconds: float, rate: int = 44_100) -> bytes:
    """A WAV of a 880 Hz tone lasting `seconds`."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 880 * i / rate)))
                                    for i in range(int(seconds * rate))))
    return out.getvalue()


def image(where: str, size: tuple[int, int], cut: int = 0) -> Edit:
    """A PNG of `size` at `where` (relative to the routines folder), its last `cut` bytes cut off."""
    def edit(project: Path) -> None:
        from PIL import Image

        out = io.BytesIO()
        Image.new("1", size).save(out, "PNG")
        data = out.getvalue()
        (project / "routines" / where).write_bytes(data[:len(data) - cut])
    return edit


def cover(name: str) -> Edit:
    return append("program.yaml", f"cover: {name}\n")


def both(*edits: Edit) -> Edit:
    def edit(project: Path) -> None:
        for one in edits:
            one(project)
    return edit


P, E, S = "routines/program.yaml", "routines/exercises.yaml", "routines/short.yaml"
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdef", "bcdefg", strict=True))
TEXT_BOMB = f"title: &t '{'la ' * 100_000}'\nexercises: [{', '.join(['*t'] * 10)}]\n"
LONG_CUE = "Lift your knees high and keep your back straight and breathe slowly and steadily all the time."
SIDE_REACH = "  - {id: side-reach, sides: [left arm up, right arm up], switch_time: 6}"  # a line of short.yaml
SHORT_EXERCISES = f"exercises:\n  - march\n{SIDE_REACH}\n  - squeeze"  # all of short.yaml's exercises

# Each row: the edit, the command, and the expected stderr lines as (file:line:col, a fragment of the message).
CASES = [
    # -- the file itself ---------------------------------------------------------------
    pytest.param(sub("short.yaml", "title: Test Day", "title: [Test Day"), ["plan", "short"],
                 [(f"{S}:2:5", "YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence "
                               "that starts at line 1); close the bracket")], id="syntax-unclosed-bracket"),
    pytest.param(sub("program.yaml", "  mat: a mat", "\tmat: a mat"), ["plan", "short"],
                 [(f"{P}:8:1", "indent with spaces, not tabs")], id="syntax-tab"),
    pytest.param(sub("short.yaml", "title: Test Day", "title: Test: Day"), ["plan", "short"],
                 [(f"{S}:1:12", "put text that holds ': ' in quotes")], id="syntax-colon-in-text"),
    pytest.param(append("short.yaml", "---\ntitle: Again\n"), ["plan", "short"],
                 [(f"{S}:8:1", "keep one document in the file")], id="syntax-second-document"),
    pytest.param(sub("short.yaml", "- march", "- *march"), ["plan", "short"],
                 [(f"{S}:5:5", "found undefined alias; '*' and '&' mark YAML aliases")], id="syntax-undefined-alias"),
    pytest.param(sub("short.yaml", "- march", "- !!"), ["plan", "short"],
                 [(f"{S}:5:7", "'!' marks a YAML tag: put text that begins with it in quotes")],
                 id="syntax-bare-tag"),
    pytest.param(write("short.yaml", b"title: Caf\xe9 Day\nexercises: [march]\n"), ["plan", "short"],
                 [(f"{S}:1:11", "the file is not UTF-8 text; save it as UTF-8")], id="not-utf8"),
    pytest.param(write("short.yaml", "title: Test\x07Day\nexercises: [march]\n"), ["plan", "short"],
                 [(f"{S}:1:12", "control character (U+0007) that YAML does not allow; delete it")],
                 id="control-character"),
    pytest.param(remove("program.yaml"), ["plan", "short"],
                 [(f"{P}:1:1", "no such file; run cuecoach from your project folder, or pass --routines")],
                 id="missing-program"),
    pytest.param(write("short.yaml", ""), ["plan", "short"],
                 [(f"{S}:1:1", "the file is empty; write a YAML mapping")], id="empty-file"),
    pytest.param(write("short.yaml", "# nothing yet\n"), ["plan", "short"],
                 [(f"{S}:1:1", "the file holds no YAML value")], id="only-comments"),
    pytest.param(append("exercises.yaml", "#" + "x" * 1_000_000 + "\n"), ["plan", "short"],
                 [(f"{E}:1:1", "the file is larger than 1000 kB")], id="too-large"),
    pytest.param(write("short.yaml", LAUGHS), ["plan", "short"],
                 [(f"{S}:5:4", "the document expands to more than 50000 values (anchors and aliases?)")],
                 id="billion-laughs"),
    pytest.param(write("short.yaml", TEXT_BOMB), ["plan", "short"],
                 [(f"{S}:2:12", "the document expands to more than 2 million characters (anchors and aliases?)")],
                 id="aliased-text-bomb"),
    pytest.param(write("short.yaml", "title: T\nexercises: &e [march, *e]\n"), ["plan", "short"],
                 [(f"{S}:2:12", "values nest more than 50 levels deep (a recursive alias?)")],
                 id="recursive-alias"),
    pytest.param(sub("short.yaml", "week: 1", "week: 1\nweek: 2"), ["plan", "short"],
                 [(f"{S}:3:1", "duplicate key 'week' (first given at line 2); keep one of the two")],
                 id="duplicate-key"),
    pytest.param(append("exercises.yaml", "march:\n  name: March Again\n  timing: {work: 8}\n"), ["plan", "short"],
                 [(f"{E}:20:1", "duplicate key 'march' (first given at line 1)")], id="exercise-defined-twice"),
    pytest.param(append("program.yaml", "<<: {rate: 150}\n"), ["plan", "short"],
                 [(f"{P}:31:1", "merge keys (<<) are not supported; write the keys out")], id="merge-key"),
    pytest.param(sub("short.yaml", "week: 1", "week: !!int one"), ["plan", "short"],
                 [(f"{S}:2:7", "cannot read 'one' as the type its tag names; remove the '!!' tag")], id="bad-tag"),
    pytest.param(sub("short.yaml", "week: 1", "week: " + "9" * 5000), ["plan", "short"],
                 [(f"{S}:2:7", "this number has thousands of digits")], id="huge-number"),
    # -- keys and ids ------------------------------------------------------------------
    pytest.param(sub("short.yaml", "title: Test Day", "titel: Test Day"), ["plan", "short"],
                 [(f"{S}:1:1", "the routine is missing 'title'; add it"),
                  (f"{S}:1:1", "unknown key 'titel' in the routine; did you mean 'title'?")], id="unknown-key-routine"),
    pytest.param(sub("exercises.yaml", "  say: march", "  sya: march"), ["plan", "short"],
                 [(f"{E}:3:3", "unknown key 'sya' in exercise 'march'; did you mean 'say'?")],
                 id="unknown-key-exercise"),
    pytest.param(sub("short.yaml", "- march", "- {id: march, wrok: 10}"), ["plan", "short"],
                 [(f"{S}:5:17", "unknown key 'wrok' in exercise 1; did you mean 'work'?")], id="unknown-key-step"),
    pytest.param(sub("program.yaml", "get_ready: 5", "get_redy: 2"), ["plan", "short"],
                 [(f"{P}:11:3", "'gaps' is missing 'get_ready'; add it"),
                  (f"{P}:11:3", "unknown key 'get_redy' in 'gaps'; did you mean 'get_ready'?")], id="unknown-key-gaps"),
    pytest.param(sub("short.yaml", "- march", "- marhc"), ["plan", "short"],
                 [(f"{S}:5:5", "unknown exercise 'marhc'; did you mean 'march'?")], id="unknown-exercise"),
    pytest.param(sub("exercises.yaml", "equipment: [mat]\n  setup", "equipment: [mta]\n  setup"), ["plan", "short"],
                 [(f"{E}:4:15", "unknown equipment 'mta' in exercise 'march'; did you mean 'mat'?")],
                 id="unknown-equipment"),
    pytest.param(sub("exercises.yaml", "side-reach:", "Side-Reach:"), ["check"],
                 [(f"{E}:8:1", "exercise id 'Side-Reach' must be lowercase letters, digits and hyphens; rename it"),
                  (f"{S}:6:10", "unknown exercise 'side-reach'; did you mean 'Side-Reach'?")], id="bad-exercise-id"),
    pytest.param(sub("program.yaml", "  mat: a mat", "  Mat: a mat"), ["check"],
                 [(f"{E}:4:15", "unknown equipment 'mat' in exercise 'march'; known: block"),
                  (f"{E}:11:15", "unknown equipment 'mat' in exercise 'side-reach'; known: block"),
                  (f"{P}:8:3", "equipment id 'Mat' must be lowercase letters, digits and hyphens; rename it")],
                 id="bad-equipment-id"),
    # -- wrong types -------------------------------------------------------------------
    pytest.param(sub("exercises.yaml", "work: 8", "work: eight"), ["plan", "short"],
                 [(f"{E}:7:18", "'work' must be a number of seconds, not text 'eight'; write a number of seconds")],
                 id="text-for-a-number"),
    pytest.param(sub("exercises.yaml", "work: 8", "work: 30s"), ["plan", "short"],
                 [(f"{E}:7:18", "must be a plain number, not text '30s'; leave out the unit")], id="number-with-unit"),
    pytest.param(sub("exercises.yaml", "work: 8", "work: [8]"), ["plan", "short"],
                 [(f"{E}:7:18", "'work' must be a number of seconds, not a list")], id="list-for-a-number"),
    pytest.param(sub("short.yaml", "title: Test Day", "title: [Test, Day]"), ["plan", "short"],
                 [(f"{S}:1:8", "'title' must be text, not a list; write it on one line")], id="list-for-text"),
    pytest.param(sub("exercises.yaml", "name: March in Place", "name: yes"), ["plan", "short"],
                 [(f"{E}:2:9", "'name' must be text, not a yes/no value (yes); put it in quotes")],
                 id="boolean-for-text"),
    pytest.param(sub("exercises.yaml", "timing: {work: 8}", "timing: [8]"), ["plan", "short"],
                 [(f"{E}:7:11", "exercise 'march' 'timing' must be a mapping of keys to values, not a list")],
                 id="list-for-a-mapping"),
    pytest.param(sub("program.yaml", "equipment:\n  mat: a mat\n  block: a block", "equipment: [mat, block]"),
                 ["plan", "short"], [(f"{P}:7:12", "'equipment' must be a mapping of keys to values, not a list")],
                 id="list-for-equipment"),
    pytest.param(write("short.yaml", "just some text\n"), ["plan", "short"],
                 [(f"{S}:1:1", "a routine must be a mapping of keys to values, not text 'just some text'")],
                 id="text-for-a-routine"),
    pytest.param(sub("exercises.yaml", "cues: [Lift your knees.]", "cues: 5"), ["plan", "short"],
                 [(f"{E}:6:9", "'cues' must be a list of lines, not a number (5)")], id="number-for-lines"),
    pytest.param(sub("short.yaml", "week: 1", "week: one"), ["plan", "short"],
                 [(f"{S}:2:7", "'week' must be a whole number, not text 'one'")], id="text-for-a-whole-number"),
    pytest.param(sub("exercises.yaml", "sets: 2", "sets: 2.5"), ["plan", "short"],
                 [(f"{E}:19:18", "'sets' must be a whole number, not '2.5'")], id="fraction-for-a-whole-number"),
    pytest.param(sub("short.yaml", "- march", "- 42"), ["plan", "short"],
                 [(f"{S}:5:5", "exercise 1 must be an exercise id, or a mapping with 'id', not a number (42)")],
                 id="number-for-a-step"),
    pytest.param(sub("short.yaml", "- march", "- {id: [march]}"), ["plan", "short"],
                 [(f"{S}:5:10", "exercise 1 'id' must be an exercise id, not a list")], id="list-for-an-id"),
    # -- durations ---------------------------------------------------------------------
    pytest.param(sub("exercises.yaml", "work: 8", "work: 0"), ["plan", "short"],
                 [(f"{E}:7:18", "'work' is 0 s; give it a value from 5 to 600 s")], id="duration-zero"),
    pytest.param(sub("exercises.yaml", "work: 8", "work: -5"), ["plan", "short"],
                 [(f"{E}:7:18", "'work' is -5 s; give it a value from 5 to 600 s")], id="duration-negative"),
    pytest.param(sub("exercises.yaml", "work: 8", "work: .nan"), ["plan", "short"],
                 [(f"{E}:7:18", "'work' is '.nan', not a finite number")], id="duration-nan"),
    pytest.param(sub("exercises.yaml", "work: 8", "work: .inf"), ["plan", "short"],
                 [(f"{E}:7:18", "'work' is '.inf', not a finite number")], id="duration-inf"),
    pytest.param(sub("exercises.yaml", "work: 8", "work: true"), ["plan", "short"],
                 [(f"{E}:7:18", "'work' must be a number of seconds, not a yes/no value (true)")], id="duration-bool"),
    pytest.param(sub("exercises.yaml", "work: 8", "work: 86400"), ["plan", "short"],
                 [(f"{E}:7:18", "'work' is 86400 s; give it a value from 5 to 600 s")], id="duration-absurd"),
    pytest.param(sub("exercises.yaml", "work: 8", "work: "), ["plan", "short"],
                 [(f"{E}:7:18", "'work' is empty; write a number of seconds such as 30")], id="duration-empty"),
    pytest.param(sub("exercises.yaml", "work: 8", "work: 8.55"), ["plan", "short"],
                 [(f"{E}:7:18", "'work' is 8.55 s; give it to a tenth of a second at most")], id="duration-too-fine"),
    pytest.param(sub("program.yaml", "get_ready: 5", "get_ready: -1"), ["plan", "short"],
                 [(f"{P}:11:14", "gap 'get_ready' is -1 s; give it a value from 1 to 120 s")], id="gap-negative"),
    pytest.param(sub("short.yaml", "- squeeze", "- {id: squeeze, sets: 20, work: 600}"), ["plan", "short"],
                 [(f"{S}:5:3", "the timed blocks of this day add up to 203 minutes; keep a day under 180")],
                 id="day-absurdly-long"),
    pytest.param(sub("exercises.yaml", "timing: {work: 8}", "timing: {work: 8, per_side: 8}"), ["plan", "short"],
                 [(f"{E}:7:11", "both 'work' and 'per_side' are given")], id="work-and-per-side"),
    # -- nothing to do, nothing to say -------------------------------------------------
    pytest.param(sub("short.yaml", SHORT_EXERCISES, "exercises: []"), ["plan", "short"],
                 [(f"{S}:4:12", "'exercises' is empty; list at least one exercise id")], id="no-exercises"),
    pytest.param(sub("short.yaml", SHORT_EXERCISES, "exercises:"), ["plan", "short"],
                 [(f"{S}:4:11", "'exercises' is empty; list at least one exercise id")], id="exercises-left-blank"),
    pytest.param(sub("exercises.yaml", "cues: [Lift your knees.]", 'cues: ["---"]'), ["plan", "short"],
                 [(f"{E}:6:10", "'cues' is '---', which leaves nothing to say once spoken out; write words")],
                 id="cue-nothing-to-say"),
    pytest.param(sub("short.yaml", "- march", '- {id: march, cues: ["!!"]}'), ["plan", "short"],
                 [(f"{S}:5:24", "exercise 1 'cues' is '!!', which leaves nothing to say")], id="cue-only-punctuation"),
    pytest.param(sub("program.yaml", 'begin: "Begin."', 'begin: ""'), ["plan", "short"],
                 [(f"{P}:20:10", "phrase 'begin' is empty; write the text")], id="phrase-empty"),
    pytest.param(sub("program.yaml", '"Begin."', '"Begin {now}."'), ["plan", "short"],
                 [(f"{P}:20:10", "phrase 'begin' uses unknown placeholder '{now}'; allowed: none")],
                 id="phrase-unknown-placeholder"),
    pytest.param(sub("program.yaml", '"Rest {length}."', '"Rest {length."'), ["plan", "short"],
                 [(f"{P}:27:9", "phrase 'rest' has a stray brace")], id="phrase-stray-brace"),
    pytest.param(sub("program.yaml", '["Three.", "Two.", "One."]', "[Three, Two]"), ["plan", "short"],
                 [(f"{P}:25:14", "phrase 'countdown' has 2 lines; give three")], id="countdown-two-lines"),
    pytest.param(sub("program.yaml", "bitrate: 64k", "bitrate: 65k"), ["plan", "short"],
                 [(f"{P}:6:10", "'bitrate' is '65k'; use a constant MP3 rate such as 64k or 96k")], id="bad-bitrate"),
    pytest.param(sub("exercises.yaml", "timing: {sets: 2, work: 5, rest: 9}", "timing: {sets: 2, work: 5, rest: 7}"),
                 ["plan", "short"], [(f"{E}:19:11", "the rest of 7 s in 'squeeze' is too short for the stop tone, the "
                                                    "rest and next-set calls and the lead-in at 170 words a minute (it "
                                                    "fits at ")], id="rest-too-short-names-the-rate"),
    pytest.param(sub("program.yaml", "rate: 170", "rate: 170\nlead_in: beeps"), ["check"],
                 [(f"{P}:6:10", "'lead_in' is 'beeps'; choose one of: count, pips")], id="unknown-lead-in"),
    pytest.param(sub("short.yaml", "sides: [left arm up, right arm up]", "sides: [left arm up]"), ["check"],
                 [(f"{S}:6:29", "exercise 2 'sides' names 1 side; give two, the first side first")],
                 id="one-side-named"),
    pytest.param(sub("short.yaml", "switch_time: 6", "switch_time: -1"), ["check"],
                 [(f"{S}:6:71", "exercise 2 'switch_time' is -1 s; give it a value from 0 to 60 s")],
                 id="negative-switch-time"),
    pytest.param(sub("short.yaml", "- march", "- {id: march, instruction: short}"), ["check"],
                 [(f"{S}:5:30", "exercise 1 'instruction' is 'short'; choose one of: full")], id="bad-instruction"),
    # -- routine names -----------------------------------------------------------------
    pytest.param(rename("short.yaml", "Week1.yaml"), ["plan", "Week1"],
                 [("routines/Week1.yaml:1:1", "'Week1' is not a valid routine id; name the file with lowercase")],
                 id="routine-id-uppercase"),
    pytest.param(rename("short.yaml", "Week1.yaml"), ["check"],
                 [("routines/Week1.yaml:1:1", "'Week1' is not a valid routine id")], id="routine-file-uppercase"),
    pytest.param(rename("short.yaml", "week 1.yaml"), ["check"],
                 [("routines/week 1.yaml:1:1", "'week 1' is not a valid routine id")], id="routine-file-with-space"),
    pytest.param(None, ["plan", "../evil"],
                 [("../evil:1:1", "this is not a file in the routines folder (routines); put the routine there")],
                 id="routine-path-escapes"),
    pytest.param(None, ["plan", "routines/../../short.yaml"],
                 [("routines/../../short.yaml:1:1", "this is not a file in the routines folder")],
                 id="routine-path-dot-dot"),
    pytest.param(None, ["plan", "{outside}"],
                 [("{outside}:1:1", "this is not a file in the routines folder")], id="routine-path-absolute"),
    pytest.param(None, ["plan", "routines/short.yml"],
                 [("routines/short.yml:1:1", "routine files end in .yaml; rename it to short.yaml")],
                 id="routine-yml"),
    pytest.param(rename("short.yaml", "extra.yml"), ["check"],
                 [("routines:1:1", "no routines here"),
                  ("routines/extra.yml:1:1", "routine files end in .yaml; rename it to extra.yaml")],
                 id="yml-file-reported-by-check"),
    pytest.param(both(rename("short.yaml", "week1-day2.yaml"), sub("week1-day2.yaml", "day: 1", "day: 3")), ["check"],
                 [("routines/week1-day2.yaml:1:1",
                   "this file is week 1, day 2 by its name, but it says week 1, day 3")],
                 id="series-day-name-and-fields-disagree"),
    pytest.param(None, ["plan", "program"],
                 [(P + ":1:1", "program.yaml holds settings, not a day")], id="routine-is-settings"),
    pytest.param(None, ["plan", "nope"],
                 [("routines:1:1", "no routine 'nope' in routines; it holds short")], id="routine-unknown"),
    pytest.param(None, ["plan", "shrt"],
                 [("routines:1:1", "no routine 'shrt' in routines; did you mean 'short'? (it holds short)")],
                 id="routine-unknown-near"),
    pytest.param(None, ["plan", "side-reach"],
                 [(E + ":8:1", "'side-reach' is an exercise, not a routine; hear it with: cuecoach preview "
                               "side-reach")], id="routine-is-an-exercise"),
    # -- check is the build's judge: what build would refuse, check reports at its line -----
    pytest.param(sub("exercises.yaml", "cues: [Reach long.]", 'cues: ["Reach\\0long."]'), ["check"],
                 [(f"{E}:12:10", "exercise 'side-reach' 'cues' holds a control character (U+0000); remove it")],
                 id="nul-in-a-cue"),
    pytest.param(sub("short.yaml", "title: Test Day", 'title: "Test \\e[31mDay"'), ["build", "short"],
                 [(f"{S}:1:8", "holds a control character (U+001B); remove it")], id="ansi-escape-in-a-title"),
    pytest.param(sub("short.yaml", "  - march", "  - {id: march, sides: [a, b]}"), ["build", "short"],
                 [(f"{S}:5:17", "'sides' has no effect on exercise 1 ('march'), timed as plain work")],
                 id="sides-on-plain-work-in-a-day"),
    pytest.param(sub("exercises.yaml", "  say: march", "  say: march\n  side2_cues: [Other leg.]"), ["check"],
                 [(f"{E}:4:3", "'side2_cues' has no effect on exercise 'march', timed as plain work")],
                 id="side2-cues-on-plain-work-in-the-library"),
    pytest.param(sub("short.yaml", SIDE_REACH, "  - {id: side-reach, sets: 20, per_side: 200, rest: 120, "
                                               "switch_time: 60, setup_time: 60}"), ["check"],
                 [(f"{S}:1:1", "short lasts 196 minutes with its rests, quiet times (setup_time, switch_time) "
                               "and talk; keep a day under 180 minutes")], id="a-day-too-long-all-told"),
    pytest.param(write("week1-day8.yaml", "title: Extra\nexercises: [march]\n"), ["check"],
                 [("routines/week1-day8.yaml:1:1", "this file is day 8 by its name, but a series has days 1 to 7")],
                 id="series-day-8-by-name"),
    pytest.param(write("week53-day1.yaml", "title: Extra\nexercises: [march]\n"), ["build", "week53-day1"],
                 [("routines/week53-day1.yaml:1:1", "this file is week 53 by its name, but a series has weeks 1 "
                                                    "to 52")], id="series-week-53-by-name"),
    pytest.param(sub("program.yaml", "voice: en-us", "voice: no-such-voice"), ["build", "short"],
                 [(f"{P}:4:8", "no pyttsx3 voice matches 'no-such-voice'; run `cuecoach voices`")],
                 id="unknown-voice-build"),
    pytest.param(sub("program.yaml", "voice: en-us", "engine: piper\nvoice: coach.onnx"), ["build", "short"],
                 [(f"{P}:5:8", "'voice' names coach.onnx, which is not a file; give the path of a Piper .onnx")],
                 id="missing-piper-model-build"),
    pytest.param(both(write("cover.png", "not an image\n"), cover("cover.png")), ["check"],
                 [(f"{P}:31:8", "'cover' names cover.png, which is not an image; give a .jpg or .png")],
                 id="cover-not-an-image"),
    pytest.param(both(write("cover.png", "not an image\n"), cover("cover.png")), ["build", "short"],
                 [(f"{P}:31:8", "'cover' names cover.png, which is not an image")], id="cover-not-an-image-build"),
    pytest.param(both(image("cover.png", (20_000, 20_000)), cover("cover.png")), ["check"],
                 [(f"{P}:31:8", "'cover' names cover.png, which is far larger than podcast apps take; give a .jpg "
                                "or .png image of 1400 x 1400 to 3000 x 3000")], id="cover-decompression-bomb"),
    pytest.param(both(image("cover.png", (3001, 3001)), cover("cover.png")), ["check"],
                 [(f"{P}:31:8", "which is 3001 x 3001 pixels, larger than podcast apps take")], id="cover-too-large"),
    pytest.param(both(image("cover.png", (1400, 1400), cut=40), cover("cover.png")), ["build", "short"],
                 [(f"{P}:31:8", "'cover' names cover.png, which is a damaged image")], id="cover-cut-short"),
    pytest.param(both(image("../outside.png", (1400, 1400)), cover("../outside.png")), ["build", "short"],
                 [(f"{P}:31:8", "'cover' names ../outside.png, outside the routines folder; put the image in the "
                                "routines folder")], id="cover-outside-the-routines-folder"),
    pytest.param(sound("start", b"RIFF not audio at all\n"), ["check"],
                 [("sounds/start.wav:1:1", "the start sound is not audio that ffmpeg reads; run `python "
                                           "sounds/make_sounds.py`")], id="sound-not-audio"),
    pytest.param(sound("stop", b""), ["build", "short"],
                 [("sounds/stop.wav:1:1", "the stop sound is empty")], id="sound-empty-build"),
    pytest.param(sound("finish", tone(0)), ["check"],
                 [("sounds/finish.wav:1:1", "the finish sound holds no audio")], id="sound-without-samples"),
    pytest.param(sound("start", tone(5)), ["check"],
                 [("sounds/start.wav:1:1", "the start sound lasts 5.00 s, longer than the 1 s it is given; "
                                           "shorten it to 1 s or less")], id="sound-too-long"),
    pytest.param(sound("start", tone(1.2)), ["build", "short"],
                 [("sounds/start.wav:1:1", "the start sound lasts 1.20 s, longer than the 1 s it is given")],
                 id="sound-too-long-build"),
    pytest.param(both(sub("program.yaml", "rate: 170", "rate: 170\nlead_in: pips"), sound("pip", b"junk")),
                 ["check"], [("sounds/pip.wav:1:1", "the pip sound is not audio")], id="pip-not-audio"),
    # -- check lists every problem in every file ---------------------------------------
    pytest.param(both(sub("short.yaml", "- march", "- marhc"), sub("exercises.yaml", "work: 5", "work: 0"),
                      sub("program.yaml", "rate: 170", "rate: fast")), ["check"],
                 [(f"{E}:19:27", "'work' is 0 s; give it a value from 5 to 600 s"),
                  (f"{P}:5:7", "'rate' must be a whole number, not text 'fast'; write a whole number such as 160"),
                  (f"{S}:5:5", "unknown exercise 'marhc'; did you mean 'march'?")], id="check-three-files"),
    pytest.param(sub("exercises.yaml", "timing: {work: 8}", "timing: {work: 8"), ["check"],
                 [(f"{E}:8:11", "YAML syntax error: did not find expected ',' or '}'")],
                 id="check-broken-library-no-echo"),
]


def snapshot(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


@pytest.mark.parametrize("edit, args, expected", CASES)
def test_bad_input_gives_one_clean_line_per_problem(project: Path, edit: Edit | None, args: list[str],
                                                    expected: list[tuple[str, str]]) -> None:
    outside = project.parent / "outside.yaml"
    shutil.copy(project / "routines" / "short.yaml", outside)
    if edit is not None:
        edit(project)
    args = [arg.replace("{outside}", str(outside)) for arg in args]
    before = snapshot(project.parent)

    done = run_cli(*args, cwd=project, check=False)

    lines = [line for line in done.stderr.splitlines() if ": warning: " not in line]  # the errors are the point
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.stdout == ""
    if args[0] == "check":
        assert lines[-1] == f"{len(expected)} problem{'s' * (len(expected) != 1)} found"
        lines = lines[:-1]
    # build's summary when the day failed; none when the series' own voice, cover or sounds refused it first
    if args[0] == "build" and lines[-1].startswith("0 built"):
        assert lines[-1].startswith("0 built, 0 skipped (current), 1 failed"), done.stderr
        lines = lines[:-1]
    assert len(lines) == len(expected), done.stderr
    for line, (where, fragment) in zip(lines, expected, strict=True):
        assert line.startswith(where.replace("{outside}", str(outside)) + ": "), (line, where)
        assert fragment in line, (line, fragment)
        assert "; " in line, f"no hint how to fix it: {line}"
    assert snapshot(project.parent) == before  # nothing written: no output/, no cache, nothing outside
    assert not (project / "output").exists()


def test_check_lists_problems_in_two_files_at_their_lines(project: Path) -> None:
    sub("short.yaml", SIDE_REACH, f"{SIDE_REACH}\n  - {{id: squeeze, rest: 0}}")(project)
    sub("exercises.yaml", "  say: side reach", "  say: side reach\n  cues: [Reach long.]")(project)

    done = run_cli("check", cwd=project, check=False)

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{E}:13:3: duplicate key 'cues' (first given at line 11); keep one of the two",
        f"{S}:7:25: exercise 3 ('squeeze') 'rest' is 0 s; give it a value from 1 to 600 s",
        "2 problems found",
    ]
    assert done.stdout == ""


def test_a_path_into_the_routines_folder_is_a_routine(project: Path) -> None:
    for ref in ("routines/short.yaml", "short.yaml", str(project / "routines" / "short.yaml"),
                "routines/../routines/short.yaml"):
        done = run_cli("plan", ref, cwd=project)
        assert done.stdout.startswith("short: Test Day"), ref


def test_build_of_a_path_outside_the_routines_folder_is_refused_and_writes_nothing(project: Path) -> None:
    outside = project.parent / "evil.yaml"
    shutil.copy(project / "routines" / "short.yaml", outside)
    before = snapshot(project.parent)

    done = run_cli("build", "../evil.yaml", cwd=project, check=False)

    assert done.returncode == 2
    assert "../evil.yaml:1:1: this is not a file in the routines folder" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(project.parent) == before


def test_check_warns_of_a_small_cover_at_its_line_and_passes(project: Path) -> None:
    both(image("cover.png", (1, 1)), cover("cover.png"))(project)

    done = run_cli("check", cwd=project, check=False)

    assert done.returncode == 0, done.stderr
    assert f"{P}:31:8: warning: the cover is 1 x 1; podcast apps want a square image of at least 1400 x 1400" \
        in done.stderr.splitlines()


def test_a_title_the_engine_says_longer_than_its_slot_is_named_at_the_title(project: Path) -> None:
    # read letter by letter, these take longer than the length estimate gives them: the build fails, at the title
    sub("short.yaml", "title: Test Day", "title: ACL MCL PCL LCL SI QL TFL ITB")(project)

    done = run_cli("build", "short", cwd=project, check=False)

    assert done.returncode == 1, done.stderr
    assert f"{S}:1:8: the speech engine keeps speaking 'Test Series. ACL MCL PCL LCL SI QL TFL ITB.'" in done.stderr
    assert f"(said in phrase 'welcome', {P}:16:12)" in done.stderr
    assert not (project / "output" / "short.mp3").exists()
