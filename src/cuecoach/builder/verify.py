"""Check a built MP3 against its timeline by listening to it: length, tones, loudness, chapters, cover, and
on a day with music, the music's place under the speech (between lines, within MUSIC_TOLERANCE_LU of its setting).

The track is decoded once, as a stream (`listen`): only the stretch near a tone's planned time is
held, and searched as soon as it has gone by, so memory stays the same for a track of any length
(the whole track decoded at once took 8.67 GB for a day of 333 minutes). Tones are found by
normalized cross-correlation with the sound files near where the timeline puts them; loudness and
true peak are measured by ffmpeg's ebur128 filter on the MP3 itself, as a player would decode it.
The embedded cover is decoded whole, by Pillow from the tag and by ffmpeg from the track. On a day with
music the decoded track is also kept whole for the music check (K-weighted over the gaps between lines):
its memory grows with the day's length, which `check` bounds.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
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
JPEG_END = b"\xff\xd9"  # EOI: a JPEG's last marker


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


@dataclass(frozen=True)
class Place:
    """Where a tone should be heard: a block's start or stop, and the frames [begin, end) searched for it."""

    block: int  # its index in the timeline's blocks
    name: str  # "start" or "stop"
    planned_ms: int
    begin: int
    end: int


def places(timeline: dict, tones: dict[str, np.ndarray]) -> list[Place]:
    """Every tone the timeline plans, with the stretch of the track searched for it (SEARCH_MS either side)."""
    reach = sound.frames(SEARCH_MS)
    found = []
    for number, block in enumerate(timeline["blocks"]):
        for name, planned in (("start", block["start_ms"]), ("stop", block["end_ms"])):
            at = sound.frames(planned)
            found.append(Place(number, name, planned, max(0, at - reach), at + reach + len(tones[name])))
    return found


def find_tone(piece: np.ndarray, begin: int, template: np.ndarray) -> tuple[float | None, float]:
    """Where (ms into the track) the tone starts in `piece`, which starts `begin` frames in; None if not heard."""
    if len(piece) < len(template):
        return None, 0.0
    scores = ncc(piece, template)
    lag, score = int(np.argmax(scores)), float(np.max(scores))
    if score < MATCH_MIN:
        return None, score
    return (begin + lag) * 1000 / sound.FRAME_RATE, score


