"""pyttsx3 clips made in forked children, many at once, with the real espeak: the same bytes as one at a
time, and a child that dies or hangs is ended and its line spoken again, or its day fails in one line."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from cuecoach import synth, system
from cuecoach.build import build
from cuecoach.load import Project
from cuecoach.schema import Program
from cuecoach.synth import SpeechCache, VoiceSettings, make_in_children, pyttsx3_engine

SETTINGS = VoiceSettings("en-us", Program.rate)
LINES = ["Lie on your back with your knees bent.", "Three.", "Breathe slowly. Sink a little deeper.",
         "Now your right thigh on the roller.", "Ten times, slowly.", "Switch sides.", "Two.",
         "Press your lower back gently into the mat, then let it go.", "Rest.", "Start.",
         "Hold for 30 seconds.", "Stop if you feel a sharp pain."]

pytestmark = pytest.mark.skipif(not pyttsx3_engine.fresh_process_per_clip() or not system.can_fork(),
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
