"""Check a built MP3 against its timeline by listening to it: length, tones, loudness, chapters, and on a day
with music, the music's place under the speech (between lines, within MUSIC_TOLERANCE_LU of its setting).

Tones are found by normalized cross-correlation with the sound files near where the
timeline puts them; loudness and true peak are measured by ffmpeg's ebur128 filter on the
MP3 itself, as a player would decode it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cuecoach import system
from cuecoach.audio import sound
from cuecoach.audio.loudness import samples
from cuecoach.builder.export import read_json
from cuecoach.config.project import Project, outputs
from cuecoach.config.schema import Program
from cuecoach.errors import CueError
from cuecoach.script.timeline import clock

TIME_TOLERANCE_MS = 20
LOUDNESS_TOLERANCE_LU = 1.0
TRUE_PEAK_MAX_DBTP = -1.5  # under the podcast ceiling of -1, with room for a player's decoder
MUSIC_TOLERANCE_LU = 3.0  # the bed between lines, against its music_level: 9 is heard as 6 to 12 under the speech
SEARCH_MS = 250  # how far from its planned time a tone is looked for
MATCH_MIN = 0.5  # normalized correlation that counts as "the tone is there"


@dataclass
class Report:
    routine: str
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.ok:
            return f"ok    {self.routine}: " + ", ".join(self.facts)
        return f"FAIL  {self.routine}: " + "; ".join(self.problems)


def ncc(signal: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalized cross-correlation of `template` at every lag of `signal` (1.0: the template exactly)."""
    n = len(signal) + len(template)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(signal, size) * np.conj(np.fft.rfft(template, size)), size)
    corr = corr[: len(signal) - len(template) + 1]
    energy = np.concatenate(([0.0], np.cumsum(signal ** 2)))
    window = energy[len(template):] - energy[: len(signal) - len(template) + 1]
    return corr / (np.sqrt(np.maximum(window, 1e-12)) * np.linalg.norm(template))


def find_tone(signal: np.ndarray, template: np.ndarray, planned_ms: int) -> tuple[float | None, float]:
    """Where (ms) the tone starts near `planned_ms`, or None if it is not heard there."""
    reach = sound.frames(SEARCH_MS)
    begin = max(0, sound.frames(planned_ms) - reach)
    piece = signal[begin: sound.frames(planned_ms) + reach + len(template)]
    if len(piece) < len(template):
        return None, 0.0
    scores = ncc(piece, template)
    lag, score = int(np.argmax(scores)), float(np.max(scores))
    if score < MATCH_MIN:
        return None, score
    return (begin + lag) * 1000 / sound.FRAME_RATE, score


def check_timing(signal: np.ndarray, timeline: dict, tones: dict[str, np.ndarray], report: Report) -> None:
    """Total length, and every block's start and stop tone where the timeline says."""
    length_ms = len(signal) * 1000 / sound.FRAME_RATE
    if abs(length_ms - timeline["duration_ms"]) > TIME_TOLERANCE_MS:
        report.problems.append(f"lasts {length_ms / 1000:.2f} s, "
                               f"the timeline says {timeline['duration_ms'] / 1000:.2f} s")
    worst = 0.0
    for block in timeline["blocks"]:
        heard = {}
        for name, planned in (("start", block["start_ms"]), ("stop", block["end_ms"])):
            at, score = find_tone(signal, tones[name], planned)
            if at is None:
                report.problems.append(f"block {block['number']} ({block['name']}): no {name} tone near "
                                       f"{planned / 1000:.2f} s (best match {score:.2f})")
                continue
            heard[name] = at
            worst = max(worst, abs(at - planned))
            if abs(at - planned) > TIME_TOLERANCE_MS:
                report.problems.append(f"block {block['number']} ({block['name']}): {name} tone at {at / 1000:.3f} s, "
                                       f"planned {planned / 1000:.3f} s")
        if len(heard) == 2:
            measured = heard["stop"] - heard["start"]
            if abs(measured - block["planned_s"] * 1000) > TIME_TOLERANCE_MS:
                report.problems.append(f"block {block['number']} ({block['name']}) lasts {measured / 1000:.3f} s, "
                                       f"planned {block['planned_s']:g} s")
    report.facts.append(f"{len(timeline['blocks'])} blocks, tones within {worst:.1f} ms")


def _energy_db(x: np.ndarray) -> float:
    from cuecoach.audio.loudness import k_weighted

    return 10 * float(np.log10(max(float(np.mean(np.square(k_weighted(x)[: len(x)]))), 1e-20)))


