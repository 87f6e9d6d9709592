"""Benchmark of the batch build, run by hand (not a test): `make bench` or `python bench/bench_build.py`.

It works on a copy of routines/ and sounds/ in a temp folder, so your output/ and cache
are untouched, and prints, measured side by side in one run on this machine:

  (a) a cold build of every day (empty cache, empty output);
  (b) a rebuild with nothing changed (the whole command, interpreter start included), of every
      day and of week1-day1 alone, beside the interpreter's own start;
  (c) a rebuild after one form cue of an exercise used on several days is edited;
  (d) the encoding floor: ffmpeg alone encoding the same audio (the built tracks, decoded),
      with the same MP3 settings and the same parallelism;
  (e) a cold build of one day (week1-day1; empty cache and output) against that day's own
      floor, measured just before and just after it, E_TRIALS times (the figure is the median);
  (p) a warm `preview cat-cow` (its lines in the cache), the shortest of three;
  the ratios (a)/(d), (c)/(floor of the days (c) rebuilt) and (e)/floor(e), and the peak
  memory of the largest process of the build (a worker, the command itself, or an ffmpeg it ran);
  (h) a cold build of every day with the default music bed (`--music default`; the clips cached,
      their measures for the mix not) against the whole-track encode floor of the same audio, and (i) a
      rebuild with the bed after one more cue of that exercise is edited, against the floor of the days
      it rebuilt.

Targets (issue 11): (c) under 3 s; (a)/(d) at most 0.5; (e) at most its floor; (b) under 0.3 s.
Targets (issue 19): (h) at most 1.2 times its floor; (i) at most 0.25 times its floor.
`--skip piper,music` leaves out the two long parts (a') and (h, i).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (e) is a 3 s command on a shared machine, and its first run after the long builds before it pays for
# reading cuecoach's, numpy's and espeak's files back into memory (measured: 0.4 s after dropping the page
# cache; 4.1 s against a steady 3.1 s once): it is run this often, each time between two floors, and the
# median ratio is the figure
E_TRIALS = 3


def cuecoach(folder: Path, *args: str) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cuecoach", *args], cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"cuecoach {' '.join(args)} failed:\n{done.stderr}")
    return elapsed, done.stderr


def noop_times(folder: Path, *args: str, runs: int = 5) -> list[float]:
    """Wall times of a build with nothing to do, run `runs` times (the shortest is the figure: the machine is
    shared)."""
    times = []
    for _ in range(runs):
        elapsed, log = cuecoach(folder, "build", *args)
        assert "0 built" in log and " 0 failed" in log, log
        times.append(elapsed)
    return times


def interpreter_start(runs: int = 5) -> float:
    """The shortest time for this Python to start and exit: the floor under (b)."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - began)
    return min(times)


def encode_floor(wavs: list[Path], jobs: int, bitrate: str, scratch: Path) -> float:
    """Wall time for ffmpeg alone to encode these WAVs to MP3, `jobs` at a time."""
    def encode(wav: Path) -> None:
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", bitrate,
                        "-id3v2_version", "3", "-write_xing", "1", "-f", "mp3", str(scratch / f"{wav.stem}.mp3")],
                       check=True)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(encode, wavs))
    return time.perf_counter() - began


def floor_of(folder: Path, output: str, names: set[str] | None, jobs: int, scratch: Path) -> float:
    """The encoding floor of the built tracks in `output` (those named, or all): decoded, then encoded whole."""
    wavs = []
    for mp3 in sorted((folder / output).glob("*.mp3")):
        if names is None or mp3.stem in names:
            wav = scratch / f"{output}-{mp3.stem}.wav"
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(mp3), "-ac", "1", "-ar", "44100", str(wav)],
                           check=True)
            wavs.append(wav)
    return encode_floor(wavs, jobs, "64k", scratch)


