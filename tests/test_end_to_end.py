"""End to end, with the real speech engine and real ffmpeg: build a short routine, decode the MP3, listen."""

from __future__ import annotations

import json
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import ROOT, repo_sounds, run_cli
from listen import RATE, decode, find_onsets, level_db, lines_heard, loudness_lufs, quiet_before_lead_ins, read_wav

TOLERANCE_S = 0.020


@pytest.fixture(scope="module")
def heard(built_short: Path) -> dict:
    mp3 = built_short / "output" / "short.mp3"
    timeline = json.loads((built_short / "output" / "short.json").read_text())
    signal = decode(mp3)
    sounds = {name: read_wav(built_short / "sounds" / f"{name}.wav") for name in ("start", "stop", "finish")}
    return {
        "mp3": mp3, "timeline": timeline, "signal": signal,
        "onsets": {name: find_onsets(signal, template) for name, template in sounds.items()},
        "lengths": {name: len(template) / RATE for name, template in sounds.items()},
    }


def test_mp3_is_mono_44k_constant_bitrate_with_tags(heard: dict) -> None:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json",
                            str(heard["mp3"])], capture_output=True, text=True, check=True)
    info = json.loads(probe.stdout)
    stream = info["streams"][0]
    assert (stream["codec_name"], stream["channels"], stream["sample_rate"]) == ("mp3", 1, "44100")
    assert stream["bit_rate"] == "64000"
    tags = info["format"]["tags"]
    assert (tags["title"], tags["album"], tags["track"]) == ("Test Day", "Test Series", "1/1")


def test_decoded_length_matches_the_timeline(heard: dict) -> None:
    assert abs(len(heard["signal"]) / RATE - heard["timeline"]["duration_ms"] / 1000) < TOLERANCE_S


def test_tones_are_heard_exactly_where_the_timeline_puts_them(heard: dict) -> None:
    events = heard["timeline"]["events"]
    for name in ("start", "stop", "finish"):
        planned = [e["at_ms"] / 1000 for e in events if e["kind"] == "sound" and e["text"] == name]
        found = heard["onsets"][name]
        assert len(found) == len(planned), f"{name}: heard {found}, planned {planned}"
        for heard_at, planned_at in zip(found, planned, strict=True):
            assert abs(heard_at - planned_at) < TOLERANCE_S, name


def test_each_block_lasts_its_planned_seconds_from_start_tone_to_stop_tone(heard: dict) -> None:
    blocks = heard["timeline"]["blocks"]
    starts, stops = heard["onsets"]["start"], heard["onsets"]["stop"]
    assert [b["planned_s"] for b in blocks] == [8, 6, 6, 5, 5]
    assert len(starts) == len(stops) == len(blocks)
    for block, start, stop in zip(blocks, starts, stops, strict=True):
        assert abs((stop - start) - block["planned_s"]) < TOLERANCE_S, block
        assert abs(start - block["start_ms"] / 1000) < TOLERANCE_S, block


def test_gaps_are_silent_and_speech_is_heard(heard: dict) -> None:
    signal, events = heard["signal"], heard["timeline"]["events"]
    sounding = []
    for e in events:
        length = heard["lengths"][e["text"]] if e["kind"] == "sound" else e["slot_ms"] / 1000
        sounding.append((e["at_ms"] / 1000, e["at_ms"] / 1000 + length))
    sounding.append((heard["timeline"]["duration_ms"] / 1000, 1e9))
    checked = 0.0
    for (_, end), (begin, _) in pairwise(sounding):
        # MP3 frames smear sound by a few ms: keep 50 ms clear of each edge
        if begin - end > 0.3:
            assert level_db(signal, end + 0.05, begin - 0.05) < -60, (end, begin)
            checked += begin - end
    assert checked > 20  # most of a follow-along track is silence, and all of it was checked
    for e in events:
        if e["kind"] == "speech":
            assert level_db(signal, e["at_ms"] / 1000, e["at_ms"] / 1000 + 0.3) > -45, e["text"]


def test_quiet_time_to_move_before_every_lead_in_is_heard(heard: dict) -> None:
    quiet = quiet_before_lead_ins(heard["signal"], heard["timeline"])
    # march (first side: get_ready 5 s), side reach (first side 5 s, second side switch_time 6 s), squeeze
    assert len(quiet) == 4
    assert [round(q, 1) >= need for (_, q), need in zip(quiet, (5, 5, 6, 5), strict=True)] == [True] * 4, quiet


def test_lines_inside_a_block_are_heard_a_second_and_a_half_apart(heard: dict) -> None:
    lines = lines_heard(heard["signal"], heard["timeline"])
    pairs = [(a, b) for a, b in pairwise(lines) if a["block"] and a["block"] == b["block"]]
    assert pairs  # the cue and the countdown
    assert all(b["start"] - a["end"] >= 1.5 for a, b in pairs), [(a["text"], b["text"], b["start"] - a["end"])
                                                                 for a, b in pairs]


def test_each_side_is_named_out_loud_before_it_starts(heard: dict) -> None:
    lines = lines_heard(heard["signal"], heard["timeline"])
    for block in heard["timeline"]["blocks"]:
        if block["side"]:
            before = [line for line in lines if line["end"] <= block["start_ms"] / 1000
                      and line["role"] not in ("lead-in", "get-ready")]
            assert before[-1]["role"] in ("side-first", "side-next"), before[-1]
            assert ("left arm up" if block["side"] == 1 else "right arm up") in before[-1]["text"]