def check_music(signal: np.ndarray, timeline: dict, report: Report) -> None:
    """The bed between lines sits its music_level under the speech (K-weighted, as BS.1770 weighs)."""
    from cuecoach.audio.music import END_FADE_S, LEAD_S, RELEASE_S, STAY_DOWN_S

    rate, heard = sound.FRAME_RATE, timeline["music"]
    spans = sorted((s * rate // 1000, e * rate // 1000) for s, e in heard["ducked_ms"])
    speech = [signal[a:b] for (a, b), event in zip(spans, timeline["events"], strict=False)
              if event["kind"] == "speech"]
    edges = [(0, 0), *spans, (len(signal) - int(END_FADE_S * rate), len(signal))]
    after, before = int((RELEASE_S + 0.2) * rate), int((LEAD_S + 0.2) * rate)
    quiet = [signal[a + after:b - before] for (_, a), (b, _) in zip(edges, edges[1:], strict=False)
             if b - a - LEAD_S * rate >= STAY_DOWN_S * rate and b - before - (a + after) > rate // 2]
    if not speech or not quiet:
        return
    below = _energy_db(np.concatenate(speech)) - _energy_db(np.concatenate(quiet))
    if abs(below - heard["level"]) > MUSIC_TOLERANCE_LU:
        report.problems.append(f"music {below:.1f} LU under the speech between lines, set to {heard['level']}")
    else:
        report.facts.append(f"music {below:.1f} LU under the speech")


def parse_ebur128(log: str) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) from the summary ffmpeg's ebur128 prints last."""
    summary = log[log.rfind("Summary:"):]
    loud = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not loud or not peak:
        raise CueError("could not read ffmpeg's loudness summary")
    return float(loud.group(1)), float(peak.group(1))


def measure_loudness(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of an audio file, by ffmpeg's ebur128 filter: as a
    player decodes it, for an MP3."""
    log = system.run([system.ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
                      "-f", "null", "-"], f"measuring {path.name}", capture_stderr=True)
    return parse_ebur128(log.decode("utf-8", "replace"))


def check_loudness(mp3: Path, report: Report, target: float) -> None:
    integrated, true_peak = measure_loudness(mp3)
    if abs(integrated - target) > LOUDNESS_TOLERANCE_LU:
        report.problems.append(f"loudness {integrated:.1f} LUFS, target {target:g} ± {LOUDNESS_TOLERANCE_LU:g}")
    if true_peak > TRUE_PEAK_MAX_DBTP:
        report.problems.append(f"true peak {true_peak:.1f} dBTP, above {TRUE_PEAK_MAX_DBTP:g}")
    report.facts.append(f"{integrated:.1f} LUFS, true peak {true_peak:.1f} dBTP")


def read_chapters(mp3: Path) -> list[str]:
    meta = system.run([system.ffmpeg(), "-v", "error", "-i", str(mp3), "-f", "ffmetadata", "-"],
                      f"reading the chapters of {mp3.name}").decode("utf-8", "replace")
    titles, in_chapter = [], False
    for line in meta.splitlines():
        if line.startswith("["):
            in_chapter = line == "[CHAPTER]"
        elif in_chapter and line.startswith("title="):
            titles.append(line[len("title="):].replace("\\", ""))
    return titles


def check_chapters(mp3: Path, timeline: dict, report: Report) -> None:
    titles = read_chapters(mp3)
    planned = [chapter["title"] for chapter in timeline["chapters"]]
    if titles != planned:
        report.problems.append(f"chapters {titles or 'missing'}, planned {planned}")
    else:
        report.facts.append(f"{len(titles)} chapters")


def verify_day(project: Project, routine: str) -> Report:
    report = Report(routine)
    mp3, json_path = outputs(project, routine)
    timeline = read_json(json_path)
    if not mp3.is_file() or timeline is None:
        report.problems.append(f"not built (no {mp3.name} with its {json_path.name}); run cuecoach build {routine}")
        return report
    try:
        pcm = system.run([system.ffmpeg(), "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1",
                          "-ar", str(sound.FRAME_RATE), "-"], f"decoding {mp3.name}")
        tones = {name: samples(sound.load_file(project.sounds / f"{name}.wav").raw_data) for name in ("start", "stop")}
        check_timing(samples(pcm), timeline, tones, report)
        if isinstance(timeline.get("music"), dict):
            check_music(samples(pcm), timeline, report)
        report.facts.insert(0, clock(len(pcm) // 2 * 1000 // sound.FRAME_RATE))
        check_loudness(mp3, report, float(timeline.get("loudness", Program.loudness)))
        check_chapters(mp3, timeline, report)
    except CueError as exc:
        report.problems.append(str(exc))
    return report