def listen(pcm: Iterable[bytes], wanted: list[Place], tones: dict[str, np.ndarray]
           ) -> tuple[int, dict[Place, tuple[float | None, float]]]:
    """Go through the decoded track (mono 16-bit PCM, in chunks of any size) once: the track's length in frames,
    and what was heard at each place. A place is searched as soon as the track has gone past it, and only the
    samples a place still waits for are held."""
    waiting = sorted(wanted, key=lambda place: place.end)
    heard: dict[Place, tuple[float | None, float]] = {}
    held, held_from = bytearray(), 0  # the PCM kept, and the frame it starts at

    def search(place: Place) -> None:
        piece = held[(place.begin - held_from) * sound.SAMPLE_WIDTH: (place.end - held_from) * sound.SAMPLE_WIDTH]
        heard[place] = find_tone(samples(piece[: len(piece) // 2 * 2]), place.begin, tones[place.name])

    for chunk in pcm:
        held += chunk
        done = held_from + len(held) // sound.SAMPLE_WIDTH
        while waiting and waiting[0].end <= done:
            search(waiting.pop(0))
        keep = min([place.begin for place in waiting] + [done])  # never past what has come
        if keep > held_from:
            del held[: (keep - held_from) * sound.SAMPLE_WIDTH]
            held_from = keep
    for place in waiting:  # past the end of a track that is too short
        search(place)
    return held_from + len(held) // sound.SAMPLE_WIDTH, heard


def check_timing(length: int, timeline: dict, heard: dict[Place, tuple[float | None, float]], report: Report) -> None:
    """Total length (in frames), and every block's start and stop tone where the timeline says."""
    length_ms = length * 1000 / sound.FRAME_RATE
    if abs(length_ms - timeline["duration_ms"]) > TIME_TOLERANCE_MS:
        report.problems.append(f"lasts {length_ms / 1000:.2f} s, "
                               f"the timeline says {timeline['duration_ms'] / 1000:.2f} s")
    worst = 0.0
    found: dict[tuple[int, str], float] = {}
    for place, (at, score) in sorted(heard.items(), key=lambda item: (item[0].block, item[0].name != "start")):
        block = timeline["blocks"][place.block]
        what = f"block {block['number']} ({block['name']})"
        if at is None:
            report.problems.append(f"{what}: no {place.name} tone near {place.planned_ms / 1000:.2f} s "
                                   f"(best match {score:.2f})")
            continue
        found[place.block, place.name] = at
        worst = max(worst, abs(at - place.planned_ms))
        if abs(at - place.planned_ms) > TIME_TOLERANCE_MS:
            report.problems.append(f"{what}: {place.name} tone at {at / 1000:.3f} s, "
                                   f"planned {place.planned_ms / 1000:.3f} s")
        if place.name == "stop" and (place.block, "start") in found:
            measured = at - found[place.block, "start"]
            if abs(measured - block["planned_s"] * 1000) > TIME_TOLERANCE_MS:
                report.problems.append(f"{what} lasts {measured / 1000:.3f} s, planned {block['planned_s']:g} s")
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


def ffmetadata(text: str) -> Iterator[tuple[str, str | None]]:
    """ffmpeg's metadata text as (key, value) lines, and a section header as (header, None). A backslash takes
    the next character as it is (ffmpeg escapes '=', ';', '#', '\\' and line breaks so)."""
    line: list[str] = []
    key: str | None = None
    escaped = False
    for ch in text + "\n":
        if escaped:
            line.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "=" and key is None:
            key, line = "".join(line), []
        elif ch == "\n":
            yield (key, "".join(line)) if key is not None else ("".join(line), None)
            line, key = [], None
        else:
            line.append(ch)


def read_chapters(mp3: Path) -> list[str]:
    meta = system.run([system.ffmpeg(), "-v", "error", "-i", str(mp3), "-f", "ffmetadata", "-"],
                      f"reading the chapters of {mp3.name}").decode("utf-8", "replace")
    titles, in_chapter = [], False
    for key, value in ffmetadata(meta):
        if value is None:
            in_chapter = in_chapter if not key.startswith("[") else key == "[CHAPTER]"
        elif in_chapter and key == "title":
            titles.append(value)
    return titles


def check_chapters(mp3: Path, timeline: dict, report: Report) -> None:
    titles = read_chapters(mp3)
    planned = [chapter["title"] for chapter in timeline["chapters"]]
    if titles != planned:
        report.problems.append(f"chapters {titles or 'missing'}, planned {planned}")
    else:
        report.facts.append(f"{len(titles)} chapters")


def picture_damage(data: bytes) -> tuple[str, tuple[int, int]]:
    """What is wrong with an image, decoded whole by Pillow ('' for nothing), and its size. A JPEG must also end
    with its end marker (zeros after it aside): one cut short may lose only bytes a decoder does without."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.format == "JPEG" and not data.rstrip(b"\0").endswith(JPEG_END):
                return "the JPEG stops before its end marker: cut short", image.size
            return "", image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return str(exc), (0, 0)


def check_cover(mp3: Path, report: Report) -> None:
    """The cover in the tag (every build puts one there), decoded whole: by Pillow from the tag's bytes, which
    finds an image cut short, and by ffmpeg from the track, as a player shows it, which finds damage inside."""
    from mutagen import MutagenError
    from mutagen.id3 import ID3

    try:
        pictures = ID3(mp3).getall("APIC")
    except MutagenError:
        pictures = []
    if not pictures:
        report.problems.append("no cover in the tag")
        return
    damage, (width, height) = picture_damage(pictures[0].data)
    if not damage:
        errors = system.run([system.ffmpeg(), "-v", "error", "-nostdin", "-i", str(mp3), "-map", "0:v:0", "-f",
                             "null", "-"], f"decoding the cover of {mp3.name}", capture_stderr=True)
        damage = " ".join(errors.decode("utf-8", "replace").split()[:12])  # its first error, as ffmpeg words it
        damage = f"ffmpeg: {damage}" if damage else ""
    if damage:
        report.problems.append(f"the cover in the tag is damaged ({damage})")
    else:
        report.facts.append(f"cover {width} x {height}")


def _keeping(chunks: Iterable[bytes], kept: bytearray) -> Iterator[bytes]:
    """The decoded chunks as they come, each also added to `kept`."""
    for chunk in chunks:
        kept += chunk
        yield chunk


def verify_day(project: Project, routine: str) -> Report:
    report = Report(routine)
    mp3, json_path = outputs(project, routine)
    timeline = read_json(json_path)
    if not mp3.is_file() or timeline is None:
        report.problems.append(f"not built (no {mp3.name} with its {json_path.name}); run cuecoach build {routine}")
        return report
    try:
        tones = {name: samples(sound.load_file(project.sounds / f"{name}.wav").raw_data) for name in ("start", "stop")}
        pcm = system.streamed([system.ffmpeg(), "-v", "error", "-nostdin", "-i", str(mp3), "-map", "0:a:0",
                               "-f", "s16le", "-ac", "1", "-ar", str(sound.FRAME_RATE), "-"], f"decoding {mp3.name}")
        music = isinstance(timeline.get("music"), dict)
        whole = bytearray()  # the decoded track, kept only for a day with music
        length, heard = listen(_keeping(pcm, whole) if music else pcm, places(timeline, tones), tones)
        check_timing(length, timeline, heard, report)
        report.facts.insert(0, clock(length * 1000 // sound.FRAME_RATE))
        if music:
            check_music(samples(bytes(whole[: len(whole) // 2 * 2])), timeline, report)
        check_loudness(mp3, report, float(timeline.get("loudness", Program.loudness)))
        check_chapters(mp3, timeline, report)
        check_cover(mp3, report)
    except CueError as exc:
        report.problems.append(str(exc))
    return report
