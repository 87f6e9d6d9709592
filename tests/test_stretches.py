"""A day with music joined from encoded stretches: no join is heard, and an edit re-encodes only what it touches.

The mixed track of the test day is rendered by cuecoach itself (the real engine's clips, the default bed),
cut into stretches, encoded by the real ffmpeg, joined and decoded; it is held against the rendered PCM and
against a whole-track encode of the same PCM.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import copy_project, run_cli
from listen import decode

from cuecoach.audio import loudness, measures, mixdown, mp3, music, stretches
from cuecoach.audio.assemble import write_track
from cuecoach.audio.encoder import encode_args, encoder_id, stock_ready
from cuecoach.audio.framecache import FrameCache
from cuecoach.builder.job import leveled_clips, prepare, read_sounds
from cuecoach.builder.mixing import Mixer
from cuecoach.config.load import Days, load_series_or_raise
from cuecoach.config.project import Project

EVERY_FRAMES = 97  # forced cuts for the test: many joins, under speech and tones as well as in the bed
SNR_WITHIN_DB = 1.0
CLICK_TOLERANCE = 2e-3  # of full scale, over the rendered PCM's own largest step near a join (coding noise)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The test day with the default bed: its mix planned as a build plans it, and rendered whole."""
    folder = copy_project("project", tmp_path_factory.mktemp("stretches") / "project")
    run_cli("build", "short", "--music", "default", cwd=folder)  # the clips, in the project's cache
    project = Project.at(folder)
    days = Days(project, load_series_or_raise(project))
    job = prepare(days, "short", read_sounds(project, days.series.program), music_override="default")
    mixer = Mixer()
    mix = mixer.day(job, leveled_clips(job), mixer.tones(job))
    return {"folder": folder, "mix": mix, "pcm": mix.render(0, mix.n), "spans": mix.spans(), "cache": job.cache,
            "job": job, "mixer": mixer}


def _joined(rendered: dict, starts: list[int], target: Path) -> np.ndarray:
    """The track joined from stretches starting at `starts`, each rendered from its recipe alone, written as an
    MP3 and decoded."""
    mix, cache = rendered["mix"], rendered["cache"]
    key = encoder_id("64k", cache)
    track = stretches.stretches(starts, mp3.frame_count(mix.n), lambda a, b: mix.recipe(a, b).key(), key, "64k")
    frames, crcs, encoded = stretches.frames_of(track, mix.render, FrameCache(target.parent / "cache"), "64k", "test")
    assert encoded == len(set(starts))
    with stock_ready(cache, "64k", key, "test") as stock:
        write_track(target, b"", frames, crcs, mix.n, stock())
    return decode(target)


def _whole(rendered: dict, target: Path) -> np.ndarray:
    # to a file: ffmpeg fills in the Info frame (the delay and padding a decoder drops) only there
    subprocess.run([*encode_args("64k", xing=True)[:-1], "-y", str(target)], input=rendered["pcm"],
                   capture_output=True, check=True)
    return decode(target)


def _snr(heard: np.ndarray, pcm: np.ndarray) -> float:
    return 10 * np.log10(np.sum(pcm ** 2) / np.sum((heard - pcm) ** 2))


def _largest_steps(signal: np.ndarray, joins: list[int], reach: int) -> np.ndarray:
    return np.array([np.abs(np.diff(signal[max(0, j - reach):j + reach])).max() for j in joins])


def test_stretches_join_without_a_click_and_code_as_a_whole_encode(rendered: dict, tmp_path: Path) -> None:
    pcm = np.frombuffer(rendered["pcm"], dtype="<i2") / 32768.0
    count = mp3.frame_count(len(pcm))
    starts = list(range(0, count, EVERY_FRAMES))
    joined = _joined(rendered, starts, tmp_path / "joined.mp3")
    whole = _whole(rendered, tmp_path / "whole.mp3")
    assert len(joined) == len(whole) == len(pcm)
    joins = [first * mp3.SAMPLES_PER_FRAME - mp3.DELAY for first in starts[1:]]
    # a join adds no step that neither the rendered PCM nor a whole encode of it has there (loud speech under the
    # limiter carries coding noise of its own)
    own = np.maximum(_largest_steps(pcm, joins, mp3.SAMPLES_PER_FRAME),
                     _largest_steps(whole, joins, mp3.SAMPLES_PER_FRAME))
    heard = _largest_steps(joined, joins, mp3.SAMPLES_PER_FRAME)
    assert np.all(heard <= own + CLICK_TOLERANCE), [(j, h, o) for j, h, o in zip(joins, heard, own, strict=True)
                                                    if h > o + CLICK_TOLERANCE]
    assert _snr(joined, pcm) >= _snr(whole, pcm) - SNR_WITHIN_DB, (_snr(joined, pcm), _snr(whole, pcm))


