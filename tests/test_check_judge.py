"""`check` is the build's judge: odd but valid text (a web address, an email address, units, abbreviations,
markup) either passes `check` and then builds and verifies, or is refused by `check` at its own line."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

ODD_CUES = ["Visit www.lowbackreset.com/help for more.", "Write to coach@lowbackreset.com.",
            "Run 5 km, then lift 10 kg for 30 s.", "Rest 1-2 min, e.g. walk."]


def test_odd_but_valid_texts_pass_check_then_build_and_verify(project: Path) -> None:
    library = project / "routines" / "exercises.yaml"
    cues = ", ".join(f'"{cue}"' for cue in ODD_CUES)
    library.write_text(library.read_text().replace("cues: [Reach long.]", f"cues: [{cues}]")
                       .replace("timing: {per_side: 6}", "timing: {per_side: 60}"))  # long enough for the cues
    day = project / "routines" / "short.yaml"
    day.write_text(day.read_text().replace("title: Test Day", "title: <b>Test</b> Day"))

    checked = run_cli("check", cwd=project, check=False)
    if checked.returncode != 0:  # refused: then at the edited lines, before any build
        assert checked.returncode == 2, checked.stderr
        assert all(line.startswith(("routines/exercises.yaml:12:", "routines/short.yaml:1:"))
                   for line in checked.stderr.splitlines()[:-1]), checked.stderr
        return
    built = run_cli("build", "short", cwd=project, check=False)
    assert built.returncode == 0, built.stderr
    assert run_cli("verify", "short", cwd=project, check=False).returncode == 0
    lyrics = (project / "output" / "short.lrc").read_text()
    assert "lowbackreset dot com slash help" in lyrics.lower(), lyrics
    assert "five kilometers" in lyrics and "coach at lowbackreset dot com" in lyrics, lyrics
