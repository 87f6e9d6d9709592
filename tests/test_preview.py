"""`cuecoach preview`: one exercise as a day would give it, its plan printed and its audio written, with the real
engine; decoded, the tones fall where the plan puts them."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT, repo_sounds, run_cli
from listen import find_onsets, read_wav

from cuecoach.builder.preview import preview_script
from cuecoach.config.project import Project
from cuecoach.script.timeline import format_plan

TOLERANCE_S = 0.020


def _preview(tmp_path: Path, *args: str):
    return run_cli("preview", *args, "--routines", str(ROOT / "routines"), "--sounds", str(repo_sounds()),
                   "--cache", str(tmp_path / "cache"), cwd=tmp_path, check=False)


def _tones_match(wav: Path, script) -> None:
    signal = read_wav(wav)
    starts = find_onsets(signal, read_wav(repo_sounds() / "start.wav"))
    stops = find_onsets(signal, read_wav(repo_sounds() / "stop.wav"))
    assert len(starts) == len(stops) == len(script.blocks), (starts, stops)
    for block, start, stop in zip(script.blocks, starts, stops, strict=True):
        assert abs(start - block.start_ms / 1000) <= TOLERANCE_S, (block, start)
        assert abs(stop - block.end_ms / 1000) <= TOLERANCE_S, (block, stop)


def test_preview_prints_the_plan_and_writes_audio_whose_tones_follow_it(tmp_path: Path) -> None:
    done = _preview(tmp_path, "cat-cow", "-o", "cat-cow.wav")
    assert done.returncode == 0, done.stderr
    script, _ = preview_script(Project.at(ROOT), "cat-cow")
    assert done.stdout == format_plan(script)
    assert "Cat-Cow" in done.stdout and "[start tone] Cat-Cow: 60 s" in done.stdout
    assert "Welcome" not in done.stdout  # the exercise alone: no opening
    _tones_match(tmp_path / "cat-cow.wav", script)


def test_preview_takes_a_days_changes(tmp_path: Path) -> None:
    done = _preview(tmp_path, "cat-cow", "--with", "per_side: 20, sets: 2, rest: 20", "-o", "changed.wav")
    assert done.returncode == 0, done.stderr
    script, _ = preview_script(Project.at(ROOT), "cat-cow", "per_side: 20, sets: 2, rest: 20")
    assert [(b.side, b.set, b.seconds) for b in script.blocks] == [(1, 1, 20), (2, 1, 20), (1, 2, 20), (2, 2, 20)]
    assert done.stdout == format_plan(script)
    _tones_match(tmp_path / "changed.wav", script)


def test_an_unknown_exercise_or_change_is_located(tmp_path: Path) -> None:
    unknown = _preview(tmp_path, "catcow")
    assert unknown.returncode == 2 and unknown.stdout == ""
    library = ROOT / "routines" / "exercises.yaml"
    assert unknown.stderr == f"{library}:1:1: no exercise 'catcow' in the library; did you mean 'cat-cow'?\n"
    typo = _preview(tmp_path, "cat-cow", "--with", "sets: 2, wrk: 20")
    assert typo.returncode == 2
    assert typo.stderr == "--with:1:10: unknown key 'wrk' in exercise 1; did you mean 'work'?\n"
    assert not list(tmp_path.glob("*.wav"))
