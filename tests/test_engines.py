"""Speech engines with the real engines: a Piper build heard end to end, a wrong-length clip made again
and never cached, identical cold builds, and a voice that does not exist caught by `check`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_cli
from listen import RATE, decode

from cuecoach import spoken
from cuecoach.audio import sound
from cuecoach.audio.render import GRID_SHIFT_MAX_MS
from cuecoach.config.schema import Program
from cuecoach.errors import BuildError
from cuecoach.synth import clips as synth
from cuecoach.synth import pyttsx3_engine
from cuecoach.synth.clips import SpeechCache, VoiceSettings, ensure_clips

piper = pytest.importorskip("piper", reason="the Piper engine is installed by `make setup`")


def set_program(project: Path, **fields: str) -> None:
    program = project / "routines" / "program.yaml"
    text = program.read_text()
    for key, value in fields.items():
        lines = [line for line in text.splitlines() if not line.startswith(f"{key}:")]
        text = "\n".join(lines) + f"\n{key}: {value}\n"
    program.write_text(text)


@pytest.mark.slow
def test_a_piper_build_is_heard_with_its_tones_silences_and_level(project: Path) -> None:
    run_cli("build", "short", "--engine", "piper", cwd=project)
    verified = run_cli("verify", "short", cwd=project)
    assert verified.stdout.startswith("ok"), verified.stdout  # tones within 20 ms, -19 ± 1 LUFS, <= -1.5 dBTP
    timeline = json.loads((project / "output" / "short.json").read_text())
    assert timeline["engine"] == "piper"
    signal = decode(project / "output" / "short.mp3")
    for event in timeline["events"]:
        piece = signal[int(event["at_ms"] * RATE / 1000): int((event["at_ms"] + event["slot_ms"]) * RATE / 1000)]
        assert abs(piece).max() > 0.05, event  # every line and tone is heard in its slot
    speech = [e for e in timeline["events"] if e["kind"] == "speech"]
    gap_start = speech[0]["at_ms"] + speech[0]["slot_ms"]
    # a line may start a little early
    later = min(e["at_ms"] for e in timeline["events"] if e["at_ms"] >= gap_start) - GRID_SHIFT_MAX_MS
    assert abs(signal[int(gap_start * RATE / 1000) + 10: int(later * RATE / 1000) - 10]).max() < 0.01
    again = run_cli("build", "short", "--engine", "piper", "--force", cwd=project)
    assert "0 lines synthesized" in again.stderr  # a rebuild from the cache


def test_a_clip_of_the_wrong_length_is_made_again_and_not_cached(tmp_path: Path, monkeypatch) -> None:
    settings = VoiceSettings("en-us", Program.rate)
    real = pyttsx3_engine.Engine.speak_here
    spoke = tmp_path / "spoke"
    spoke.mkdir()

    def first_too_fast(self, text: str) -> bytes | None:  # the first attempt comes out twice too fast (a lost rate)
        data = real(self, text)
        first = not any(spoke.iterdir())
        (spoke / str(os.getpid())).touch()  # each attempt's process
        return _wav(sound.decode(data, text).raw_data, 2) if first else data

    monkeypatch.setattr(pyttsx3_engine.Engine, "speak_here", first_too_fast)
    monkeypatch.setattr(synth, "_engines", {})
    text = "Lie on your back with your knees bent and your feet flat on the floor."
    cache = SpeechCache(tmp_path / "cache")
    clips = ensure_clips([text], settings, cache)
    attempts = {int(p.name) for p in spoke.iterdir()}
    assert len(attempts) == 2 and os.getpid() not in attempts  # made again, by a fresh process
    low, high = spoken.expected_range_ms(text, settings.rate, settings.engine)
    assert low <= len(clips[text]) / 2 * 1000 / sound.FRAME_RATE <= high
    assert cache.get(settings.key(text)) == clips[text]  # only the good clip was cached


def test_a_line_whose_clips_keep_coming_out_the_wrong_length_fails_after_its_attempts(tmp_path: Path, monkeypatch
                                                                                      ) -> None:
    settings = VoiceSettings("en-us", Program.rate)
    real = pyttsx3_engine.Engine.speak_here
    spoke = tmp_path / "spoke"
    spoke.mkdir()

    def always_too_fast(self, text: str) -> bytes | None:
        (spoke / str(os.getpid())).touch()
        return _wav(sound.decode(real(self, text), text).raw_data, 2)

    monkeypatch.setattr(pyttsx3_engine.Engine, "speak_here", always_too_fast)
    monkeypatch.setattr(synth, "_engines", {})
    text = "Lie on your back with your knees bent and your feet flat on the floor."
    cache = SpeechCache(tmp_path / "cache")
    with pytest.raises(BuildError, match=f"keeps speaking .* outside the .* at {settings.rate} words a minute"):
        ensure_clips([text], settings, cache)
    assert len(list(spoke.iterdir())) == synth.ATTEMPTS  # each attempt by a fresh process
    assert cache.get(settings.key(text)) is None  # nothing wrong was cached


def _wav(pcm: bytes, step: int) -> bytes:
    """The 44.1 kHz PCM with every `step`th sample kept, labelled 44.1 kHz: the same words, `step` times faster."""
    import numpy as np

    x = np.frombuffer(pcm, dtype="<i2")[::step]
    return sound.wav_bytes(x.tobytes())


@pytest.mark.slow
def test_two_cold_builds_give_identical_mp3s_alone_and_in_a_batch(project: Path, tmp_path: Path) -> None:
    (project / "routines" / "second.yaml").write_text(
        (project / "routines" / "short.yaml").read_text().replace("title:", "title: Second,", 1))
    run_cli("build", "short", cwd=project)
    run_cli("build", "short", "second", "-j", "2", "-o", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"),
            cwd=project)
    assert (project / "output" / "short.mp3").read_bytes() == (tmp_path / "out" / "short.mp3").read_bytes()


def test_check_locates_a_voice_that_does_not_exist(project: Path) -> None:
    set_program(project, voice="nosuchvoice")
    done = run_cli("check", cwd=project, check=False)
    assert done.returncode == 2
    assert "program.yaml:" in done.stderr and "nosuchvoice" in done.stderr and "Traceback" not in done.stderr
    line = next(said for said in done.stderr.splitlines() if "nosuchvoice" in said)
    number = int(line.split(":")[1])
    assert (project / "routines" / "program.yaml").read_text().splitlines()[number - 1].startswith("voice:")


def test_check_locates_an_engine_that_does_not_exist(project: Path) -> None:
    set_program(project, engine="espeak9000")
    done = run_cli("check", cwd=project, check=False)
    assert done.returncode == 2 and "'engine'" in done.stderr and "pyttsx3, piper" in done.stderr


def test_voices_lists_both_engines(project: Path) -> None:
    listed = run_cli("voices", cwd=project).stdout.splitlines()
    assert any(line.startswith("pyttsx3\t") for line in listed)
    assert any(line.startswith("piper\ten_US-joe-medium") for line in listed)


def test_say_writes_one_line_with_either_engine(project: Path, tmp_path: Path) -> None:
    for engine in ("pyttsx3", "piper"):
        out = tmp_path / f"{engine}.wav"
        run_cli("say", "Roll over onto your other side.", "--engine", engine, "-o", str(out), cwd=project)
        signal = decode(out)
        assert 1.0 < len(signal) / RATE < 4.0 and abs(signal).max() > 0.1


@pytest.mark.parametrize("rate", [120, 220])
def test_right_clips_pass_the_length_check_at_the_ends_of_the_rate_range(tmp_path: Path, rate: int) -> None:
    """Real espeak: lines that once fell just outside the accepted range at a brisk or calm pace (the fitted
    model scales less well away from its calibration rate) are accepted and cached, not refused."""
    settings = VoiceSettings("en-us", rate)
    texts = ["Now your right thigh on the roller.", "Breathe slowly. Sink a little deeper.", "Three."]
    clips = ensure_clips(texts, settings, SpeechCache(tmp_path))
    for text in texts:
        low, high = spoken.expected_range_ms(text, rate, "pyttsx3")
        assert low <= len(clips[text]) / 2 * 1000 / sound.FRAME_RATE <= high, text


def test_say_speaks_what_a_build_would_with_either_engine(project: Path, tmp_path: Path) -> None:
    """Numbers are spelled out before the length check, as in a build: "45" is "forty-five"."""
    for engine in ("pyttsx3", "piper"):
        out = tmp_path / f"hold-{engine}.wav"
        done = run_cli("say", "Hold 45 seconds.", "--engine", engine, "-o", str(out), cwd=project, check=False)
        assert done.returncode == 0, done.stderr
        assert 0.8 < len(decode(out)) / RATE < 3.0


def test_say_refuses_empty_text_in_one_line(project: Path) -> None:
    for text in ("", "  ", "!!"):
        done = run_cli("say", text, cwd=project, check=False)
        assert done.returncode == 2 and "no words to speak" in done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