def test_tones_are_as_loud_as_the_voice(heard: dict) -> None:
    signal, timeline = heard["signal"], heard["timeline"]
    speech = [loudness_lufs(signal, line["start"], line["end"]) for line in lines_heard(signal, timeline)
              if line["role"] not in ("countdown", "lead-in")]
    voice = float(sorted(speech)[len(speech) // 2])
    for name in ("start", "stop"):
        for onset in heard["onsets"][name]:
            tone = loudness_lufs(signal, onset, onset + heard["lengths"][name])
            assert abs(tone - voice) <= 3.0, (name, onset, tone, voice)


def test_start_and_stop_tones_are_told_apart(heard: dict) -> None:
    # each tone is found only where it was planned: the other tone does not match it
    planned = {name: len([e for e in heard["timeline"]["events"] if e["kind"] == "sound" and e["text"] == name])
               for name in ("start", "stop")}
    assert {name: len(heard["onsets"][name]) for name in planned} == planned


def test_the_timeline_lists_every_block_with_its_exercise_side_and_set(heard: dict) -> None:
    blocks = heard["timeline"]["blocks"]
    assert [(b["exercise"], b["side"], b["set"]) for b in blocks] == [
        ("march", None, 1), ("side-reach", 1, 1), ("side-reach", 2, 1), ("squeeze", None, 1), ("squeeze", None, 2)]
    assert all(b["end_ms"] - b["start_ms"] == b["planned_s"] * 1000 for b in blocks)


def test_chapters_mark_each_exercise(heard: dict) -> None:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(heard["mp3"])],
                           capture_output=True, text=True, check=True)
    titles = [c["tags"]["title"] for c in json.loads(probe.stdout)["chapters"]]
    assert titles == ["Introduction", "March in Place", "Side Reach", "Block Squeeze", "Close"]


def test_a_second_build_with_nothing_changed_does_nothing(built_short: Path) -> None:
    mp3 = built_short / "output" / "short.mp3"
    before = mp3.stat().st_mtime_ns
    done = run_cli("build", "short", cwd=built_short)
    assert done.stderr.splitlines() == ["0 built, 1 skipped (current), 0 failed; output in output"]
    assert "1 skipped" in done.stderr
    assert mp3.stat().st_mtime_ns == before


def test_a_forced_rebuild_reuses_every_clip(built_short: Path) -> None:
    done = run_cli("build", "short", "--force", cwd=built_short)
    assert "0 lines synthesized" in done.stderr
    assert not list((built_short / "output").glob(".*.part"))


def test_editing_one_cue_resynthesizes_only_that_line(project: Path) -> None:
    run_cli("build", "short", cwd=project)
    library = project / "routines" / "exercises.yaml"
    library.write_text(library.read_text().replace("Lift your knees.", "Lift your knees high."))
    done = run_cli("build", "short", cwd=project)
    assert "1 lines synthesized" in done.stderr, done.stderr


def test_nothing_is_printed_on_stdout_while_building(project: Path) -> None:
    done = run_cli("build", "short", cwd=project)
    assert done.stdout == ""
    assert "Audio saved" not in done.stderr
    # the 6 s side reach has no room for its cue: left out, and said so at the cue's line
    assert "routines/exercises.yaml:12:10: warning: cue left out of the 6 s block of 'side-reach'" in done.stderr


def test_plan_prints_the_same_times_the_build_writes(built_short: Path) -> None:
    plan = run_cli("plan", "short", cwd=built_short).stdout
    timeline = json.loads((built_short / "output" / "short.json").read_text())
    for event in timeline["events"]:
        minutes, rest = divmod(event["at_ms"], 60_000)
        assert f"{minutes:02d}:{rest // 1000:02d}.{rest % 1000 // 100}" in plan


@pytest.mark.slow
def test_week1_day1_has_the_seeds_fourteen_blocks(tmp_path: Path) -> None:
    """The real day one, built from the repo's routines into a temp folder, measured by ear."""
    sounds = repo_sounds()
    run_cli("build", "week1-day1", "--output", str(tmp_path), "--cache", str(tmp_path / "cache"), cwd=ROOT)
    signal = decode(tmp_path / "week1-day1.mp3")
    starts = find_onsets(signal, read_wav(sounds / "start.wav"))
    stops = find_onsets(signal, read_wav(sounds / "stop.wav"))
    planned = [60, 30, 30, 45, 45, 30, 30, 20, 20, 60, 30, 60, 60, 45]
    assert len(starts) == len(stops) == len(planned)
    measured = [stop - start for start, stop in zip(starts, stops, strict=True)]
    assert all(abs(m - p) < TOLERANCE_S for m, p in zip(measured, planned, strict=True)), measured
    assert all(stop < next_start for stop, next_start in zip(stops, starts[1:], strict=False))


def test_a_lead_in_of_pips_is_heard_one_second_apart_before_each_start(project: Path) -> None:
    program = project / "routines" / "program.yaml"
    program.write_text(program.read_text().replace("rate: 170", "rate: 170\nlead_in: pips"))
    run_cli("build", "short", cwd=project)
    signal = decode(project / "output" / "short.mp3")
    timeline = json.loads((project / "output" / "short.json").read_text())
    pips = find_onsets(signal, read_wav(project / "sounds" / "pip.wav"))
    starts = [b["start_ms"] / 1000 for b in timeline["blocks"]]
    assert len(pips) == 3 * len(starts)
    for start, three in zip(starts, zip(pips[0::3], pips[1::3], pips[2::3], strict=True), strict=True):
        assert all(abs(heard - (start - 3 + i)) < TOLERANCE_S for i, heard in enumerate(three)), (start, three)
    assert len(find_onsets(signal, read_wav(project / "sounds" / "start.wav"))) == len(starts)  # a pip is no start
