"""Write a rendered track as an MP3 (CBR, mono, 44.1 kHz, ID3v2.3 tags and chapters), its JSON timeline, its
lyrics, and the playlists of the days built.

Each text format is written for itself, whatever the text (`one_line`): in the lyrics (LRC) and the
playlists (M3U) a line break would start a line of the file's own, and in LRC a bracket would end a
tag or start a time; line breaks become spaces, control characters go, and LRC's brackets become
parentheses. JSON is escaped by the json module."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cuecoach import system
from cuecoach.config.project import Project, outputs, series_ids

ID3_HEADER_SIZE = 10  # "ID3", version, flags, size
LINE_BREAKS = re.compile("\r\n|[\n\r\t\v\f\x1c-\x1e\x85\u2028\u2029]")  # what str.splitlines() splits at, and tabs
SURROGATE = re.compile("[\ud800-\udfff]")
LRC_BRACKETS = str.maketrans("[]", "()")  # LRC has no escapes: a bracket would close a tag or open a time

if TYPE_CHECKING:  # not imported to run: a build with nothing to do writes its playlists without the compiler
    from cuecoach.script.types import Chapter, Script


@dataclass(frozen=True)
class Tags:
    title: str
    album: str
    artist: str
    track: str  # "3/42"; "" for a routine outside the series (no track number)
    genre: str
    comment: str = ""
    year: int | None = None
    cover: str | None = None  # path of a JPEG or PNG to attach as the front cover


def id3_tag(tags: Tags, chapters: tuple[Chapter, ...]) -> bytes:
    """An ID3v2.3 tag: text frames, the year, a comment, the cover, and chapters in time order.

    mutagen writes each frame (in v2.3); the frames are laid out here, because mutagen's save
    orders CHAP frames by size, which players and ffprobe then list out of time order. The table
    of contents is flagged top-level and ordered.
    """
    from mutagen import id3  # here, not above: a build with nothing to do never needs it

    frames: list[id3.Frame] = [id3.TIT2(encoding=3, text=tags.title), id3.TPE1(encoding=3, text=tags.artist),
                               id3.TALB(encoding=3, text=tags.album), id3.TCON(encoding=3, text=tags.genre)]
    if tags.track:
        frames.append(id3.TRCK(encoding=3, text=tags.track))
    if tags.year:
        frames.append(id3.TYER(encoding=3, text=str(tags.year)))
    if tags.comment:
        frames.append(id3.COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    ids = [f"ch{i}" for i in range(len(chapters))]
    frames.append(id3.CTOC(element_id="toc", flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
                           child_element_ids=ids, sub_frames=[id3.TIT2(encoding=3, text=tags.title)]))
    frames += [id3.CHAP(element_id=ch_id, start_time=c.start_ms, end_time=c.end_ms,
                        sub_frames=[id3.TIT2(encoding=3, text=c.title)])
               for ch_id, c in zip(ids, chapters, strict=True)]
    if tags.cover:
        image = Path(tags.cover).read_bytes()
        mime = "image/png" if image[:4] == b"\x89PNG" else "image/jpeg"
        frames.append(id3.APIC(encoding=3, mime=mime, type=id3.PictureType.COVER_FRONT, desc="Cover",
                               data=image))
    body = b"".join(_frame_bytes(frame) for frame in frames)
    body += bytes(512)  # padding, so a tag editor can change a field without rewriting the file
    size = len(body)
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + syncsafe + body


def _frame_bytes(frame) -> bytes:
    """One ID3v2.3 frame's bytes, by mutagen's public save: a tag holding that frame alone, without
    padding, less the tag's 10-byte header (the same bytes its save writes for the frame in a whole tag)."""
    from mutagen import id3

    tag = id3.ID3()
    tag.add(frame)
    out = io.BytesIO()
    tag.save(out, v1=0, v2_version=3, v23_sep="/", padding=lambda info: 0)
    return out.getvalue()[ID3_HEADER_SIZE:]


