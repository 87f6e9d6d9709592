"""Faults: killed builds, corrupt cache entries, concurrent builds, a full disk, failing outside programs."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CUECOACH, run_cli

from cuecoach import system
from cuecoach.builder.run import build
from cuecoach.config.project import Project
from cuecoach.errors import BuildError


def snapshot(output: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(output.iterdir()) if p.is_file()} if output.is_dir() else {}


def assert_complete(project: Path) -> None:
    """Every file in output/ is whole: verify passes, no temp file is left, the JSON parses."""
    output = project / "output"
    assert not list(output.glob(".*.part")), list(output.iterdir())
    json.loads((output / "short.json").read_text())
    done = run_cli("verify", "short", cwd=project, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_build_killed_at_random_moments_then_rerun_ends_complete(project: Path) -> None:
    rng = random.Random(1234)
    run_cli("build", "short", cwd=project)  # so that some kills land while an old version is in place
    old = snapshot(project / "output")
    for attempt in range(6):
        library = project / "routines" / "exercises.yaml"
        library.write_text(library.read_text().replace("Reach long.", f"Reach long {'and ' * (attempt % 2)}up."))
        proc = subprocess.Popen([*CUECOACH, "build", "short"], cwd=project, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = snapshot(project / "output")
        for name in ("short.mp3", "short.json", "short.lrc"):  # each file is the old one or a new whole one
            if name in now and now[name] != old.get(name):
                assert name != "short.json" or json.loads(now[name])["duration_ms"] > 0
        run_cli("build", "short", cwd=project)
        assert_complete(project)
        old = snapshot(project / "output")


def test_a_truncated_cache_entry_is_made_again(project: Path) -> None:
    run_cli("build", "short", cwd=project)
    clips = sorted((project / ".cache" / "cuecoach" / "speech").rglob("*.wav"))
    victim = clips[len(clips) // 2]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    done = run_cli("build", "short", "--force", cwd=project)
    assert "1 lines synthesized" in done.stderr, done.stderr
    assert_complete(project)


def test_a_garbage_cache_entry_is_made_again(project: Path) -> None:
    run_cli("build", "short", cwd=project)
    victim = sorted((project / ".cache" / "cuecoach" / "speech").rglob("*.wav"))[0]
    victim.write_bytes(b"not a wav file at all")
    done = run_cli("build", "short", "--force", cwd=project)
    assert "1 lines synthesized" in done.stderr
    assert_complete(project)


def test_two_builds_at_once_leave_correct_files(project: Path) -> None:
    procs = [subprocess.Popen([*CUECOACH, "build", "short", "--force"], cwd=project, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [proc.communicate() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    assert_complete(project)


def test_a_full_disk_gives_an_error_and_keeps_the_previous_outputs(project: Path, monkeypatch) -> None:
    run_cli("build", "short", cwd=project)
    before = snapshot(project / "output")
    real_replace = os.replace

    def disk_full(src, dst, *args, **kwargs):
        if str(dst).endswith(".mp3"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", disk_full)
    monkeypatch.chdir(project)
    summary = build(Project.at(project), ["short"], force=True, jobs=1)
    (result,) = summary.results
    assert result.status == "failed" and "disk is full" in result.message and summary.exit_code == 1
    assert "(the previous file was kept)" in result.message
    assert snapshot(project / "output") == before


@pytest.fixture(scope="module")
def failing_ffmpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in ffmpeg that fails like a real one. Written once, early: executing a script
    just written can fail with "text file busy" while other threads are forking."""
    fake = tmp_path_factory.mktemp("bin") / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'Unknown encoder libmp3lame' >&2\nexit 1\n")
    fake.chmod(0o755)
    return fake


def test_an_ffmpeg_failure_names_the_step_and_quotes_ffmpeg(project: Path, monkeypatch, failing_ffmpeg) -> None:
    monkeypatch.setattr(system, "ffmpeg", lambda: str(failing_ffmpeg))
    summary = build(Project.at(project), ["short"], jobs=1)
    (result,) = summary.results
    assert result.status == "failed"
    assert "encoding short.mp3: ffmpeg failed (exit 1): Unknown encoder libmp3lame" in result.message
    assert not (project / "output" / "short.mp3").exists()


def test_a_failing_speech_engine_names_the_cue(project: Path, monkeypatch) -> None:
    from cuecoach.synth import pyttsx3_engine

    monkeypatch.setattr(pyttsx3_engine.Engine, "speak_here", lambda self, text: None)  # never any audio
    summary = build(Project.at(project), ["short"], jobs=1)
    (result,) = summary.results
    assert result.status == "failed"
    assert "program.yaml:" in result.message and "the speech engine wrote no audio for" in result.message


def test_the_command_line_reports_a_failed_day_in_one_line_without_a_traceback(project: Path) -> None:
    # abbreviations the engine reads letter by letter: longer than the estimate, so the day's speech fails
    # (a broken sound, the example here before, is now refused by build as check refuses it, exit 2)
    path = project / "routines" / "short.yaml"
    path.write_text(path.read_text().replace("title: Test Day", "title: ACL MCL PCL LCL SI QL TFL ITB"))
    done = run_cli("build", "short", cwd=project, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert any(line.startswith("error: short: ") for line in done.stderr.splitlines()), done.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="pids in temp names are checked with kill(0)")
def test_leftovers_of_a_killed_writer_are_removed_by_the_next_build(project: Path) -> None:
    output = project / "output"
    output.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    leftover = output / f".short.mp3.{dead.pid}-zz.part"
    leftover.write_bytes(b"half an mp3")
    run_cli("build", "short", cwd=project)
    assert not leftover.exists()


def test_a_started_program_is_waited_for_or_stopped(tmp_path: Path) -> None:
    """system.started: finish() reports a failure in one line with what the program said; a program not
    waited for is killed and reaped on leaving."""
    with system.started(["sh", "-c", "echo 'no such encoder' >&2; exit 3"], "encoding x.mp3") as running:
        with pytest.raises(BuildError, match=r"^encoding x.mp3: sh failed \(exit 3\): no such encoder$"):
            running.finish()
    with system.started(["sleep", "60"], "waiting") as running:
        pid = running.proc.pid
    assert running.proc.returncode is not None  # reaped: no zombie left
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_silence_never_asked_for_is_stopped_and_not_cached(tmp_path: Path) -> None:
    """The silent frames are encoded while a build speaks; a build that fails first leaves no cache entry
    and no part file, and one that asks gets them (and caches them)."""
    from cuecoach.audio import encoder

    identity = encoder.encoder_id("64k", tmp_path)
    with encoder.stock_ready(tmp_path, "64k", identity, "encoding x.mp3"):
        pass
    assert not list((tmp_path / "frames").glob("stock-*")) and not list((tmp_path / "frames").glob(".*"))
    with encoder.stock_ready(tmp_path, "64k", identity, "encoding x.mp3") as ready:
        stock = ready()
    assert {len(frame) for frame in stock.silent} == {208, 209}
    assert len(list((tmp_path / "frames").glob("stock-*.mp3"))) == 1 and not list((tmp_path / "frames").glob(".*"))
    with encoder.stock_ready(tmp_path, "64k", identity, "encoding x.mp3") as again:  # from the cache now
        assert again() == stock