def test_without_the_roll_around_each_stretch_the_joins_are_heard(rendered: dict, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: stretches encoded from their own audio alone are heard at their joins."""
    monkeypatch.setattr(stretches, "PRE_ROLL_FRAMES", 0)
    monkeypatch.setattr(stretches, "POST_ROLL_FRAMES", 0)
    pcm = np.frombuffer(rendered["pcm"], dtype="<i2") / 32768.0
    starts = list(range(0, mp3.frame_count(len(pcm)), EVERY_FRAMES))
    joined = _joined(rendered, starts, tmp_path / "joined.mp3")
    joins = [first * mp3.SAMPLES_PER_FRAME - mp3.DELAY for first in starts[1:]]
    own = _largest_steps(pcm, joins, mp3.SAMPLES_PER_FRAME)
    heard = _largest_steps(joined, joins, mp3.SAMPLES_PER_FRAME)
    whole = _whole(rendered, tmp_path / "whole.mp3")
    assert np.any(heard > own + CLICK_TOLERANCE) or _snr(joined, pcm) < _snr(whole, pcm) - SNR_WITHIN_DB


def test_an_edit_to_one_line_changes_only_the_stretches_around_it(rendered: dict) -> None:
    """A line made longer: the cuts stay where they were, and only the stretch whose audio holds it has a new key
    (the keys come from what each stretch is made of: nothing is rendered to know them)."""
    job, mixer, mix = rendered["job"], rendered["mixer"], rendered["mix"]
    samples, measure, loop_key = mixer.loop(job.music, job.routines, job.cache)
    pcm_of = dict(mix.pcm_of)
    placed = [(at, key, pcm_of[key], mixer.measure(key, pcm_of[key], job.cache)) for at, key in mix.placed]
    n = mix.n + 120 * mp3.SAMPLE_RATE  # the test day with quiet after it: long enough for cuts
    middle = len(placed) // 2
    at, _, pcm, _ = placed[middle]
    longer = pcm + bytes(mp3.SAMPLE_RATE)  # half a second more: a pause at its end (the day's loudness stays put)
    edited = [*placed[:middle], (at, "edited", longer, measures.measure(longer)), *placed[middle + 1:]]
    levels = (loudness.clip_lufs(-19), job.music.level, job.music.duck, -19.0)
    before = mixdown.plan(placed, n, samples, loop_key, measure, *levels)
    after = mixdown.plan(edited, n, samples, loop_key, measure, *levels)
    lead, release = int(music.LEAD_S * mp3.SAMPLE_RATE), int(music.RELEASE_S * mp3.SAMPLE_RATE)
    starts = stretches.cuts(before.spans(), n, lead, release)
    assert len(starts) > 1
    assert stretches.cuts(after.spans(), n, lead, release) == starts
    count = mp3.frame_count(n)
    keys = [stretches.stretches(starts, count, lambda a, b, m=m: m.recipe(a, b).key(), "encoder", "64k")
            for m in (before, after)]
    changed = [s for s, t in zip(*keys, strict=True) if s.key != t.key]
    assert len(changed) == 1
    frame_of = (at + mp3.DELAY) // mp3.SAMPLES_PER_FRAME
    assert changed[0].first <= frame_of < changed[0].end


def test_a_window_renders_as_that_part_of_the_whole_track(rendered: dict) -> None:
    """The same samples wherever a window falls: what lets a recipe's key stand for its audio."""
    mix, whole = rendered["mix"], np.frombuffer(rendered["pcm"], dtype="<i2")
    rng = np.random.default_rng(11)
    for _ in range(12):
        begin = int(rng.integers(-5000, mix.n))
        stop = begin + int(rng.integers(1, 200_000))
        window = np.frombuffer(mix.render(begin, stop), dtype="<i2")
        inside = slice(max(0, begin) - begin, min(stop, mix.n) - begin)
        assert np.array_equal(window[inside], whole[max(0, begin):min(stop, mix.n)])
        assert not window[:inside.start].any() and not window[inside.stop:].any()


def test_cuts_fall_in_long_gaps_clear_of_the_beds_ramps() -> None:
    rate, frame = mp3.SAMPLE_RATE, mp3.SAMPLES_PER_FRAME
    lead, release = int(music.LEAD_S * rate), int(music.RELEASE_S * rate)
    # a line every 7 s for 10 minutes, each 2 s long, and a 4-minute stretch with no line at all
    spans = [(t * rate, t * rate + 2 * rate) for t in range(5, 600, 7)] + [(840 * rate, 842 * rate)]
    n = 900 * rate
    starts = stretches.cuts(spans, n, lead, release)
    ends = [*starts[1:], mp3.frame_count(n)]
    assert starts[0] == 0
    assert all(end - first >= stretches.MIN_STRETCH_FRAMES for first, end in zip(starts, ends, strict=True))
    assert all(end - first <= stretches.MAX_STRETCH_FRAMES + stretches.MIN_STRETCH_FRAMES
               for first, end in zip(starts, ends, strict=True))
    for cut in starts[1:]:
        audio = ((cut - stretches.PRE_ROLL_FRAMES) * frame, (cut + stretches.POST_ROLL_FRAMES) * frame)
        near = [(a - lead, b + release) for a, b in spans if a - lead < audio[1] and b + release > audio[0]]
        on_grid = cut % stretches.MAX_STRETCH_FRAMES == 0
        assert on_grid or not near, (cut, near)


def test_days_with_music_built_side_by_side_from_an_empty_cache_verify(tmp_path: Path) -> None:
    """Three days with the bed, built two at a time with nothing cached (the stock of silent frames made while the
    lines are spoken, waited for once), each verified."""
    folder = copy_project("series", tmp_path / "project")
    run_cli("build", "--all", "--jobs", "2", "--music", "default", cwd=folder)
    done = run_cli("verify", "--all", cwd=folder)
    assert "3 ok" in done.stdout + done.stderr, done.stdout + done.stderr

