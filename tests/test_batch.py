"""Building many days: in parallel, skipping current ones, and one failing day does not stop the rest."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from cuecoach.build import build
from cuecoach.load import Project


def add_days(project: Path) -> None:
    routines = project / "routines"
    short = (routines / "short.yaml").read_text()
    (routines / "second.yaml").write_text(short.replace("title: Test Day", "title: Second Day")
                                          .replace("day: 1", "day: 2"))
    (routines / "broken.yaml").write_text("title: Broken\nexercises:\n  - {id: march, cues: [" + "Lift " * 40 + "]}\n")


def test_build_all_builds_in_parallel_and_one_bad_day_does_not_stop_the_others(project: Path) -> None:
    add_days(project)
    done = run_cli("build", "--all", "--jobs", "2", cwd=project, check=False)
    assert done.returncode == 2, done.stderr
    assert "routines/broken.yaml:3:" in done.stderr and "does not fit" in done.stderr
    assert "2 built, 0 skipped (current), 1 failed" in done.stderr
    assert sorted(p.name for p in (project / "output").glob("*.mp3")) == ["second.mp3", "short.mp3"]
    playlist = (project / "output" / "week1.m3u8").read_text().splitlines()
    assert [line for line in playlist if line.endswith(".mp3")] == ["second.mp3", "short.mp3"]

    again = run_cli("build", "--all", cwd=project, check=False)
    assert "0 built, 2 skipped (current), 1 failed" in again.stderr


def test_several_ids_at_once_and_force(project: Path) -> None:
    add_days(project)
    run_cli("build", "short", "second", cwd=project)
    forced = run_cli("build", "short", "second", "--force", "-j", "2", cwd=project)
    assert "2 built, 0 skipped" in forced.stderr
    assert "0 lines synthesized" in forced.stderr


def test_a_missing_speech_engine_says_how_to_install_it(project: Path, monkeypatch) -> None:
    import pyttsx3

    from cuecoach import synth

    def no_library(*args, **kwargs):
        raise OSError("libespeak-ng.so.1: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(pyttsx3, "init", no_library)
    monkeypatch.setattr(synth, "_engines", {})
    summary = build(Project.at(project), ["short"], jobs=1)
    (result,) = summary.results
    assert result.status == "failed" and len(result.message.splitlines()) == 1
    assert "no speech engine" in result.message and "apt-get install espeak-ng" in result.message
