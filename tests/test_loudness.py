"""Levelling, checked by an independent meter: real espeak clips levelled by cuecoach, then measured by
ffmpeg's ebur128 filter (integrated loudness and true peak), as `verify` measures a track."""

from __future__ import annotations

import numpy as np
import pytest

from cuecoach.audio import loudness, sound
from cuecoach.builder.verify import measure_loudness
from cuecoach.config.schema import Program
from cuecoach.synth.clips import VoiceSettings, checked_clip, open_engine

SETTINGS = VoiceSettings("en-us", Program.rate)
LINES = ["Lie on your back with your knees bent.", "Breathe slowly. Sink a little deeper.",
         "Press your lower back gently into the mat, then let it go.", "Stop if you feel a sharp pain."]
METER_LU = 0.1  # ffmpeg prints loudness and peak to a tenth
SPREAD_LU = 0.4  # between short lines: where the 400 ms gating blocks fall on a line moves its reading a little


def ebur128(pcm: bytes, tmp_path) -> tuple[float, float]:
    """ffmpeg's integrated loudness (LUFS) and true peak (dBTP) of a clip in the track's format."""
    wav = tmp_path / "clip.wav"
    wav.write_bytes(sound.wav_bytes(pcm))
    return measure_loudness(wav)


@pytest.fixture(scope="module")
def raw_clips() -> dict[str, bytes]:
    """The lines as espeak speaks them, trimmed and checked but not levelled."""
    clips = {}
    for text in LINES:
        pcm, _ = checked_clip(open_engine(SETTINGS).speak(text), text, SETTINGS)
        assert pcm is not None, text
        clips[text] = pcm
    return clips


def test_every_line_comes_out_at_one_level_whatever_its_input_level_and_under_the_peak_ceiling(raw_clips, tmp_path
                                                                                                   ) -> None:
    """By ffmpeg's meter: every line, levelled as spoken and boosted 12 dB first (the limiter then works hard,
    over several rounds), measures alike, and no true peak passes the ceiling."""
    readings = {}
    for text, pcm in raw_clips.items():
        for boost_db in (0.0, 12.0):
            louder = loudness.to_pcm(loudness.samples(pcm) * 10 ** (boost_db / 20))
            levelled = loudness.prepare_speech(louder, Program.loudness)
            assert len(levelled) == len(pcm)  # a gain, never a cut
            readings[text, boost_db], peak = ebur128(levelled, tmp_path)
            assert peak <= loudness.PEAK_CEILING_DBTP + METER_LU, (text, boost_db, peak)
        assert round(abs(readings[text, 0.0] - readings[text, 12.0]), 1) <= METER_LU, readings
    assert round(max(readings.values()) - min(readings.values()), 1) <= SPREAD_LU, readings
    # ffmpeg reads a short clip alone a little louder than cuecoach's meter, which counts the filter's tail
    # after it, as a track will (the clip-to-track offset is measured over the program: CLIP_ABOVE_TRACK_LU)
    target = loudness.clip_lufs(Program.loudness)
    assert all(0 <= reading - target <= 0.5 for reading in readings.values()), readings


def test_levelling_leaves_the_voice_its_rise_and_fall(raw_clips) -> None:
    """The compressor and limiter are gentle: a levelled line keeps most of its natural crest factor."""
    for text, pcm in raw_clips.items():
        before = loudness.crest_db(loudness.samples(pcm))
        after = loudness.crest_db(loudness.samples(loudness.prepare_speech(pcm, Program.loudness)))
        assert after > before - 6.0 and after > 10.0, (text, before, after)


def test_a_round_measures_what_the_clip_becomes(raw_clips) -> None:
    """The rounds measure g * K(x) * limiter gain instead of filtering the limited clip again: on real speech
    (boosted so that the limiter acts) that is the clip's loudness measured afresh, within 0.01 LU."""
    target = loudness.clip_lufs(Program.loudness)
    for text, pcm in raw_clips.items():
        x = loudness.compress(loudness.samples(pcm) * 4.0)
        levelled = loudness._set_level(x, target)
        assert np.max(np.abs(levelled)) <= 10 ** (loudness.PEAK_CEILING_DBTP / 20)
        assert abs(loudness.loudness(levelled) - target) < loudness.LEVEL_TOLERANCE_LU + 0.01, text
