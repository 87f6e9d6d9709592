"""Rendering places each clip at its exact frame; fake clips are enough (no engine, no files)."""

from __future__ import annotations

import array

import pytest

from cuecoach.compile import Event, Script
from cuecoach.errors import InputError
from cuecoach.render import render


def script_of(*events: Event, duration_ms: int = 2000) -> Script:
    return Script("r", "T", "S", 1, 1, (), tuple(events), (), (), duration_ms)


def pcm(value: int, frames: int) -> bytes:
    return array.array("h", [value] * frames).tobytes()


def test_clips_land_on_their_exact_frames_and_the_rest_is_silence() -> None:
    script = script_of(Event(10, 100, "speech", "hi", "cue"), Event(1000, 500, "sound", "stop", "stop"))
    track = array.array("h", render(script, {"hi": pcm(7, 441)}, {"stop": pcm(-5, 100)}))
    assert len(track) == 88_200
    assert set(track[:441]) == {0} and set(track[441:882]) == {7} and track[882] == 0
    assert set(track[44_100:44_200]) == {-5} and set(track[44_200:]) == {0}


def test_a_clip_longer_than_its_slot_is_an_error_not_a_longer_slot() -> None:
    script = script_of(Event(0, 100, "speech", "too long", "cue"))
    with pytest.raises(InputError, match="'too long' lasts 0.20 s but r gives it 0.10 s"):
        render(script, {"too long": pcm(1, 8820)}, {})
