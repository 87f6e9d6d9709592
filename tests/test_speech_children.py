"""pyttsx3 clips made in forked children, many at once, with the real espeak: the same bytes as one at a
time, and a child that dies or hangs is ended and its line spoken again, or its day fails in one line; no
child runs on after its helper is killed or the build interrupted; a process with threads forks nothing."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from pathlib import Path

import pytest

from cuecoach import children
from cuecoach.builder.run import build
from cuecoach.config.project import Project
from cuecoach.config.schema import Program
from cuecoach.errors import BuildError
from cuecoach.synth import clips as synth
from cuecoach.synth import pyttsx3_engine
from cuecoach.synth.clips import SpeechCache, VoiceSettings, make_in_children

SETTINGS = VoiceSettings("en-us", Program.rate)
LINES = ["Lie on your back with your knees bent.", "Three.", "Breathe slowly. Sink a little deeper.",
         "Now your right thigh on the roller.", "Ten times, slowly.", "Switch sides.", "Two.",
         "Press your lower back gently into the mat, then let it go.", "Rest.", "Start.",
         "Hold for 30 seconds.", "Stop if you feel a sharp pain."]

pytestmark = pytest.mark.skipif(not pyttsx3_engine.fresh_process_per_clip() or not children.can_fork(),
                                reason="clips are made in forked children only with espeak, in a process that may fork")


def test_many_clips_in_flight_give_the_bytes_of_one_at_a_time(tmp_path: Path) -> None:
    made: dict[str, bytes] = {}
    failed = make_in_children(LINES[::-1], SETTINGS, SpeechCache(tmp_path), made.__setitem__, at_once=8)
    assert failed == {} and set(made) == set(LINES)
    for text in LINES:  # one at a time, another way: each clip spoken by its own child, levelled here
        assert synth.synthesize(text, SETTINGS) == made[text], text
        assert SpeechCache(tmp_path).get(SETTINGS.key(text)) == made[text], text


@pytest.mark.parametrize("fault", ["dies", "hangs"])
def test_a_child_that_dies_or_hangs_is_ended_and_its_line_spoken_again(tmp_path: Path, monkeypatch, fault: str
                                                                        ) -> None:
    text = LINES[0]
    expected = synth.synthesize(text, SETTINGS)
    real = pyttsx3_engine.Engine.speak_here
    spoke = tmp_path / "spoke"
    spoke.mkdir()

    def faulty(self, text: str) -> bytes | None:
        first = not any(spoke.iterdir())
        (spoke / str(os.getpid())).touch()
        if first and fault == "dies":
            os.kill(os.getpid(), signal.SIGKILL)
        if first:
            time.sleep(600)
        return real(self, text)

    monkeypatch.setattr(pyttsx3_engine.Engine, "speak_here", faulty)
    monkeypatch.setattr(pyttsx3_engine, "CHILD_TIMEOUT_S", 2.0)
    retries = len(pyttsx3_engine.RETRIES)
    made: dict[str, bytes] = {}
    began = time.monotonic()
    failed = make_in_children([text], SETTINGS, SpeechCache(tmp_path), made.__setitem__)
    assert failed == {} and made[text] == expected
    assert len(list(spoke.iterdir())) == 2 and pyttsx3_engine.RETRIES[retries:] == [text]
    assert time.monotonic() - began < 10  # the hung child was ended after its time, not waited for
    for child in spoke.iterdir():  # every child was reaped: no zombie, no orphan left running
        with pytest.raises(ChildProcessError):
            os.waitpid(int(child.name), os.WNOHANG)


def test_a_line_whose_child_always_dies_fails_its_day_in_one_line(project: Path, monkeypatch) -> None:
    def dies(self, text: str) -> bytes | None:
        os.kill(os.getpid(), signal.SIGKILL)
        return None

    monkeypatch.setattr(pyttsx3_engine.Engine, "speak_here", dies)
    summary = build(Project.at(project), ["short"], jobs=1)
    (result,) = summary.results
    assert result.status == "failed" and summary.exit_code == 1
    assert len(result.message.splitlines()) == 1, result.message
    assert "the speech engine's process died" in result.message and "5 times" in result.message
    assert result.message.split(":")[0].endswith(".yaml")  # it names the line in the YAML
    assert not (project / "output" / "short.mp3").exists()


def test_a_helper_that_dies_fails_the_lines_it_had_not_sent(tmp_path: Path, monkeypatch) -> None:
    real = synth._speak_all

    def dies_after_one(texts, settings, at_once, send):  # sends the first clip, then is killed
        def send_once(kind: bytes, number: int, payload: bytes) -> None:
            send(kind, number, payload)
            if kind == b"W":
                os.kill(os.getpid(), signal.SIGKILL)

        real(texts, settings, 1, send_once)

    monkeypatch.setattr(synth, "_speak_all", dies_after_one)
    made: dict[str, bytes] = {}
    failed = make_in_children(LINES[:3], SETTINGS, SpeechCache(tmp_path), made.__setitem__)
    assert len(made) == 1 and set(made) | set(failed) == set(LINES[:3])
    assert all(message == f"the speech process ended before speaking {text!r}" for text, message in failed.items())


def test_a_process_with_threads_forks_nothing_and_has_a_worker_make_its_clips(tmp_path: Path) -> None:
    """A fork with another thread running can leave the child a lock held for ever: it is refused, in one
    line, and ensure_clips has a spawned worker make the clips instead: the same bytes."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    heard: list[str] = []
    try:
        assert not children.can_fork()
        with pytest.raises(BuildError) as refused:
            children.in_children(deque([(None, bytes)]), 1, 10.0)
        assert "may not (it has other threads)" in str(refused.value) and "\n" not in str(refused.value)
        with pytest.raises(BuildError, match="may not"), children.child_stream(lambda send: None):
            pass
        clips = synth.ensure_clips(LINES[:3], SETTINGS, SpeechCache(tmp_path / "worker"), heard.append)
    finally:
        stop.set()
        thread.join()
    made: dict[str, bytes] = {}
    assert make_in_children(LINES[:3], SETTINGS, SpeechCache(tmp_path / "here"), made.__setitem__) == {}
    assert clips == made and sorted(heard) == sorted(LINES[:3])
    assert all(SpeechCache(tmp_path / "worker").get(SETTINGS.key(text)) == made[text] for text in LINES[:3])


