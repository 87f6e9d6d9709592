"""Phone-ready output, checked on a real build: loudness, lyrics, playlists, and `cuecoach verify`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from conftest import run_cli
from listen import RATE, decode

from cuecoach.config.schema import Program


def ebur128(mp3: Path) -> tuple[float, float]:
    log = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(mp3), "-af", "ebur128=peak=true",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    summary = log[log.rfind("Summary:"):]
    return (float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)),
            float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1)))


def test_loudness_is_podcast_level_with_headroom(built_short: Path) -> None:
    integrated, true_peak = ebur128(built_short / "output" / "short.mp3")
    assert abs(integrated - Program.loudness) <= 1.0, integrated  # program.yaml's default, the mono podcast target
    assert true_peak <= -1.5, true_peak


def test_speech_keeps_its_natural_dynamics(built_short: Path) -> None:
    """Gentle levelling, not a brick wall: the spoken lines' median crest factor on the decoded MP3 is
    at least 13 dB (espeak's raw speech: about 17; the old limited clips: 9.9). Each distinct line counts
    once: every clip is levelled on its own, and in this short routine the thirty one-syllable count words
    (about 12.5 dB, as single syllables are) would otherwise be the median. Over the 42 days' every line
    the median is 14.6 dB (scripts/measure_loudness.py)."""
    import statistics

    from cuecoach.audio.loudness import crest_db

    signal = decode(built_short / "output" / "short.mp3")
    timeline = json.loads((built_short / "output" / "short.json").read_text())
    crests = []
    lines = {e["text"]: e for e in reversed(timeline["events"]) if e["kind"] == "speech"}  # each line's first time
    for event in lines.values():
        piece = signal[int(event["at_ms"] * RATE / 1000): int((event["at_ms"] + event["slot_ms"]) * RATE / 1000)]
        loud = [i for i in range(0, len(piece), 441) if abs(piece[i:i + 441]).max() > 10 ** (-50 / 20)]
        if loud:
            crests.append(crest_db(piece[loud[0]: loud[-1] + 441]))
    assert statistics.median(crests) >= 13.0, crests


def test_tones_are_heard_but_never_peak_above_the_voice(built_short: Path) -> None:
    """As loud as the voice (test_end_to_end measures the loudness), yet no sharper: no jump in a listener's ear."""
    signal = decode(built_short / "output" / "short.mp3")
    timeline = json.loads((built_short / "output" / "short.json").read_text())

    def peak(kind: str) -> float:
        return max(float(abs(signal[int(e["at_ms"] * RATE / 1000): int((e["at_ms"] + 300) * RATE / 1000)]).max())
                   for e in timeline["events"] if e["kind"] == kind)

    assert peak("speech") / 2 < peak("sound") <= peak("speech") * 10 ** (1 / 20)  # within 6 dB under to 1 dB over


def test_lyrics_have_every_spoken_line_at_its_time(built_short: Path) -> None:
    lrc = (built_short / "output" / "short.lrc").read_text().splitlines()
    timeline = json.loads((built_short / "output" / "short.json").read_text())
    spoken = [e for e in timeline["events"] if e["kind"] == "speech"]
    lines = [line for line in lrc if re.match(r"\[\d\d:\d\d\.\d\d\]", line)]
    assert len(lines) == len(spoken)
    for line, event in zip(lines, spoken, strict=True):
        minutes, seconds = int(line[1:3]), float(line[4:9])
        assert abs(minutes * 60 + seconds - event["at_ms"] / 1000) < 0.01
        assert line[10:] == event["text"]
    assert "[ti:Test Day]" in lrc


def test_playlists_list_tracks_with_real_durations_and_relative_paths(built_short: Path) -> None:
    output = built_short / "output"
    for name in ("week1.m3u8", "program.m3u8"):
        lines = (output / name).read_text().splitlines()
        assert lines[0] == "#EXTM3U"
        assert lines[2] == "short.mp3" and (output / lines[2]).is_file()
        seconds, title = lines[1].removeprefix("#EXTINF:").split(",", 1)
        assert title == "Test Day"
        assert abs(int(seconds) - len(decode(output / "short.mp3")) / RATE) <= 1


def test_verify_passes_on_a_fresh_build(built_short: Path) -> None:
    done = run_cli("verify", "short", cwd=built_short)
    assert done.stdout.startswith("ok    short:"), done.stdout
    assert "5 blocks, tones within" in done.stdout and "5 chapters" in done.stdout


def test_verify_fails_on_a_track_that_drifted(project: Path) -> None:
    run_cli("build", "short", cwd=project)
    mp3 = project / "output" / "short.mp3"
    shifted = project / "shifted.mp3"
    # 100 ms of extra silence at the start, 4 dB quieter, chapters dropped: tones late, loudness off
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-af", "adelay=100,volume=-4dB", "-map_chapters", "-1",
                    "-c:a", "libmp3lame", "-b:a", "64k", str(shifted)], check=True)
    shutil.move(shifted, mp3)
    done = run_cli("verify", "short", cwd=project, check=False)
    assert done.returncode == 1
    assert done.stdout.startswith("FAIL  short:")
    assert "start tone at" in done.stdout and "loudness" in done.stdout and "chapters" in done.stdout


def test_verify_reports_a_day_that_was_never_built(project: Path) -> None:
    done = run_cli("verify", "short", cwd=project, check=False)
    assert done.returncode == 1 and "not built" in done.stdout


def test_tags_are_id3v23_with_year_genre_and_an_optional_cover(project: Path) -> None:
    cover = project / "routines" / "cover.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=orange:s=64x64", "-frames:v", "1",
                    str(cover)], check=True)
    program = project / "routines" / "program.yaml"
    program.write_text(program.read_text().replace("artist: cuecoach tests\n",
                                                   "artist: cuecoach tests\nyear: 2026\ncover: cover.png\n"))
    run_cli("build", "short", cwd=project)
    mp3 = project / "output" / "short.mp3"
    assert mp3.read_bytes()[:4] == b"ID3\x03"  # ID3v2.3, the version phones read most widely
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
                                       str(mp3)], capture_output=True, text=True, check=True).stdout)
    tags = probe["format"]["tags"]
    assert (tags["date"], tags["genre"], tags["artist"]) == ("2026", "Fitness", "cuecoach tests")
    assert tags["comment"] == "Equipment: a mat, a block"
    (picture,) = [s for s in probe["streams"] if s["codec_type"] == "video"]
    assert picture["disposition"]["attached_pic"] == 1
    assert run_cli("verify", "short", cwd=project).stdout.startswith("ok")
