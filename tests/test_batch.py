"""Building many days: in parallel, skipping current ones, and one failing day does not stop the rest."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

from cuecoach.builder.run import build
from cuecoach.config.project import Project


def add_days(project: Path) -> None:
    """Two days of the series (week1-day1, week1-day2), beside 'short' (outside the series) and a broken day."""
    routines = project / "routines"
    short = (routines / "short.yaml").read_text()
    (routines / "week1-day1.yaml").write_text(short)
    (routines / "week1-day2.yaml").write_text(short.replace("title: Test Day", "title: Second Day")
                                              .replace("day: 1", "day: 2"))
    (routines / "broken.yaml").write_text("title: Broken\nexercises:\n  - {id: squeeze, rest: 1}\n")


def tracks(project: Path) -> dict[str, str | None]:
    from mutagen.id3 import ID3

    found = {}
    for mp3 in sorted((project / "output").glob("*.mp3")):
        frame = ID3(mp3).get("TRCK")
        found[mp3.stem] = str(frame.text[0]) if frame else None
    return found


def test_build_all_builds_in_parallel_and_one_bad_day_does_not_stop_the_others(project: Path) -> None:
    add_days(project)
    done = run_cli("build", "--all", "--jobs", "2", cwd=project, check=False)
    assert done.returncode == 2, done.stderr
    assert "routines/broken.yaml:3:" in done.stderr and "too short" in done.stderr
    assert "3 built, 0 skipped (current), 1 failed" in done.stderr
    assert tracks(project) == {"short": None, "week1-day1": "1/2", "week1-day2": "2/2"}
    playlist = (project / "output" / "week1.m3u8").read_text().splitlines()
    assert [line for line in playlist if line.endswith(".mp3")] == ["week1-day1.mp3", "week1-day2.mp3"]
    program = (project / "output" / "program.m3u8").read_text()
    assert "short.mp3" not in program

    again = run_cli("build", "--all", cwd=project, check=False)
    assert "0 built, 3 skipped (current), 1 failed" in again.stderr


def test_a_routine_outside_the_series_neither_takes_a_track_nor_makes_the_series_stale(project: Path) -> None:
    add_days(project)
    (project / "routines" / "broken.yaml").unlink()
    run_cli("build", "week1-day1", "week1-day2", cwd=project)
    extra = (project / "routines" / "week1-day1.yaml").read_text().replace("week: 1", "week: 7")
    (project / "routines" / "runner-extra.yaml").write_text(extra)
    (project / "routines" / "scratch.yaml").write_text("title: [unfinished\n")
    done = run_cli("build", "--all", "--verbose", cwd=project, check=False)
    assert "skipped week1-day1 (current)" in done.stderr and "skipped week1-day2 (current)" in done.stderr
    assert "built runner-extra" in done.stderr and "routines/scratch.yaml:2:1: YAML syntax error" in done.stderr
    assert tracks(project)["runner-extra"] is None and tracks(project)["week1-day1"] == "1/2"


def test_a_yml_file_is_reported_by_build_all_not_skipped(project: Path) -> None:
    (project / "routines" / "notes.yml").write_text("title: Notes\n")
    done = run_cli("build", "--all", cwd=project, check=False)
    assert done.returncode == 2
    assert "routines/notes.yml:1:1: routine files end in .yaml; rename it to notes.yaml" in done.stderr


def test_several_ids_at_once_and_force(project: Path) -> None:
    add_days(project)
    run_cli("build", "short", "week1-day2", cwd=project)
    forced = run_cli("build", "short", "week1-day2", "--force", "-j", "2", cwd=project)
    assert "2 built, 0 skipped" in forced.stderr
    assert "0 lines synthesized" in forced.stderr


def test_a_missing_speech_engine_says_how_to_install_it(project: Path, monkeypatch) -> None:
    import pyttsx3

    from cuecoach.synth import clips as synth

    def no_library(*args, **kwargs):
        raise OSError("libespeak-ng.so.1: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(pyttsx3, "init", no_library)
    monkeypatch.setattr(synth, "_engines", {})
    summary = build(Project.at(project), ["short"], jobs=1)
    (result,) = summary.results
    assert result.status == "failed" and len(result.message.splitlines()) == 1
    assert "no speech engine" in result.message and "apt-get install espeak-ng" in result.message