def process_state(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) of a process, from /proc; None if there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return fields[0], int(fields[19])


def still_running(pid: int, started: int) -> bool:
    """Whether that process (not a later one given its pid) runs on; a zombie has ended."""
    state = process_state(pid)
    return state is not None and state[1] == started and state[0] not in "ZX"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
@pytest.mark.parametrize("fault", ["the helper is killed", "Ctrl-C"])
def test_a_child_that_hangs_is_ended_when_its_helper_is_killed_or_the_build_interrupted(
        tmp_path: Path, monkeypatch, fault: str) -> None:
    """The helper forks the speaking children, so a helper killed while one hangs cannot end it, and Ctrl-C
    does not reach them (they are in the helper's process group): the build ends the whole group."""
    build = os.getpid()
    hung = tmp_path / "hung"  # appears once the child hangs: its pid, its start time, its parent's pid

    def hangs(self, text: str) -> bytes | None:
        (tmp_path / "hung.part").write_text(f"{os.getpid()} {process_state(os.getpid())[1]} {os.getppid()}")
        os.replace(tmp_path / "hung.part", hung)
        if fault == "Ctrl-C":
            os.kill(build, signal.SIGINT)  # as a terminal's Ctrl-C now reaches only the build
        else:
            os.kill(os.getppid(), signal.SIGKILL)
        while True:
            signal.pause()

    monkeypatch.setattr(pyttsx3_engine.Engine, "speak_here", hangs)
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the build waited for a child that hangs"))
    signal.alarm(30)  # a guard only: the build ends at once
    try:
        if fault == "Ctrl-C":
            with pytest.raises(KeyboardInterrupt):
                make_in_children(LINES[:1], SETTINGS, SpeechCache(tmp_path), lambda *_: None)
        else:
            failed = make_in_children(LINES[:1], SETTINGS, SpeechCache(tmp_path), lambda *_: None)
            assert failed == {LINES[0]: f"the speech process ended before speaking {LINES[0]!r}"}
        signal.alarm(0)
        child, started, helper = (int(n) for n in hung.read_text().split())
        with pytest.raises(ChildProcessError):  # the helper was reaped: no zombie of ours
            os.waitpid(helper, os.WNOHANG)
        deadline = time.monotonic() + 10  # the SIGKILL was sent before make_in_children returned
        while still_running(child, started) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not still_running(child, started), "the hung child runs on"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        if hung.exists():  # never leave it running, whatever failed
            child, started, _ = (int(n) for n in hung.read_text().split())
            if still_running(child, started):
                os.kill(child, signal.SIGKILL)