def music_figures(work: Path, jobs: int, exercise: str) -> tuple[float, float, float, float, int]:
    """(f) a cold build of every day with the default bed (the voice's clips already cached), and its floor;
    (g) a rebuild after editing one more cue of `exercise`, with the bed, and the floor of the days rebuilt."""
    scratch = work / "floor-music"
    scratch.mkdir()
    cold, _ = cuecoach(work, "build", "--all", "--jobs", str(jobs), "--music", "default", "-o", "output-music")
    floor = floor_of(work, "output-music", None, jobs, scratch)
    library = work / "routines" / "exercises.yaml"
    text = library.read_text()
    block = text[text.index(f"\n{exercise}:"):]
    cue = re.search(r"\n  cues:\n    - (.+)\n", block).group(1)
    library.write_text(text.replace(cue, cue.rstrip(".") + " again.", 1))
    edited, log = cuecoach(work, "build", "--all", "--jobs", str(jobs), "--music", "default", "-o", "output-music")
    rebuilt = set(re.findall(r"^built (\S+) ", log, re.M))
    floor_g = floor_of(work, "output-music", rebuilt, jobs, scratch)
    return cold, floor, edited, floor_g, len(rebuilt)


def most_shared_exercise(folder: Path) -> tuple[str, list[str]]:
    """The exercise used by the most days (but not every day), and those days."""
    import yaml

    use: dict[str, list[str]] = {}
    days = sorted(p for p in (folder / "routines").glob("*.yaml") if p.stem not in ("program", "exercises"))
    for day in days:
        for item in yaml.safe_load(day.read_text())["exercises"]:
            ex_id = item if isinstance(item, str) else item["id"]
            if day.stem not in use.setdefault(ex_id, []):
                use[ex_id].append(day.stem)
    candidates = [(len(d), e) for e, d in use.items() if len(d) < len(days)]
    _, chosen = max(candidates)
    return chosen, use[chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip", default="", metavar="PARTS",
                        help="leave out the long parts, comma-separated: piper (a'), music (h, i)")
    args = parser.parse_args()
    jobs, skip = args.jobs, set(filter(None, args.skip.split(",")))
    work = Path(tempfile.mkdtemp(prefix="cuecoach-bench-"))
    try:
        shutil.copytree(ROOT / "routines", work / "routines")
        shutil.copytree(ROOT / "sounds", work / "sounds", ignore=shutil.ignore_patterns("*.py"))
        print(f"machine: {os.cpu_count()} CPUs; --jobs {jobs}; folder {work}")

        cold, log = cuecoach(work, "build", "--all", "--jobs", str(jobs))
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        built = len(list((work / "output").glob("*.mp3")))
        total_s = sum(json.loads(p.read_text())["duration_ms"] for p in (work / "output").glob("*.json")) / 1000
        print(f"(a) cold build of {built} days ({total_s / 60:.1f} min of audio): {cold:.1f} s")
        if "piper" not in skip and importlib.util.find_spec("piper") is not None:  # the neural voice, own cache
            piper_s, _ = cuecoach(work, "build", "--all", "--jobs", str(jobs), "--engine", "piper",
                                  "-o", "output-piper", "--cache", ".cache-piper")
            piper_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"(a') cold build of every day with Piper: {piper_s:.1f} s; largest process so far {piper_mb:.0f} MB "
                  "(target under 500 MB a worker)")

        noops = noop_times(work, "--all", "--jobs", str(jobs))
        unchanged = min(noops)
        one_day = noop_times(work, "week1-day1")
        start = interpreter_start()
        print(f"(b) rebuild with nothing changed: {unchanged:.2f} s ({len(noops)} runs: "
              f"{', '.join(f'{t:.2f}' for t in noops)}); week1-day1 alone {min(one_day):.2f} s; "
              f"the interpreter's start alone {start:.3f} s")
        # (f) a coach's loop: hear one exercise after an edit, its lines in the cache (the shortest of a few)
        warm = min(cuecoach(work, "preview", "cat-cow", "-o", str(work / "preview.wav"))[0] for _ in range(3))
        print(f"(p) warm preview of cat-cow (plan, audio rendered and written): {warm:.2f} s")

        exercise, days = most_shared_exercise(work)
        library = work / "routines" / "exercises.yaml"
        text = library.read_text()
        block = text[text.index(f"\n{exercise}:"):]
        first_cue = re.search(r"\n  cues:\n    - (.+)\n", block).group(1)
        library.write_text(text.replace(first_cue, first_cue.rstrip(".") + " now.", 1))
        edited, log = cuecoach(work, "build", "--all", "--jobs", str(jobs))
        rebuilt = re.findall(r"^built (\S+) \(.*?(\d+) lines synthesized", log, re.M)
        print(f"(c) rebuild after editing one cue of '{exercise}' (on {len(days)} days): {edited:.1f} s; "
              f"rebuilt {len(rebuilt)} days, synthesized {sum(int(n) for _, n in rebuilt)} lines")

        scratch = work / "floor"
        scratch.mkdir()
        wavs = []
        for mp3 in sorted((work / "output").glob("*.mp3")):
            wav = scratch / f"{mp3.stem}.wav"
            subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-ac", "1", "-ar", "44100", str(wav)], check=True)
            wavs.append(wav)
        floor = encode_floor(wavs, jobs, "64k", scratch)
        print(f"(d) encoding floor, ffmpeg alone on the same {total_s / 60:.1f} min, {jobs} at a time: {floor:.1f} s")
        rebuilt_ids = {name for name, _ in rebuilt}
        floor_c = encode_floor([w for w in wavs if w.stem in rebuilt_ids], jobs, "64k", scratch)
        print(f"    floor of the {len(rebuilt_ids)} days rebuilt in (c): {floor_c:.1f} s")

        day = "week1-day1"
        day_wav = [w for w in wavs if w.stem == day]
        trials = []
        for trial in range(E_TRIALS):
            single = work / f"single-{trial}"
            shutil.copytree(ROOT / "routines", single / "routines")
            shutil.copytree(ROOT / "sounds", single / "sounds", ignore=shutil.ignore_patterns("*.py"))
            floor_before = encode_floor(day_wav, 1, "64k", scratch)
            cold_day, _ = cuecoach(single, "build", day)
            floor_after = encode_floor(day_wav, 1, "64k", scratch)
            trials.append(cold_day / ((floor_before + floor_after) / 2))
            print(f"(e) cold build of {day} alone, trial {trial + 1}: {cold_day:.2f} s; its floor {floor_before:.2f} s "
                  f"before, {floor_after:.2f} s after: {trials[-1]:.2f}")

        music = music_figures(work, jobs, exercise) if "music" not in skip else None
        if music:
            cold_f, floor_f, edited_g, floor_g, rebuilt_g = music
            print(f"(h) cold build of every day with the default bed: {cold_f:.1f} s; its floor {floor_f:.1f} s")
            print(f"(i) rebuild with the bed after editing one cue of '{exercise}': {edited_g:.1f} s, "
                  f"{rebuilt_g} days; their floor {floor_g:.1f} s")

        print()
        print(f"(a)/(d) = {cold / floor:.2f}   (target at most 0.5)")
        print(f"(b)     = {unchanged:.2f} s  (target under 0.3 s)")
        print(f"(c)     = {edited:.1f} s  (target under 3 s); (c)/floor(c) = {edited / floor_c:.2f}")
        print(f"(e)/floor(e) = {statistics.median(trials):.2f}   (target at most 1; the median of "
              f"{', '.join(f'{t:.2f}' for t in trials)})")
        if music:
            print(f"(h)/floor(h) = {cold_f / floor_f:.2f}   (target at most 1.2)")
            print(f"(i)/floor(i) = {edited_g / floor_g:.2f}   (target at most 0.25)")
        print(f"peak memory of the largest process of the build: {peak_mb:.0f} MB  (target under 300 MB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
