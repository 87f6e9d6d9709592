"""Rendering places each tone at its exact sample and each line on the frame grid; fake clips are enough."""

from __future__ import annotations

import array

import pytest

from cuecoach.audio.mp3 import DELAY, SAMPLES_PER_FRAME
from cuecoach.audio.render import render, start_of
from cuecoach.errors import InputError
from cuecoach.script.types import Event, Script


def script_of(*events: Event, duration_ms: int = 3000) -> Script:
    return Script("r", "T", "S", 1, 1, (), tuple(events), (), (), duration_ms)


def pcm(value: int, frames: int) -> bytes:
    return array.array("h", [value] * frames).tobytes()


def test_tones_land_on_their_exact_sample_and_speech_on_the_frame_grid_just_before_its_time() -> None:
    script = script_of(Event(1000, 100, "speech", "hi", "cue"), Event(2000, 500, "sound", "stop", "stop"))
    track = array.array("h", render(script, {"hi": pcm(7, 441)}, {"stop": pcm(-5, 100)}))
    assert len(track) == 132_300
    said = [i for i, v in enumerate(track) if v == 7]
    start = said[0]
    assert said == list(range(start, start + 441))
    assert 44_100 - SAMPLES_PER_FRAME < start <= 44_100 and (start + DELAY) % SAMPLES_PER_FRAME == 0
    assert [i for i, v in enumerate(track) if v == -5] == list(range(88_200, 88_300))
    assert set(track[:start]) == {0} and set(track[start + 441:88_200]) == {0} and set(track[88_300:]) == {0}


@pytest.mark.parametrize("at_ms", [0, 10, 500, 1230, 26_120, 333_330, 1_000_000])
def test_a_line_moves_back_less_than_one_frame_onto_the_grid(at_ms: int) -> None:
    start = start_of(Event(at_ms, 100, "speech", "hi", "cue"))
    exact = at_ms * 441 // 10
    assert exact - SAMPLES_PER_FRAME < start <= exact
    assert start == 0 or (start + DELAY) % SAMPLES_PER_FRAME == 0
    assert start_of(Event(at_ms, 100, "sound", "start", "start")) == exact


def test_a_clip_longer_than_its_slot_is_an_error_not_a_longer_slot() -> None:
    script = script_of(Event(0, 100, "speech", "too long", "cue"))
    with pytest.raises(InputError, match="'too long' lasts 0.20 s but r gives it 0.10 s"):
        render(script, {"too long": pcm(1, 8820)}, {})
