"""`cuecoach verify` listens to a track as a stream: its memory stays bounded whatever the track's length, it
finds the same tones however the decoded audio is cut into chunks, a missing tone is reported, and so is a
damaged cover in the tag."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CUECOACH, run_cli
from mutagen.id3 import ID3

from cuecoach import system
from cuecoach.audio import sound
from cuecoach.audio.loudness import samples
from cuecoach.builder.verify import listen, places

PEAK_MEMORY_MAX_KB = 300 * 1024  # what the issue allows verify for a day of 60 minutes (it took 1.6 GB)
LONG_DAY_MIN_MS = 60 * 60_000
LONG_HOLD = """long-hold:
  name: Long Hold
  say: long hold
  equipment: [mat]
  cues: [Keep breathing.]
  timing: {sets: 7, work: 300, rest: 240}
"""


def decoded(mp3: Path) -> bytes:
    return system.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar",
                       str(sound.FRAME_RATE), "-"], "decoding")


def tones(project: Path) -> dict:
    return {name: samples(sound.load_file(project / "sounds" / f"{name}.wav").raw_data) for name in ("start", "stop")}


def test_tones_are_heard_alike_however_the_track_comes_in_chunks(built_short: Path) -> None:
    pcm = decoded(built_short / "output" / "short.mp3")
    timeline = json.loads((built_short / "output" / "short.json").read_text())
    templates = tones(built_short)
    wanted = places(timeline, templates)
    whole = listen([pcm], wanted, templates)
    assert whole[0] == len(pcm) // 2 and len(whole[1]) == 2 * len(timeline["blocks"])
    assert all(at is not None for at, _ in whole[1].values())
    for size in (1, 4097, 88_200, 1 << 20):  # odd sizes cut samples in two
        chunks = [pcm[i:i + size] for i in range(0, len(pcm), size)] if size > 1 else [pcm[:3], pcm[3:]]
        assert listen(chunks, wanted, templates) == whole, size


# Runs a command as its only child and prints, last on stderr, the largest resident set (kB) of that child or of
# any program it ran. The count is made here, in a small process: a child of the test process itself would count
# that process's memory too (Linux records the memory a child held before its exec, shared with its parent).
PEAK_OF_CHILD = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
                 "sys.exit(done.returncode)")


def verify_with_peak_memory(project: Path, routine: str) -> tuple[int, str, int]:
    """`cuecoach verify`: its exit code, what it printed, and its peak resident set (kB), ffmpeg's included."""
    done = subprocess.run([sys.executable, "-c", PEAK_OF_CHILD, *CUECOACH, "verify", routine], cwd=project,
                          capture_output=True, text=True)
    return done.returncode, done.stdout, int(done.stderr.split()[-1])


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in kB on Linux")
def test_verify_of_a_60_minute_day_stays_under_300_mb(project: Path) -> None:
    library = project / "routines" / "exercises.yaml"
    library.write_text(library.read_text() + LONG_HOLD)
    (project / "routines" / "long.yaml").write_text("title: Long Day\nexercises:\n  - march\n  - long-hold\n"
                                                    "  - squeeze\n")
    run_cli("build", "long", cwd=project)
    assert json.loads((project / "output" / "long.json").read_text())["duration_ms"] >= LONG_DAY_MIN_MS
    code, printed, peak_kb = verify_with_peak_memory(project, "long")
    assert code == 0 and printed.startswith("ok    long: 60:"), printed
    assert peak_kb < PEAK_MEMORY_MAX_KB, f"verify held {peak_kb // 1024} MB at its peak"


def rewritten(mp3: Path, audio_filter: str) -> None:
    """The track re-encoded through an ffmpeg audio filter; tags, chapters and the cover as they were."""
    temp = mp3.with_name("rewritten.mp3")
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-map", "0", "-af", audio_filter, "-c:a", "libmp3lame",
                    "-b:a", "64k", "-c:v", "copy", "-id3v2_version", "3", str(temp)], check=True)
    shutil.move(temp, mp3)


def test_verify_reports_a_tone_that_is_missing(project: Path) -> None:
    run_cli("build", "short", cwd=project)
    timeline = json.loads((project / "output" / "short.json").read_text())
    block = timeline["blocks"][2]
    start = block["start_ms"] / 1000
    rewritten(project / "output" / "short.mp3", f"volume=enable='between(t,{start - 0.05},{start + 0.5})':volume=0")
    done = run_cli("verify", "short", cwd=project, check=False)
    assert done.returncode == 1 and done.stdout.startswith("FAIL  short:"), done.stdout
    problems = done.stdout.splitlines()[0].split(": ", 1)[1].split("; ")
    assert [p.split(" near ")[0] for p in problems] == [f"block {block['number']} ({block['name']}): no start tone"]


@pytest.mark.parametrize("damage", ["cut short", "flipped inside"])
def test_verify_reports_a_damaged_cover(project: Path, damage: str) -> None:
    run_cli("build", "short", cwd=project)
    mp3 = project / "output" / "short.mp3"
    track = mp3.read_bytes()
    (picture,) = ID3(mp3).getall("APIC")
    at, data = track.index(picture.data), bytearray(picture.data)  # damaged in place: the tag's frames stay as built
    if damage == "cut short":
        data[-4:] = bytes(4)  # its end lost, as a cover cut short by a full disk
    else:  # a kilobyte flipped inside: small flips in a flat stretch can decode without an error (no checksum)
        inside = slice(len(data) // 3, len(data) // 3 + 1024)
        data[inside] = bytes(b ^ 0x55 for b in data[inside])
    mp3.write_bytes(track[:at] + data + track[at + len(data):])
    done = run_cli("verify", "short", cwd=project, check=False)
    assert done.returncode == 1 and done.stdout.startswith("FAIL  short:"), done.stdout
    problems = done.stdout.splitlines()[0].split(": ", 1)[1].split("; ")
    assert len(problems) == 1 and problems[0].startswith("the cover in the tag is damaged ("), problems