def encode_mp3(pcm: bytearray, target: Path, tags: Tags, chapters: tuple[Chapter, ...], bitrate: str,
               what: str) -> None:
    """Encode PCM to `target` atomically, with the ID3v2.3 tag in front of the audio."""
    from cuecoach.audio import sound

    tag = id3_tag(tags, chapters)
    # The PCM goes to ffmpeg through a temp WAV file, not a pipe: parallel encodes fed by pipes
    # ran markedly slower, and ffmpeg reads WAV in larger packets than raw PCM (measured).
    with system.scratch_file([sound.wav_header(len(pcm) // sound.SAMPLE_WIDTH), pcm], beside=target) as wav, \
            system.atomic_path(target) as temp:
        system.run([
            system.ffmpeg(), "-v", "error", "-nostdin", "-y", "-f", "wav", "-i", str(wav), "-map", "0:a",
            "-c:a", "libmp3lame", "-b:a", bitrate, "-id3v2_version", "0", "-write_xing", "1", "-f", "mp3", str(temp),
        ], f"encoding {what}.mp3")
        encoded = temp.read_bytes()
        with open(temp, "wb") as out:
            out.write(tag)
            out.write(encoded)


def one_line(text: str) -> str:
    """`text` as one line of printable text: line breaks and tabs as spaces, control characters left out,
    and a lone surrogate (which no UTF-8 file can hold) as U+FFFD."""
    spaced = SURROGATE.sub("\ufffd", LINE_BREAKS.sub(" ", text))
    return "".join(ch for ch in spaced if unicodedata.category(ch) != "Cc")


def lrc(script: Script, tags: Tags) -> str:
    """Synchronized lyrics: every spoken line at its time, for players that show them."""
    def stamp(ms: int) -> str:
        minutes, rest = divmod(ms, 60_000)
        return f"[{minutes:02d}:{rest // 1000:02d}.{rest % 1000 // 10:02d}]"

    def text(value: str) -> str:
        return one_line(value).translate(LRC_BRACKETS)

    lines = [f"[ti:{text(tags.title)}]", f"[al:{text(tags.album)}]", f"[ar:{text(tags.artist)}]",
             f"[length:{stamp(script.duration_ms)[1:6]}]"]
    lines += [f"{stamp(e.at_ms)}{text(e.text)}" for e in script.events if e.kind == "speech"]
    return "\n".join(lines) + "\n"


def playlist(entries: list[tuple[str, int, str]]) -> str:
    """An extended M3U playlist of (title, duration ms, path relative to the playlist)."""
    lines = ["#EXTM3U"]
    for title, duration_ms, path in entries:
        lines += [f"#EXTINF:{round(duration_ms / 1000)},{one_line(title)}", path]
    return "\n".join(lines) + "\n"


def write_text_if_changed(target: Path, text: str) -> None:
    try:
        if target.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    system.write_atomic(target, text)


def write_json(target: Path, data: dict, sync: bool = True) -> None:
    system.write_atomic(target, json.dumps(data, indent=1, ensure_ascii=False) + "\n", sync)


def read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def write_playlists(project: Project, read: dict[Path, dict] | None = None) -> list[Path]:
    """weekN.m3u8 for each week and program.m3u8 for all, from the days built in the output folder.
    `read`: timelines this build has already read, as they now are on disk."""
    weeks: dict[int, list[tuple[str, int, str]]] = {}
    everything = []
    for routine_id in series_ids(project):  # a coach's extra day is not part of the series' playlists
        mp3, timeline = outputs(project, routine_id)
        data = (read or {}).get(timeline) or read_json(timeline)
        if data is None or not mp3.is_file():
            continue
        entry = (str(data.get("title", routine_id)), int(data.get("duration_ms", 0)), mp3.name)
        everything.append(entry)
        if isinstance(data.get("week"), int) and data["week"] > 0:
            weeks.setdefault(data["week"], []).append(entry)
    written = []
    for week, entries in sorted(weeks.items()):
        written.append(project.output / f"week{week}.m3u8")
        write_text_if_changed(written[-1], playlist(entries))
    if everything:
        written.append(project.output / "program.m3u8")
        write_text_if_changed(written[-1], playlist(everything))
    return written
